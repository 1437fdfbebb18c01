"""DataStore primitives: botters vs pybotters, measured in one run.

* keyed update: ``_update([item])`` of existing items in a 5,000-item store
  keyed by two fields (an order store's ``(symbol, id)``), one item per call as
  a private order feed delivers them, and 100 items per call;
* ``find`` with every key field given, over 5,000 items;
* ``get`` by key, for reference.

Goals (issue 3): keyed update >= 2x pybotters; ``find`` on key fields >= 100x.

    python bench/datastore.py      # needs the [bench] extra for the pybotters column
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from _common import best_time, fmt_rate, fmt_us
from botters.protocol.store import DataStore

N_ITEMS = 5_000
KEYS = ["symbol", "id"]
ROUNDS = 7
CALLS = 20_000
FIND_CALLS = {"botters": 20_000, "pybotters": 300}


def make_items(seed: int = 5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "symbol": rng.choice(("BTCUSDT", "ETHUSDT", "SOLUSDT")),
            "id": 10_000_000 + i,
            "price": str(round(rng.uniform(10, 100_000), 2)),
            "qty": str(round(rng.uniform(0.001, 5), 3)),
            "status": "NEW",
        }
        for i in range(N_ITEMS)
    ]


def make_updates(items: list[dict[str, Any]], n: int, seed: int = 6) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    picks = [rng.choice(items) for _ in range(n)]
    return [
        {
            "symbol": p["symbol"],
            "id": p["id"],
            "qty": str(round(rng.uniform(0.001, 5), 3)),
            "status": "PARTIALLY_FILLED",
        }
        for p in picks
    ]


def measure(store_class: Callable[..., Any], name: str) -> dict[str, float]:
    """Seconds per operation for one DataStore implementation."""
    items = make_items()
    store = store_class(keys=KEYS, data=[dict(i) for i in items])
    updates = make_updates(items, CALLS)
    singles = [[u] for u in updates]
    batches = [updates[i : i + 100] for i in range(0, len(updates), 100)]
    queries = [{"symbol": u["symbol"], "id": u["id"]} for u in updates[: FIND_CALLS[name]]]
    update = store._update
    find = store.find
    get = store.get

    def run_singles() -> None:
        for one in singles:
            update(one)

    def run_batches() -> None:
        for batch in batches:
            update(batch)

    def run_find() -> None:
        for q in queries:
            find(q)

    def run_get() -> None:
        for q in queries:
            get(q)

    # Correctness guard: both must answer the same query the same way.
    assert find(queries[0]) == [get(queries[0])]
    return {
        "update, 1 item per call": best_time(run_singles, ROUNDS) / CALLS,
        "update, 100 items per call (per item)": best_time(run_batches, ROUNDS) / CALLS,
        "find({all key fields})": best_time(run_find, ROUNDS) / len(queries),
        "get({key fields})": best_time(run_get, ROUNDS) / len(queries),
    }


def main() -> None:
    ours = measure(DataStore, "botters")
    theirs: dict[str, float] | None = None
    try:
        import pybotters

        theirs = measure(pybotters.DataStore, "pybotters")
    except ImportError:
        print("pybotters not installed: pip install -e '.[bench]' for the reference column")

    print(f"DataStore, {N_ITEMS:,} items keyed by {KEYS}, best of {ROUNDS}")
    print(f"{'operation':<40} {'botters':>10} {'':>10} {'pybotters':>11} {'':>10} {'ratio':>8}")
    for op, t in ours.items():
        line = f"{op:<40} {fmt_us(t):>10} {fmt_rate(1 / t):>10}"
        if theirs is not None:
            line += (
                f" {fmt_us(theirs[op]):>11} {fmt_rate(1 / theirs[op]):>10} {theirs[op] / t:>7.1f}x"
            )
        print(line)
    if theirs is not None:
        upd = "update, 1 item per call"
        fnd = "find({all key fields})"
        print(
            f"\nkeyed update: {theirs[upd] / ours[upd]:.1f}x pybotters (goal >= 2x); "
            f"find on key fields: {theirs[fnd] / ours[fnd]:.0f}x (goal >= 100x)"
        )


if __name__ == "__main__":
    main()
