"""OKX order books: snapshots, diffs, the seqId chain, checksums, resyncs, channel ownership.

Messages follow https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel:
its push examples, its "Sequence ID" example (snapshot, normal update, no-change update,
sequence reset, normal update) and its "Calculate Checksum" examples. Level items and their
order in ``find()`` are pybotters 1.11.2's for the same messages (observed), except where a
test says botters deliberately differs.
"""

from __future__ import annotations

import binascii
import copy
import logging
import struct
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from botters.protocol.exchanges.okx import OKXDataStore, checksum, checksum_string
from botters.protocol.store import BookState, Resubscribe, ResyncRequest

INST = "BTC-USDT"
BOOKS = {"channel": "books", "instId": INST}


def book_push(
    action: str | None,
    asks: list[list[str]],
    bids: list[list[str]],
    prev: int | None = None,
    seq: int | None = None,
    cs: int | None = 0,
    ts: str = "1597026383085",
    arg: dict[str, Any] | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {"asks": asks, "bids": bids, "ts": ts}
    if cs is not None:
        element["checksum"] = cs
    if prev is not None:
        element["prevSeqId"] = prev
    if seq is not None:
        element["seqId"] = seq
    msg: dict[str, Any] = {"arg": dict(arg or BOOKS), "data": [element]}
    if action is not None:
        msg["action"] = action
    return msg


def lv(side: str, px: str, sz: str, liq: str = "0", n: str = "1", inst: str = INST) -> dict:
    return {"instId": inst, "side": side, "px": px, "sz": sz, "liqSz": liq, "ordSz": n}


def pairs(levels: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(x["px"], x["sz"]) for x in levels]


class Carrier:
    """A connection that takes resync requests, as both adapters' ``ws`` do."""

    def __init__(self) -> None:
        self.requests: list[ResyncRequest] = []

    def request_resync(self, request: ResyncRequest) -> None:
        self.requests.append(request)

    def send_json_nowait(self, data: Any) -> None:  # pragma: no cover - OKX books send nothing
        raise AssertionError(data)


# ==================================================================== documented examples

DOC_SNAPSHOT = {
    "arg": {"channel": "books", "instId": "BTC-USDT"},
    "action": "snapshot",
    "data": [
        {
            "asks": [
                ["8476.98", "415", "0", "13"],
                ["8477", "7", "0", "2"],
                ["8477.34", "85", "0", "1"],
                ["8477.56", "1", "0", "1"],
                ["8505.84", "8", "0", "1"],
                ["8506.37", "85", "0", "1"],
                ["8506.49", "2", "0", "1"],
                ["8506.96", "100", "0", "2"],
            ],
            "bids": [
                ["8476.97", "256", "0", "12"],
                ["8475.55", "101", "0", "1"],
                ["8475.54", "100", "0", "1"],
                ["8475.3", "1", "0", "1"],
                ["8447.32", "6", "0", "1"],
                ["8447.02", "246", "0", "1"],
                ["8446.83", "24", "0", "1"],
                ["8446", "95", "0", "3"],
            ],
            "ts": "1597026383085",
            "checksum": -855196043,
            "prevSeqId": -1,
            "seqId": 123456,
        }
    ],
}
# The CRC32 of DOC_SNAPSHOT's own top 25 levels (the page's -855196043 is illustrative).
DOC_SNAPSHOT_CHECKSUM = -2102840145


def doc_snapshot(cs: int) -> dict[str, Any]:
    msg = copy.deepcopy(DOC_SNAPSHOT)
    msg["data"][0]["checksum"] = cs
    return msg


def test_documented_checksum_examples() -> None:
    # "Calculate Checksum": the two check strings of the docs; their CRC32 values are the
    # ones OKX's v3 docs gave for the same books (-1881014294 and 831078360).
    even_bids, even_asks = [("3366.1", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "8")]
    assert checksum_string(even_bids, even_asks) == "3366.1:7:3366.8:9:3366:6:3368:8"
    assert checksum(even_bids, even_asks) == -1881014294
    odd_bids, odd_asks = [("3366.1", "7")], [("3366.8", "9"), ("3368", "8"), ("3372", "8")]
    assert checksum_string(odd_bids, odd_asks) == "3366.1:7:3366.8:9:3368:8:3372:8"
    assert checksum(odd_bids, odd_asks) == 831078360
    assert checksum([], []) == 0  # crc32 of "" is 0: why 0 can only mean "not provided"


def test_documented_snapshot_and_update() -> None:
    store = OKXDataStore()
    store.onmessage(doc_snapshot(DOC_SNAPSHOT_CHECKSUM))
    books = store.books
    assert books.is_synced(INST)
    assert books.sync_status(INST).seq == 123456
    asks = DOC_SNAPSHOT["data"][0]["asks"]  # type: ignore[index]
    bids = DOC_SNAPSHOT["data"][0]["bids"]  # type: ignore[index]
    # asks first, then bids, each in the pushed order (pybotters' find() order)
    assert books.find() == [lv("asks", *a) for a in asks] + [lv("bids", *b) for b in bids]
    assert books.sorted({"instId": INST}, limit=2) == {
        "asks": [lv("asks", "8476.98", "415", "0", "13"), lv("asks", "8477", "7", "0", "2")],
        "bids": [lv("bids", "8476.97", "256", "0", "12"), lv("bids", "8475.55", "101")],
    }
    assert books.checksum == {INST: DOC_SNAPSHOT_CHECKSUM}
    assert books.ts == "1597026383085"
    store.onmessage(
        book_push(
            "update",
            asks=[["8476.98", "0", "0", "0"], ["8476.99", "3", "0", "1"]],
            bids=[["8476.97", "200", "0", "11"], ["8446", "0", "0", "0"]],
            prev=123456,
            seq=123457,
            ts="1597026383086",
        )
    )
    assert books.is_synced(INST)
    assert books.sync_status(INST).seq == 123457
    assert pairs(books.sorted({"instId": INST}, limit=2)["asks"]) == [
        ("8476.99", "3"),
        ("8477", "7"),
    ]
    assert pairs(books.sorted({"instId": INST})["bids"])[0] == ("8476.97", "200")
    assert len(books.sorted({"instId": INST})["bids"]) == 7
    # a changed level keeps its place in find(); a new one is appended
    assert books.find()[7] == lv("bids", "8476.97", "200", "0", "11")
    assert books.find()[-1] == lv("asks", "8476.99", "3")
    assert books.ts == "1597026383086"
    assert books.checksum == {INST: 0}


def test_the_documented_example_checksum_does_not_match_its_book() -> None:
    # Fed verbatim, the page's snapshot fails its own checksum: botters checks, pybotters
    # stores the number and moves on.
    store = OKXDataStore()
    carrier = Carrier()
    store.onmessage(copy.deepcopy(DOC_SNAPSHOT), carrier)
    assert not store.books.is_synced(INST)
    assert store.books.find() == []
    (request,) = carrier.requests
    assert isinstance(request, Resubscribe)
    assert "checksum mismatch (pushed -855196043, book gives -2102840145)" in request.reason


def test_documented_sequence_example() -> None:
    # "Sequence ID" example: snapshot -1 -> 10, update 10 -> 15, no update 15 -> 15,
    # sequence reset 15 -> 3, update 3 -> 5. Every one links; the book stays synced.
    store = OKXDataStore()
    books = store.books
    store.onmessage(
        book_push("snapshot", [["101", "1", "0", "1"]], [["99", "1", "0", "1"]], -1, 10)
    )
    store.onmessage(book_push("update", [["102", "2", "0", "1"]], [], 10, 15))
    before = books.find()
    stream = books.watch()
    store.onmessage(book_push("update", [], [], 15, 15, ts="2"))
    assert books.find() == before
    assert stream.get_nowait() is None  # nothing changed
    assert books.ts == "2"
    store.onmessage(book_push("update", [], [["98", "1", "0", "1"]], 15, 3))
    store.onmessage(book_push("update", [["101", "0", "0", "0"]], [], 3, 5))
    assert books.is_synced(INST)
    status = books.sync_status(INST)
    assert (status.seq, status.gaps, status.stale) == (5, 0, 0)
    assert books.sorted({"instId": INST}) == {
        "asks": [lv("asks", "102", "2")],
        "bids": [lv("bids", "99", "1"), lv("bids", "98", "1")],
    }
    assert store.take_resync_requests() == []


def test_a_no_change_push_refreshes_the_books_staleness() -> None:
    now = [100.0]
    store = OKXDataStore()
    store.set_clock(lambda: now[0])
    store.onmessage(book_push("snapshot", [["101", "1", "0", "1"]], [], -1, 10))
    now[0] = 160.0
    assert store.books.staleness(INST) == 60.0
    store.onmessage(book_push("update", [], [], 10, 10))
    assert store.books.staleness(INST) == 0.0
    now[0] = 161.0
    store.onmessage(book_push("update", [], [], 9, 12))  # a gap is not a confirmation
    assert store.books.staleness(INST) == 1.0


# ==================================================================== gaps and resyncs


@pytest.mark.parametrize("carried", [True, False])
def test_a_gap_drops_the_book_and_resubscribes_its_channel(carried: bool) -> None:
    store = OKXDataStore()
    carrier = Carrier() if carried else None
    arg = {"channel": "books-l2-tbt", "instId": INST}
    store.onmessage(book_push("snapshot", [["101", "1", "0", "1"]], [], -1, 10, arg=arg), carrier)
    stream = store.books.watch()
    store.onmessage(book_push("update", [["102", "1", "0", "1"]], [], 11, 12, arg=arg), carrier)
    assert not store.books.is_synced(INST)
    assert store.books.sync_state(INST) is BookState.RESYNCING
    assert store.books.find() == []
    assert stream.get_nowait().operation == "delete"  # type: ignore[union-attr]
    requests = carrier.requests if carrier else store.take_resync_requests()
    assert requests == [
        Resubscribe(
            exchange="okx",
            store="books",
            book=INST,
            reason="sequence gap: (11, 12) does not follow 10",
            messages=(
                {"op": "unsubscribe", "args": [arg]},
                {"op": "subscribe", "args": [arg]},
            ),
        )
    ]
    assert store.take_resync_requests() == []
    # diffs while resyncing are dropped without asking again; the snapshot recovers
    store.onmessage(book_push("update", [["103", "1", "0", "1"]], [], 12, 13, arg=arg), carrier)
    assert store.take_resync_requests() == []
    assert not carrier or len(carrier.requests) == 1
    store.onmessage(book_push("snapshot", [["104", "1", "0", "1"]], [], -1, 20, arg=arg), carrier)
    assert store.books.is_synced(INST)
    assert store.books.find() == [lv("asks", "104", "1")]
    assert store.books.sync_status(INST).gaps == 1


def test_duplicates_are_skipped_and_the_book_kept() -> None:
    store = OKXDataStore()
    first = book_push("update", [["102", "1", "0", "1"]], [], 10, 15)
    second = book_push("update", [["102", "0", "0", "0"], ["103", "1", "0", "1"]], [], 15, 20)
    store.onmessage(book_push("snapshot", [["101", "1", "0", "1"]], [], -1, 10))
    for msg in (first, second, copy.deepcopy(second), copy.deepcopy(first)):
        store.onmessage(msg)
    assert store.books.is_synced(INST)
    assert pairs(store.books.sorted({"instId": INST})["asks"]) == [("101", "1"), ("103", "1")]
    assert store.books.sync_status(INST).stale == 2
    assert store.take_resync_requests() == []


def test_older_ids_never_applied_are_a_gap_not_stale() -> None:
    # After a missed sequence reset (15 -> 3 lost), new diffs carry ids below the book's.
    # Skipping them as "older" would keep a synced, wrong book; botters resyncs instead.
    store = OKXDataStore()
    store.onmessage(book_push("snapshot", [["101", "1", "0", "1"]], [], -1, 10))
    store.onmessage(book_push("update", [["102", "1", "0", "1"]], [], 10, 15))
    store.onmessage(book_push("update", [["103", "1", "0", "1"]], [], 3, 5))
    assert not store.books.is_synced(INST)
    (request,) = store.take_resync_requests()
    assert request.reason == "sequence gap: (3, 5) does not follow 15"


def test_a_diff_before_any_snapshot_is_not_applied() -> None:
    # pybotters applies it onto an empty book; botters asks for a snapshot.
    store = OKXDataStore()
    store.onmessage(book_push("update", [["101", "1", "0", "1"]], [], 10, 15))
    assert store.books.find() == []
    assert store.books.sync_state(INST) is BookState.RESYNCING
    (request,) = store.take_resync_requests()
    assert request.reason == "a diff arrived for a book without a snapshot"
    assert request.messages[1] == {"op": "subscribe", "args": [BOOKS]}  # type: ignore[attr-defined]


def test_pushes_without_ids_are_applied_unlinked() -> None:
    # Recordings from before OKX had seqId: nothing to link, nothing to detect.
    store = OKXDataStore()
    store.onmessage(book_push("snapshot", [["101", "1", "0", "1"]], []))
    store.onmessage(book_push("update", [["102", "1", "0", "1"]], []))
    assert store.books.is_synced(INST)
    assert len(store.books) == 2


@pytest.mark.parametrize("ids", [("10", "15"), (10, None), (None, 15), (10.5, 15)])
def test_unusable_ids_are_a_gap(ids: tuple[Any, Any]) -> None:
    store = OKXDataStore()
    store.onmessage(book_push("snapshot", [["101", "1", "0", "1"]], [], -1, 10))
    msg = book_push("update", [["102", "1", "0", "1"]], [])
    msg["data"][0].update({"prevSeqId": ids[0], "seqId": ids[1]})
    store.onmessage(msg)
    assert not store.books.is_synced(INST)
    assert store.books.find() == []


def test_a_checksum_mismatch_on_a_diff_resubscribes() -> None:
    store = OKXDataStore()
    asks, bids = [["101", "1", "0", "1"]], [["99", "2", "0", "1"]]
    good = checksum([("99", "2")], [("101", "1")])
    store.onmessage(book_push("snapshot", asks, bids, -1, 10, cs=good))
    assert store.books.is_synced(INST)
    after = checksum([("99", "2")], [("101", "1"), ("102", "5")])
    store.onmessage(book_push("update", [["102", "5", "0", "1"]], [], 10, 11, cs=after))
    assert store.books.is_synced(INST)
    store.onmessage(book_push("update", [["103", "5", "0", "1"]], [], 11, 12, cs=after))
    assert not store.books.is_synced(INST)
    (request,) = store.take_resync_requests()
    assert request.reason.startswith(f"checksum mismatch (pushed {after}, book gives ")
    assert store.books.sync_status(INST).gaps == 1


@pytest.mark.parametrize("value", [0, None, True, "123", 1.5])
def test_a_zero_or_unusable_checksum_is_not_checked(value: Any) -> None:
    store = OKXDataStore()
    snapshot = book_push("snapshot", [["101", "1", "0", "1"]], [], -1, 10)
    update = book_push("update", [["102", "1", "0", "1"]], [], 10, 11)
    for msg in (snapshot, update):
        msg["data"][0]["checksum"] = value
        store.onmessage(msg)
    assert store.books.is_synced(INST)
    assert store.books.checksum == {INST: value}


def test_checksum_covers_the_top_25_of_each_side() -> None:
    asks = [[str(1000 + i), "1", "0", "1"] for i in range(30)]
    bids = [[str(999 - i), str(i + 1), "0", "1"] for i in range(3)]
    expected = checksum([(b[0], b[1]) for b in bids], [(a[0], a[1]) for a in asks[:25]])
    store = OKXDataStore()
    store.onmessage(book_push("snapshot", asks, bids, -1, 1, cs=expected))
    assert store.books.is_synced(INST)
    deep = checksum([(b[0], b[1]) for b in bids], [(a[0], a[1]) for a in asks])
    assert deep == expected  # levels past 25 do not count


# ==================================================================== channels


def test_books5_pushes_replace_the_book_and_need_no_resync() -> None:
    # https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
    # (books5 push example: no action, no prevSeqId, no checksum)
    arg = {"channel": "books5", "instId": "BCH-USDT-SWAP"}
    store = OKXDataStore()
    msg = {
        "arg": arg,
        "data": [
            {
                "asks": [["111.06", "55154", "0", "2"], ["111.07", "53276", "0", "2"]],
                "bids": [["111.05", "57745", "0", "2"], ["111.04", "57109", "0", "2"]],
                "instId": "BCH-USDT-SWAP",
                "ts": "1670324386802",
                "seqId": 363996337,
            }
        ],
    }
    store.onmessage(msg)
    nxt = copy.deepcopy(msg)
    nxt["data"][0].update(asks=[["111.1", "1", "0", "1"]], bids=[], seqId=363996330)
    store.onmessage(nxt)
    inst = "BCH-USDT-SWAP"
    assert store.books.is_synced(inst)
    assert store.books.find() == [lv("asks", "111.1", "1", inst=inst)]
    assert store.books.checksum == {}  # books5 carries none
    assert store.books.ts == "1670324386802"
    assert store.take_resync_requests() == []


def test_one_channel_owns_a_book(caplog: pytest.LogCaptureFixture) -> None:
    # pybotters lets books and books5 of one instId overwrite each other's levels.
    store = OKXDataStore()
    b5 = {"channel": "books5", "instId": INST}
    with caplog.at_level(logging.WARNING):
        store.onmessage(book_push("snapshot", [["101", "1", "0", "1"]], [], -1, 10))
        for _ in range(3):
            store.onmessage(book_push(None, [["200", "9", "0", "1"]], [], arg=b5))
        store.onmessage(book_push(None, [["300", "9", "0", "1"]], [], arg={**b5, "instId": "E"}))
        store.onmessage(book_push("update", [["102", "1", "0", "1"]], [], 10, 11))
    assert pairs(store.books.sorted({"instId": INST})["asks"]) == [("101", "1"), ("102", "1")]
    assert store.books.is_synced("E")
    warnings = [r.getMessage() for r in caplog.records if "are ignored" in r.getMessage()]
    assert warnings == [
        "OKX books5 BTC-USDT: the book is kept from books; pushes of books5 for it are "
        "ignored (two channels would overwrite each other's levels; subscribe to one)"
    ]
    # After a feed interruption the next push picks the channel again.
    store.feed_interrupted()
    store.onmessage(book_push(None, [["200", "9", "0", "1"]], [], arg=b5))
    store.onmessage(book_push("snapshot", [["101", "1", "0", "1"]], [], -1, 10))
    assert store.books.find({"instId": INST}) == [lv("asks", "200", "9")]


def test_unsubscribing_the_owner_releases_and_drops_the_book() -> None:
    store = OKXDataStore()
    store.onmessage(book_push("snapshot", [["101", "1", "0", "1"]], [], -1, 10))
    b5 = {"channel": "books5", "instId": INST}
    store.onmessage({"event": "unsubscribe", "arg": dict(b5), "connId": "a"})  # not the owner
    assert store.books.is_synced(INST)
    store.onmessage({"event": "unsubscribe", "arg": dict(BOOKS), "connId": "a"})
    assert not store.books.is_synced(INST)
    assert store.books.find() == []
    store.onmessage(book_push(None, [["200", "9", "0", "1"]], [], arg=b5))
    assert store.books.find() == [lv("asks", "200", "9")]


def test_our_own_resubscribe_is_not_taken_for_the_users_unsubscribe() -> None:
    # The confirmation of a resync's unsubscribe neither asks again nor gives up: the
    # subscribe's snapshot brings the book back.
    store = OKXDataStore()
    carrier = Carrier()
    store.onmessage(book_push("snapshot", [["101", "1", "0", "1"]], [], -1, 10), carrier)
    store.onmessage(book_push("update", [], [], 11, 12), carrier)
    assert len(carrier.requests) == 1
    store.onmessage({"event": "unsubscribe", "arg": dict(BOOKS)}, carrier)
    assert store.books.sync_state(INST) is BookState.RESYNCING  # still waiting
    store.onmessage({"event": "subscribe", "arg": dict(BOOKS)}, carrier)
    store.onmessage(book_push("snapshot", [["105", "1", "0", "1"]], [], -1, 30), carrier)
    assert store.books.is_synced(INST)
    assert len(carrier.requests) == 1


def test_feed_interrupted_drops_books_until_their_next_snapshot() -> None:
    store = OKXDataStore()
    store.onmessage(book_push("snapshot", [["101", "1", "0", "1"]], [], -1, 10, cs=5))
    store.feed_interrupted()
    assert store.books.find() == []
    assert store.books.sync_state(INST) is BookState.UNSYNCED
    assert store.books.checksum == {}
    assert store.take_resync_requests() == []
    store.onmessage(book_push("snapshot", [["102", "1", "0", "1"]], [], -1, 40))
    store.onmessage(book_push("update", [["103", "1", "0", "1"]], [], 40, 41))
    assert store.books.is_synced(INST)
    assert len(store.books) == 2


def test_snapshot_levels_read_like_pybotters() -> None:
    # A price listed twice keeps its first place and merges the later fields; "0" removes
    # it; a short level zips fewer fields; non-levels are logged and skipped.
    store = OKXDataStore()
    store.onmessage(
        book_push(
            "snapshot",
            asks=[
                ["1", "1", "0", "1"],
                ["2", "1", "0", "1"],
                ["1", "5"],
                ["3", "1", "0", "1"],
                ["3", "0"],
                ["3", "2", "0", "1"],
                ["4", "1", "0", "1", "extra"],
            ],
            bids=[["0.5", "1", "0"]],
            prev=-1,
            seq=1,
        )
    )
    assert store.books.find() == [
        lv("asks", "1", "5"),
        lv("asks", "2", "1"),
        lv("asks", "3", "2"),
        lv("asks", "4", "1"),
        {"instId": INST, "side": "bids", "px": "0.5", "sz": "1", "liqSz": "0"},
    ]


def test_a_short_level_in_a_diff_merges_into_the_stored_one() -> None:
    store = OKXDataStore()
    store.onmessage(book_push("snapshot", [["1", "2", "0", "3"]], [], -1, 1))
    store.onmessage(book_push("update", [["1", "7"]], [], 1, 2))
    assert store.books.find() == [lv("asks", "1", "7", "0", "3")]


def test_bad_levels_are_logged_and_the_rest_applied(caplog: pytest.LogCaptureFixture) -> None:
    store = OKXDataStore()
    with caplog.at_level(logging.WARNING, logger="botters.store.okx"):
        store.onmessage(
            book_push(
                "snapshot",
                asks=[["abc", "1"], ["nan", "1"], [["1"], "1"], "junk", ["1"], ["2", "1"]],
                bids={"not": "a list"},
                prev=-1,
                seq=1,
            )
        )
        store.onmessage(
            book_push("update", [["inf", "1"], [None, "1"], ["3", "1"]], [7], prev=1, seq=2)
        )
        store.onmessage({"arg": {"channel": "books"}, "action": "snapshot", "data": [{}]})
    assert pairs(store.books.sorted({"instId": INST})["asks"]) == [("2", "1"), ("3", "1")]
    logged = [r.getMessage() for r in caplog.records]
    assert sum("skipped a level" in m for m in logged) == 9
    assert any("push without an instId" in m for m in logged)


# ==================================================================== checksum property


def reference_checksum(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """A second, deliberately plain reading of the docs' rule."""
    fields: list[str] = []
    for i in range(25):
        if i < len(bids):
            fields += [bids[i][0], bids[i][1]]
        if i < len(asks):
            fields += [asks[i][0], asks[i][1]]
    unsigned = binascii.crc32(":".join(fields).encode("ascii")) & 0xFFFFFFFF
    (signed,) = struct.unpack("<i", struct.pack("<I", unsigned))
    return int(signed)


DECIMAL = st.decimals(min_value=0, max_value=100000, places=3, allow_nan=False).map(
    lambda d: format(d.normalize(), "f")
)
LEVELS = st.lists(st.tuples(DECIMAL, DECIMAL), max_size=40)


@settings(max_examples=300, deadline=None)
@given(bids=LEVELS, asks=LEVELS)
def test_checksum_matches_a_plain_implementation(
    bids: list[tuple[str, str]], asks: list[tuple[str, str]]
) -> None:
    assert checksum(bids, asks) == reference_checksum(bids, asks)
    assert -(2**31) <= checksum(bids, asks) < 2**31


@settings(max_examples=150, deadline=None)
@given(
    asks=st.dictionaries(st.integers(1001, 1060).map(str), DECIMAL, max_size=35),
    bids=st.dictionaries(st.integers(940, 999).map(str), DECIMAL, max_size=35),
)
def test_the_store_checks_the_sorted_book(asks: dict[str, str], bids: dict[str, str]) -> None:
    assume("0" not in asks.values() and "0" not in bids.values())
    # the pushed order is scrambled: the checksum is over the *sorted* book
    ask_levels = [[p, s, "0", "1"] for p, s in sorted(asks.items(), key=lambda kv: kv[1])]
    bid_levels = [[p, s, "0", "1"] for p, s in sorted(bids.items(), key=lambda kv: kv[1])]
    best_asks = sorted(asks.items(), key=lambda kv: float(kv[0]))
    best_bids = sorted(bids.items(), key=lambda kv: -float(kv[0]))
    cs = reference_checksum(best_bids, best_asks)
    assume(cs != 0)
    store = OKXDataStore()
    store.onmessage(book_push("snapshot", ask_levels, bid_levels, -1, 1, cs=cs))
    assert store.books.is_synced(INST)
    store.onmessage(book_push("snapshot", ask_levels, bid_levels, -1, 1, cs=cs ^ 1 or 1))
    assert not store.books.is_synced(INST)


# ==================================================================== stateful: sync vs a model

ASK_PRICES = ["100.5", "101", "101.5", "102", "103", "104.25"]
BID_PRICES = ["99.5", "99", "98.5", "98", "97", "95.75"]
SIZES = ["0", "1", "2.5", "10", "0.001"]
EPOCH = 100_000
"""seqIds are unique across resets (OKX's are large and restart far below): the server
numbers each epoch from a fresh base below the last one."""


def server_checksum(book: dict[str, dict[str, str]]) -> int:
    asks = sorted(book["asks"].items(), key=lambda kv: float(kv[0]))
    bids = sorted(book["bids"].items(), key=lambda kv: -float(kv[0]))
    return reference_checksum(bids, asks)


class BookSync(RuleBasedStateMachine):
    """The store against an OKX server model, over an unreliable delivery.

    The server keeps the true book and numbers its pushes; each rule makes the server
    act and decides what the store receives. After every step: a synced book equals the
    server's; a book that is not synced has asked for a resync (or has seen nothing since
    the feed was interrupted). Carrying out the request (the server's next snapshot)
    always brings it back.
    """

    def __init__(self) -> None:
        super().__init__()
        self.store = OKXDataStore()
        self.book: dict[str, dict[str, str]] = {"asks": {}, "bids": {}}
        self.base = 50 * EPOCH
        self.seq = self.base
        self.carrier: Carrier | None = None
        self.checksums = False
        self.held: dict[str, Any] | None = None
        self.last_sent: dict[str, Any] | None = None
        self.outstanding: list[ResyncRequest] = []
        self.seen_since_interrupt = 0
        self.states: dict[int, Any] = {}
        """The server's book after each seqId it sent (seqIds are unique)."""
        self.delivered: set[tuple[Any, Any]] = set()

    # ------------------------------------------------------------ the server

    def _push(self, action: str, prev: int, asks: list[list[str]], bids: list[list[str]]) -> dict:
        cs = server_checksum(self.book) if self.checksums else 0
        self.states[self.seq] = self._view()
        return book_push(action, asks, bids, prev, self.seq, cs=cs)

    def _view(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        return (
            sorted(self.book["asks"].items(), key=_px),
            sorted(self.book["bids"].items(), key=_neg_px),
        )

    def _diff(self, changes: list[tuple[str, str, str]], step: int) -> dict[str, Any]:
        asks: list[list[str]] = []
        bids: list[list[str]] = []
        for side, px, sz in changes:
            (asks if side == "asks" else bids).append([px, sz, "0", "1"])
            if sz == "0":
                self.book[side].pop(px, None)
            else:
                self.book[side][px] = sz
        prev = self.seq
        self.seq += step
        return self._push("update", prev, asks, bids)

    def _snapshot(self) -> dict[str, Any]:
        asks = [[p, s, "0", "1"] for p, s in sorted(self.book["asks"].items(), key=_px)]
        bids = [[p, s, "0", "1"] for p, s in sorted(self.book["bids"].items(), key=_px)]
        return self._push("snapshot", -1, asks, bids)

    # ------------------------------------------------------------ the connection

    def _deliver(self, msg: dict[str, Any]) -> None:
        self.seen_since_interrupt += 1
        element = msg["data"][0]
        ids = (element["prevSeqId"], element["seqId"])
        novel = ids not in self.delivered
        self.delivered.add(ids)
        self.store.onmessage(copy.deepcopy(msg), self.carrier)
        self._collect()
        books = self.store.books
        if novel and books.is_synced(INST):
            # A push never seen before is applied or breaks the sync: never skipped as
            # "stale" by a book that goes on claiming to be current.
            assert books.sync_status(INST).seq == ids[1]

    def _collect(self) -> None:
        taken = self.carrier.requests if self.carrier else self.store.take_resync_requests()
        for request in taken:
            assert isinstance(request, Resubscribe)
            assert request.book == INST
            assert request.messages == (
                {"op": "unsubscribe", "args": [BOOKS]},
                {"op": "subscribe", "args": [BOOKS]},
            )
        self.outstanding.extend(taken)
        if self.carrier:
            self.carrier.requests = []

    # ------------------------------------------------------------ rules

    @initialize(carried=st.booleans(), checksums=st.booleans())
    def start(self, carried: bool, checksums: bool) -> None:
        self.carrier = Carrier() if carried else None
        self.checksums = checksums
        self._deliver(self._snapshot())

    CHANGES = st.lists(
        st.one_of(
            st.tuples(st.just("asks"), st.sampled_from(ASK_PRICES), st.sampled_from(SIZES)),
            st.tuples(st.just("bids"), st.sampled_from(BID_PRICES), st.sampled_from(SIZES)),
        ),
        max_size=4,
    )

    @rule(changes=CHANGES, step=st.integers(1, 5))
    def in_order(self, changes: list[tuple[str, str, str]], step: int) -> None:
        self.last_sent = self._diff(changes, step)
        self._deliver(self.last_sent)

    @rule(changes=CHANGES, step=st.integers(1, 5))
    def lost(self, changes: list[tuple[str, str, str]], step: int) -> None:
        self.last_sent = self._diff(changes, step)

    @precondition(lambda self: self.last_sent is not None)
    @rule()
    def duplicated(self) -> None:
        assert self.last_sent is not None
        self._deliver(self.last_sent)

    @rule(first=CHANGES, second=CHANGES)
    def reordered(self, first: list[tuple[str, str, str]], second: list[Any]) -> None:
        a = self._diff(first, 1)
        b = self._diff(second, 1)
        self._deliver(b)
        self._deliver(a)
        self.last_sent = b

    @rule()
    def heartbeat(self) -> None:
        self.last_sent = self._push("update", self.seq, [], [])
        self._deliver(self.last_sent)

    @rule(changes=CHANGES, delivered=st.booleans())
    def sequence_reset(self, changes: list[tuple[str, str, str]], delivered: bool) -> None:
        # "users will receive an incremental message with seqId smaller than prevSeqId"
        self.base -= EPOCH
        prev = self.seq
        self.seq = self.base
        msg = self._diff(changes, 0)
        msg["data"][0]["prevSeqId"] = prev
        self.last_sent = msg
        if delivered:
            self._deliver(msg)

    @precondition(lambda self: self.checksums)
    @rule(changes=CHANGES, step=st.integers(1, 5), field=st.sampled_from(["checksum", "level"]))
    def corrupted(self, changes: list[tuple[str, str, str]], step: int, field: str) -> None:
        msg = self._diff(changes, step)
        element = msg["data"][0]
        if element["checksum"] == 0:
            pass  # an empty book's CRC32 is 0, which reads as "not provided": not corruptible
        elif field == "checksum":
            element["checksum"] = (element["checksum"] ^ 0x5A5A) or 1
        else:  # a level the server did not send: the book diverges, the checksum tells
            element["asks"].append([ASK_PRICES[0], "777", "0", "1"])
            if self.book["asks"].get(ASK_PRICES[0]) == "777":
                element["asks"][-1][1] = "778"
        self.last_sent = msg
        self._deliver(msg)

    @rule()
    def feed_interrupted(self) -> None:
        self.store.feed_interrupted()
        self.seen_since_interrupt = 0

    @precondition(lambda self: bool(self.outstanding))
    @rule()
    def resync_carried_out(self) -> None:
        # The unsubscribe/subscribe reached OKX: it answers with a fresh snapshot.
        self.outstanding.clear()
        self._deliver(self._snapshot())
        assert self.store.books.is_synced(INST)
        assert self.store.books.sync_status(INST).seq == self.seq

    # ------------------------------------------------------------ invariants

    @invariant()
    def never_synced_and_wrong(self) -> None:
        books = self.store.books
        state = books.sync_state(INST)
        if state is BookState.SYNCED:
            # equal to the server's book at the seqId the store says it is at (a lost
            # push cannot be noticed before the next one arrives)
            asks, bids = self.states[books.sync_status(INST).seq]
            got = books.sorted({"instId": INST})
            assert pairs(got["asks"]) == asks
            assert pairs(got["bids"]) == bids
            assert len(books) == len(asks) + len(bids)
        elif state is BookState.RESYNCING:
            assert self.outstanding, "not synced, and no resync was asked for"
            assert len(books) == 0
        else:
            assert self.seen_since_interrupt == 0
            assert len(books) == 0


def _px(kv: tuple[str, str]) -> float:
    return float(kv[0])


def _neg_px(kv: tuple[str, str]) -> float:
    return -float(kv[0])


BookSync.TestCase.settings = settings(max_examples=250, stateful_step_count=30, deadline=None)
TestBookSync = BookSync.TestCase
