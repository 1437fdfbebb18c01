"""What the scenarios share: the feed they open, a probe that watches it, bounds, figures.

Everything here is framework-neutral: it runs under whichever adapter the
scenario runs on, through :class:`~._adapters.AdapterUnderTest`.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from botters import DataStoreCollection, bitFlyerDataStore
from botters.simulator import DEMO_APIS, Simulator

from ._adapters import AdapterUnderTest

URL = "wss://ws.lightstream.bitflyer.com/json-rpc"
"""The production URL: the client signs for it; ``resolve=`` sends it to the simulator."""

FX = "FX_BTC_JPY"
SNAPSHOT = f"lightning_board_snapshot_{FX}"
BOARD = f"lightning_board_{FX}"
TICKER = f"lightning_ticker_{FX}"
PRIVATE = "child_order_events"
CHANNELS = (SNAPSHOT, BOARD, TICKER, PRIVATE)

TICK = 0.01
"""The simulator's tick interval in the scenarios (a busy market: 100 ticks a second)."""

TIMEOUT = 10.0
"""How long any wait may take before the scenario fails (generous: CI machines are slow)."""


class Tls(NamedTuple):
    """The simulator's server context and a client context trusting its test CA."""

    server: ssl.SSLContext
    client: ssl.SSLContext


@contextmanager
def simulator(
    tls: Tls, *, seed: int = 7, tick_interval: float | None = TICK
) -> Iterator[Simulator]:
    """A TLS simulator in a background thread (the loop under test runs the client only)."""
    with Simulator(seed=seed, tick_interval=tick_interval, ssl=tls.server) as sim:
        yield sim


def subscriptions(channels: Iterable[str] = CHANNELS) -> list[dict[str, Any]]:
    """bitFlyer JSON-RPC subscribe requests, in order."""
    return [
        {"method": "subscribe", "params": {"channel": c}, "id": i}
        for i, c in enumerate(channels, 1)
    ]


@dataclass(frozen=True, slots=True)
class Interruption:
    """One ``feed_interrupted()`` call, as the probe saw it."""

    at: float
    """The adapter's clock when the store was told."""
    board_synced: bool
    """Whether the store's board still claimed to be synced right after being told."""
    last_data_at: float | None
    """``app.session.last_data_at`` then: when the lost connection last received data."""


class Probe(DataStoreCollection):
    """A second JSON handler that watches the feed (and is told of interruptions, as stores are).

    ``await probe.wait()`` returns after the next message or interruption:
    it is the ``changed`` event for predicates on the feed.
    """

    def _init(self) -> None:
        self.clock: Callable[[], float] = time.monotonic
        self.store: bitFlyerDataStore | None = None
        self.app: Any = None
        self.messages = 0
        self.tick = -1
        """The ``tick_id`` of the last ticker message."""
        self.tick_since_resync = -1
        """The highest ``tick_id`` received since the last interruption (-1: none)."""
        self.interruptions: list[Interruption] = []

    def _onmessage(self, msg: Any, ws: Any = None) -> None:
        self.messages += 1
        params = msg.get("params") if isinstance(msg, dict) else None
        if isinstance(params, dict) and params.get("channel") == TICKER:
            tick = params["message"]["tick_id"]
            self.tick = tick
            self.tick_since_resync = max(self.tick_since_resync, tick)

    def feed_interrupted(self) -> None:
        store, app = self.store, self.app
        self.interruptions.append(
            Interruption(
                at=self.clock(),
                board_synced=store is not None and store.board.is_synced(FX),
                last_data_at=app.session.last_data_at if app is not None else None,
            )
        )
        self.tick_since_resync = -1
        super().feed_interrupted()


@dataclass
class Feed:
    """The client side of a scenario: the app, its store and the probe."""

    app: Any
    store: bitFlyerDataStore
    probe: Probe
    adapter: AdapterUnderTest

    async def until(self, predicate: Callable[[], bool], what: str = "") -> None:
        """Wait until ``predicate()`` holds, re-checking after each message or interruption."""
        await self.adapter.wait_for(
            predicate, timeout=TIMEOUT, changed=self.probe.wait, what=what or repr(predicate)
        )

    async def until_tick(self, tick: int) -> None:
        """Wait until the ticker of ``tick`` (or later) arrived since the last resync."""
        await self.until(lambda: self.probe.tick_since_resync >= tick, f"ticker tick {tick}")


def open_feed(
    adapter: AdapterUnderTest,
    client: Any,
    *,
    channels: Iterable[str] = CHANNELS,
    handlers: Iterable[Callable[[Any, Any], object]] = (),
    **options: Any,
) -> Feed:
    """``client.ws_connect`` to bitFlyer's Realtime API with a store and a probe.

    ``handlers`` come first among the JSON handlers, then the store, then the
    probe (so the probe sees the store's state after each message).
    """
    store = bitFlyerDataStore()
    probe = Probe()
    probe.clock = adapter.clock
    probe.store = store
    app = client.ws_connect(
        URL,
        send_json=subscriptions(channels),
        hdlr_json=[*handlers, store.onmessage, probe.onmessage],
        **options,
    )
    probe.app = app
    return Feed(app=app, store=store, probe=probe, adapter=adapter)


def client_for(adapter: AdapterUnderTest, sim: Simulator, tls: Tls) -> Any:
    """A client of ``adapter`` that signs for bitFlyer and reaches ``sim`` over TLS."""
    return adapter.client(apis=DEMO_APIS, resolve=sim.resolve, ssl=tls.client)


async def assert_board_in_sync(feed: Feed, sim: Simulator) -> int:
    """Hold the market still, let the client catch up with it, compare books; return the tick.

    "Caught up" is: the board is synced (a snapshot since the last
    interruption) and the ticker of the simulator's latest tick arrived on the
    current connection. The simulator sends a tick's board diff before its
    ticker on each connection, so the book then reflects that tick.
    """
    sim.pause()
    try:
        target = sim.ticker(FX)["tick_id"]
        await feed.until(
            lambda: feed.store.board.is_synced(FX) and feed.probe.tick_since_resync >= target,
            f"board synced up to tick {target}",
        )
        assert feed.store.board.sorted({"product_code": FX}) == sim.board_snapshot(FX)
        assert feed.store.ticker.get({"product_code": FX}) == sim.ticker(FX)
    finally:
        sim.resume()
    return int(target)


def backoff_bounds(
    attempt: int,
    *,
    min_delay: float,
    max_delay: float,
    factor: float,
    initial: float,
    jitter: float,
) -> tuple[float, float]:
    """The documented range of the delay before reconnect attempt ``attempt`` (>= 1).

    From :class:`botters.protocol.session.Backoff`'s docstring, written out
    here on purpose (the scenario checks the behaviour, not the formula's code):
    the first delay is uniform in ``[0, initial]``; later ones are
    ``min(max, min * factor ** (n - 2) * (1 + jitter * u))``.
    """
    if attempt <= 1:
        return 0.0, initial
    base = min_delay * factor ** (attempt - 2)
    return min(max_delay, base), min(max_delay, base * (1 + jitter))


@dataclass
class Figures:
    """Measured numbers for the run summary (printed by ``conftest.py``; not assertions)."""

    lines: list[str] = field(default_factory=list)

    def add(self, adapter: AdapterUnderTest, text: str) -> None:
        self.lines.append(f"[{adapter.name}] {text}")


def ms(seconds: float) -> str:
    """``seconds`` as whole milliseconds, for figures."""
    return f"{seconds * 1000:.0f} ms"


def span(values: list[float]) -> str:
    """``min .. max (median)`` of durations, in milliseconds."""
    ordered = sorted(values)
    return f"{ms(ordered[0])} .. {ms(ordered[-1])} (median {ms(ordered[len(ordered) // 2])})"


async def record_times(
    sim: Simulator, count: Callable[[Simulator], int], total: int, *, timeout: float = TIMEOUT
) -> list[float]:
    """When each of the next events ``count`` counts happened, until there are ``total``.

    The predicate runs on the simulator's loop right after every state change,
    so each time is taken as the simulator handles the event, on
    ``time.monotonic`` (compare differences only). Await this right after the
    client is started: the waiter is registered before the first suspension.
    """
    times: list[float] = []

    def seen(s: Simulator) -> bool:
        n = count(s)
        while len(times) < n:
            times.append(time.monotonic())
        return n >= total

    await sim.wait_until(seen, timeout=timeout)
    return times
