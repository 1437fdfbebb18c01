"""Model-based test: DataStore against a plain list of (key, item) entries.

Random sequences of insert/update/delete/pop/remove/clear/find_and_delete,
with a random ``_MAXLEN`` so trimming happens, on keyed and key-less stores.
Key values include -1 and -2 (equal hashes in CPython), and 1, 1.0 and True
(equal values: one key, as for dict keys). After every step the store must
equal the model, and the changes a watcher received must be exactly the ones
the model predicts, trims included; waiters must be woken exactly when
something changed.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from botters.protocol.store import DataStore

KEY_VALUES = st.sampled_from([-1, -2, 0, 1, 1.0, True, 2, "1", "a", (1, 2), (2, 1)])
ITEM = st.fixed_dictionaries(
    {"k": KEY_VALUES, "v": st.integers(0, 3)}, optional={"w": st.integers(0, 2)}
) | st.fixed_dictionaries({"v": st.integers(0, 3)})  # sometimes no key field at all
ITEMS = st.lists(ITEM, max_size=4)


class _FlagWaiter:
    """A stand-in waiter: records whether the store woke it."""

    def __init__(self) -> None:
        self.woken = False

    def set(self) -> None:
        self.woken = True

    def is_set(self) -> bool:
        return self.woken

    async def wait(self) -> None:  # pragma: no cover - never awaited
        return None


class DataStoreMachine(RuleBasedStateMachine):
    store: DataStore
    keyed: bool
    maxlen: int
    entries: list[list[Any]]  # [key, item] in first-insert order; items are the model's copies
    expected: list[tuple[str, Any, Any]]

    @initialize(keyed=st.booleans(), maxlen=st.integers(0, 6) | st.just(9999))
    def setup(self, keyed: bool, maxlen: int) -> None:
        self.keyed = keyed
        self.maxlen = maxlen
        self.store = DataStore(keys=["k"] if keyed else None)
        self.store._MAXLEN = maxlen
        self.stream = self.store.watch(maxsize=1_000_000)
        self.entries = []
        self.expected = []
        self.waiter = _FlagWaiter()
        self.store._waiters.append(self.waiter)  # type: ignore[arg-type]
        self.changed = False

    # ------------------------------------------------------------ model helpers

    def _find(self, key: Any) -> int:
        for i, (k, _) in enumerate(self.entries):
            if k == key:
                return i
        return -1

    def _emit(self, op: str, source: Any, data: Any) -> None:
        self.expected.append((op, copy.deepcopy(source), copy.deepcopy(data)))
        self.changed = True

    def _trim(self) -> None:
        while len(self.entries) > max(self.maxlen, 0):
            _, item = self.entries.pop(0)
            self._emit("delete", None, item)

    def _add(self, items: list[dict[str, Any]], op: str) -> None:
        added = False
        for original in items:
            item = copy.deepcopy(original)
            if not self.keyed:
                self.entries.append([None, item])
                self._emit(op, None, item)
                added = True
                continue
            if "k" not in item:
                continue
            i = self._find(item["k"])
            if i < 0:
                self.entries.append([item["k"], item])
                self._emit(op, None, item)
                added = True
            elif op == "insert":
                self.entries[i][1] = item
                self._emit(op, None, item)
            else:
                self.entries[i][1].update(item)
                self._emit(op, item, self.entries[i][1])
        if added:
            self._trim()

    # ------------------------------------------------------------ rules

    @rule(items=ITEMS)
    def insert(self, items: list[dict[str, Any]]) -> None:
        self._add(items, "insert")
        self.store._insert(items)

    @rule(items=ITEMS)
    def update(self, items: list[dict[str, Any]]) -> None:
        self._add(items, "update")
        self.store._update(items)

    @rule(items=ITEMS)
    def delete(self, items: list[dict[str, Any]]) -> None:
        if self.keyed:
            for item in items:
                if "k" in item and (i := self._find(item["k"])) >= 0:
                    _, stored = self.entries.pop(i)
                    self._emit("delete", item, stored)
        self.store._delete(items)

    @rule(item=ITEM)
    def pop(self, item: dict[str, Any]) -> None:
        expected = None
        if self.keyed and "k" in item and (i := self._find(item["k"])) >= 0:
            _, expected = self.entries.pop(i)
            self._emit("delete", item, expected)
        assert self.store._pop(item) == expected

    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        positions = data.draw(st.sets(st.integers(0, max(len(self.entries) - 1, 0))))
        uids = list(self.store._find_with_uuid())
        chosen = [uids[p] for p in sorted(positions) if p < len(uids)]
        removed = [self.entries[p][1] for p in sorted(positions) if p < len(self.entries)]
        self.entries = [e for p, e in enumerate(self.entries) if p not in positions]
        for item in removed:
            self._emit("delete", None, item)
        self.store._remove(chosen)

    @rule()
    def clear(self) -> None:
        for _, item in self.entries:
            self._emit("delete", None, item)
        self.entries = []
        self.store._clear()

    @rule(v=st.integers(0, 3) | st.none())
    def find_and_delete(self, v: int | None) -> None:
        query = None if v is None else {"v": v}
        if query is None:
            gone = [item for _, item in self.entries]
            self.entries = []
            for item in gone:
                self._emit("delete", None, item)
        else:
            gone = [item for _, item in self.entries if item.get("v") == v]
            self.entries = [e for e in self.entries if e[1].get("v") != v]
            for item in gone:
                self._emit("delete", item, item)
        assert self.store._find_and_delete(query) == gone

    # ------------------------------------------------------------ invariants

    @invariant()
    def same_items_in_same_order(self) -> None:
        assert self.store.find() == [item for _, item in self.entries]
        assert len(self.store) == len(self.entries)
        assert list(reversed(self.store)) == [item for _, item in reversed(self.entries)]

    @invariant()
    def lookups_agree(self) -> None:
        for v in range(4):
            assert self.store.find({"v": v}) == [i for _, i in self.entries if i.get("v") == v]
        if not self.keyed:
            assert self.store.get({"k": 1}) is None
            return
        for key, item in self.entries:
            assert self.store.get({"k": key}) == item
            assert self.store.find({"k": key}) == [item]
            assert self.store.find({"k": key, "v": item["v"]}) == [item]
            assert self.store.find({"k": key, "v": item["v"] + 1}) == []
        for key in (-1, -2, 0, 1, 2, "1", "a", (1, 2), (2, 1)):
            if self._find(key) < 0:
                assert self.store.get({"k": key}) is None
                assert self.store.find({"k": key}) == []
        assert len(self.store._index) == len(self.entries)

    @invariant()
    def watchers_saw_exactly_the_changes(self) -> None:
        seen = []
        while (change := self.stream.get_nowait()) is not None:
            seen.append((change.operation, change.source, change.data))
        assert seen == self.expected
        self.expected = []

    @invariant()
    def waiters_woken_exactly_on_change(self) -> None:
        assert self.waiter.woken == self.changed
        if self.waiter.woken:
            self.waiter = _FlagWaiter()
            self.store._waiters.append(self.waiter)  # type: ignore[arg-type]
        self.changed = False


DataStoreMachine.TestCase.settings = settings(
    max_examples=300, stateful_step_count=40, deadline=None
)
TestDataStoreModel = DataStoreMachine.TestCase
