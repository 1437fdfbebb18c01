"""``botters demo``: the simulator round trip, run in-process and as ``python -m botters``."""

from __future__ import annotations

import asyncio
import functools
import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from botters import _demo
from botters._cli import main
from botters._demo import DemoError, DemoOptions, run_demo
from botters.simulator import RestFault, Simulator

ORDER_ID = re.compile(r"accepted: child_order_acceptance_id (JRF\d{8}-\d{6}-\d{6})")
FRAME_HEAD = re.compile(r"^FX_BTC_JPY \+\d+\.\d\ds  ltp [\d,]+  bid [\d,]+ / ask [\d,]+", re.M)


def check_success(out: str) -> None:
    """What a successful run shows: book frames, a signed order, its events, a summary."""
    assert "\x1b[" not in out  # not a terminal: plain lines only
    assert "connected, logged in (1 login accepted) and subscribed to 4 channels" in out
    assert len(FRAME_HEAD.findall(out)) >= 2
    found = ORDER_ID.search(out)
    assert found, out
    order_id = found.group(1)
    assert "signed: ACCESS-KEY botters-demo-key, ACCESS-TIMESTAMP " in out
    assert re.search(rf"^  ORDER +{order_id}  MARKET BUY 0\.01$", out, re.M), out
    assert re.search(rf"^  EXECUTION +{order_id}  BUY 0\.01 @ [\d,]+$", out, re.M), out
    assert re.search(r"^position: BUY 0\.01 @ [\d,]+$", out, re.M), out
    summary = out.splitlines()[-1]
    assert summary.startswith("summary: "), summary
    assert "reconnects 0" in summary
    assert f"order {order_id}" in summary
    assert "child_order_events 2" in summary
    total = re.search(r"summary: (\d+) messages received", summary)
    assert total
    assert int(total.group(1)) >= 6  # 4 replies, a snapshot, a ticker at least


def test_demo_in_process() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["demo", "--seconds", "0.6", "--seed", "3"], out=out, err=err)
    assert (code, err.getvalue()) == (0, "")
    check_success(out.getvalue())


def test_demo_as_a_module_in_a_subprocess() -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_APIS")}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "botters", "demo", "--seconds", "0.5"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    check_success(proc.stdout)
    assert time.monotonic() - started < 15


def test_same_seed_same_first_book() -> None:
    def first_frame(seed: str) -> str:
        out = io.StringIO()
        assert main(["demo", "--seconds", "0", "--seed", seed], out=out, err=io.StringIO()) == 0
        lines = out.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if FRAME_HEAD.match(line))
        # The ticker line carries the elapsed time: compare the ladder only.
        return "\n".join(lines[start + 1 : start + 5])

    assert first_frame("5") == first_frame("5")
    assert first_frame("5") != first_frame("6")


def test_sell_side() -> None:
    out = io.StringIO()
    assert main(["demo", "--seconds", "0", "--side", "SELL"], out=out, err=io.StringIO()) == 0
    assert re.search(r"^  EXECUTION +JRF\S+  SELL 0\.01 @ [\d,]+$", out.getvalue(), re.M)
    assert re.search(r"^position: SELL 0\.01 @ ", out.getvalue(), re.M)


def test_redraws_in_place_on_a_terminal() -> None:
    out = io.StringIO()
    asyncio.run(run_demo(DemoOptions(seconds=0.3, refresh=0.1), out, in_place=True))
    text = out.getvalue()
    # Every frame after the first moves the cursor up over the last one (5 lines).
    frames = text.count("FX_BTC_JPY +")
    assert frames >= 2
    assert text.count("\x1b[5F\x1b[J") == frames - 1


def test_refused_order_fails_with_a_message() -> None:
    def refuse(sim: Simulator) -> None:
        sim.inject_rest(RestFault(status=503), path="/v1/me/sendchildorder")

    out = io.StringIO()
    with pytest.raises(DemoError, match="the order was refused: HTTP 503"):
        asyncio.run(run_demo(DemoOptions(seconds=0), out, before_order=refuse))


def test_slow_order_reply_fails_with_a_message() -> None:
    def slow(sim: Simulator) -> None:
        sim.inject_rest(RestFault(delay=1.0), path="/v1/me/sendchildorder")

    with pytest.raises(DemoError, match=r"no reply to the order within 0\.2 s"):
        asyncio.run(run_demo(DemoOptions(seconds=0, timeout=0.2), io.StringIO(), before_order=slow))


def test_missing_order_event_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    # The exchange stops sending (no events, no pongs) right before the order.
    def silence(sim: Simulator) -> None:
        for conn in sim.open_connections:
            conn.go_silent()

    real = _demo.run_demo

    async def with_fault(options: DemoOptions, out: Any, **kwargs: Any) -> None:
        await real(options, out, before_order=silence, **kwargs)

    monkeypatch.setattr(_demo, "run_demo", functools.wraps(real)(with_fault))
    out, err = io.StringIO(), io.StringIO()
    code = main(["demo", "--seconds", "0", "--timeout", "0.5"], out=out, err=err)
    assert code == 1
    placed = ORDER_ID.search(out.getvalue())
    assert placed
    assert err.getvalue() == (
        f"botters demo: failed: the child_order_events ORDER event for {placed.group(1)} "
        "did not arrive within 0.5 s\n"
    )


def test_without_trustme_it_says_what_to_install(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['trustme'] = None\n"
        "from botters._cli import main\n"
        "sys.exit(main(['demo', '--seconds', '0']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 1
    assert "pip install" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("bad", [["--seconds", "-1"], ["--timeout", "0"], ["--side", "HOLD"]])
def test_bad_arguments(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["demo", *bad])
    assert exc.value.code == 2
