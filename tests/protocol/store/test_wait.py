"""wait() under asyncio and trio, with no framework imported by the store itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import trio
import trio.testing

from botters.protocol.store import (
    AsyncLibraryNotFoundError,
    DataStore,
    DataStoreCollection,
    FetchSnapshot,
    current_async_library,
)
from botters.protocol.store._async import gather_settled


def run_with_waiter(
    library: str, wait: Callable[[], object], poke: Callable[[], None], expect_woken: bool
) -> bool:
    """Block a task in ``wait()``, call ``poke()``, and report whether the task finished."""
    woken: list[bool] = []

    async def waiter() -> None:
        await wait()  # type: ignore[misc]
        woken.append(True)

    if library == "asyncio":

        async def main_asyncio() -> None:
            task = asyncio.create_task(waiter())
            await asyncio.sleep(0)
            poke()
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            if not expect_woken:
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            else:
                await task

        asyncio.run(main_asyncio())
    else:

        async def main_trio() -> None:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(waiter)
                await trio.testing.wait_all_tasks_blocked()
                poke()
                await trio.testing.wait_all_tasks_blocked()
                nursery.cancel_scope.cancel()

        trio.run(main_trio)
    return bool(woken)


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_wait_wakes_on_a_change(library: str) -> None:
    store = DataStore(keys=["id"])
    assert run_with_waiter(library, store.wait, lambda: store._insert([{"id": 1}]), True)
    assert store._waiters == []


@pytest.mark.parametrize("library", ["asyncio", "trio"])
@pytest.mark.parametrize(
    "noop",
    [
        lambda s: s._delete([{"id": 99}]),
        lambda s: s._update([]),
        lambda s: s._insert([{"no_key": 1}]),
        lambda s: s._remove([12345]),
        lambda s: s._pop({"id": 99}),
    ],
    ids=["delete-missing", "empty-update", "rejected-insert", "remove-missing", "pop-missing"],
)
def test_wait_ignores_calls_that_change_nothing(
    library: str, noop: Callable[[DataStore], object]
) -> None:
    store = DataStore(keys=["id"], data=[{"id": 1}])
    assert not run_with_waiter(library, store.wait, lambda: noop(store), False)
    assert store._waiters == []  # the cancelled waiter was removed


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_trimming_alone_counts_as_a_change(library: str) -> None:
    store = DataStore(keys=["id"], data=[{"id": 1}])
    store._MAXLEN = 1
    assert run_with_waiter(library, store.wait, lambda: store._insert([{"id": 2}]), True)


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_collection_wait_wakes_after_each_onmessage(library: str) -> None:
    collection = DataStoreCollection()
    assert run_with_waiter(library, collection.wait, lambda: collection.onmessage({"x": 1}), True)
    assert run_with_waiter(library, collection.wait, collection.feed_interrupted, True)


def test_current_async_library() -> None:
    async def probe() -> str:
        return current_async_library()

    assert asyncio.run(probe()) == "asyncio"
    assert trio.run(probe) == "trio"
    with pytest.raises(AsyncLibraryNotFoundError):
        current_async_library()


def test_waiting_outside_a_framework_is_a_clear_error() -> None:
    store = DataStore()
    coro = store.wait()
    with pytest.raises(AsyncLibraryNotFoundError, match="asyncio or trio"):
        coro.send(None)
    assert store._waiters == []


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_gather_settled_keeps_order_and_returns_errors(library: str) -> None:
    async def ok(v: int) -> int:
        if library == "trio":
            await trio.lowlevel.checkpoint()
        else:
            await asyncio.sleep(0)
        return v

    async def bad() -> int:
        raise ValueError("boom")

    async def main() -> list[tuple[bool, object]]:
        return await gather_settled([ok(1), bad(), ok(3)])

    results = asyncio.run(main()) if library == "asyncio" else trio.run(main)
    assert [r[0] for r in results] == [True, False, True]
    assert results[0][1] == 1
    assert results[2][1] == 3
    assert isinstance(results[1][1], ValueError)


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_collection_wait_wakes_when_a_fetched_snapshot_is_applied(library: str) -> None:
    # A REST-snapshot book (Binance) changes outside onmessage: the adapter
    # delivers the snapshot it fetched. A bot waiting on the collection must
    # see that change too, not only the next message.
    from botters import BinanceSpotDataStore

    store = BinanceSpotDataStore()
    store.onmessage({"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": 5, "u": 6,
                     "b": [["100", "1"]], "a": []})  # fmt: skip
    (request,) = store.take_resync_requests()
    assert isinstance(request, FetchSnapshot)
    snapshot = {"lastUpdateId": 5, "bids": [["99", "2"]], "asks": [["101", "3"]]}
    assert run_with_waiter(library, store.wait, lambda: request.deliver(snapshot), True)
    assert store.orderbook.is_synced("BTCUSDT")
