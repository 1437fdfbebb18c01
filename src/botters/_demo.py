"""``botters demo``: a bot's whole round trip against the embedded bitFlyer simulator.

Theory of operation
-------------------
The demo is what a real bitFlyer bot does, pointed at a local exchange:

1. start :class:`~botters.simulator.Simulator` on this event loop, serving TLS
   with a certificate from a throwaway CA made in memory (trustme);
2. open a :class:`botters.Client` with the simulator's demo keys and the
   **production** URLs (``https://api.bitflyer.com``,
   ``wss://ws.lightstream.bitflyer.com``), with both host names pinned to
   127.0.0.1 (``resolve=``) and the test CA trusted (``ssl=``). botters signs
   by exact host, so requests and the WebSocket login are signed exactly as
   they would be in production; nothing leaves the loopback interface;
3. subscribe to the board snapshot and diffs, the ticker and the private
   ``child_order_events`` (the session logs in first), feeding one
   :class:`botters.bitFlyerDataStore`;
4. show the top of the book and the ticker a few times per second;
5. place a signed MARKET order over REST and wait for its events to come
   back on the WebSocket;
6. print a summary and close everything.

Every wait has a deadline; a missed one ends the demo with exit status 1
and a message that says which step failed. Output is plain lines (readable
in a CI log); only on a terminal is the book redrawn in place.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TextIO

import botters
from botters.simulator import DEMO_APIS, Simulator, make_tls_contexts

__all__ = ["DemoError", "DemoOptions", "run_demo"]

REST_URL: Final = "https://api.bitflyer.com"
WS_URL: Final = "wss://ws.lightstream.bitflyer.com/json-rpc"
ORDER_SIZE: Final = 0.01
LEVELS: Final = 3


class DemoError(Exception):
    """A step of the demo failed; the message says which and why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoOptions:
    """What ``botters demo`` was asked to do."""

    seconds: float = 3.0
    """How long to show the live book before placing the order."""
    seed: int = 0
    """The simulator's market seed (the same seed gives the same book moves)."""
    product: str = "FX_BTC_JPY"
    """The product to watch and trade."""
    side: str = "BUY"
    """The side of the MARKET order."""
    refresh: float = 0.25
    """Seconds between two redraws of the book."""
    tick_interval: float = 0.1
    """Seconds between two simulated market ticks."""
    timeout: float = 5.0
    """Seconds to wait for each step: the login and subscriptions, the first book, the order's
    reply and its events."""


def _price(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float):
        return f"{value:,}"
    return str(value)


def _size(value: Any) -> str:
    try:
        return f"{float(value):.8f}".rstrip("0").rstrip(".") or "0"
    except (TypeError, ValueError):
        return str(value)


class _Screen:
    """Writes frames: appended in a log, redrawn in place on a terminal."""

    def __init__(self, out: TextIO, in_place: bool) -> None:
        self._out = out
        self._in_place = in_place
        self._drawn = 0  # lines of the last frame, when redrawing in place

    def frame(self, lines: list[str]) -> None:
        if self._in_place and self._drawn:
            # Cursor up to the first line of the last frame, clear to the end.
            self._out.write(f"\x1b[{self._drawn}F\x1b[J")
        self._out.write("\n".join(lines) + "\n")
        self._out.flush()
        self._drawn = len(lines) if self._in_place else 0

    def line(self, text: str = "") -> None:
        self._out.write(text + "\n")
        self._out.flush()
        self._drawn = 0


def _book_frame(store: botters.bitFlyerDataStore, product: str, elapsed: float) -> list[str]:
    ticker = store.ticker.get({"product_code": product}) or {}
    book = store.board.sorted({"product_code": product}, limit=LEVELS)
    bids, asks = book["bids"], book["asks"]
    head = (
        f"{product} +{elapsed:4.2f}s  ltp {_price(ticker.get('ltp', '-'))}  "
        f"bid {_price(ticker.get('best_bid', '-'))} / ask {_price(ticker.get('best_ask', '-'))}  "
        f"volume {_size(ticker.get('volume', 0))}  tick {ticker.get('tick_id', '-')}"
    )
    lines = [head, f"  {'bid size':>12} {'bid':>12} | {'ask':<12} ask size"]
    for i in range(LEVELS):
        bid = bids[i] if i < len(bids) else None
        ask = asks[i] if i < len(asks) else None
        left = f"{_size(bid['size']):>12} {_price(bid['price']):>12}" if bid else " " * 25
        right = f"{_price(ask['price']):<12} {_size(ask['size']):<12}" if ask else ""
        lines.append(f"  {left} | {right}".rstrip())
    return lines


async def _until(
    store: botters.bitFlyerDataStore, ready: Callable[[], bool], timeout: float, what: str
) -> None:
    """Wait until ``ready()`` holds, re-checking after every message the store takes."""
    try:
        async with asyncio.timeout(timeout):
            while not ready():
                await store.wait()
    except TimeoutError:
        raise DemoError(f"{what} did not arrive within {timeout:g} s") from None


async def run_demo(
    options: DemoOptions,
    out: TextIO,
    *,
    in_place: bool | None = None,
    before_order: Callable[[Simulator], object] | None = None,
) -> None:
    """Run the demo, writing to ``out``.

    Args:
        options: What to show and trade.
        out: Where the demo's lines go.
        in_place: Redraw the book in place (ANSI escapes); by default only
            when ``out`` is a terminal.
        before_order: Called with the simulator just before the order is
            placed (tests use it to inject faults).

    Raises:
        DemoError: a step failed (the message names it).
        ImportError: the ``simulator`` extra is not installed.
    """
    if in_place is None:
        in_place = out.isatty()
    screen = _Screen(out, in_place)
    product = options.product
    started = time.perf_counter()
    server_ctx, client_ctx = make_tls_contexts()
    async with Simulator(
        seed=options.seed,
        products=(product,),
        tick_interval=options.tick_interval,
        ssl=server_ctx,
    ) as sim:
        host, port = sim.address
        screen.line(
            f"botters demo: simulated bitFlyer on {host}:{port} "
            f"(TLS, certificate from a test CA made just now; seed {options.seed})"
        )
        screen.line(f"  REST      {REST_URL} -> {host}:{port}")
        screen.line(f"  Realtime  {WS_URL} -> {host}:{port}")

        store = botters.bitFlyerDataStore()
        counts: Counter[str] = Counter()

        def count(msg: Any, ws: Any) -> None:
            params = msg.get("params") if isinstance(msg, dict) else None
            channel = params.get("channel") if isinstance(params, dict) else None
            counts[channel if isinstance(channel, str) else "replies"] += 1

        channels = (
            f"lightning_board_snapshot_{product}",
            f"lightning_board_{product}",
            f"lightning_ticker_{product}",
            "child_order_events",
        )
        subscribe = [
            {"method": "subscribe", "params": {"channel": c}, "id": i}
            for i, c in enumerate(channels, 1)
        ]
        async with botters.Client(
            apis=dict(DEMO_APIS), resolve=sim.resolve, ssl=client_ctx
        ) as client:
            t0 = time.perf_counter()
            app = client.ws_connect(
                WS_URL,
                send_json=subscribe,
                hdlr_json=[store.onmessage, count],
                # Loopback: a peer that does not answer our close within 1 s never will.
                close_timeout=1.0,
            )
            try:
                async with asyncio.timeout(options.timeout):
                    await app
                    # The private channel is granted only after the login succeeded.
                    await sim.wait_for_subscription("child_order_events", timeout=None)
            except TimeoutError:
                raise DemoError(
                    f"the WebSocket was not connected, logged in and subscribed within "
                    f"{options.timeout:g} s"
                ) from None
            logins = sim.stats.logins_accepted
            screen.line(
                f"connected, logged in ({logins} login accepted) and subscribed to "
                f"{len(channels)} channels in {time.perf_counter() - t0:.2f} s"
            )
            await _until(
                store,
                lambda: (
                    store.board.is_synced(product)
                    and store.ticker.get({"product_code": product}) is not None
                ),
                options.timeout,
                "the first board snapshot and ticker",
            )
            screen.line()

            shown = time.perf_counter()
            while True:
                elapsed = time.perf_counter() - shown
                screen.frame(_book_frame(store, product, elapsed))
                if elapsed >= options.seconds:
                    break
                await asyncio.sleep(min(options.refresh, options.seconds - elapsed))
            screen.line()

            if before_order is not None:
                before_order(sim)
            order = {
                "product_code": product,
                "child_order_type": "MARKET",
                "side": options.side,
                "size": ORDER_SIZE,
            }
            screen.line(
                f"placing a MARKET {options.side} {_size(ORDER_SIZE)} {product}: "
                f"POST {REST_URL}/v1/me/sendchildorder"
            )
            t_sent = time.perf_counter()
            try:
                async with asyncio.timeout(options.timeout):
                    result = await client.fetch(
                        "POST", f"{REST_URL}/v1/me/sendchildorder", data=order
                    )
            except TimeoutError:
                raise DemoError(f"no reply to the order within {options.timeout:g} s") from None
            t_reply = time.perf_counter()
            sent = result.response.request_info.headers
            signature = sent.get("ACCESS-SIGN", "")
            screen.line(
                f"  signed: ACCESS-KEY {sent.get('ACCESS-KEY', '(none)')}, "
                f"ACCESS-TIMESTAMP {sent.get('ACCESS-TIMESTAMP', '(none)')}, "
                f"ACCESS-SIGN {signature[:16]}...({len(signature)} hex digits)"
            )
            data = result.data
            if (
                result.response.status != 200
                or not isinstance(data, dict)
                or not data.get("child_order_acceptance_id")
            ):
                raise DemoError(
                    f"the order was refused: HTTP {result.response.status} {result.text[:200]}"
                )
            acceptance_id = str(data["child_order_acceptance_id"])
            screen.line(
                f"  accepted: child_order_acceptance_id {acceptance_id} "
                f"(HTTP {result.response.status} in {(t_reply - t_sent) * 1000:.1f} ms)"
            )

            def events() -> list[dict[str, Any]]:
                return store.childorderevents.find({"child_order_acceptance_id": acceptance_id})

            def kinds() -> set[Any]:
                return {e.get("event_type") for e in events()}

            await _until(
                store,
                lambda: "ORDER" in kinds(),
                options.timeout,
                f"the child_order_events ORDER event for {acceptance_id}",
            )
            t_event = time.perf_counter()
            # A MARKET order executes on arrival: its EXECUTION follows at once.
            await _until(
                store,
                lambda: bool(kinds() & {"EXECUTION", "CANCEL", "EXPIRE", "REJECT"}),
                options.timeout,
                f"the child_order_events EXECUTION event for {acceptance_id}",
            )
            screen.line(
                f"child_order_events over the WebSocket "
                f"({(t_event - t_sent) * 1000:.1f} ms after sending the order):"
            )
            for event in events():
                kind = str(event.get("event_type"))
                if kind == "EXECUTION":
                    detail = (
                        f"{event.get('side')} {_size(event.get('size'))} "
                        f"@ {_price(event.get('price'))}"
                    )
                else:
                    detail = (
                        f"{event.get('child_order_type', '')} {event.get('side', '')} "
                        f"{_size(event.get('size'))}"
                    )
                screen.line(f"  {kind:<10} {acceptance_id}  {detail}")
            for position in store.positions.find({"product_code": product}):
                screen.line(
                    f"position: {position.get('side')} {_size(position.get('size'))} "
                    f"@ {_price(position.get('price'))}"
                )

            stats = sim.stats
            reconnects = max(stats.connections_accepted - 1, 0)
            await app.close()
        total = sum(counts.values())
        names = [*channels, *sorted(set(counts) - set(channels))]
        by_channel = ", ".join(
            f"{name.removesuffix('_' + product)} {counts[name]}" for name in names if counts[name]
        )
        screen.line()
        screen.line(
            f"summary: {total} messages received ({by_channel}); reconnects {reconnects}; "
            f"order {acceptance_id}; {time.perf_counter() - started:.1f} s in all"
        )
