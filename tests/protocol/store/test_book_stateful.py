"""Model-based test: OrderBookStore against a plain list re-sorted from scratch on every check.

The model is the DataStore model (entries in first-insert order) plus
pybotters' ``_sorted``: filter, then a stable sort by ``float(price)``. Prices
mix ints, floats and decimal strings, with values equal as numbers but not as
keys ("1", "1.0", 1), and invalid ones ("abc", "nan", "1e400", None) that the
store must refuse. Rules drive both the generic DataStore mutations and the
fast primitives the exchange stores use.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from botters.protocol.store import OrderBookStore

SYMBOLS = st.sampled_from(["A", "B"])
SIDES = st.sampled_from(["asks", "bids"]) | st.just("other")
PRICES = st.sampled_from(
    [1, 2, 3, 10, 1.0, 2.5, 9.5, "1", "1.0", "2.5", "10", "9.5", "0.5", "abc", "nan", "1e400", None]
)
LEVEL = st.fixed_dictionaries(
    {"symbol": SYMBOLS, "side": SIDES, "price": PRICES, "size": st.integers(0, 3)}
)
LEVELS = st.lists(LEVEL, max_size=4)


def numeric(price: Any) -> float | None:
    try:
        value = float(price)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def is_level(item: dict[str, Any]) -> bool:
    return item["side"] in ("asks", "bids") and numeric(item["price"]) is not None


def key_of(item: dict[str, Any]) -> tuple[Any, Any, Any]:
    return (item["symbol"], item["side"], item["price"])


class BookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = OrderBookStore()
        self.stream = self.store.watch(maxsize=1_000_000)
        self.entries: list[list[Any]] = []
        self.expected: list[tuple[str, Any, Any]] = []
        self.synced: set[str] = set()

    # ------------------------------------------------------------ model helpers

    def _find(self, key: tuple[Any, Any, Any]) -> int:
        for i, (k, _) in enumerate(self.entries):
            if k == key:
                return i
        return -1

    def _emit(self, op: str, source: Any, data: Any) -> None:
        self.expected.append((op, copy.deepcopy(source), copy.deepcopy(data)))

    def _model_set(self, item: dict[str, Any], op: str) -> None:
        if not is_level(item):
            return
        item = copy.deepcopy(item)
        i = self._find(key_of(item))
        if i < 0:
            self.entries.append([key_of(item), item])
            self._emit(op, None, item)
        elif op == "insert":
            self.entries[i][1] = item
            self._emit(op, None, item)
        else:
            self.entries[i][1].update(item)
            self._emit(op, item, self.entries[i][1])

    def _model_delete(self, item: dict[str, Any], source: Any) -> None:
        i = self._find(key_of(item))
        if i >= 0:
            _, stored = self.entries.pop(i)
            self._emit("delete", source, stored)

    def model_sorted(
        self, symbol: str | None, limit: int | None, extra: dict[str, Any] | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        items = [i for _, i in self.entries if symbol is None or i["symbol"] == symbol]
        if extra:
            items = [i for i in items if all(i.get(k) == v for k, v in extra.items())]
        asks = sorted((i for i in items if i["side"] == "asks"), key=lambda i: float(i["price"]))
        bids = sorted(
            (i for i in items if i["side"] == "bids"), key=lambda i: float(i["price"]), reverse=True
        )
        return {"asks": asks[:limit], "bids": bids[:limit]}

    # ------------------------------------------------------------ generic DataStore rules

    @rule(levels=LEVELS)
    def insert(self, levels: list[dict[str, Any]]) -> None:
        for level in levels:
            self._model_set(level, "insert")
        self.store._insert(levels)

    @rule(levels=LEVELS)
    def update(self, levels: list[dict[str, Any]]) -> None:
        for level in levels:
            self._model_set(level, "update")
        self.store._update(levels)

    @rule(levels=LEVELS)
    def delete(self, levels: list[dict[str, Any]]) -> None:
        for level in levels:
            self._model_delete(level, level)
        self.store._delete(levels)

    @rule(level=LEVEL)
    def pop(self, level: dict[str, Any]) -> None:
        i = self._find(key_of(level))
        expected = self.entries[i][1] if i >= 0 else None
        self._model_delete(level, level)
        assert self.store._pop(level) == expected

    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        positions = data.draw(st.sets(st.integers(0, max(len(self.entries) - 1, 0))))
        uids = list(self.store._find_with_uuid())
        chosen = [uids[p] for p in sorted(positions) if p < len(uids)]
        for p in sorted(positions):
            if p < len(self.entries):
                self._emit("delete", None, self.entries[p][1])
        self.entries = [e for p, e in enumerate(self.entries) if p not in positions]
        self.store._remove(chosen)

    @rule(size=st.integers(0, 3))
    def find_and_delete(self, size: int) -> None:
        gone = [i for _, i in self.entries if i["size"] == size]
        self.entries = [e for e in self.entries if e[1]["size"] != size]
        for item in gone:
            self._emit("delete", item, item)
        assert self.store._find_and_delete({"size": size}) == gone

    @rule()
    def feed_interrupted(self) -> None:
        for _, item in self.entries:
            self._emit("delete", None, item)
        self.entries = []
        self.synced.clear()
        self.store._feed_interrupted()

    @rule(symbol=SYMBOLS)
    def mark_synced(self, symbol: str) -> None:
        self.synced.add(symbol)
        self.store._mark_synced(symbol)

    # ------------------------------------------------------------ fast primitives

    @rule(level=LEVEL)
    def put_or_drop_level(self, level: dict[str, Any]) -> None:
        if not is_level(level):
            return
        book = self.store._book_for(level["symbol"])
        side = book.asks if level["side"] == "asks" else book.bids
        price = float(level["price"])
        sortkey = -price if level["side"] == "asks" else price
        if level["size"]:
            self._model_set(level, "insert")
            self.store._put_level(side, key_of(level), dict(level), sortkey)
        else:
            self._model_delete(level, level)
            self.store._drop_level(side, key_of(level), sortkey, level)

    @rule(symbol=SYMBOLS, mid=st.sampled_from([0.5, 1, 2.5, 3, 9.5, 10]))
    def drop_crossing(self, symbol: str, mid: float) -> None:
        gone = [
            i
            for _, i in self.entries
            if i["symbol"] == symbol
            and (
                (i["side"] == "bids" and float(i["price"]) > mid)
                or (i["side"] == "asks" and float(i["price"]) <= mid)
            )
        ]
        self.entries = [e for e in self.entries if not any(e[1] is g for g in gone)]
        for item in gone:  # reported in store order
            self._emit("delete", item, item)
        book = self.store._book_for(symbol)
        dropped: list[tuple[int, dict[str, Any]]] = []
        self.store._drop_crossing(book.bids, mid, False, dropped)
        self.store._drop_crossing(book.asks, -mid, True, dropped)
        self.store._emit_deletes(dropped)

    @rule(symbol=SYMBOLS)
    def drop_book(self, symbol: str) -> None:
        gone = [i for _, i in self.entries if i["symbol"] == symbol]
        self.entries = [e for e in self.entries if e[1]["symbol"] != symbol]
        for item in gone:
            self._emit("delete", item, item)
        assert self.store._drop_book(symbol) == len(gone)

    # ------------------------------------------------------------ invariants

    @invariant()
    def same_levels(self) -> None:
        assert self.store.find() == [i for _, i in self.entries]
        for key, item in self.entries:
            assert self.store.get({"symbol": key[0], "side": key[1], "price": key[2]}) == item

    @invariant()
    def sorted_matches_full_resort(self) -> None:
        for symbol in ("A", "B"):
            for limit in (None, 0, 1, 3):
                assert self.store.sorted({"symbol": symbol}, limit) == self.model_sorted(
                    symbol, limit
                )
            assert self.store.sorted({"symbol": symbol, "size": 2}, 2) == self.model_sorted(
                symbol, 2, {"size": 2}
            )
            only_asks = self.store.sorted({"symbol": symbol, "side": "asks"})
            assert only_asks == {"asks": self.model_sorted(symbol, None)["asks"], "bids": []}
            model = self.model_sorted(symbol, 1)
            assert self.store.best_ask(symbol) == (model["asks"][0] if model["asks"] else None)
            assert self.store.best_bid(symbol) == (model["bids"][0] if model["bids"] else None)
            assert self.store.is_synced(symbol) == (symbol in self.synced)

    @invariant()
    def all_books_merge_by_price(self) -> None:
        merged = self.store.sorted(limit=4)
        model = self.model_sorted(None, 4)
        for side in ("asks", "bids"):
            assert [float(i["price"]) for i in merged[side]] == [
                float(i["price"]) for i in model[side]
            ]
        everything = self.store.sorted()
        assert sorted(map(repr, everything["asks"] + everything["bids"])) == sorted(
            repr(i) for _, i in self.entries
        )

    @invariant()
    def index_is_consistent(self) -> None:
        total = 0
        for book in self.store._books.values():
            for side in (book.asks, book.bids):
                assert side.keys == sorted(side.keys)
                assert len(side.keys) == len(side.items)
                total += len(side.items)
        assert total == len(self.store) == len(self.store._index)

    @invariant()
    def watchers_saw_exactly_the_changes(self) -> None:
        seen = []
        while (change := self.stream.get_nowait()) is not None:
            seen.append((change.operation, change.source, change.data))
        assert seen == self.expected
        self.expected = []


BookMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
TestBookModel = BookMachine.TestCase
