"""The demo's one flow, run with an exchange's :class:`~._profile.Profile`."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final, TextIO

import botters
from botters.protocol.store import DataStore, DataStoreCollection, InitializeError
from botters.simulator import Simulator, make_tls_contexts

from ._binance import Binance
from ._bitflyer import BitFlyer
from ._bybit import Bybit
from ._okx import Okx
from ._profile import Feed, HeaderShown, OrderEvent, Profile, decimal, price_text, size_text

__all__ = ["PROFILES", "DemoError", "DemoOptions", "run_demo"]

PROFILES: Final[Mapping[str, Profile[Any]]] = MappingProxyType(
    {p.exchange: p for p in (BitFlyer(), Bybit(), Okx(), Binance())}
)
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
    """Seconds to wait for each step: the REST calls before the feeds (Binance's listenKey),
    the logins and subscriptions, the first book, the order's reply, its events and the
    position (or the balances)."""


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
    ticker = profile.ticker_store(store).get({profile.ticker_key: product}) or {}
    last, bid, ask, volume = profile.ticker_fields
    last_label, volume_label = profile.ticker_labels or (last, volume)
    price, size = profile.show_price, profile.show_size
    head = (
        f"{product} +{elapsed:4.2f}s  {last_label} {price(ticker.get(last, '-'))}  "
        f"bid {price(ticker.get(bid, '-'))} / ask {price(ticker.get(ask, '-'))}  "
        f"{volume_label} {size(ticker.get(volume, 0))}"
    )
    book = profile.book_store(store)
    status = book.sync_status(product)
    sync = f"book {status.state.value}"
    if profile.seq_name is not None and status.seq is not None:
        sync += f", {profile.seq_name} {status.seq}"
    if status.gaps:
        sync += f", {status.gaps} gap{'s' if status.gaps != 1 else ''}"
    lines = [head, f"  {'bid size':>12} {'bid':>12} | {'ask':<12} {'ask size':<12} {sync}"]
    top = book.sorted({profile.book_key: product}, limit=LEVELS)
    bids, asks = (top[side] for side in profile.book_sides)
    price_field, size_field = profile.level_fields
    for i in range(LEVELS):
        left = right = ""
        if i < len(bids):
            left = f"{size(bids[i][size_field]):>12} {price(bids[i][price_field]):>12}"
        if i < len(asks):
            right = f"{price(asks[i][price_field]):<12} {size(asks[i][size_field])}"
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


def _change(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Each asset's balance before and after, and the difference: ``BTC 1 -> 1.01 (+0.01)``."""
    shown = []
    for asset, now in after.items():
        new = decimal(now)
        if asset in before:
            old = decimal(before[asset])
            shown.append(
                f"{asset} {_amount(old)} -> {_amount(new)} ({(new - old).normalize():+,f})"
            )
        else:
            shown.append(f"{asset} {_amount(new)}")
    return shown


def _amount(value: Decimal) -> str:
    """An amount without trailing zeros, with thousands separators."""
    return f"{value.normalize():,f}"


def _done(events: list[OrderEvent]) -> bool:
    """The order is over: closed, and if closed as filled, with an execution seen."""
    filled = any(e.fill for e in events)
    return any(e.closed and (filled or not e.filled) for e in events)


async def run_demo(
    options: DemoOptions,
    out: TextIO,
    *,
    in_place: bool | None = None,
    on_start: Callable[[Simulator], object] | None = None,
    before_order: Callable[[Simulator], object] | None = None,
) -> None:
    """Run the demo, writing to ``out``.

    Args:
        options: What to show and trade, and where.
        out: Where the demo's lines go.
        in_place: Redraw the book in place (ANSI escapes); by default only
            when ``out`` is a terminal.
        on_start: Called with the simulator once it serves, before anything
            connects to it (tests use it to arm faults for the handshakes).
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
    screen = _Screen(out, out.isatty() if in_place is None else in_place)
    started = time.perf_counter()
    server_ctx, client_ctx = make_tls_contexts()
    async with Simulator(
        exchange=profile.exchange,
        seed=options.seed,
        products=(product,),
        tick_interval=options.tick_interval,
        ssl=server_ctx,
    ) as sim:
        if on_start is not None:
            on_start(sim)
        run = _Run(profile, product, options, screen, sim)
        async with botters.Client(
            apis=dict(sim.apis), resolve=sim.resolve, ssl=client_ctx
        ) as client:
            run.announce()
            await run.set_up(client)
            apps = run.connect(client)
            try:
                await run.wait_connected(apps)
                await run.show_book()
                if before_order is not None:
                    before_order(sim)
                order_id = await run.place_order(client)
                await run.follow_order(order_id)
                reconnects = max(sim.stats.connections_accepted - len(apps), 0)
            finally:
                # All at once: a dead peer costs its close timeout once, not once per feed.
                await asyncio.gather(*(app.close() for app in apps))
        run.summary(order_id, reconnects, time.perf_counter() - started)


class _Run:
    """One run of the demo: its steps, in the order :func:`run_demo` takes them."""

    def __init__(
        self,
        profile: Profile[Any],
        product: str,
        options: DemoOptions,
        screen: _Screen,
        sim: Simulator,
    ) -> None:
        self.profile = profile
        self.product = product
        self.options = options
        self.screen = screen
        self.sim = sim
        self.store = profile.new_store()
        self.feeds: list[Feed] = []
        """Known once the store has the answers of the profile's setup calls."""
        self.counts: Counter[str] = Counter()
        """Messages received, by the summary's name of their channel or topic."""
        self.events: list[OrderEvent] = []
        """Every order event received, in order (the store keeps only open orders)."""
        self.connecting = 0.0
        """When the feeds started connecting (``perf_counter``)."""
        self.sent = 0.0
        """When the order was sent."""
        self.before: dict[str, str] = {}
        """Spot: the balances just before the order."""

    def record(self, msg: Any, ws: Any) -> None:
        """Handler for every feed: count the message, keep the order events it carries."""
        self.counts[self.profile.channel_of(msg, self.product) or "replies"] += 1
        self.events.extend(self.profile.events(msg))

    async def until(
        self, ready: Callable[[], bool], what: str, *, also: Sequence[DataStore] = ()
    ) -> None:
        """Wait until ``ready()`` holds, re-checking after every message the store takes.

        ``also``: stores that change without a message, to re-check after each change too
        (an order book applying the REST snapshot it fetched itself, as Binance's does).
        """
        timeout = self.options.timeout
        try:
            async with asyncio.timeout(timeout):
                while not ready():
                    if not also:
                        await self.store.wait()
                        continue
                    waits = [asyncio.ensure_future(s.wait()) for s in (self.store, *also)]
                    try:
                        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for wait in waits:
                            wait.cancel()
        except TimeoutError:
            raise DemoError(f"{what} did not arrive within {timeout:g} s") from None

    def announce(self) -> None:
        """Say which exchange this is and where its REST requests go."""
        host, port = self.sim.address
        profile, screen = self.profile, self.screen
        screen.line(
            f"botters demo: simulated {profile.name} on {host}:{port} "
            f"(TLS, certificate from a test CA made just now; seed {self.options.seed})"
        )
        screen.line(f"  {'REST':<8}  {profile.rest_url} -> {host}:{port}")

    async def set_up(self, client: botters.Client) -> None:
        """Send the profile's setup calls, give their answers to the store, then get the feeds."""
        profile, timeout = self.profile, self.options.timeout
        calls = profile.setup(self.product)
        names = ", ".join(f"{call.method} {call.path}" for call in calls)
        if calls:
            started = time.perf_counter()
            try:
                async with asyncio.timeout(timeout):
                    # As pybotters users do: the requests' answers straight into the store.
                    await self.store.initialize(
                        *(
                            client.request(
                                call.method, profile.rest_url + call.path, params=call.params
                            )
                            for call in calls
                        )
                    )
            except TimeoutError:
                raise DemoError(f"no reply to {names} within {timeout:g} s") from None
            except InitializeError as exc:
                raise DemoError(f"the store could not be initialized: {exc}") from None
            self.screen.line(
                f"  {'setup':<8}  {names} -> store.initialize() "
                f"in {(time.perf_counter() - started) * 1000:.1f} ms"
            )
        try:
            self.feeds = profile.feeds(self.product, self.store)
        except LookupError as exc:
            raise DemoError(f"after {names}: {exc}") from None

    def connect(self, client: botters.Client) -> list[botters.WebSocketApp]:
        """Say where the feeds go and start connecting every one."""
        host, port = self.sim.address
        for feed in self.feeds:
            self.screen.line(f"  {feed.label:<8}  {feed.shown or feed.url} -> {host}:{port}")
        self.connecting = time.perf_counter()
        return [
            client.ws_connect(
                feed.url,
                send_json=feed.subscribe,
                # One collection for every feed, as pybotters users do; the demo's
                # own bookkeeping first, so that the store wakes us after both.
                hdlr_json=[self.record, self.store.onmessage],
                # Loopback: a peer that does not answer our close within 1 s never will.
                close_timeout=1.0,
            )
            for feed in self.feeds
        ]

    async def wait_connected(self, apps: list[botters.WebSocketApp]) -> None:
        """Every feed connected, logged in and subscribed, within one deadline."""
        timeout = self.options.timeout
        deadline = asyncio.get_running_loop().time() + timeout
        for feed, app in zip(self.feeds, apps, strict=True):
            try:
                async with asyncio.timeout_at(deadline):
                    await app
                    # Private subscriptions are granted only after the login succeeded.
                    for name in feed.confirmed:
                        await self.sim.wait_for_subscription(name, timeout=None)
            except TimeoutError:
                raise DemoError(
                    f"the {feed.label} WebSocket was not connected"
                    f"{', logged in' if self.profile.login else ''} and "
                    f"subscribed within {timeout:g} s ({feed.shown or feed.url})"
                ) from None
        subscribed = sum(len(feed.channels) for feed in self.feeds)
        n = len(self.feeds)
        steps = ["connected" if n == 1 else f"connected ({n} WebSockets)"]
        if self.profile.login:
            logins = self.sim.stats.logins_accepted
            steps.append(f"logged in ({logins} login{'s' if logins != 1 else ''} accepted)")
        self.screen.line(
            f"{', '.join(steps)} and subscribed to {subscribed} {self.profile.subscriptions} "
            f"in {time.perf_counter() - self.connecting:.2f} s"
        )

    async def show_book(self) -> None:
        """The first book and ticker, then a frame every ``refresh`` for ``seconds``."""
        profile, store, product = self.profile, self.store, self.product
        book, tickers = profile.book_store(store), profile.ticker_store(store)
        await self.until(
            lambda: (
                book.is_synced(product) and tickers.get({profile.ticker_key: product}) is not None
            ),
            f"the first {profile.book_name} snapshot and ticker",
            also=(book,),
        )
        self.screen.line()
        shown = time.perf_counter()
        while True:
            elapsed = time.perf_counter() - shown
            self.screen.frame(_book_frame(profile, store, product, elapsed))
            if elapsed >= self.options.seconds:
                break
            await asyncio.sleep(min(self.options.refresh, self.options.seconds - elapsed))
        self.screen.line()

    async def place_order(self, client: botters.Client) -> str:
        """A signed MARKET order over REST; returns the id the exchange gave it."""
        profile, screen, side = self.profile, self.screen, self.options.side
        timeout = self.options.timeout
        call = profile.order(self.product, side, ORDER_SIZE)
        url = profile.rest_url + call.path
        screen.line(f"placing a MARKET {side} {ORDER_SIZE} {self.product}: POST {url}")
        screen.line("  body: " + " ".join(f"{k}={v}" for k, v in call.data.items()))
        self.before = profile.balances(self.store, self.product)
        self.sent = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                result = await client.fetch("POST", url, data=call.data)
        except TimeoutError:
            raise DemoError(f"no reply to the order within {timeout:g} s") from None
        replied = time.perf_counter()
        request = result.response.request_info
        shown = [
            f"{name} {_shown(request.headers.get(name), how)}" for name, how in profile.signature
        ]
        shown += (
            f"{name} {_shown(request.url.query.get(name), how)}"
            for name, how in profile.signature_params
        )
        screen.line("  signed: " + ", ".join(shown))
        status = result.response.status
        order_id = profile.order_id(status, result.data)
        if order_id is None:
            raise DemoError(f"the order was refused: HTTP {status} {result.text[:200]}")
        screen.line(
            f"  accepted: {profile.order_id_name} {order_id} "
            f"(HTTP {status} in {(replied - self.sent) * 1000:.1f} ms)"
        )
        return order_id

    async def follow_order(self, order_id: str) -> None:
        """The order's events on the private WebSocket, then the position they open."""
        profile, store, product, screen = self.profile, self.store, self.product, self.screen

        def mine() -> list[OrderEvent]:
            return [e for e in self.events if e.order_id == order_id]

        await self.until(
            lambda: any(e.accepted for e in mine()), f"the {profile.accepted_what} for {order_id}"
        )
        acknowledged = time.perf_counter()
        # A MARKET order executes on arrival: the rest follows at once.
        await self.until(lambda: _done(mine()), f"the {profile.done_what} for {order_id}")
        screen.line(
            f"{profile.events_name} over the WebSocket "
            f"({(acknowledged - self.sent) * 1000:.1f} ms after sending the order):"
        )
        width = max([10, *(len(e.label) for e in mine())])
        for event in mine():
            screen.line(f"  {event.label:<{width}} {event.order_id}  {event.detail}")
        if not any(e.fill for e in mine()):
            raise DemoError(f"the order {order_id} ended without an execution")
        if profile.spot:
            await self.until(
                lambda: profile.balances(store, product) != self.before,
                f"the {profile.position_what} for {order_id}",
            )
            after = profile.balances(store, product)
            screen.line("balances: " + ", ".join(_change(self.before, after)))
            return
        await self.until(
            lambda: bool(profile.positions(store, product)),
            f"the {profile.position_what} for {product}",
        )
        for position in profile.positions(store, product):
            screen.line(
                f"position: {position.side} {size_text(position.size)} "
                f"@ {price_text(position.price)}{position.extra}"
            )

    def summary(self, order_id: str, reconnects: int, seconds: float) -> None:
        """Messages per channel or topic, reconnects, the order, the time it all took."""
        channels = [name for feed in self.feeds for name in feed.channels]
        counts = self.counts
        names = [*channels, *sorted(set(counts) - set(channels))]
        by_channel = ", ".join(f"{name} {counts[name]}" for name in names if counts[name])
        self.screen.line()
        self.screen.line(
            f"summary: {sum(counts.values())} messages received ({by_channel}); "
            f"reconnects {reconnects}; order {order_id}; {seconds:.1f} s in all"
        )
