"""bitFlyer board throughput: botters vs pybotters, measured in one run.

A deterministic board stream (one snapshot, then diffs that touch a few levels
near a drifting mid price, with the mid sometimes moving across levels so the
store's crossed-level pruning runs) is applied message by message, and
``board.sorted(limit=10)`` is called after every message, as a bot reading the
top of the book would. Books hold 100, 1,000 and 10,000 levels per side.

Goals (issue 3): >= 100x pybotters at 1,000 levels per side, and botters'
messages/s at 10,000 levels within 2x of its rate at 100 levels.

Snapshots (issue 8): applying one full board snapshot (replacing a book of the
same depth, as a resync does) at 1,000 and 10,000 levels per side: >= 10x
pybotters at 10,000, and botters' cost per level flat from 1,000 to 10,000
(bulk load: one sort per side, never one sorted insert per level).

    python bench/board.py              # needs the [bench] extra for the pybotters column
    python bench/board.py --snapshots  # only the snapshot table
"""

from __future__ import annotations

import random
import sys
from typing import Any

from _common import best_per_call, copies, fmt_rate, fmt_us, in_event_loop
from botters.protocol.exchanges.bitflyer import bitFlyerDataStore

PRODUCT = "FX_BTC_JPY"
SNAPSHOT_CHANNEL = f"lightning_board_snapshot_{PRODUCT}"
DIFF_CHANNEL = f"lightning_board_{PRODUCT}"
DEPTHS = (100, 1_000, 10_000)
DIFFS = 2_000  # diff messages per botters round
ROUNDS = 5
# pybotters sorts the whole board on every sorted() call: fewer messages keep
# the run short at large depths (the per-message time is what is compared).
PYBOTTERS_DIFFS = {100: 2_000, 1_000: 300, 10_000: 30}
PYBOTTERS_ROUNDS = 3


def _rpc(channel: str, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "channelMessage",
        "params": {"channel": channel, "message": message},
    }


def make_stream(
    depth: int, diffs: int, seed: int = 3
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A snapshot with ``depth`` levels per side and ``diffs`` realistic diff messages."""
    rng = random.Random(seed)
    mid = 5_000_000
    bids = {mid - 1 - i: round(rng.uniform(0.01, 2), 8) for i in range(depth)}
    asks = {mid + 1 + i: round(rng.uniform(0.01, 2), 8) for i in range(depth)}

    def levels(book: dict[int, float]) -> list[dict[str, Any]]:
        return [{"price": p, "size": s} for p, s in book.items()]

    snapshot = _rpc(
        SNAPSHOT_CHANNEL, {"mid_price": mid, "bids": levels(bids), "asks": levels(asks)}
    )
    stream: list[dict[str, Any]] = []
    for _ in range(diffs):
        best_bid = max(bids)
        best_ask = min(asks)
        mid = (best_bid + best_ask) // 2 + rng.choice((-1, 0, 0, 0, 1))
        changed: dict[str, list[dict[str, Any]]] = {"bids": [], "asks": []}
        for _ in range(rng.randint(2, 6)):
            side = rng.choice(("bids", "asks"))
            book = bids if side == "bids" else asks
            offset = rng.randint(0, 20)
            price = mid - 1 - offset if side == "bids" else mid + 1 + offset
            if price in book and rng.random() < 0.4:
                del book[price]
                changed[side].append({"price": price, "size": 0})
            else:
                book[price] = round(rng.uniform(0.01, 2), 8)
                changed[side].append({"price": price, "size": book[price]})
        # Keep the depth steady: far levels fall off as new ones appear.
        while len(bids) > depth:
            far = min(bids)
            del bids[far]
            changed["bids"].append({"price": far, "size": 0})
        while len(asks) > depth:
            far = max(asks)
            del asks[far]
            changed["asks"].append({"price": far, "size": 0})
        # The store prunes levels the mid has crossed; mirror that here.
        for p in [p for p in bids if p > mid]:
            del bids[p]
        for p in [p for p in asks if p <= mid]:
            del asks[p]
        stream.append(_rpc(DIFF_CHANNEL, {"mid_price": mid, **changed}))
    return snapshot, stream


def bench_botters(
    snapshot: dict[str, Any], stream: list[dict[str, Any]], watch: bool = False
) -> float:
    """Best seconds per diff message (apply + sorted(limit=10)) for botters.

    With ``watch``, one ``watch()`` stream is open and read after every message.
    """

    def setup() -> tuple[bitFlyerDataStore, list[dict[str, Any]]]:
        store = bitFlyerDataStore()
        store.onmessage(copies([snapshot])[0])
        return store, copies(stream)

    def run(state: tuple[bitFlyerDataStore, list[dict[str, Any]]]) -> None:
        store, messages = state
        onmessage = store.onmessage
        board = store.board
        if not watch:
            for msg in messages:
                onmessage(msg)
                board.sorted(limit=10)
            return
        with board.watch() as changes:
            read = changes.get_nowait
            for msg in messages:
                onmessage(msg)
                board.sorted(limit=10)
                while read() is not None:
                    pass

    return best_per_call(setup, run, ROUNDS) / len(stream)


def bench_pybotters(
    snapshot: dict[str, Any], stream: list[dict[str, Any]], watch: bool = False
) -> float:
    """Best seconds per diff message (apply + sorted(limit=10)) for pybotters.

    With ``watch``, one ``watch()`` stream is open (pybotters deep-copies every
    change into it; its queue cannot be read without an event loop, which would
    only add to its time).
    """
    import pybotters
    import pybotters.ws

    class _WS(pybotters.ws.ClientWebSocketResponse):  # type: ignore[misc]
        # pybotters applies a snapshot only when handed its own ws type.
        def __init__(self) -> None:
            pass

        async def send_json(self, *args: Any, **kwargs: Any) -> None:
            return None

    def setup() -> tuple[Any, list[dict[str, Any]]]:
        store = pybotters.bitFlyerDataStore()
        in_event_loop(lambda: store.onmessage(copies([snapshot])[0], _WS()))
        return store, copies(stream)

    def run(state: tuple[Any, list[dict[str, Any]]]) -> None:
        store, messages = state
        board = store.board
        if watch:
            board.watch()
        for msg in messages:
            store.onmessage(msg)
            board.sorted(limit=10)

    return best_per_call(setup, run, PYBOTTERS_ROUNDS) / len(stream)


SNAPSHOT_DEPTHS = (1_000, 10_000)
SNAPSHOT_ROUNDS = 15


def bench_snapshot_botters(snapshot: dict[str, Any]) -> float:
    """Best seconds to apply ``snapshot`` onto a book already holding one of that depth."""

    def setup() -> tuple[bitFlyerDataStore, dict[str, Any]]:
        store = bitFlyerDataStore()
        store.onmessage(copies([snapshot])[0])
        return store, copies([snapshot])[0]

    def run(state: tuple[bitFlyerDataStore, dict[str, Any]]) -> None:
        store, msg = state
        store.onmessage(msg)

    return best_per_call(setup, run, SNAPSHOT_ROUNDS)


def bench_snapshot_pybotters(snapshot: dict[str, Any]) -> float:
    """The same for pybotters (its ws stub lets it apply the snapshot)."""
    import pybotters
    import pybotters.ws

    class _WS(pybotters.ws.ClientWebSocketResponse):  # type: ignore[misc]
        def __init__(self) -> None:
            pass

        async def send_json(self, *args: Any, **kwargs: Any) -> None:
            return None

    best = float("inf")
    for _ in range(SNAPSHOT_ROUNDS):  # as many rounds as botters gets: best of the same
        store = pybotters.bitFlyerDataStore()
        first, msg = copies([snapshot, snapshot])
        in_event_loop(lambda store=store, first=first: store.onmessage(first, _WS()))
        elapsed: list[float] = []

        def timed(store: Any = store, msg: Any = msg, elapsed: list[float] = elapsed) -> None:
            import gc
            import time

            gc.collect()
            t0 = time.perf_counter()
            store.onmessage(msg, _WS())
            elapsed.append(time.perf_counter() - t0)

        in_event_loop(timed)
        best = min(best, elapsed[0])
    return best


def snapshot_rows(have_pybotters: bool) -> list[tuple[int, float, float | None]]:
    rows: list[tuple[int, float, float | None]] = []
    for depth in SNAPSHOT_DEPTHS:
        snapshot, _ = make_stream(depth, 0, seed=5)
        ours = bench_snapshot_botters(snapshot)
        theirs = bench_snapshot_pybotters(snapshot) if have_pybotters else None
        rows.append((depth, ours, theirs))
    return rows


def print_snapshots(rows: list[tuple[int, float, float | None]]) -> None:
    print("\nbitFlyer board: apply one snapshot over a book of the same depth, best of runs")
    print(
        f"{'levels/side':>12} {'botters':>10} {'per level':>10} "
        f"{'pybotters':>10} {'per level':>10} {'ratio':>7}"
    )
    for depth, ours, theirs in rows:
        line = f"{depth:>12,} {ours * 1e3:>8.2f}ms {ours / (2 * depth) * 1e9:>8.0f}ns"
        if theirs is not None:
            line += (
                f" {theirs * 1e3:>8.2f}ms {theirs / (2 * depth) * 1e9:>8.0f}ns"
                f" {theirs / ours:>6.1f}x"
            )
        print(line)
    by_depth = {depth: (ours, theirs) for depth, ours, theirs in rows}
    ours_flat = (by_depth[10_000][0] / 10_000) / (by_depth[1_000][0] / 1_000)
    print(f"botters: cost per level at 10,000 vs 1,000 levels/side: {ours_flat:.2f}x (goal: flat)")
    theirs_10k = by_depth[10_000][1]
    if theirs_10k is not None:
        ratio = theirs_10k / by_depth[10_000][0]
        verdict = "OK" if ratio >= 10 else "MISSED"
        print(
            f"botters vs pybotters on a 10,000-level snapshot: {ratio:.1f}x (goal >= 10x) {verdict}"
        )


def check_same_result(depth: int) -> None:
    """Both libraries must end with the same top of book, or the timing means nothing."""
    try:
        import pybotters  # noqa: F401
    except ImportError:
        return
    snapshot, stream = make_stream(depth, 200, seed=11)
    ours = bitFlyerDataStore()
    for msg in copies([snapshot, *stream]):
        ours.onmessage(msg)
    theirs_holder: list[Any] = []

    def feed() -> None:
        import pybotters
        import pybotters.ws

        class _WS(pybotters.ws.ClientWebSocketResponse):  # type: ignore[misc]
            def __init__(self) -> None:
                pass

            async def send_json(self, *args: Any, **kwargs: Any) -> None:
                return None

        theirs = pybotters.bitFlyerDataStore()
        for msg in copies([snapshot, *stream]):
            theirs.onmessage(msg, _WS())
        theirs_holder.append(theirs)

    in_event_loop(feed)
    if ours.board.sorted(limit=10) != theirs_holder[0].board.sorted(limit=10):
        sys.exit(f"botters and pybotters disagree on the top of the book at depth {depth}")


def main() -> None:
    try:
        import pybotters  # noqa: F401

        have_pybotters = True
    except ImportError:
        have_pybotters = False
        print("pybotters not installed: pip install -e '.[bench]' for the reference column")
    check_same_result(100)
    if "--snapshots" in sys.argv:
        print_snapshots(snapshot_rows(have_pybotters))
        return

    rows: list[tuple[int, float, float | None]] = []
    for depth in DEPTHS:
        snapshot, stream = make_stream(depth, DIFFS)
        ours = bench_botters(snapshot, stream)
        theirs = None
        if have_pybotters:
            theirs = bench_pybotters(snapshot, stream[: PYBOTTERS_DIFFS[depth]])
        rows.append((depth, ours, theirs))

    print(f"bitFlyer board: apply one diff + sorted(limit=10), best of {ROUNDS}")
    print(
        f"{'levels/side':>12} {'botters':>12} {'msg/s':>10} "
        f"{'pybotters':>12} {'msg/s':>10} {'ratio':>9}"
    )
    for depth, ours, theirs in rows:
        if theirs is None:
            print(f"{depth:>12,} {fmt_us(ours):>12} {fmt_rate(1 / ours):>10}")
            continue
        print(
            f"{depth:>12,} {fmt_us(ours):>12} {fmt_rate(1 / ours):>10} "
            f"{fmt_us(theirs):>12} {fmt_rate(1 / theirs):>10} {theirs / ours:>8.0f}x"
        )
    by_depth = {depth: (ours, theirs) for depth, ours, theirs in rows}
    flat = by_depth[10_000][0] / by_depth[100][0]
    print(
        f"\nbotters: 10,000 vs 100 levels per side: {flat:.2f}x the time per message (goal <= 2x)"
    )
    snapshot, stream = make_stream(1_000, DIFFS)
    ours_watched = bench_botters(snapshot, stream, watch=True)
    line = f"\nwith one watch() stream at 1,000 levels/side: botters {fmt_rate(1 / ours_watched)}"
    if have_pybotters:
        theirs_watched = bench_pybotters(snapshot, stream[:300], watch=True)
        line += f", pybotters {fmt_rate(1 / theirs_watched)} ({theirs_watched / ours_watched:.0f}x)"
    print(line)
    if have_pybotters:
        theirs_flat = by_depth[10_000][1] / by_depth[100][1]  # type: ignore[operator]
        ratio = by_depth[1_000][1] / by_depth[1_000][0]  # type: ignore[operator]
        print(f"pybotters: 10,000 vs 100 levels per side: {theirs_flat:.1f}x the time per message")
        print(f"botters vs pybotters at 1,000 levels per side: {ratio:.0f}x (goal >= 100x)")
    print_snapshots(snapshot_rows(have_pybotters))


if __name__ == "__main__":
    main()
