"""Scenario 10: order books that detect gaps and resync, per dialect, on both adapters.

Against the Bybit and OKX simulator dialects, with a public feed (the order book,
ticker and trades) and a private one (logged in) feeding one store, as a bot does:

* 50 abrupt drops of the public connection (and a drop of the private one every
  tenth time): each time the store is told at once, the session reconnects (logs in
  again for the private feed), and the book is the simulator's again;
* 50 injected sequence faults on the live public connection (a skipped diff, two
  diffs swapped, and on OKX a corrupted checksum), each detected, the book dropped
  and resynced by resubscribing on the same connection (no reconnect), and equal to
  the simulator's again; duplicated diffs in between are skipped as stale.

"Equal to the simulator's" is checked with the market paused: once the messages in
flight are delivered, the store's book must be synced and equal to
``Simulator.book_levels``. Time-to-resync figures go to the run summary.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from botters.protocol.session import State
from botters.simulator import Fault, Simulator

from ._adapters import AdapterUnderTest
from ._dialects import VENUES, Venue
from ._support import TICK, TIMEOUT, Figures, Tls, span

DROPS = 50
GAPS = 50
BACKOFF = (0.005, 0.02, 2.0, 0.01)  # fast reconnects, as in test_drops.py


@pytest.fixture(params=sorted(VENUES))
def venue(request: pytest.FixtureRequest) -> Venue:
    return VENUES[request.param]


@contextlib.contextmanager
def dialect(venue: Venue, tls: Tls) -> Iterator[Simulator]:
    with Simulator(
        exchange=venue.exchange, seed=11, tick_interval=TICK, ssl=tls.server, **venue.sim_options
    ) as sim:
        yield sim


@dataclass
class Feeds:
    venue: Venue
    store: Any
    public: Any
    private: Any
    adapter: AdapterUnderTest
    interruptions: int = 0

    def book(self) -> Any:
        return self.venue.book(self.store)

    async def until(self, predicate: Any, what: str) -> None:
        await self.adapter.wait_for(predicate, timeout=TIMEOUT, changed=self.store.wait, what=what)


def open_feeds(adapter: AdapterUnderTest, client: Any, venue: Venue) -> Feeds:
    store = venue.store()
    feeds = Feeds(venue=venue, store=store, public=None, private=None, adapter=adapter)

    original = store.feed_interrupted

    def told() -> None:
        feeds.interruptions += 1
        original()

    store.feed_interrupted = told  # type: ignore[method-assign]
    feeds.public = client.ws_connect(
        venue.public_url, send_json=venue.public, hdlr_json=store.onmessage, backoff=BACKOFF
    )
    feeds.private = client.ws_connect(
        venue.private_url, send_json=venue.private, hdlr_json=store.onmessage, backoff=BACKOFF
    )
    return feeds


async def resubscribed(sim: Simulator, topic: str, old: Any) -> Any:
    """The connection that replaced ``old`` once it is subscribed to ``topic`` again."""

    def found(s: Simulator) -> Any:
        return next(
            (c for c in s.connections if c is not old and c.open and topic in c.subscriptions),
            None,
        )

    await sim.wait_until(lambda s: found(s) is not None, timeout=TIMEOUT)
    return found(sim)


async def assert_book_in_sync(feeds: Feeds, sim: Simulator) -> None:
    """Hold the market still until the store's book is synced and equal to the simulator's."""
    venue = feeds.venue
    sim.pause()
    try:
        truth = sim.book_levels(venue.symbol)
        await feeds.adapter.wait_for(
            lambda: feeds.book().is_synced(venue.symbol) and venue.levels(feeds.store) == truth,
            timeout=TIMEOUT,
            what=f"{venue.exchange} book synced and equal to the simulator's",
        )
    finally:
        sim.resume()


def test_fifty_drops_each_followed_by_the_simulators_book(
    adapter: AdapterUnderTest, tls: Tls, figures: Figures, venue: Venue
) -> None:
    async def scenario() -> None:
        async with adapter.client(apis=sim.apis, resolve=sim.resolve, ssl=tls.client) as client:
            feeds = open_feeds(adapter, client, venue)
            for app in (feeds.public, feeds.private):
                await adapter.wait_for(app, timeout=TIMEOUT, what="await app")
            public = await sim.wait_for_subscription(venue.book_topic, timeout=TIMEOUT)
            private = await sim.wait_for_subscription(venue.private_topic, timeout=TIMEOUT)
            await assert_book_in_sync(feeds, sim)
            recoveries: list[float] = []
            private_drops = 0
            for drop in range(1, DROPS + 1):
                told = feeds.interruptions
                started = adapter.clock()
                if drop % 10 == 0:  # the private feed too: it must log in again
                    private.drop()
                    private_drops += 1
                public.drop()
                await feeds.until(lambda told=told: feeds.interruptions > told, "told")
                assert not feeds.book().is_synced(venue.symbol)
                public = await resubscribed(sim, venue.book_topic, public)
                if drop % 10 == 0:
                    private = await resubscribed(sim, venue.private_topic, private)
                await assert_book_in_sync(feeds, sim)
                recoveries.append(adapter.clock() - started)
                assert feeds.public.state is State.OPEN
            stats = sim.stats
            assert stats.connections_accepted == 2 + DROPS + private_drops
            assert stats.logins_accepted == 1 + private_drops
            assert stats.logins_rejected == 0
            figures.add(
                adapter,
                f"{venue.exchange}: {DROPS} drops (+{private_drops} private); "
                f"drop -> book equal again {span(recoveries)}",
            )

    with dialect(venue, tls) as sim:
        adapter.run(scenario)


def test_fifty_sequence_faults_each_resynced_on_the_live_connection(
    adapter: AdapterUnderTest, tls: Tls, figures: Figures, venue: Venue
) -> None:
    async def scenario() -> None:
        async with adapter.client(apis=sim.apis, resolve=sim.resolve, ssl=tls.client) as client:
            feeds = open_feeds(adapter, client, venue)
            for app in (feeds.public, feeds.private):
                await adapter.wait_for(app, timeout=TIMEOUT, what="await app")
            conn = await sim.wait_for_subscription(venue.book_topic, timeout=TIMEOUT)
            await assert_book_in_sync(feeds, sim)
            book = feeds.book()
            symbol = venue.symbol
            resynced: list[float] = []
            for n in range(GAPS):
                before = book.sync_status(symbol)
                conn.inject(venue.gaps[n % len(venue.gaps)])
                started = adapter.clock()
                await feeds.until(
                    lambda before=before: book.sync_status(symbol).gaps > before.gaps,
                    "the gap detected",
                )
                await feeds.until(lambda: book.is_synced(symbol), "the book resynced")
                resynced.append(adapter.clock() - started)
                await assert_book_in_sync(feeds, sim)
                if n % 5 == 4:  # a duplicated diff is stale: skipped, no resync
                    status = book.sync_status(symbol)
                    conn.inject(Fault(duplicate_diff_after=0))
                    await feeds.until(
                        lambda status=status: book.sync_status(symbol).stale > status.stale,
                        "the duplicate skipped",
                    )
                    assert book.sync_status(symbol).gaps == status.gaps
                    await assert_book_in_sync(feeds, sim)
            status = book.sync_status(symbol)
            assert status.gaps == GAPS
            assert status.resyncs == GAPS
            assert feeds.store.take_resync_requests() == []  # every one carried by the adapter
            stats = sim.stats
            assert stats.connections_accepted == 2  # resynced without reconnecting
            assert feeds.interruptions == 0
            kinds = ", ".join(
                sorted({k for f in venue.gaps for k, v in vars_of(f).items() if v is not None})
            )
            figures.add(
                adapter,
                f"{venue.exchange}: {GAPS} sequence faults ({kinds}); "
                f"fault injected -> book resynced {span(resynced)}",
            )

    with dialect(venue, tls) as sim:
        adapter.run(scenario)


def vars_of(fault: Fault) -> dict[str, Any]:
    return {
        name: getattr(fault, name)
        for name in ("skip_diff_after", "reorder_diff_after", "corrupt_checksum_after")
    }
