"""Cold import cost: ``import botters.protocol`` (goal <= 20 ms best-of-5) and friends.

Each figure is the best of five fresh interpreters timing the statement
in-process with ``perf_counter`` (interpreter start-up excluded), so it is the
cost a bot pays on top of Python itself. pybotters is measured in the same run
as the reference (it imports aiohttp and its whole exchange table eagerly).

    python bench/import_time.py
"""

from __future__ import annotations

import subprocess
import sys

ROUNDS = 5
GOAL_MS = 20.0

CASES = [
    ("import botters.protocol", "import botters.protocol"),
    ("import botters", "import botters"),
    ("botters.bitFlyerDataStore()", "import botters; botters.bitFlyerDataStore()"),
    (
        "botters.sign_request(...)",
        "import botters; botters.sign_request(botters.Request.build('GET', "
        "'https://api.bitflyer.com/v1/me/getbalance'), {'bitflyer': ['k', 'secret-s']})",
    ),
    (
        "every exchange's every export",
        "import importlib; from botters.protocol.exchanges import EXCHANGES\n"
        "for n in EXCHANGES:\n"
        "    m = importlib.import_module(f'botters.protocol.exchanges.{n}')\n"
        "    [getattr(m, name) for name in m.__all__]",
    ),
    ("import botters.Client (aiohttp)", "import botters; botters.Client"),
    ("import pybotters", "import pybotters"),
]

_TIMER = """
import time
t0 = time.perf_counter()
{code}
print(time.perf_counter() - t0)
"""


def cold(code: str) -> float | None:
    """Best of ``ROUNDS`` fresh interpreters, in seconds (None if the code fails)."""
    best = float("inf")
    for _ in range(ROUNDS):
        out = subprocess.run(
            [sys.executable, "-c", _TIMER.format(code=code)], capture_output=True, text=True
        )
        if out.returncode != 0:
            return None
        best = min(best, float(out.stdout.strip().splitlines()[-1]))
    return best


def main() -> None:
    print(f"cold import, best of {ROUNDS} fresh interpreters (start-up excluded)")
    results: dict[str, float | None] = {}
    for label, code in CASES:
        seconds = cold(code)
        results[label] = seconds
        shown = "not installed" if seconds is None else f"{seconds * 1e3:8.2f} ms"
        print(f"  {label:40} {shown}")
    ours = results["import botters.protocol"]
    assert ours is not None
    verdict = "OK" if ours * 1e3 <= GOAL_MS else "MISSED"
    print(f"import botters.protocol: {ours * 1e3:.2f} ms (goal <= {GOAL_MS:g} ms) {verdict}")


if __name__ == "__main__":
    main()
