"""watch(): bounded streams, the overflow policy, closing, and reading under asyncio and trio."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest
import trio
import trio.testing

from botters.protocol import BottersError, ConfigError
from botters.protocol.store import (
    DEFAULT_STREAM_MAXSIZE,
    DataStore,
    StoreChange,
    StoreStream,
    StoreStreamClosed,
    StoreStreamOverflow,
)


def keyed() -> DataStore:
    return DataStore(keys=["id"])


def test_default_and_custom_maxsize() -> None:
    store = keyed()
    assert store.watch().maxsize == DEFAULT_STREAM_MAXSIZE == 65_536
    assert store.watch(maxsize=3).maxsize == 3
    with pytest.raises(ConfigError):
        store.watch(maxsize=0)


def test_overflow_drops_backlog_reports_count_then_continues() -> None:
    store = keyed()
    stream = store.watch(maxsize=3)
    store._insert([{"id": i} for i in range(3)])
    assert len(stream) == 3
    store._insert([{"id": 3}])  # the 4th change overflows: all 4 are dropped
    assert len(stream) == 0
    store._insert([{"id": 4}, {"id": 5}])  # still unreported: counted and dropped too
    with pytest.raises(StoreStreamOverflow) as info:
        stream.get_nowait()
    assert info.value.lost == 6
    assert isinstance(info.value, BottersError)
    assert "6 changes" in str(info.value)
    assert stream.get_nowait() is None  # reported once
    store._update([{"id": 5, "v": 1}])
    change = stream.get_nowait()
    assert change is not None
    assert (change.operation, change.data) == ("update", {"id": 5, "v": 1})


def test_mirror_recovers_exactly_after_overflow() -> None:
    # The documented recovery: on overflow re-read the store, then keep applying changes.
    store = keyed()
    stream = store.watch(maxsize=4)
    mirror: dict[Any, dict[str, Any]] = {}

    def consume() -> None:
        while True:
            try:
                change = stream.get_nowait()
            except StoreStreamOverflow:
                mirror.clear()
                mirror.update({i["id"]: dict(i) for i in store.find()})
                continue
            if change is None:
                return
            if change.operation == "delete":
                mirror.pop(change.data["id"], None)
            else:
                mirror[change.data["id"]] = dict(change.data)

    for burst in range(20):
        store._insert([{"id": (burst * 3 + j) % 11, "b": burst} for j in range(burst % 7)])
        store._delete([{"id": burst % 5}])
        consume()
        assert mirror == {i["id"]: i for i in store.find()}


def test_unread_stream_memory_is_bounded() -> None:
    store = DataStore()
    stream = store.watch(maxsize=100)
    for i in range(10_000):
        store._insert([{"i": i}])
    assert len(stream) <= 100
    with pytest.raises(StoreStreamOverflow):
        stream.get_nowait()


def test_close_stops_feeding_and_ends_iteration_after_buffer() -> None:
    store = keyed()
    stream = store.watch()
    store._insert([{"id": 1}])
    stream.close()
    stream.close()  # idempotent
    store._insert([{"id": 2}])
    assert stream.closed
    assert store._streams == []

    async def read_all() -> list[Any]:
        return [change.data async for change in stream]

    assert asyncio.run(read_all()) == [{"id": 1}]

    async def get_after_close() -> None:
        await stream.get()

    with pytest.raises(StoreStreamClosed):
        asyncio.run(get_after_close())


def test_context_manager_closes() -> None:
    store = keyed()
    with store.watch() as stream:
        assert isinstance(stream, StoreStream)
        assert stream.store is store
        assert "open" in repr(stream)
    assert stream.closed
    assert "closed" in repr(stream)


def test_dropped_stream_is_forgotten_by_the_store() -> None:
    store = keyed()
    store.watch()  # nobody keeps it
    assert store._streams == []
    store._insert([{"id": 1}])  # nothing to feed, nothing built


def test_store_with_streams_is_freed_without_the_cycle_collector() -> None:
    gc.disable()
    try:
        store = keyed()
        stream = store.watch()
        alive = weakref.ref(store)
        del store, stream
        assert alive() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_async_iteration_receives_changes_made_while_waiting(library: str) -> None:
    store = keyed()
    received: list[StoreChange] = []

    async def consumer(stream: StoreStream) -> None:
        async for change in stream:
            received.append(change)
            if len(received) == 3:
                return

    def produce() -> None:
        store._insert([{"id": 1}])
        store._update([{"id": 1, "v": 2}])
        store._delete([{"id": 1}])

    if library == "asyncio":

        async def main_asyncio() -> None:
            with store.watch() as stream:
                task = asyncio.create_task(consumer(stream))
                await asyncio.sleep(0)  # let the consumer block in get()
                produce()
                await task

        asyncio.run(main_asyncio())
    else:

        async def main_trio() -> None:
            with store.watch() as stream:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(consumer, stream)
                    await trio.testing.wait_all_tasks_blocked()
                    produce()

        trio.run(main_trio)
    assert [c.operation for c in received] == ["insert", "update", "delete"]


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_close_wakes_a_blocked_reader(library: str) -> None:
    store = keyed()
    stream = store.watch()
    ended: list[bool] = []

    async def reader() -> None:
        async for _ in stream:
            pass
        ended.append(True)

    if library == "asyncio":

        async def main_asyncio() -> None:
            task = asyncio.create_task(reader())
            await asyncio.sleep(0)
            stream.close()
            await task

        asyncio.run(main_asyncio())
    else:

        async def main_trio() -> None:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(reader)
                await trio.testing.wait_all_tasks_blocked()
                stream.close()

        trio.run(main_trio)
    assert ended == [True]


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_cancelled_reads_do_not_pile_up(library: str) -> None:
    store = keyed()
    stream = store.watch()

    if library == "asyncio":

        async def main_asyncio() -> None:
            for _ in range(5):
                task = asyncio.create_task(stream.get())
                await asyncio.sleep(0)
                assert len(stream._waiters) == 1
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert stream._waiters == []

        asyncio.run(main_asyncio())
    else:

        async def main_trio() -> None:
            for _ in range(5):
                with trio.CancelScope() as scope:
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(stream.get)
                        await trio.testing.wait_all_tasks_blocked()
                        assert len(stream._waiters) == 1
                        scope.cancel()
                assert stream._waiters == []

        trio.run(main_trio)
    store._insert([{"id": 1}])
    assert stream.get_nowait() is not None


def test_overflow_raised_from_async_get() -> None:
    store = keyed()
    stream = store.watch(maxsize=1)
    store._insert([{"id": 1}, {"id": 2}])

    async def main() -> int:
        try:
            await stream.get()
        except StoreStreamOverflow as exc:
            return exc.lost
        return -1

    assert trio.run(main) == 2
