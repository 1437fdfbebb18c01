"""DataStore: pybotters' semantics, keyed by the key values themselves, with explicit trimming."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import pytest

from botters.protocol.store import DataStore, StoreChange


def drain(stream: Any) -> list[tuple[str, Any, Any]]:
    out = []
    while (change := stream.get_nowait()) is not None:
        out.append((change.operation, change.source, change.data))
    return out


# ---------------------------------------------------------------- construction


def test_user_guide_example() -> None:
    ds = DataStore(
        keys=["id"],
        data=[
            {"id": 1, "data": "foo"},
            {"id": 2, "data": "bar"},
            {"id": 3, "data": "baz"},
            {"id": 4, "data": "foo"},
        ],
    )
    assert ds.get({"id": 1}) == {"id": 1, "data": "foo"}
    assert ds.get({"id": 999}) is None
    assert [i["id"] for i in ds.find()] == [1, 2, 3, 4]
    assert ds.find({"data": "foo"}) == [{"id": 1, "data": "foo"}, {"id": 4, "data": "foo"}]
    assert ds.find({"id": "SPAM"}) == []


def test_keys_default_to_class_attribute_and_init_hook_runs() -> None:
    class Orders(DataStore):
        _KEYS: ClassVar[list[str]] = ["symbol", "id"]

        def _init(self) -> None:
            self.extra = len(self)

    store = Orders("orders", data=[{"symbol": "X", "id": 1}])
    assert store.name == "orders"
    assert store._keys == ("symbol", "id")
    assert store.extra == 1  # _init ran after data was inserted
    assert Orders(keys=["id"])._keys == ("id",)


def test_items_are_stored_by_reference() -> None:
    item = {"id": 1, "v": 1}
    ds = DataStore(keys=["id"], data=[item])
    assert ds.get({"id": 1}) is item
    assert ds.find()[0] is item


# ---------------------------------------------------------------- keys


def test_keys_that_hash_alike_never_alias() -> None:
    assert hash(-1) == hash(-2)  # the CPython fact pybotters' hash index tripped on
    ds = DataStore(keys=["k"], data=[{"k": -1, "v": "a"}, {"k": -2, "v": "b"}])
    assert len(ds) == 2
    assert ds.get({"k": -1}) == {"k": -1, "v": "a"}
    assert ds.get({"k": -2}) == {"k": -2, "v": "b"}
    ds._delete([{"k": -1}])
    assert ds.find() == [{"k": -2, "v": "b"}]


def test_multi_field_keys_that_hash_alike_never_alias() -> None:
    ds = DataStore(keys=["a", "b"])
    ds._insert([{"a": -1, "b": -2, "v": 1}, {"a": -2, "b": -1, "v": 2}, {"a": -2, "b": -2, "v": 3}])
    assert [ds.get({"a": a, "b": b})["v"] for a, b in ((-1, -2), (-2, -1), (-2, -2))] == [1, 2, 3]


def test_equal_key_values_are_one_key_like_dict_keys() -> None:
    ds = DataStore(keys=["id"], data=[{"id": 1, "v": "int"}])
    ds._insert([{"id": 1.0, "v": "float"}])
    assert ds.find() == [{"id": 1.0, "v": "float"}]
    assert ds.get({"id": True}) == {"id": 1.0, "v": "float"}
    ds._insert([{"id": "1", "v": "str"}])  # a string is a different key
    assert len(ds) == 2


def test_items_without_key_fields_are_skipped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    ds = DataStore(keys=["id"])
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        ds._insert([{"x": 1}, {"id": 2}, "not a dict", {"id": [1, 2]}])  # type: ignore[list-item]
        ds._update([{"x": 1}])
        ds._delete([{"x": 1}])
    assert ds.find() == [{"id": 2}]
    messages = [r.getMessage() for r in caplog.records if r.name == "botters.store"]
    assert len(messages) == 5
    assert all("key fields ['id']" in m for m in messages)


def test_get_without_keys_or_key_fields_is_none() -> None:
    keyless = DataStore(data=[{"a": 1}])
    assert keyless.get({"a": 1}) is None
    keyed = DataStore(keys=["id"], data=[{"id": 1}])
    assert keyed.get({"other": 1}) is None
    assert keyed.get({"id": [1]}) is None  # unhashable: no such key


# ---------------------------------------------------------------- find


def test_find_with_all_key_fields_also_checks_other_fields() -> None:
    ds = DataStore(keys=["s", "i"], data=[{"s": "A", "i": 1, "st": "NEW"}])
    assert ds.find({"s": "A", "i": 1}) == [{"s": "A", "i": 1, "st": "NEW"}]
    assert ds.find({"s": "A", "i": 1, "st": "NEW"}) == [{"s": "A", "i": 1, "st": "NEW"}]
    assert ds.find({"s": "A", "i": 1, "st": "FILLED"}) == []
    assert ds.find({"s": "A", "i": 2}) == []
    assert ds.find({"s": "A", "i": 1, "missing": None}) == []


def test_find_scans_for_partial_queries_in_store_order() -> None:
    ds = DataStore(keys=["id"], data=[{"id": i, "even": i % 2 == 0} for i in range(6)])
    assert [i["id"] for i in ds.find({"even": True})] == [0, 2, 4]
    assert ds.find({"nope": 1}) == []
    assert [i["id"] for i in ds.find({})] == list(range(6))
    assert ds.find({"id": [1]}) == []  # unhashable query value: compared, no match


def test_iteration_len_and_reversed() -> None:
    ds = DataStore(keys=["id"], data=[{"id": 3}, {"id": 1}, {"id": 2}])
    assert [i["id"] for i in ds] == [3, 1, 2]
    assert [i["id"] for i in reversed(ds)] == [2, 1, 3]
    assert len(ds) == 3


# ---------------------------------------------------------------- mutation


def test_insert_replaces_in_place_keeping_position() -> None:
    ds = DataStore(keys=["id"], data=[{"id": 1, "v": 1}, {"id": 2, "v": 2}])
    new = {"id": 1, "w": 9}
    ds._insert([new])
    assert ds.find() == [{"id": 1, "w": 9}, {"id": 2, "v": 2}]
    assert ds.get({"id": 1}) is new


def test_update_merges_or_appends() -> None:
    ds = DataStore(keys=["id"], data=[{"id": 1, "v": 1, "keep": True}])
    stream = ds.watch()
    ds._update([{"id": 1, "v": 2}, {"id": 3, "v": 3}])
    assert ds.find() == [{"id": 1, "v": 2, "keep": True}, {"id": 3, "v": 3}]
    assert drain(stream) == [
        ("update", {"id": 1, "v": 2}, {"id": 1, "v": 2, "keep": True}),
        ("update", None, {"id": 3, "v": 3}),
    ]


def test_keyless_store_appends_and_ignores_delete() -> None:
    ds = DataStore()
    ds._insert([{"a": 1}, {"a": 1}])
    ds._update([{"a": 1, "b": 2}])
    ds._delete([{"a": 1}])
    assert ds.find() == [{"a": 1}, {"a": 1}, {"a": 1, "b": 2}]
    assert ds._pop({"a": 1}) is None


def test_delete_reports_source_and_removed_item() -> None:
    ds = DataStore(keys=["id"], data=[{"id": 1, "v": 1}])
    stream = ds.watch()
    ds._delete([{"id": 1}, {"id": 2}])
    assert len(ds) == 0
    assert drain(stream) == [("delete", {"id": 1}, {"id": 1, "v": 1})]


def test_remove_by_id_and_find_with_uuid() -> None:
    ds = DataStore(keys=["id"], data=[{"id": i, "odd": i % 2} for i in range(5)])
    found = ds._find_with_uuid({"odd": 1})
    assert [i["id"] for i in found.values()] == [1, 3]
    stream = ds.watch()
    ds._remove([*found, 12345])
    assert [i["id"] for i in ds] == [0, 2, 4]
    assert ds.get({"id": 1}) is None
    assert drain(stream) == [
        ("delete", None, {"id": 1, "odd": 1}),
        ("delete", None, {"id": 3, "odd": 1}),
    ]
    assert list(ds._find_with_uuid()) == list(ds._data)


def test_clear_reports_every_item() -> None:
    ds = DataStore(keys=["id"], data=[{"id": 1}, {"id": 2}])
    stream = ds.watch()
    ds._clear()
    assert len(ds) == 0
    assert ds.get({"id": 1}) is None
    assert drain(stream) == [("delete", None, {"id": 1}), ("delete", None, {"id": 2})]
    ds._insert([{"id": 1}])  # the index was cleared too
    assert ds.find() == [{"id": 1}]


def test_pop_returns_and_reports_the_item() -> None:
    ds = DataStore(keys=["id"], data=[{"id": 1, "v": 1}])
    stream = ds.watch()
    assert ds._pop({"id": 2}) is None
    assert ds._pop({"id": 1}) == {"id": 1, "v": 1}
    assert len(ds) == 0
    assert drain(stream) == [("delete", {"id": 1}, {"id": 1, "v": 1})]


def test_find_and_delete() -> None:
    ds = DataStore(
        keys=["id"], data=[{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 3, "v": "a"}]
    )
    assert ds._find_and_delete({"v": "a"}) == [{"id": 1, "v": "a"}, {"id": 3, "v": "a"}]
    assert ds.find() == [{"id": 2, "v": "b"}]
    assert ds._find_and_delete() == [{"id": 2, "v": "b"}]
    assert len(ds) == 0


def test_find_and_delete_works_without_keys() -> None:
    ds = DataStore(data=[{"v": 1}, {"v": 2}, {"v": 1}])
    assert ds._find_and_delete({"v": 1}) == [{"v": 1}, {"v": 1}]
    assert ds.find() == [{"v": 2}]


def test_index_survives_key_fields_edited_in_place() -> None:
    # Users are told not to mutate items; if they do, removal must still clean the index.
    ds = DataStore(keys=["id"], data=[{"id": 1}, {"id": 2}])
    item = ds.get({"id": 1})
    assert item is not None
    del item["id"]
    ds._remove(list(ds._find_with_uuid({"id": 2})))
    ds._remove([next(iter(ds._data))])
    assert len(ds) == 0
    assert ds._index == {}


# ---------------------------------------------------------------- trimming


def test_trimming_drops_oldest_by_first_insert() -> None:
    # The inventory's verified pybotters example: updating 1 does not make it young.
    ds = DataStore(keys=["id"])
    ds._MAXLEN = 3
    ds._insert([{"id": 1}, {"id": 2}, {"id": 3}])
    ds._update([{"id": 1, "x": 1}])
    stream = ds.watch()
    ds._insert([{"id": 4}])
    assert [i["id"] for i in ds] == [2, 3, 4]
    assert drain(stream) == [("insert", None, {"id": 4}), ("delete", None, {"id": 1, "x": 1})]
    assert ds.get({"id": 1}) is None


def test_trimming_keyless_store_over_many_cycles() -> None:
    ds = DataStore()
    ds._MAXLEN = 5
    for i in range(1000):
        ds._insert([{"i": i}])
        if i % 7 == 0:  # holes left by removals do not confuse trimming
            ds._remove([next(reversed(ds._data))])
    assert [x["i"] for x in ds] == [995, 996, 997, 998, 999]


def test_class_maxlen_applies_and_delete_never_trims() -> None:
    class Small(DataStore):
        _MAXLEN = 2

    ds = Small(keys=["id"], data=[{"id": 1}, {"id": 2}, {"id": 3}])
    assert [i["id"] for i in ds] == [2, 3]
    ds._delete([{"id": 2}])
    assert [i["id"] for i in ds] == [3]


# ---------------------------------------------------------------- changes


def test_change_data_is_a_snapshot_shared_by_watchers() -> None:
    ds = DataStore(keys=["id"])
    first, second = ds.watch(), ds.watch()
    ds._insert([{"id": 1, "v": 1}])
    ds._update([{"id": 1, "v": 2}])
    a, b = first.get_nowait(), second.get_nowait()
    assert a is b  # one change object, no per-watcher copy
    assert isinstance(a, StoreChange)
    assert a.store is ds
    assert a.data == {"id": 1, "v": 1}  # not the live item, which now has v=2
    assert ds.get({"id": 1}) == {"id": 1, "v": 2}


def test_put_sends_a_manual_change() -> None:
    ds = DataStore()
    stream = ds.watch()
    ds._put("update", {"src": 1}, {"v": 1})
    assert drain(stream) == [("update", {"src": 1}, {"v": 1})]
    assert len(ds) == 0


def test_no_change_objects_without_watchers() -> None:
    ds = DataStore(keys=["id"])
    stream = ds.watch()
    stream.close()
    assert ds._streams == []
    ds._insert([{"id": 1}])
    assert len(stream) == 0
