"""botters.trio.Client's structured concurrency: the nursery it owns, one exception out
(never an ExceptionGroup), cancellation from outside, no task left behind, trio's clock."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import trio
import trio.testing

import botters
from botters.transports.trio import (
    Client,
    ClientClosedError,
    ConnectionLostError,
    TransportError,
    TransportTimeoutError,
)

from .conftest import Reply, Seen

pytestmark = pytest.mark.anyio


def all_tasks() -> set[trio.lowlevel.Task]:
    out: set[trio.lowlevel.Task] = set()
    stack = [trio.lowlevel.current_root_task()]
    while stack:
        task = stack.pop()
        if task is None:
            continue
        out.add(task)
        for nursery in task.child_nurseries:
            stack.extend(nursery.child_tasks)
    return out


async def test_a_background_failure_ends_the_block_as_one_botters_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reached_end = False

    async def broken() -> None:
        raise KeyError("boom")

    client = Client(apis={})

    async def block() -> None:
        nonlocal reached_end
        async with client:
            client._spawn(broken)
            await trio.sleep_forever()  # cancelled by the failure
            reached_end = True

    with pytest.raises(botters.BottersError) as info:
        await block()
    assert not isinstance(info.value, BaseExceptionGroup)
    assert "KeyError" in str(info.value)
    assert isinstance(info.value.__cause__, KeyError)
    assert not reached_end
    assert client.closed
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 1  # logged once, with its traceback
    assert failures[0].exc_info is not None


async def test_a_background_botters_error_comes_out_as_itself() -> None:
    error = TransportError("the peer went away")

    async def lost() -> None:
        raise error

    async def also_running() -> None:
        await trio.sleep_forever()

    async def block() -> None:
        async with Client(apis={}) as client:
            client._spawn(also_running)
            client._spawn(lost)
            await trio.sleep_forever()

    with pytest.raises(TransportError) as info:
        await block()
    assert info.value is error


async def test_the_blocks_own_exception_comes_out_unchanged() -> None:
    error = ValueError("mine")

    async def idle() -> None:
        await trio.sleep_forever()

    async def block() -> None:
        async with Client(apis={}) as client:
            client._spawn(idle)
            raise error

    with pytest.raises(ValueError, match="mine") as info:
        await block()
    assert info.value is error
    assert info.value.__context__ is None


async def test_cancellation_from_outside_and_no_task_left_behind() -> None:
    before = all_tasks()
    finished: list[str] = []

    async def worker(name: str) -> None:
        try:
            await trio.sleep_forever()
        finally:
            finished.append(name)

    with trio.CancelScope() as scope:
        async with Client(apis={}) as client:
            client._spawn(worker, "a")
            client._spawn(worker, "b")
            await trio.testing.wait_all_tasks_blocked()
            assert len(all_tasks() - before) == 2
            scope.cancel()
            await trio.sleep_forever()
    assert scope.cancelled_caught
    assert sorted(finished) == ["a", "b"]
    assert all_tasks() == before

    # A normal exit cancels and awaits background tasks too.
    async with Client(apis={}) as client:
        client._spawn(worker, "c")
    assert finished[-1] == "c"
    assert all_tasks() == before


async def test_misuse_is_refused() -> None:
    client = Client(apis={})

    async def nothing() -> None:
        pass

    with pytest.raises(botters.ConfigError, match="async with"):
        client._spawn(nothing)
    async with client:
        with pytest.raises(RuntimeError, match="already"):
            async with client:
                pass
    with pytest.raises(ClientClosedError):
        client._spawn(nothing)


async def test_ws_connect_on_a_closed_client_is_refused() -> None:
    async with Client(apis={}) as client:
        pass
    with pytest.raises(ClientClosedError):
        client.ws_connect("wss://example.invalid/ws")


async def test_close_during_a_request_fails_it_promptly(serve_http: Any) -> None:
    async def stall(seen: Seen) -> Reply:
        await trio.sleep_forever()
        raise AssertionError

    errors: list[BaseException] = []

    async def request(client: Client, url: str) -> None:
        try:
            await client.fetch("GET", url)
        except TransportError as exc:
            errors.append(exc)
        except ClientClosedError as exc:
            errors.append(exc)

    async with serve_http() as server:
        server.routes["/stall"] = stall
        async with Client(apis={}) as client, trio.open_nursery() as nursery:
            nursery.start_soon(request, client, server.url("/stall"))
            await trio.testing.wait_all_tasks_blocked()
            await client.close()
    assert len(errors) == 1
    assert isinstance(errors[0], ClientClosedError | ConnectionLostError)


def test_connect_timeout_runs_on_trios_clock(silent_listener: Any) -> None:
    async def main() -> float:
        async with silent_listener() as port, Client(apis={}, connect_timeout=5) as client:
            start = trio.current_time()
            with pytest.raises(TransportTimeoutError) as info:
                await client.fetch("GET", f"https://127.0.0.1:{port}/x")
            assert info.value.url == f"https://127.0.0.1:{port}/x"
            return trio.current_time() - start

    elapsed = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert elapsed == pytest.approx(5.0)


def test_request_timeout_runs_on_trios_clock(serve_http: Any) -> None:
    async def stall(seen: Seen) -> Reply:
        await trio.sleep_forever()
        raise AssertionError

    async def main() -> float:
        async with serve_http() as server, Client(apis={}) as client:
            server.routes["/stall"] = stall
            start = trio.current_time()
            with pytest.raises(TransportTimeoutError):
                await client.fetch("GET", server.url("/stall"), timeout=30)
            return trio.current_time() - start

    elapsed = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert elapsed == pytest.approx(30.0)
