"""Scenario 9: an order book's resync request is carried out by the adapter, on both adapters.

The store asks (a pure value handed to the connection); the adapter does the
I/O. Two kinds, against the bitFlyer simulator:

* :class:`~botters.protocol.store.Resubscribe`: the request's messages go out
  on the live connection (the simulator sees the snapshot channel subscribed
  again) and the snapshot that follows syncs the book, without a reconnect;
* :class:`~botters.protocol.store.FetchSnapshot`: the adapter GETs the URL
  with its client (``/v1/getboard``) and hands the answer back to the store;
* a request whose snapshot never comes (the exchange refuses the subscription)
  is asked again by the adapter's timer after ``retry_after``, with no diff
  arriving to trigger it (the market is paused), until one succeeds.

Each resync is started from the test (``_resync`` on the store, as a gap would):
the exchange stores' own gap detection is covered by their dialect scenarios.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace
from typing import Any

from botters import bitFlyerDataStore
from botters.protocol.exchanges.bitflyer import Board
from botters.protocol.store import BookState, FetchSnapshot, Resubscribe, ResyncRequest

from ._adapters import AdapterUnderTest
from ._support import (
    FX,
    SNAPSHOT,
    TICKER,
    TIMEOUT,
    Figures,
    Tls,
    assert_board_in_sync,
    client_for,
    open_feed,
    simulator,
    span,
)

ROUNDS = 10


async def settled(feed: Any, sim: Any, conn: Any) -> None:
    """Wait until the subscription's snapshots are all in (see below), so none races a resync.

    The simulator sends a snapshot when the snapshot channel is subscribed and
    again when the diff channel is; the store unsubscribes after its first one.
    Once the simulator has seen that unsubscribe and the client has a ticker
    sent after it, every snapshot frame has been delivered.
    """
    await sim.wait_until(lambda s: SNAPSHOT not in conn.subscriptions, timeout=TIMEOUT)
    await feed.until_tick(sim.ticker(FX)["tick_id"] + 1)


class FetchingBoard(Board):
    """bitFlyer's board resynced from ``GET /v1/getboard`` (a REST-snapshot venue's way)."""

    def _resync_request(self, book: Hashable, reason: str) -> ResyncRequest | None:
        return FetchSnapshot.for_store(
            self,
            exchange="bitflyer",
            book=book,
            reason=reason,
            url=f"https://api.bitflyer.com/v1/getboard?product_code={book}",
        )

    def _fetched(self, request: FetchSnapshot, data: Any) -> None:
        if self._is_current(request):
            self._onsnapshot(str(request.book), data)


class RefusedBoard(Board):
    """A board whose first resubscribes name a channel the exchange refuses."""

    RESYNC_RETRY = 0.05
    refusals = 3

    def _resync_request(self, book: Hashable, reason: str) -> ResyncRequest | None:
        request = super()._resync_request(book, reason)
        assert isinstance(request, Resubscribe)
        if self.refusals > 0:
            self.refusals -= 1
            bogus = {"method": "subscribe", "params": {"channel": f"no_such_channel_{book}"}}
            return replace(request, messages=(bogus,))
        return request


class RefusingStore(bitFlyerDataStore):
    def _init(self) -> None:
        super()._init()
        self._create("board", datastore_class=RefusedBoard)


class FetchingStore(bitFlyerDataStore):
    def _init(self) -> None:
        super()._init()
        self._create("board", datastore_class=FetchingBoard)


def test_a_resubscribe_request_goes_out_on_the_live_connection(
    adapter: AdapterUnderTest, tls: Tls, figures: Figures
) -> None:
    async def scenario() -> None:
        async with client_for(adapter, sim, tls) as client:
            feed = open_feed(adapter, client)
            await adapter.wait_for(feed.app, timeout=TIMEOUT, what="await app")
            conn = await sim.wait_for_subscription(TICKER, timeout=TIMEOUT)
            await assert_board_in_sync(feed, sim)
            await settled(feed, sim, conn)
            board = feed.store.board
            durations = []
            for _ in range(ROUNDS):
                # The store unsubscribed the snapshot channel after its snapshot.
                await sim.wait_until(
                    lambda s, conn=conn: SNAPSHOT not in conn.subscriptions, timeout=TIMEOUT
                )
                started = adapter.clock()
                board._resync(FX, "test: pretend a gap", feed.app.current_ws)
                assert board.sync_state(FX) is BookState.RESYNCING
                await sim.wait_for_subscription(SNAPSHOT, connection=conn, timeout=TIMEOUT)
                await feed.until(lambda: board.is_synced(FX), "board synced again")
                durations.append(adapter.clock() - started)
                await assert_board_in_sync(feed, sim)
            assert feed.store.take_resync_requests() == []  # all carried by the adapter
            assert sim.stats.connections_accepted == 1  # no reconnect was needed
            figures.add(adapter, f"resubscribe resync -> book synced {span(durations)}")

    with simulator(tls) as sim:
        adapter.run(scenario)


def test_a_fetch_snapshot_request_is_fetched_and_delivered(
    adapter: AdapterUnderTest, tls: Tls, figures: Figures
) -> None:
    async def scenario() -> None:
        async with client_for(adapter, sim, tls) as client:
            store = FetchingStore()
            feed = open_feed(adapter, client)
            feed.app.add_handler(store.onmessage)
            await adapter.wait_for(feed.app, timeout=TIMEOUT, what="await app")
            conn = await sim.wait_for_subscription(TICKER, timeout=TIMEOUT)
            await feed.until(lambda: store.board.is_synced(FX), "first snapshot")
            await settled(feed, sim, conn)
            durations = []
            for _ in range(ROUNDS):
                rest_before = sim.stats.rest_requests
                sim.pause()  # no diff may race the REST snapshot (bitFlyer has no sequence)
                try:
                    started = adapter.clock()
                    store.board._resync(FX, "test: pretend a gap", feed.app.current_ws)
                    assert not store.board.is_synced(FX)
                    await adapter.wait_for(
                        lambda: store.board.is_synced(FX),
                        timeout=TIMEOUT,
                        changed=store.board.wait,
                        what="board fetched",
                    )
                    durations.append(adapter.clock() - started)
                    assert store.board.sorted({"product_code": FX}) == sim.board_snapshot(FX)
                finally:
                    sim.resume()
                assert sim.stats.rest_requests == rest_before + 1
            assert store.take_resync_requests() == []
            assert store.board.staleness(FX) is not None  # the adapter gave it a clock
            figures.add(adapter, f"fetch-snapshot resync -> book synced {span(durations)}")

    with simulator(tls) as sim:
        adapter.run(scenario)


def test_an_unanswered_request_is_asked_again_by_the_adapters_timer(
    adapter: AdapterUnderTest, tls: Tls, figures: Figures
) -> None:
    async def scenario() -> None:
        async with client_for(adapter, sim, tls) as client:
            store = RefusingStore()
            feed = open_feed(adapter, client)
            feed.app.add_handler(store.onmessage)
            await adapter.wait_for(feed.app, timeout=TIMEOUT, what="await app")
            conn = await sim.wait_for_subscription(TICKER, timeout=TIMEOUT)
            await feed.until(lambda: store.board.is_synced(FX), "first snapshot")
            await settled(feed, sim, conn)
            sim.pause()  # no diff will come: only the timer can ask again
            try:
                started = adapter.clock()
                store.board._resync(FX, "test: pretend a gap", feed.app.current_ws)
                await adapter.wait_for(
                    lambda: store.board.is_synced(FX),
                    timeout=TIMEOUT,
                    changed=store.board.wait,
                    what="board synced after refused resubscribes",
                )
                took = adapter.clock() - started
                assert store.board.sorted({"product_code": FX}) == sim.board_snapshot(FX)
            finally:
                sim.resume()
            status = store.board.sync_status(FX)
            assert status.resyncs == 4  # the first request and three timed retries
            # 0.05 + 0.1 + 0.2 s of doubling delays at least, before the fourth request.
            assert took >= 0.35
            figures.add(
                adapter, f"3 refused resubscribes, retried by the timer: synced in {took:.2f} s"
            )

    with simulator(tls) as sim:
        adapter.run(scenario)
