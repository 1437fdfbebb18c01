"""The adapters under test, behind one small interface the scenarios are written against.

Every scenario in this folder is an ``async`` function that only uses:

* the public botters API that both transports share (``client.ws_connect``,
  ``await app``, ``app.current_ws``, ``app.state``, ``app.session``,
  ``app.close()``, stores, ``app.stream``);
* the :class:`~botters.simulator.Simulator` (run in a background thread, so
  the event loop under test holds the client's tasks only);
* the helpers of :class:`AdapterUnderTest` below, for everything that is
  framework-specific: running the body, the clock, waiting with a timeout,
  listing live tasks.

Both transports are registered in :data:`ADAPTERS`: the ``adapter`` fixture
(``conftest.py``) is parametrised over it, so every scenario runs on aiohttp
and on trio. Another adapter means implementing the protocol below and adding
one line there.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import ssl
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

__all__ = [
    "ADAPTERS",
    "IMPLEMENTATIONS",
    "AdapterUnderTest",
    "AiohttpAdapter",
    "TrioAdapter",
    "available_adapters",
]

T = TypeVar("T")

POLL = 0.002
"""Seconds between checks of a predicate that has no ``changed`` event to wait on."""


class AdapterUnderTest(Protocol):
    """What a scenario needs from a transport and its event loop."""

    name: str
    """``"aiohttp"``, ``"trio"``: the fixture's parameter id."""

    def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``fn(*args)`` to completion under this adapter's event loop (from sync code).

        After ``fn`` returns, fail if any task other than the runner's own is
        still alive, and collect garbage so that an unclosed socket's
        ``ResourceWarning`` surfaces in this test (pytest runs with ``-W error``).
        """
        ...

    def client(
        self,
        *,
        apis: Mapping[str, Any],
        resolve: Mapping[str, tuple[str, int]],
        ssl: ssl.SSLContext | None,
        **options: Any,
    ) -> AbstractAsyncContextManager[Any]:
        """A ``Client`` of this transport (use it with ``async with``); ``options`` go to it."""
        ...

    def clock(self) -> float:
        """The event loop's clock: the ``now`` the adapter gives the session machine."""
        ...

    async def sleep_checkpoint(self) -> None:
        """Let every other ready task run once (a scheduling point, not a sleep)."""
        ...

    async def wait_for(
        self,
        condition: Any,
        *,
        timeout: float,
        changed: Callable[[], Awaitable[Any]] | None = None,
        what: str = "",
    ) -> Any:
        """Wait until ``condition`` holds; raise ``TimeoutError`` after ``timeout`` seconds.

        ``condition`` is an awaitable (its result is returned), an event-like
        object with ``wait()``, or a predicate. A predicate is checked at once
        and then each time ``changed()`` returns (``probe.wait``,
        ``store.wait``: the event that can make it true); without ``changed``
        it is polled every :data:`POLL` seconds.
        """
        ...

    def live_tasks(self) -> frozenset[object]:
        """The framework's tasks alive now, except the calling task."""
        ...


# -- asyncio + aiohttp ------------------------------------------------------------------------


class AiohttpAdapter:
    """``botters.Client`` (aiohttp) on asyncio."""

    name = "aiohttp"

    def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        async def main() -> T:
            result = await fn(*args)
            leftover = self.live_tasks()
            assert not leftover, f"tasks left behind after the scenario: {leftover}"
            return result

        try:
            return asyncio.run(main())
        finally:
            gc.collect()

    def client(
        self,
        *,
        apis: Mapping[str, Any],
        resolve: Mapping[str, tuple[str, int]],
        ssl: ssl.SSLContext | None,
        **options: Any,
    ) -> AbstractAsyncContextManager[Any]:
        from botters.transports.aiohttp import Client

        return Client(apis=dict(apis), resolve=dict(resolve), ssl=ssl, **options)

    def clock(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep_checkpoint(self) -> None:
        await asyncio.sleep(0)

    async def wait_for(
        self,
        condition: Any,
        *,
        timeout: float,
        changed: Callable[[], Awaitable[Any]] | None = None,
        what: str = "",
    ) -> Any:
        try:
            async with asyncio.timeout(timeout):
                return await _wait(condition, changed, asyncio.sleep)
        except TimeoutError:
            raise TimeoutError(f"not within {timeout} s: {what or condition!r}") from None

    def live_tasks(self) -> frozenset[object]:
        return frozenset(asyncio.all_tasks() - {asyncio.current_task()})


# -- trio ----------------------------------------------------------------------------------------


class TrioAdapter:
    """``botters.trio.Client`` on trio.

    The simulator runs in its own thread (as it always does under trio);
    ``live_tasks`` walks the task tree under the main task, system tasks aside.
    """

    name = "trio"

    def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        import trio

        async def main() -> T:
            result = await fn(*args)
            leftover = self.live_tasks()
            assert not leftover, f"tasks left behind after the scenario: {leftover}"
            return result

        try:
            return trio.run(main)
        finally:
            gc.collect()

    def client(
        self,
        *,
        apis: Mapping[str, Any],
        resolve: Mapping[str, tuple[str, int]],
        ssl: ssl.SSLContext | None,
        **options: Any,
    ) -> AbstractAsyncContextManager[Any]:
        from botters.trio import Client

        return Client(apis=dict(apis), resolve=dict(resolve), ssl=ssl, **options)

    def clock(self) -> float:
        import trio

        return trio.current_time()

    async def sleep_checkpoint(self) -> None:
        import trio

        await trio.lowlevel.checkpoint()

    async def wait_for(
        self,
        condition: Any,
        *,
        timeout: float,
        changed: Callable[[], Awaitable[Any]] | None = None,
        what: str = "",
    ) -> Any:
        import trio

        try:
            with trio.fail_after(timeout):
                return await _wait(condition, changed, trio.sleep)
        except trio.TooSlowError:
            raise TimeoutError(f"not within {timeout} s: {what or condition!r}") from None

    def live_tasks(self) -> frozenset[object]:
        import trio

        current = trio.lowlevel.current_task()
        root = trio.lowlevel.current_root_task()
        # The main task: the ancestor of this one that trio's init task started
        # (system tasks, such as the run_sync_soon one, are not the scenario's).
        main = current
        while main.parent_nursery is not None and main.parent_nursery.parent_task is not root:
            main = main.parent_nursery.parent_task
        found: set[object] = set()
        todo = [main]
        while todo:
            task = todo.pop()
            # The calling task and its ancestors are the runner, not the scenario's.
            if task is not current and not _is_ancestor(task, current):
                found.add(task)
            for nursery in task.child_nurseries:
                todo.extend(nursery.child_tasks)
        return frozenset(found)


def _is_ancestor(task: Any, of: Any) -> bool:
    nursery = of.parent_nursery
    while nursery is not None:
        parent = nursery.parent_task
        if parent is task:
            return True
        nursery = parent.parent_nursery
    return False


async def _wait(
    condition: Any,
    changed: Callable[[], Awaitable[Any]] | None,
    sleep: Callable[[float], Awaitable[Any]],
) -> Any:
    if inspect.isawaitable(condition):
        return await condition
    if not callable(condition):
        await condition.wait()  # an asyncio/trio/threading-free event
        return None
    while not condition():
        if changed is not None:
            await changed()
        else:
            await sleep(POLL)
    return None


# -- the registry ---------------------------------------------------------------------------------

IMPLEMENTATIONS: dict[str, Callable[[], AdapterUnderTest]] = {
    "aiohttp": AiohttpAdapter,
    "trio": TrioAdapter,
}
"""Every implementation of the helpers, ready or not (``test_adapters.py`` checks them all)."""

ADAPTERS: dict[str, Callable[[], AdapterUnderTest]] = {
    "aiohttp": AiohttpAdapter,
    "trio": TrioAdapter,
}
"""Every adapter the scenarios run against, by fixture id."""


def available_adapters() -> list[str]:
    """The ids in :data:`ADAPTERS`, in order."""
    return list(ADAPTERS)
