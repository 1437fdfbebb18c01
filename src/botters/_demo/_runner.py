"""The demo's one flow, run with an exchange's :class:`~._profile.Profile`."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TextIO

import botters
from botters.protocol.store import BookState, DataStoreCollection
from botters.simulator import Simulator, make_tls_contexts

from ._bitflyer import BitFlyer
from ._bybit import Bybit
from ._okx import Okx
from ._profile import HeaderShown, OrderEvent, Profile, price_text, size_text

__all__ = ["PROFILES", "DemoError", "DemoOptions", "run_demo"]

PROFILES: Final[Mapping[str, Profile[Any]]] = {p.exchange: p for p in (BitFlyer(), Bybit(), Okx())}
"""The exchanges ``botters demo --exchange`` knows, by name."""

ORDER_SIZE: Final = "0.01"
LEVELS: Final = 3


class DemoError(Exception):
    """A step of the demo failed; the message says which and why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoOptions:
    """What ``botters demo`` was asked to do."""

    exchange: str = "bitflyer"
    """Which exchange to simulate and trade on: a key of :data:`PROFILES`."""
    seconds: float = 3.0
    """How long to show the live book before placing the order."""
    seed: int = 0
    """The simulator's market seed (the same seed gives the same book moves)."""
    product: str | None = None
    """The product to watch and trade; ``None`` for the exchange's default."""
    side: str = "BUY"
    """The side of the MARKET order."""
    refresh: float = 0.25
    """Seconds between two redraws of the book."""
    tick_interval: float = 0.1
    """Seconds between two simulated market ticks."""
    timeout: float = 5.0
    """Seconds to wait for each step: the logins and subscriptions, the first book, the order's
    reply, its events and the position."""


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


def _book_frame(
    profile: Profile[Any], store: DataStoreCollection, product: str, elapsed: float
) -> list[str]:
    ticker = profile.ticker(store, product) or {}
    last, bid, ask, volume = profile.ticker_fields
    head = (
        f"{product} +{elapsed:4.2f}s  {last} {price_text(ticker.get(last, '-'))}  "
        f"bid {price_text(ticker.get(bid, '-'))} / ask {price_text(ticker.get(ask, '-'))}  "
        f"{volume} {size_text(ticker.get(volume, 0))}"
    )
    status = profile.book_status(store, product)
    sync = f"book {status.state.value}"
    if profile.seq_name is not None and status.seq is not None:
        sync += f", {profile.seq_name} {status.seq}"
    if status.gaps:
        sync += f", {status.gaps} gap{'s' if status.gaps != 1 else ''}"
    lines = [head, f"  {'bid size':>12} {'bid':>12} | {'ask':<12} {'ask size':<12} {sync}"]
    bids, asks = profile.book(store, product, LEVELS)
    for i in range(LEVELS):
        left = f"{size_text(bids[i][1]):>12} {price_text(bids[i][0]):>12}" if i < len(bids) else ""
        right = f"{price_text(asks[i][0]):<12} {size_text(asks[i][1])}" if i < len(asks) else ""
        lines.append(f"  {left:>25} | {right}".rstrip())
    return lines


def _shown(value: str | None, how: HeaderShown) -> str:
    """A signature header as the demo prints it: never a secret, never a whole signature."""
    if value is None:
        return "(none)"
    if how == "secret":
        return "(sent, not shown)"
    if how == "hex":
        return f"{value[:16]}...({len(value)} hex digits)"
    if how == "base64":
        return f"{value[:16]}...({len(value)} base64 characters)"
    return value


def _done(events: list[OrderEvent]) -> bool:
    """The order is over: closed, and if closed as filled, with an execution seen."""
    filled = any(e.fill for e in events)
    return any(e.closed and (filled or not e.filled) for e in events)


async def _until(
    store: DataStoreCollection, ready: Callable[[], bool], timeout: float, what: str
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
        options: What to show and trade, and where.
        out: Where the demo's lines go.
        in_place: Redraw the book in place (ANSI escapes); by default only
            when ``out`` is a terminal.
        before_order: Called with the simulator just before the order is
            placed (tests use it to inject faults).

    Raises:
        DemoError: a step failed (the message names it), or the options
            name an exchange or product the demo does not have.
        ImportError: the ``simulator`` extra is not installed.
    """
    profile = PROFILES.get(options.exchange)
    if profile is None:
        raise DemoError(f"no exchange {options.exchange!r}: one of {', '.join(PROFILES)}")
    product = options.product or profile.default_product
    if product not in profile.products:
        raise DemoError(
            f"no product {product!r} on the {profile.name} simulator: "
            f"one of {', '.join(profile.products)}"
        )
    if in_place is None:
        in_place = out.isatty()
    screen = _Screen(out, in_place)
    timeout = options.timeout
    started = time.perf_counter()
    server_ctx, client_ctx = make_tls_contexts()
    async with Simulator(
        exchange=profile.exchange,
        seed=options.seed,
        products=(product,),
        tick_interval=options.tick_interval,
        ssl=server_ctx,
    ) as sim:
        host, port = sim.address
        feeds = profile.feeds(product)
        screen.line(
            f"botters demo: simulated {profile.name} on {host}:{port} "
            f"(TLS, certificate from a test CA made just now; seed {options.seed})"
        )
        screen.line(f"  {'REST':<8}  {profile.rest_url} -> {host}:{port}")
        for feed in feeds:
            screen.line(f"  {feed.label:<8}  {feed.url} -> {host}:{port}")

        store = profile.new_store()
        counts: Counter[str] = Counter()
        events: list[OrderEvent] = []

        def record(msg: Any, ws: Any) -> None:
            counts[profile.channel_of(msg, product) or "replies"] += 1
            events.extend(profile.events(msg))

        async with botters.Client(
            apis=dict(sim.apis), resolve=sim.resolve, ssl=client_ctx
        ) as client:
            t0 = time.perf_counter()
            apps = [
                client.ws_connect(
                    feed.url,
                    send_json=feed.subscribe,
                    # One collection for every feed, as pybotters users do; the
                    # demo's own bookkeeping first, so the store wakes us after both.
                    hdlr_json=[record, store.onmessage],
                    # Loopback: a peer that does not answer our close within 1 s never will.
                    close_timeout=1.0,
                )
                for feed in feeds
            ]
            deadline = asyncio.get_running_loop().time() + timeout
            for feed, app in zip(feeds, apps, strict=True):
                try:
                    async with asyncio.timeout_at(deadline):
                        await app
                        # Private subscriptions are granted only after the login succeeded.
                        for name in feed.confirmed:
                            await sim.wait_for_subscription(name, timeout=None)
                except TimeoutError:
                    raise DemoError(
                        f"the {feed.label} WebSocket was not connected, logged in and "
                        f"subscribed within {timeout:g} s ({feed.url})"
                    ) from None
            logins = sim.stats.logins_accepted
            subscribed = sum(len(feed.channels) for feed in feeds)
            connected = "connected" if len(feeds) == 1 else f"connected ({len(feeds)} WebSockets)"
            screen.line(
                f"{connected}, logged in ({logins} login{'s' if logins != 1 else ''} accepted) "
                f"and subscribed to {subscribed} {profile.subscriptions} "
                f"in {time.perf_counter() - t0:.2f} s"
            )
            await _until(
                store,
                lambda: (
                    profile.book_status(store, product).state is BookState.SYNCED
                    and profile.ticker(store, product) is not None
                ),
                timeout,
                f"the first {profile.book_name} snapshot and ticker",
            )
            screen.line()

            shown = time.perf_counter()
            while True:
                elapsed = time.perf_counter() - shown
                screen.frame(_book_frame(profile, store, product, elapsed))
                if elapsed >= options.seconds:
                    break
                await asyncio.sleep(min(options.refresh, options.seconds - elapsed))
            screen.line()

            if before_order is not None:
                before_order(sim)
            call = profile.order(product, options.side, ORDER_SIZE)
            url = profile.rest_url + call.path
            screen.line(f"placing a MARKET {options.side} {ORDER_SIZE} {product}: POST {url}")
            screen.line("  body: " + " ".join(f"{k}={v}" for k, v in call.data.items()))
            t_sent = time.perf_counter()
            try:
                async with asyncio.timeout(timeout):
                    result = await client.fetch("POST", url, data=call.data)
            except TimeoutError:
                raise DemoError(f"no reply to the order within {timeout:g} s") from None
            t_reply = time.perf_counter()
            sent = result.response.request_info.headers
            screen.line(
                "  signed: "
                + ", ".join(
                    f"{name} {_shown(sent.get(name), how)}" for name, how in profile.signature
                )
            )
            status = result.response.status
            order_id = profile.order_id(status, result.data)
            if order_id is None:
                raise DemoError(f"the order was refused: HTTP {status} {result.text[:200]}")
            screen.line(
                f"  accepted: {profile.order_id_name} {order_id} "
                f"(HTTP {status} in {(t_reply - t_sent) * 1000:.1f} ms)"
            )

            def mine() -> list[OrderEvent]:
                return [e for e in events if e.order_id == order_id]

            await _until(
                store,
                lambda: any(e.accepted for e in mine()),
                timeout,
                f"the {profile.accepted_what} for {order_id}",
            )
            t_event = time.perf_counter()
            # A MARKET order executes on arrival: the rest follows at once.
            await _until(
                store, lambda: _done(mine()), timeout, f"the {profile.done_what} for {order_id}"
            )
            screen.line(
                f"{profile.events_name} over the WebSocket "
                f"({(t_event - t_sent) * 1000:.1f} ms after sending the order):"
            )
            width = max([10, *(len(e.label) for e in mine())])
            for event in mine():
                screen.line(f"  {event.label:<{width}} {event.order_id}  {event.detail}")
            if not any(e.fill for e in mine()):
                raise DemoError(f"the order {order_id} ended without an execution")
            await _until(
                store,
                lambda: bool(profile.positions(store, product)),
                timeout,
                f"the {profile.position_what} for {product}",
            )
            for position in profile.positions(store, product):
                screen.line(
                    f"position: {position.side} {size_text(position.size)} "
                    f"@ {price_text(position.price)}{position.extra}"
                )

            reconnects = max(sim.stats.connections_accepted - len(feeds), 0)
            for app in apps:
                await app.close()
        total = sum(counts.values())
        channels = [name for feed in feeds for name in feed.channels]
        names = [*channels, *sorted(set(counts) - set(channels))]
        by_channel = ", ".join(f"{name} {counts[name]}" for name in names if counts[name])
        screen.line()
        screen.line(
            f"summary: {total} messages received ({by_channel}); reconnects {reconnects}; "
            f"order {order_id}; {time.perf_counter() - started:.1f} s in all"
        )
