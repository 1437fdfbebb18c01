"""OrderBookStore examples: shapes, numeric ordering, sync state, refusals, bounding."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from botters.protocol import ConfigError
from botters.protocol.store import DataStoreCollection, OrderBookStore


def level(side: str, price: Any, size: Any = 1, symbol: str = "X") -> dict[str, Any]:
    return {"symbol": symbol, "side": side, "price": price, "size": size}


def prices(levels: list[dict[str, Any]]) -> list[Any]:
    return [lv["price"] for lv in levels]


def test_sorted_shape_and_numeric_order_across_price_types() -> None:
    book = OrderBookStore()
    book._insert([level("asks", p) for p in ("10", "9.5", 11, 10.25, "100")])
    book._insert([level("bids", p) for p in (8, "9", 7.5, "10e-1")])
    assert prices(book.sorted()["asks"]) == ["9.5", "10", 10.25, 11, "100"]
    assert prices(book.sorted()["bids"]) == ["9", 8, 7.5, "10e-1"]
    top = book.sorted(limit=2)
    assert set(top) == {"asks", "bids"}
    assert prices(top["asks"]) == ["9.5", "10"]
    assert book.sorted(limit=0) == {"asks": [], "bids": []}
    assert book.best_ask("X") == level("asks", "9.5")
    assert book.best_bid("X") == level("bids", "9")
    assert book.best_ask("nope") is None


def test_sorted_rejects_negative_limit() -> None:
    with pytest.raises(ConfigError):
        OrderBookStore().sorted(limit=-1)


def test_equal_prices_with_distinct_keys_list_in_insertion_order() -> None:
    book = OrderBookStore()
    book._insert([level("asks", "1.0", 1), level("asks", "1", 2), level("asks", 1.0, 3)])
    assert [lv["size"] for lv in book.sorted()["asks"]] == [1, 2, 3]
    book._insert([level("asks", "1.0", 9)])  # replacing keeps its rank, as in find()
    assert [lv["size"] for lv in book.sorted()["asks"]] == [9, 2, 3]


def test_update_merges_and_moves_a_level_whose_price_changes() -> None:
    class ById(OrderBookStore):
        # BitMEX-style: levels keyed by id, price is a plain field.
        _KEYS = ["symbol", "id"]  # noqa: RUF012

    book = ById()
    book._insert([{"symbol": "X", "id": 1, "side": "asks", "price": 5, "size": 1}])
    book._insert([{"symbol": "X", "id": 2, "side": "asks", "price": 6, "size": 1}])
    book._update([{"symbol": "X", "id": 1, "price": 7}])
    assert [lv["id"] for lv in book.sorted()["asks"]] == [2, 1]
    book._update([{"symbol": "X", "id": 2, "side": "bids"}])
    assert book.sorted() == {
        "asks": [{"symbol": "X", "id": 1, "side": "asks", "price": 7, "size": 1}],
        "bids": [{"symbol": "X", "id": 2, "side": "bids", "price": 6, "size": 1}],
    }
    book._insert([{"symbol": "X", "id": 2, "side": "bids", "price": 4, "size": 5}])
    assert prices(book.sorted()["bids"]) == [4]


def test_refuses_non_levels_with_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    book = OrderBookStore()
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        book._insert(
            [
                level("asks", "abc"),
                level("asks", float("nan")),
                level("middle", 1),
                level("asks", 1),
            ]
        )
        book._update([{"symbol": "X", "side": "asks", "price": 1, "size": 2}])
        book._update([{"symbol": "X", "side": "asks", "price": "inf"}])
    assert book.find() == [level("asks", 1, 2)]
    refused = [r for r in caplog.records if "not an order-book level" in r.getMessage()]
    assert len(refused) == 4


def test_queries_by_book_side_and_other_fields() -> None:
    book = OrderBookStore()
    book._insert([level("asks", p, size=p % 2, symbol="X") for p in range(1, 7)])
    book._insert([level("asks", p, symbol="Y") for p in (2.5, 3.5)])
    assert prices(book.sorted({"symbol": "Y"})["asks"]) == [2.5, 3.5]
    assert book.sorted({"symbol": "Z"}) == {"asks": [], "bids": []}
    assert prices(book.sorted({"symbol": "X", "size": 1}, limit=2)["asks"]) == [1, 3]
    assert book.sorted({"side": "bids"}) == {"asks": [], "bids": []}
    assert prices(book.sorted({"size": 1})["asks"]) == [1, 2.5, 3, 3.5, 5]  # all books, merged
    assert prices(book.sorted(limit=3)["asks"]) == [1, 2, 2.5]


def test_feed_interrupted_drops_levels_and_sync() -> None:
    book = OrderBookStore()
    book._insert([level("asks", 2), level("bids", 1)])
    book._mark_synced("X")
    assert book.is_synced("X")
    stream = book.watch()
    collection = DataStoreCollection()
    collection._stores["book"] = book
    collection.feed_interrupted()
    assert not book.is_synced("X")
    assert len(book) == 0
    assert book.sorted() == {"asks": [], "bids": []}
    deleted = []
    while (change := stream.get_nowait()) is not None:
        deleted.append((change.operation, change.data["price"]))
    assert deleted == [("delete", 2), ("delete", 1)]


def test_maxlen_drops_the_deepest_levels() -> None:
    book = OrderBookStore()
    book._MAXLEN = 5
    stream = book.watch()
    book._insert([level("asks", p) for p in (101, 102, 103, 104)])
    book._insert([level("bids", p) for p in (99, 98)])
    assert len(book) == 5
    assert prices(book.sorted()["asks"]) == [101, 102, 103]  # the worst ask went
    assert prices(book.sorted()["bids"]) == [99, 98]
    trimmed = [c for c in iter(stream.get_nowait, None) if c.operation == "delete"]
    assert [c.data["price"] for c in trimmed] == [104]


def test_drop_crossing_and_drop_book_report_in_store_order() -> None:
    book = OrderBookStore()
    book._insert([level("bids", 5), level("asks", 6), level("bids", 7), level("asks", 4)])
    stream = book.watch()
    side = book._book_for("X")
    dropped: list[tuple[int, dict[str, Any]]] = []
    book._drop_crossing(side.bids, 5.5, False, dropped)  # bids above 5.5
    book._drop_crossing(side.asks, -5.5, True, dropped)  # asks at or below 5.5
    book._emit_deletes(dropped)
    assert [(c.data["side"], c.data["price"]) for c in iter(stream.get_nowait, None)] == [
        ("bids", 7),
        ("asks", 4),
    ]
    assert book._drop_book("X") == 2
    assert book._drop_book("nope") == 0
    assert len(book) == 0
