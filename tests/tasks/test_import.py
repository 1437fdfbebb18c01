"""``import botters.tasks`` imports no event loop: the framework is found when a tree runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = """
import importlib, sys
importlib.import_module({module!r})
bad = {{"asyncio", "trio", "aiohttp", "h11", "wsproto", "ssl"}}
print(",".join(sorted({{name.split(".")[0] for name in sys.modules}} & bad)))
"""


@pytest.mark.parametrize(
    "module",
    ["botters.tasks", "botters.tasks._nodes", "botters.tasks._run", "botters.tasks._schedule"],
)
def test_importing_the_tasks_imports_no_framework(module: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()}"


def test_running_outside_any_event_loop_says_so() -> None:
    from botters.protocol.store._async import AsyncLibraryNotFoundError
    from botters.tasks import run

    async def nothing(client: object) -> None:
        return None

    coro = run(nothing, object())
    with pytest.raises(AsyncLibraryNotFoundError):
        coro.send(None)
    coro.close()
