"""``DataStore._sorted`` (pybotters' generic order-book view) against pybotters itself."""

from __future__ import annotations

import logging
from typing import Any

import pybotters
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botters.protocol.store import DataStore

ITEM = st.fixed_dictionaries(
    {
        "s": st.sampled_from(["X", "Y"]),
        "S": st.sampled_from(["a", "b"]),
        "p": st.sampled_from(["1", "2", "2.5", "10", 3, 2.0, "0.5"]),
        "v": st.integers(0, 9),
    }
)


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(ITEM, max_size=12),
    query=st.sampled_from([None, {}, {"s": "X"}, {"s": "Z"}, {"S": "a"}]),
    limit=st.sampled_from([None, 0, 1, 3]),
    swap=st.booleans(),
)
def test_sorted_equals_pybotters(
    items: list[dict[str, Any]], query: dict[str, Any] | None, limit: int | None, swap: bool
) -> None:
    asc, desc = ("b", "a") if swap else ("a", "b")
    ours = DataStore(keys=["s", "S", "p"])
    theirs = pybotters.DataStore(keys=["s", "S", "p"])
    ours._insert([dict(i) for i in items])
    theirs._insert([dict(i) for i in items])
    assert ours._sorted("S", asc, desc, "p", query, limit) == theirs._sorted(
        "S", asc, desc, "p", query, limit
    )


def test_items_that_are_not_levels_are_skipped_with_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # pybotters raises KeyError / ValueError here; one bad item must not break a bot's view.
    store = DataStore(keys=["s", "S", "p"])
    store._insert(
        [
            {"s": "X", "S": "a", "p": "1"},
            {"s": "X", "S": "?", "p": "2"},
            {"s": "X", "S": "b", "p": "n/a"},
            {"s": "X", "S": "b", "p": "0.5"},
        ]
    )
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        view = store._sorted("S", "a", "b", "p")
    assert view == {"a": [{"s": "X", "S": "a", "p": "1"}], "b": [{"s": "X", "S": "b", "p": "0.5"}]}
    assert any("_sorted skipped 2 item(s)" in r.getMessage() for r in caplog.records)
