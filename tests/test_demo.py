"""``botters demo`` on every exchange: run in-process and as ``python -m botters``, and failing."""

from __future__ import annotations

import asyncio
import functools
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from botters import _cli, _demo
from botters._cli import main
from botters._demo import PROFILES, DemoError, DemoOptions, run_demo
from botters.simulator import (
    DEFAULT_MARKETS_BY_EXCHANGE,
    DEMO_APIS_BY_EXCHANGE,
    Fault,
    RestFault,
    Simulator,
)

NUMBER = r"[\d,]+(?:\.\d+)?"


@dataclass(frozen=True, slots=True, kw_only=True)
class Expect:
    """What a successful run on one exchange prints (regexes; ``{id}`` is the order's)."""

    exchange: str
    product: str
    order_path: str
    connected: str
    head: str
    """The frame's first line; groups ``bid`` and ``ask``."""
    status: str
    """The end of the frame's second line: the book's sync status."""
    order_id: str
    signed: str
    events: Callable[[str, str], list[str]]
    """``(order id, side)`` -> the event lines, in order; the one with group ``price`` a fill."""
    position: Callable[[str], str]
    """``side`` -> the position line, with group ``price``; on a spot venue the balances
    line instead, with groups ``base0``, ``base1``, ``base_change`` (and ``quote...``)."""
    private_counts: str
    """The private channels' part of the summary (a regex). What comes after the last
    event the demo waits for (Bybit's ``wallet``, OKX's second ``account``) may be cut
    off by the close."""
    spot: bool = False
    setup: str | None = None
    """The line of the REST calls made before the feeds, if the venue needs some."""


def _signed(*parts: str) -> str:
    return r"^  signed: " + ", ".join(parts) + "$"


def _key(exchange: str) -> str:
    (credentials,) = DEMO_APIS_BY_EXCHANGE[exchange].values()
    return re.escape(credentials[0])


HEX_SIGN = r"[0-9a-f]{16}\.\.\.\(64 hex digits\)"
EXPECT = {
    "bitflyer": Expect(
        exchange="bitflyer",
        product="FX_BTC_JPY",
        order_path="/v1/me/sendchildorder",
        connected="connected, logged in (1 login accepted) and subscribed to 4 channels in ",
        head=rf"^FX_BTC_JPY \+\d\.\d\ds  ltp {NUMBER}  bid (?P<bid>{NUMBER}) / "
        rf"ask (?P<ask>{NUMBER})  volume [\d.]+$",
        status=r" book synced$",
        order_id=r"JRF\d{8}-\d{6}-\d{6}",
        signed=_signed(
            f"ACCESS-KEY {_key('bitflyer')}", r"ACCESS-TIMESTAMP \d{13}", f"ACCESS-SIGN {HEX_SIGN}"
        ),
        events=lambda oid, side: [
            rf"^  ORDER +{oid}  MARKET {side} 0\.01$",
            rf"^  EXECUTION +{oid}  {side} 0\.01 @ (?P<price>{NUMBER})$",
        ],
        position=lambda side: rf"^position: {side} 0\.01 @ (?P<price>{NUMBER})$",
        private_counts=r"child_order_events 2, replies 4",
    ),
    "bybit": Expect(
        exchange="bybit",
        product="BTCUSDT",
        order_path="/v5/order/create",
        connected="connected (2 WebSockets), logged in (1 login accepted) and subscribed to "
        "7 topics in ",
        head=rf"^BTCUSDT \+\d\.\d\ds  lastPrice {NUMBER}  bid (?P<bid>{NUMBER}) / "
        rf"ask (?P<ask>{NUMBER})  volume24h [\d.]+$",
        status=r" book synced, u \d+$",
        order_id=r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        signed=_signed(
            f"X-BAPI-API-KEY {_key('bybit')}", r"X-BAPI-TIMESTAMP \d{13}", f"X-BAPI-SIGN {HEX_SIGN}"
        ),
        events=lambda oid, side: [
            rf"^  order New +{oid}  Market {side.title()} 0\.010$",
            rf"^  execution Trade +{oid}  {side.title()} 0\.010 @ (?P<price>{NUMBER})$",
            rf"^  order Filled +{oid}  Market {side.title()} 0\.010, avgPrice {NUMBER}$",
        ],
        position=lambda side: (
            rf"^position: {side} 0\.010 @ (?P<price>{NUMBER})  unrealisedPnl -?[\d.]+$"
        ),
        private_counts=r"order 2, execution 1, position 1, (wallet 1, )?replies 2",
    ),
    "okx": Expect(
        exchange="okx",
        product="BTC-USDT-SWAP",
        order_path="/api/v5/trade/order",
        connected="connected (2 WebSockets), logged in (1 login accepted) and subscribed to "
        "6 channels in ",
        head=rf"^BTC-USDT-SWAP \+\d\.\d\ds  last {NUMBER}  bid (?P<bid>{NUMBER}) / "
        rf"ask (?P<ask>{NUMBER})  vol24h [\d.]+$",
        status=r" book synced, seqId \d+$",
        order_id=r"\d{18}",
        signed=_signed(
            f"OK-ACCESS-KEY {_key('okx')}",
            r"OK-ACCESS-TIMESTAMP \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
            r"OK-ACCESS-SIGN [A-Za-z0-9+/]{16}\.\.\.\(44 base64 characters\)",
            r"OK-ACCESS-PASSPHRASE \(sent, not shown\)",
        ),
        events=lambda oid, side: [
            rf"^  orders live +{oid}  market {side.lower()} 0\.01$",
            rf"^  orders filled +{oid}  {side.lower()} 0\.01 @ (?P<price>{NUMBER}) "
            r"\(tradeId \d+\)$",
        ],
        position=lambda side: (
            rf"^position: {side} 0\.01 @ (?P<price>{NUMBER})  \(cross, upl -?[\d.]+\)$"
        ),
        private_counts=r"orders 2, positions 2, account [12], replies 6",
    ),
    "binance": Expect(
        exchange="binance",
        product="BTCUSDT",
        order_path="/api/v3/order",
        connected="connected (2 WebSockets) and subscribed to 4 streams in ",
        head=rf"^BTCUSDT \+\d\.\d\ds  last {NUMBER}  bid (?P<bid>{NUMBER}) / "
        rf"ask (?P<ask>{NUMBER})  volume [\d.]+$",
        status=r" book synced, u \d+$",
        order_id=r"\d+",
        signed=_signed(
            f"X-MBX-APIKEY {_key('binance')}", r"timestamp \d{13}", f"signature {HEX_SIGN}"
        ),
        events=lambda oid, side: [
            rf"^  executionReport NEW +{oid}  MARKET {side} 0\.01$",
            rf"^  executionReport TRADE +{oid}  {side} 0\.01 @ (?P<price>{NUMBER}) "
            r"\(tradeId \d+\), FILLED$",
        ],
        position=lambda side: (
            rf"^balances: BTC (?P<base0>{NUMBER}) -> (?P<base1>{NUMBER}) "
            rf"\((?P<base_change>[+-]{NUMBER})\), USDT (?P<quote0>{NUMBER}) -> "
            rf"(?P<quote1>{NUMBER}) \((?P<quote_change>[+-]{NUMBER})\)$"
        ),
        private_counts=r"executionReport 2, outboundAccountPosition 1",
        spot=True,
        setup=r"^  setup     POST /api/v3/userDataStream, GET /api/v3/account -> "
        r"store\.initialize\(\) in [\d.]+ ms$",
    ),
}
EXCHANGES = list(EXPECT)


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def check_success(out: str, exchange: str, side: str = "BUY", *, frames: int = 2) -> None:
    """What a successful run shows: book frames, a signed order, its events, a summary."""
    expect = EXPECT[exchange]
    assert "\x1b[" not in out  # not a terminal: plain lines only
    lines = out.splitlines()
    assert expect.connected in out
    heads = [i for i, line in enumerate(lines) if re.match(expect.head, line)]
    assert len(heads) >= frames, out
    for i in heads:
        quote = re.match(expect.head, lines[i])
        assert quote
        assert _number(quote["bid"]) < _number(quote["ask"]), lines[i]
        assert re.search(expect.status, lines[i + 1]), lines[i + 1]
        assert len(lines[i + 2 : i + 5]) == 3  # three levels a side
    assert re.search(expect.signed, out, re.M), out
    found = re.search(rf"^  accepted: \S+ (?P<id>{expect.order_id}) \(HTTP 200 in ", out, re.M)
    assert found, out
    order_id = found["id"]
    at = out.index(found[0])
    fill_price = None
    for pattern in expect.events(order_id, side):
        event = re.compile(pattern, re.M).search(out, at)
        assert event, (pattern, out)
        at = event.end()
        if "price" in event.groupdict():
            fill_price = event["price"]
    if expect.setup is not None:
        assert re.search(expect.setup, out, re.M), out
    position = re.search(expect.position(side), out, re.M)
    assert position, out
    if expect.spot:
        # No position: the base asset comes in (goes out) at the fill price, no fees.
        assert fill_price is not None
        sign = 1 if side == "BUY" else -1
        got = _number(position["base1"]) - _number(position["base0"])
        paid = _number(position["quote1"]) - _number(position["quote0"])
        assert got == sign * Decimal("0.01") == _number(position["base_change"]), out
        assert paid == -got * _number(fill_price) == _number(position["quote_change"]), out
    else:
        assert position["price"] == fill_price  # a fresh position opens at its fill
    summary = lines[-1]
    assert summary.startswith("summary: "), summary
    assert "reconnects 0" in summary
    assert f"order {order_id};" in summary
    assert re.search(rf"\(.*{expect.private_counts}\); reconnects", summary), summary
    counted = re.fullmatch(r"summary: (\d+) messages received \((.*)\); reconnects .*", summary)
    assert counted
    per_channel = [int(part.rsplit(" ", 1)[1]) for part in counted[2].split(", ")]
    assert int(counted[1]) == sum(per_channel)
    (credentials,) = DEMO_APIS_BY_EXCHANGE[exchange].values()
    for secret in credentials[1:]:
        assert secret not in out  # the API secret and the passphrase never show


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_demo_in_process(exchange: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    # bitFlyer without --exchange: `botters demo` (the README's main job) is bitFlyer's.
    flag = [] if exchange == "bitflyer" else ["--exchange", exchange]
    code = main(["demo", *flag, "--seconds", "0.3", "--seed", "3"], out=out, err=err)
    assert (code, err.getvalue()) == (0, "")
    check_success(out.getvalue(), exchange)


@pytest.mark.parametrize("exchange", ["okx", "binance"])
def test_demo_as_a_module_in_a_subprocess(exchange: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_APIS")}
    proc = subprocess.run(
        [sys.executable, "-m", "botters", "demo", "--exchange", exchange, "--seconds", "0.3"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    check_success(proc.stdout, exchange)


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_sell_side(exchange: str) -> None:
    out = io.StringIO()
    argv = ["demo", "--exchange", exchange, "--seconds", "0", "--side", "SELL"]
    assert main(argv, out=out, err=io.StringIO()) == 0
    check_success(out.getvalue(), exchange, "SELL", frames=1)


@pytest.mark.parametrize(
    ("exchange", "product"),
    [("bybit", "ETHUSDT"), ("okx", "ETH-USDT-SWAP"), ("binance", "ETHUSDT")],
)
def test_other_product(exchange: str, product: str) -> None:
    out = io.StringIO()
    argv = ["demo", "--exchange", exchange, "--product", product, "--seconds", "0"]
    assert main(argv, out=out, err=io.StringIO()) == 0
    assert re.search(rf"^placing a MARKET BUY 0\.01 {product}: POST ", out.getvalue(), re.M)
    assert re.search(rf"^{product} \+0\.00s ", out.getvalue(), re.M)


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_same_seed_same_first_book(exchange: str) -> None:
    ticks: list[asyncio.Task[None]] = []

    async def one_tick(sim: Simulator) -> None:
        # Binance's streams publish on market events only (no snapshot on subscribing):
        # one tick once the book and ticker streams are subscribed starts them.
        for stream in ("btcusdt@depth@100ms", "btcusdt@ticker"):
            await sim.wait_for_subscription(stream)
        sim.advance(1)

    def on_start(sim: Simulator) -> None:
        if exchange == "binance":
            ticks.append(asyncio.get_running_loop().create_task(one_tick(sim)))

    def first_frame(seed: int) -> list[str]:
        # No tick before the order (an hour apart), but Binance's one: the first book
        # is the seed's alone, however long connecting takes.
        options = DemoOptions(exchange=exchange, seed=seed, seconds=0, tick_interval=3600)
        out = io.StringIO()
        asyncio.run(run_demo(options, out, on_start=on_start))
        lines = out.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if re.match(EXPECT[exchange].head, line))
        # The first line carries the elapsed time: compare the ladder and its status only.
        return lines[start + 1 : start + 5]

    assert first_frame(5) == first_frame(5)
    assert first_frame(5) != first_frame(6)


def test_redraws_in_place_on_a_terminal() -> None:
    out = io.StringIO()
    asyncio.run(run_demo(DemoOptions(seconds=0.3, refresh=0.1), out, in_place=True))
    text = out.getvalue()
    # Every frame after the first moves the cursor up over the last one (5 lines).
    frames = text.count("FX_BTC_JPY +")
    assert frames >= 2
    assert text.count("\x1b[5F\x1b[J") == frames - 1


def cli_with_faults(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], **hooks: Callable[[Simulator], object]
) -> tuple[int, str, str]:
    """Run ``botters demo ...`` with fault hooks; (exit status, stdout, stderr)."""
    real = _demo.run_demo

    async def with_faults(options: DemoOptions, out: Any, **kwargs: Any) -> None:
        merged: dict[str, Any] = {**kwargs, **hooks}
        await real(options, out, **merged)

    monkeypatch.setattr(_demo, "run_demo", functools.wraps(real)(with_faults))
    out, err = io.StringIO(), io.StringIO()
    code = main(["demo", "--seconds", "0", *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_refused_order_exits_1(monkeypatch: pytest.MonkeyPatch, exchange: str) -> None:
    def refuse(sim: Simulator) -> None:
        sim.inject_rest(RestFault(status=503), path=EXPECT[exchange].order_path)

    code, out, err = cli_with_faults(monkeypatch, ["--exchange", exchange], before_order=refuse)
    assert code == 1
    assert "  signed: " in out
    assert err.startswith("botters demo: failed: the order was refused: HTTP 503 {"), err
    assert err.count("\n") == 1


def test_slow_order_reply_fails_with_a_message() -> None:
    def slow(sim: Simulator) -> None:
        sim.inject_rest(RestFault(delay=1.0), path="/v1/me/sendchildorder")

    with pytest.raises(DemoError, match=r"no reply to the order within 0\.2 s"):
        asyncio.run(run_demo(DemoOptions(seconds=0, timeout=0.2), io.StringIO(), before_order=slow))


@pytest.mark.parametrize(
    ("exchange", "id_name", "first_event"),
    [("okx", "ordId", "first orders channel event"), ("binance", "orderId", "executionReport NEW")],
)
def test_missing_order_event_exits_1(
    monkeypatch: pytest.MonkeyPatch, exchange: str, id_name: str, first_event: str
) -> None:
    # The exchange stops sending (no events, no pongs) on both WebSockets before the order.
    def silence(sim: Simulator) -> None:
        for conn in sim.open_connections:
            conn.go_silent()

    argv = ["--exchange", exchange, "--timeout", "0.5"]
    code, out, err = cli_with_faults(monkeypatch, argv, before_order=silence)
    assert code == 1
    placed = re.search(rf"accepted: {id_name} (\d+) ", out)
    assert placed, out
    assert err == (
        f"botters demo: failed: the {first_event} for {placed.group(1)} "
        "did not arrive within 0.5 s\n"
    )


def test_binance_listen_key_comes_first_and_is_not_printed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    def look(sim: Simulator) -> None:
        seen["keys"] = sim.active_listen_keys()
        seen["requests"] = sim.user_stream_requests()

    code, out, err = cli_with_faults(monkeypatch, ["--exchange", "binance"], before_order=look)
    assert (code, err) == (0, "")
    (key,) = seen["keys"]
    (created,) = (r for r in seen["requests"] if r.method == "POST")
    assert (created.listen_key, created.accepted) == (key, True)
    # The private feed is the listenKey's stream; the key shows as the store's logs show it.
    assert key not in out
    assert f"  private   wss://stream.binance.com:9443/ws/{key[:4]}... -> 127.0.0.1:" in out
    assert out.index("  setup     POST /api/v3/userDataStream") < out.index("  private   ")


def test_binance_refused_listen_key_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(sim: Simulator) -> None:
        sim.inject_rest(RestFault(status=503), path="/api/v3/userDataStream")

    code, out, err = cli_with_faults(monkeypatch, ["--exchange", "binance"], on_start=refuse)
    assert code == 1
    assert "wss://" not in out  # no feed without its listenKey
    assert err == (
        "botters demo: failed: the store could not be initialized: Binance "
        "/api/v3/userDataStream: code -1001 'Internal error; unable to process your "
        "request.'; response not applied\n"
    )


def test_rejected_login_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    # Both handshakes take the fault: only the private WebSocket logs in, and is refused.
    def reject(sim: Simulator) -> None:
        sim.inject(Fault(reject_login=True), count=2)

    argv = ["--exchange", "bybit", "--timeout", "0.3"]
    code, out, err = cli_with_faults(monkeypatch, argv, on_start=reject)
    assert code == 1
    assert "  private   wss://stream.bybit.com/v5/private -> 127.0.0.1:" in out
    assert err == (
        "botters demo: failed: the private WebSocket was not connected, logged in and "
        "subscribed within 0.3 s (wss://stream.bybit.com/v5/private)\n"
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


@pytest.mark.parametrize(
    "bad",
    [["--seconds", "-1"], ["--timeout", "0"], ["--side", "HOLD"], ["--exchange", "kraken"]],
)
def test_bad_arguments(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["demo", *bad])
    assert exc.value.code == 2


def test_a_product_the_exchange_has_not(capsys: pytest.CaptureFixture[str]) -> None:
    err = io.StringIO()
    argv = ["demo", "--exchange", "okx", "--product", "FX_BTC_JPY"]
    assert main(argv, out=io.StringIO(), err=err) == 2
    assert err.getvalue() == (
        "botters demo: --product 'FX_BTC_JPY' is not simulated for okx: "
        "one of BTC-USDT-SWAP, ETH-USDT-SWAP\n"
    )


def test_the_cli_and_the_profiles_agree(capsys: pytest.CaptureFixture[str]) -> None:
    assert {name: p.default_product for name, p in PROFILES.items()} == _cli.DEMO_PRODUCTS
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for name, profile in PROFILES.items():
        assert profile.default_product == profile.products[0]
        for product in profile.products:
            assert product in help_text
            # Every product is one the simulator serves with positions (spot on Binance).
            assert DEFAULT_MARKETS_BY_EXCHANGE[name][product].margin != profile.spot


def test_binance_slow_listen_key_fails_with_a_message() -> None:
    def slow(sim: Simulator) -> None:
        sim.inject_rest(RestFault(delay=1.0), path="/api/v3/userDataStream")

    options = DemoOptions(exchange="binance", seconds=0, timeout=0.2)
    expected = r"no reply to POST /api/v3/userDataStream, GET /api/v3/account within 0\.2 s"
    with pytest.raises(DemoError, match=expected):
        asyncio.run(run_demo(options, io.StringIO(), on_start=slow))
