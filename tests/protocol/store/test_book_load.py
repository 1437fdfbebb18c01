"""Bulk snapshot loading: ``OrderBookStore._load_book`` equals storing the levels one by one.

The model is the same store fed with ``_insert`` one level at a time (what a
snapshot meant before bulk loading): the bulk path must give the same items in
the same store order, the same ``sorted()`` sides, the same changes for
watchers, and refuse the same levels.
"""

from __future__ import annotations

import logging
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from botters.protocol.store import BookState, OrderBookStore


def level(side: str, price: Any, size: Any = 1, symbol: str = "X") -> dict[str, Any]:
    return {"symbol": symbol, "side": side, "price": price, "size": size}


def changes(stream: Any) -> list[tuple[str, Any, Any]]:
    out = []
    while (change := stream.get_nowait()) is not None:
        out.append((change.operation, change.source, change.data))
    return out


def test_levels_are_stored_in_order_and_sorted_best_first() -> None:
    book = OrderBookStore()
    asks = [level("asks", p) for p in ("100.5", "101", "102.25")]
    bids = [level("bids", p) for p in ("100", "99.5", 98)]
    assert book._load_book("X", [*asks, *bids], seq=7)
    assert book.find() == [*asks, *bids]
    assert book.sorted() == {"asks": asks, "bids": bids}
    assert book.sorted(limit=1) == {"asks": asks[:1], "bids": bids[:1]}
    assert book.is_synced("X")
    assert book.sync_status("X").seq == 7


def test_unsorted_and_interleaved_levels_are_sorted_anyway() -> None:
    book = OrderBookStore()
    items = [
        level("bids", 1),
        level("asks", 5),
        level("bids", 3),
        level("asks", 4),
        level("bids", 2),
    ]
    book._load_book("X", items)
    assert book.find() == items
    assert [lv["price"] for lv in book.sorted()["asks"]] == [4, 5]
    assert [lv["price"] for lv in book.sorted()["bids"]] == [3, 2, 1]


def test_a_snapshot_replaces_the_book_and_leaves_other_books_alone() -> None:
    book = OrderBookStore()
    book._load_book("X", [level("asks", 5), level("bids", 4)])
    book._load_book("Y", [level("asks", 50, symbol="Y")])
    with book.watch() as stream:
        book._load_book("X", [level("asks", 6), level("bids", 3)])
        seen = changes(stream)
    assert book.sorted({"symbol": "X"}) == {"asks": [level("asks", 6)], "bids": [level("bids", 3)]}
    assert book.find({"symbol": "Y"}) == [level("asks", 50, symbol="Y")]
    assert seen == [
        ("delete", level("asks", 5), level("asks", 5)),
        ("delete", level("bids", 4), level("bids", 4)),
        ("insert", None, level("asks", 6)),
        ("insert", None, level("bids", 3)),
    ]


def test_a_price_listed_twice_keeps_its_first_place_and_last_content() -> None:
    book = OrderBookStore()
    book._load_book("X", [level("asks", 5, 1), level("asks", 6), level("asks", 5, 2)])
    assert book.find() == [level("asks", 5, 2), level("asks", 6)]
    assert book.sorted()["asks"] == [level("asks", 5, 2), level("asks", 6)]


def test_bad_levels_are_logged_and_the_rest_loaded(caplog: Any) -> None:
    book = OrderBookStore()
    items: list[Any] = [
        level("asks", 5),
        level("middle", 5),
        level("bids", "abc"),
        level("bids", float("nan")),
        {"symbol": "X", "side": "bids"},
        level("bids", 4),
    ]
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        book._load_book("X", items)
    assert book.find() == [level("asks", 5), level("bids", 4)]
    assert sum("_load_book refused" in r.getMessage() for r in caplog.records) == 4


def test_an_empty_snapshot_syncs_an_empty_book() -> None:
    book = OrderBookStore()
    book._load_book("X", [level("asks", 5)])
    assert book._load_book("X", [])  # the level went away: a change
    assert book.sorted() == {"asks": [], "bids": []}
    assert book.sync_state("X") is BookState.SYNCED
    assert not book._load_book("X", [])


SYMBOLS = st.sampled_from(["X", "Y"])
PRICE = st.sampled_from([1, 2, 3, 2.5, "1", "1.0", "2", "2.5", "10", "abc", "nan", None, 1e400])
SIDE = st.sampled_from(["asks", "bids", "asks", "bids", "other"])
LEVEL = st.builds(level, SIDE, PRICE, st.integers(0, 3), st.just("X"))


def grouped(levels: list[dict[str, Any]], first: str) -> list[dict[str, Any]]:
    """The levels with one side's listed before the other's (as exchanges send them)."""
    return sorted(levels, key=lambda lv: lv["side"] != first)


@settings(max_examples=300, deadline=None)
@given(
    before=st.lists(LEVEL, max_size=6),
    other=st.lists(st.builds(level, SIDE, PRICE, st.just(1), st.just("Y")), max_size=3),
    snapshot=st.lists(LEVEL, max_size=12),
    group=st.sampled_from([None, "asks", "bids"]),
)
def test_bulk_load_equals_inserting_level_by_level(
    before: list[dict[str, Any]],
    other: list[dict[str, Any]],
    snapshot: list[dict[str, Any]],
    group: str | None,
) -> None:
    if group is not None:
        snapshot = grouped(snapshot, group)  # exercises the fast path when well-formed
    bulk = OrderBookStore()
    model = OrderBookStore()
    for store in (bulk, model):
        store._insert([dict(lv) for lv in before])
        store._insert([dict(lv) for lv in other])
    with bulk.watch() as bulk_stream, model.watch() as model_stream:
        bulk._load_book("X", [dict(lv) for lv in snapshot])
        # The model: drop book X, then insert the snapshot one level at a time.
        model._drop_book("X")
        for lv in snapshot:
            model._insert([dict(lv)])
        assert changes(bulk_stream) == changes(model_stream)
    assert bulk.find() == model.find()
    for query in (None, {"symbol": "X"}, {"symbol": "Y"}):
        assert bulk.sorted(query) == model.sorted(query)
    # Later diffs keep working on the loaded sides.
    for store in (bulk, model):
        store._insert([level("asks", 2.25), level("bids", 0.5)])
        store._delete([level("asks", 1)])
    assert bulk.sorted() == model.sorted()
    assert bulk.find() == model.find()
