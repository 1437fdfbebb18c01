"""The book-sync core: linking diffs, gaps, resync requests, retries, staleness.

Two small exchange-like stores drive it, written against the subclass contract
exchange stores use (``_link``, ``_resync_request``, ``_load_book``,
``_accept``): ``SeqBook`` links diffs by a counter that goes up by one (Bybit's
``u``) and resubscribes on a gap; ``RestBook`` buffers diffs and fetches a REST
snapshot (Binance-like: ids ``(first, last)`` that must straddle the snapshot).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Hashable
from typing import Any

import pytest

from botters.protocol.store import (
    BookState,
    DataStoreCollection,
    FetchSnapshot,
    Link,
    OrderBookStore,
    Resubscribe,
    ResyncRequest,
)


class SeqBook(OrderBookStore):
    _EXCHANGE = "test"

    def _link(self, sync: Any, ids: Any) -> tuple[Link, Any]:
        if ids == sync.seq + 1:
            return Link.APPLY, ids
        if ids <= sync.seq:
            return Link.STALE, sync.seq
        return Link.GAP, sync.seq

    def _resync_request(self, book: Hashable, reason: str) -> ResyncRequest | None:
        topic = f"book.{book}"
        return Resubscribe(
            exchange="test",
            store=self.name or "book",
            book=book,
            reason=reason,
            messages=({"op": "unsubscribe", "args": [topic]}, {"op": "subscribe", "args": [topic]}),
        )

    # What an exchange store's message handlers do:
    def snapshot(self, book: str, seq: int, levels: list[tuple[str, Any, Any]]) -> None:
        self._load_book(book, [lvl(book, *x) for x in levels], seq=seq)

    def diff(self, book: str, seq: int, levels: list[tuple[str, Any, Any]], ws: Any = None) -> None:
        if self._accept(book, seq, ws):
            apply(self, book, levels)


class RestBook(SeqBook):
    _BUFFER_DIFFS = True

    def _link(self, sync: Any, ids: Any) -> tuple[Link, Any]:
        first, last = ids
        if last <= sync.seq:
            return Link.STALE, sync.seq
        if (first <= sync.seq + 1 if sync.fresh else first == sync.seq + 1) and last > sync.seq:
            return Link.APPLY, last
        return Link.GAP, sync.seq

    def _resync_request(self, book: Hashable, reason: str) -> ResyncRequest | None:
        return FetchSnapshot.for_store(
            self, exchange="test", book=book, reason=reason, url=f"https://x.test/depth?s={book}"
        )

    def _fetched(self, request: FetchSnapshot, data: Any) -> None:
        if not self._is_current(request):
            return
        book = request.book
        self._load_book(book, [lvl(str(book), *x) for x in data["levels"]], seq=data["id"])
        for ids, levels in self._take_buffer(book):
            if self._accept(book, ids, None):
                apply(self, str(book), levels)

    def rdiff(self, book: str, ids: tuple[int, int], levels: Any, ws: Any = None) -> None:
        if self._accept(book, ids, ws, (ids, levels)):
            apply(self, book, levels)


def lvl(book: str, side: str, price: Any, size: Any) -> dict[str, Any]:
    return {"symbol": book, "side": side, "price": price, "size": size}


def apply(store: OrderBookStore, book: str, levels: list[tuple[str, Any, Any]]) -> None:
    for side, price, size in levels:
        if size:
            store._insert([lvl(book, side, price, size)])
        else:
            store._delete([lvl(book, side, price, size)])


class Carrier:
    """A ``ws`` that carries resync requests (both adapters' connections do)."""

    def __init__(self) -> None:
        self.requests: list[ResyncRequest] = []
        self.sent: list[Any] = []

    def request_resync(self, request: ResyncRequest) -> None:
        self.requests.append(request)

    def send_json_nowait(self, data: Any) -> None:
        self.sent.append(data)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def book_prices(store: OrderBookStore, book: str = "X") -> dict[str, list[Any]]:
    top = store.sorted({"symbol": book})
    return {side: [(lv["price"], lv["size"]) for lv in top[side]] for side in top}


def test_in_order_diffs_apply_and_stale_ones_are_skipped() -> None:
    store = SeqBook("book")
    store.snapshot("X", 10, [("asks", 5, 1), ("bids", 4, 1)])
    store.diff("X", 11, [("asks", 5, 2)])
    store.diff("X", 11, [("asks", 5, 9)])  # a duplicate
    store.diff("X", 3, [("bids", 4, 0)])  # older than the snapshot
    assert book_prices(store) == {"asks": [(5, 2)], "bids": [(4, 1)]}
    status = store.sync_status("X")
    assert (status.state, status.seq, status.stale, status.gaps) == (BookState.SYNCED, 11, 2, 0)


def test_a_gap_drops_the_book_and_asks_the_connection_to_resubscribe(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = SeqBook("book")
    ws = Carrier()
    store.snapshot("X", 10, [("asks", 5, 1)])
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        store.diff("X", 12, [("asks", 5, 2)], ws)  # 11 was missed
        store.diff("X", 13, [("asks", 6, 2)], ws)  # dropped: no snapshot yet
    assert not store.is_synced("X")
    assert store.sync_state("X") is BookState.RESYNCING
    assert store.find() == []
    assert len(ws.requests) == 1  # one request, not one per diff
    (request,) = ws.requests
    assert isinstance(request, Resubscribe)
    assert request.book == "X"
    assert request.store == "book"
    assert request.messages[0] == {"op": "unsubscribe", "args": ["book.X"]}
    assert "sequence gap: 12 does not follow 10" in request.reason
    gap_lines = [r for r in caplog.records if "resync requested" in r.getMessage()]
    assert len(gap_lines) == 1
    store.snapshot("X", 20, [("asks", 7, 1)])
    assert store.is_synced("X")
    assert store.sync_status("X").gaps == 1
    assert store.sync_status("X").resyncs == 1


def test_requests_wait_for_take_resync_requests_without_a_carrier(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Collection(DataStoreCollection):
        def _init(self) -> None:
            self._create("book", datastore_class=SeqBook)
            self._create("plain")

    collection = Collection()
    store: SeqBook = collection["book"]  # type: ignore[assignment]
    store.snapshot("X", 1, [])
    store.snapshot("Y", 1, [])
    store.diff("X", 5, [], None)  # replay/test feed: nobody to carry it
    store.diff("X", 6, [], None)
    mute = type("MuteWs", (), {})()  # a ws that can neither carry nor send
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        store.diff("Y", 5, [], mute)
        store.snapshot("Y", 9, [])
        store.diff("Y", 11, [], mute)
    assert sum("cannot carry resync requests" in r.getMessage() for r in caplog.records) == 1
    taken = collection.take_resync_requests()
    assert [(r.store, r.book) for r in taken] == [("book", "X"), ("book", "Y")]
    assert collection.take_resync_requests() == []


def test_a_resubscribe_goes_out_on_a_ws_that_can_only_send() -> None:
    class SendOnly:
        def __init__(self) -> None:
            self.sent: list[Any] = []

        def send_json_nowait(self, data: Any) -> None:
            self.sent.append(data)

    store = SeqBook("book")
    ws = SendOnly()
    store.snapshot("X", 1, [])
    store.diff("X", 5, [], ws)
    assert ws.sent == [
        {"op": "unsubscribe", "args": ["book.X"]},
        {"op": "subscribe", "args": ["book.X"]},
    ]
    assert store._take_requests() == []


def test_a_snapshot_withdraws_a_request_nobody_took() -> None:
    store = SeqBook("book")
    store.snapshot("X", 1, [])
    store.diff("X", 3, [])
    store.snapshot("X", 9, [])
    assert store._take_requests() == []


def test_a_diff_for_a_book_without_a_snapshot_asks_for_one() -> None:
    store = SeqBook("book")
    ws = Carrier()
    store.diff("X", 5, [("asks", 1, 1)], ws)
    assert store.find() == []
    assert [r.reason for r in ws.requests] == ["a diff arrived for a book without a snapshot"]
    assert store.sync_status("X").gaps == 0


def test_an_unanswered_request_is_repeated_with_a_doubling_delay() -> None:
    store = SeqBook("book")
    clock = Clock()
    store._clock = clock
    ws = Carrier()
    store.snapshot("X", 1, [])
    store.diff("X", 3, [], ws)
    asked = [clock.now]
    for _ in range(400):  # diffs keep coming every 0.5 s, no snapshot ever does
        clock.now += 0.5
        store.diff("X", 0, [], ws)
        if len(ws.requests) > len(asked):
            asked.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(asked)]
    assert gaps[:5] == [5.0, 10.0, 20.0, 40.0, 60.0]
    assert set(gaps[5:]) == {60.0}
    assert "no snapshot 5 s after asking" in ws.requests[1].reason


def test_without_a_clock_a_request_is_made_once() -> None:
    store = SeqBook("book")
    ws = Carrier()
    store.snapshot("X", 1, [])
    for seq in range(3, 100):
        store.diff("X", seq, [], ws)
    assert len(ws.requests) == 1


def test_feed_interrupted_unsyncs_every_book_and_forgets_requests() -> None:
    store = SeqBook("book")
    clock = Clock()
    store._clock = clock
    store.snapshot("X", 1, [("asks", 1, 1)])
    store.snapshot("Y", 1, [("asks", 1, 1)])
    store.diff("Y", 7, [])
    store._feed_interrupted()
    assert store.find() == []
    assert store.sync_state("X") is BookState.UNSYNCED
    assert store.sync_state("Y") is BookState.UNSYNCED
    assert store._take_requests() == []
    store.snapshot("X", 50, [("bids", 1, 1)])  # the replayed subscription's snapshot
    assert store.is_synced("X")
    assert store.sync_status("Y").gaps == 1  # counters survive


def test_staleness_follows_the_adapters_clock() -> None:
    class Collection(DataStoreCollection):
        def _init(self) -> None:
            self._create("book", datastore_class=SeqBook)

    collection = Collection()
    store: SeqBook = collection["book"]  # type: ignore[assignment]
    assert store.staleness("X") is None
    store.snapshot("X", 1, [])
    assert store.last_update("X") is None  # no clock yet
    clock = Clock()
    collection.set_clock(clock)
    store.snapshot("X", 1, [])
    clock.now += 2.5
    assert store.staleness("X") == 2.5
    store.diff("X", 2, [])
    assert store.staleness("X") == 0.0
    clock.now += 1
    store._touch("X")  # an exchange heartbeat for the book
    assert store.last_update("X") == clock.now
    assert store.staleness("X", now=clock.now + 4) == 4
    collection._create("later", datastore_class=SeqBook)
    assert collection["later"]._clock is clock


def test_fetch_snapshot_buffers_diffs_and_replays_the_newer_ones() -> None:
    store = RestBook("depth")
    ws = Carrier()
    store.rdiff("X", (101, 103), [("asks", 5, 1)], ws)
    store.rdiff("X", (104, 104), [("asks", 6, 1)], ws)
    store.rdiff("X", (105, 107), [("bids", 4, 2)], ws)
    (request,) = ws.requests
    assert isinstance(request, FetchSnapshot)
    assert request.url == "https://x.test/depth?s=X"
    assert not store.is_synced("X")
    request.deliver({"id": 103, "levels": [("asks", 5, 3), ("bids", 4, 1)]})
    # 101-103 is in the snapshot; 104 and 105-107 follow it.
    assert store.is_synced("X")
    assert book_prices(store) == {"asks": [(5, 3), (6, 1)], "bids": [(4, 2)]}
    assert store.sync_status("X").seq == 107


def test_a_superseded_or_failed_fetch_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    store = RestBook("depth")
    ws = Carrier()
    store.rdiff("X", (1, 1), [], ws)
    old = ws.requests[0]
    assert isinstance(old, FetchSnapshot)
    store._feed_interrupted()  # a reconnect: the request is moot
    store.rdiff("X", (50, 50), [], ws)
    new = ws.requests[1]
    assert isinstance(new, FetchSnapshot)
    old.deliver({"id": 0, "levels": [("asks", 1, 1)]})
    assert not store.is_synced("X")
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        old.fail("HTTP 500")
        new.fail("HTTP 503")
    lines = [r.getMessage() for r in caplog.records]
    assert sum("snapshot request failed (HTTP 503)" in line for line in lines) == 1
    assert not any("HTTP 500" in line for line in lines)
    new.deliver({"id": 50, "levels": []})
    assert store.is_synced("X")


def test_a_request_outliving_its_store_is_harmless() -> None:
    store = RestBook("depth")
    ws = Carrier()
    store.rdiff("X", (1, 1), [], ws)
    (request,) = ws.requests
    assert isinstance(request, FetchSnapshot)
    del store
    request.deliver({"id": 1, "levels": []})
    request.fail("gone")


def test_a_carrier_that_raises_leaves_the_request_for_take(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        def request_resync(self, request: ResyncRequest) -> None:
            raise RuntimeError("boom")

    store = SeqBook("book")
    store.snapshot("X", 1, [])
    with caplog.at_level(logging.ERROR, logger="botters.store"):
        store.diff("X", 9, [], Broken())
    assert any("failed to take" in r.getMessage() for r in caplog.records)
    assert [r.book for r in store._take_requests()] == ["X"]


def test_a_kept_request_goes_out_with_the_next_diff_on_a_carrier() -> None:
    # A gap found while replaying buffered diffs (no ws at hand) is kept, then
    # handed to the connection that brings the book's next diff.
    store = RestBook("depth")
    ws = Carrier()
    store.rdiff("X", (10, 10), [], ws)
    store.rdiff("X", (12, 12), [], ws)  # 11 is missing from the buffer
    (first,) = ws.requests
    assert isinstance(first, FetchSnapshot)
    first.deliver({"id": 10, "levels": []})
    assert not store.is_synced("X")
    assert "X" in store._pending
    store.rdiff("X", (13, 13), [], ws)
    assert [r.book for r in ws.requests] == ["X", "X"]
    assert store._take_requests() == []


def test_a_carrier_can_tell_a_pending_request_and_retry_it() -> None:
    store = SeqBook("book")
    store._clock = Clock()
    ws = Carrier()
    store.snapshot("X", 1, [])
    store.diff("X", 3, [], ws)
    (first,) = ws.requests
    assert first.pending
    assert first.retry_after == 5.0
    first.retry(ws)  # the carrier's timer: no snapshot came
    assert not first.pending  # superseded by the new request
    second = ws.requests[1]
    assert second.pending
    assert second.retry_after == 10.0
    assert "no snapshot 5 s after asking" in second.reason
    first.retry(ws)  # a stale timer does nothing
    assert len(ws.requests) == 2
    store.snapshot("X", 9, [])
    assert not second.pending
