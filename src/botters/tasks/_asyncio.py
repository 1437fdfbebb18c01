"""The asyncio half of :mod:`botters.tasks`: task groups, sleeping, a results channel.

Imported only when a tree runs under asyncio (:func:`botters.tasks._run.runtime`
looks at the running framework first), so ``import botters.tasks`` imports no
event loop.

Children spawned here never raise on purpose: the engine catches every task's
exception itself, so an ``asyncio.TaskGroup`` never cancels its parent on its
own. What can still come out of a group is a ``CancelledError`` (the caller
was cancelled) or an exception of the code inside ``async with`` (the body of
a :class:`~botters.tasks.Stream`); the group then re-raises that exception as
it is, not wrapped in an ``ExceptionGroup``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from types import TracebackType
from typing import Any

__all__ = ["AsyncioRuntime"]


class _Group:
    """An ``asyncio.TaskGroup`` whose spawns return a handle that cancels that child."""

    __slots__ = ("_tg",)

    def __init__(self) -> None:
        self._tg = asyncio.TaskGroup()

    async def __aenter__(self) -> _Group:
        await self._tg.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        try:
            await self._tg.__aexit__(exc_type, exc, tb)
        except BaseExceptionGroup as group:
            # TaskGroup wraps the body's own exception; our children raise nothing.
            if exc is not None and len(group.exceptions) == 1 and group.exceptions[0] is exc:
                _reraise(exc)
            raise
        return None

    def spawn(
        self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any
    ) -> Callable[[], object]:
        return self._tg.create_task(fn(*args)).cancel


def _reraise(exc: BaseException) -> None:
    """Raise ``exc`` again keeping the context it had (not the group it came out of)."""
    context, suppress = exc.__context__, exc.__suppress_context__
    try:
        raise exc
    finally:
        exc.__context__, exc.__suppress_context__ = context, suppress


class AsyncioRuntime:
    """What the engine needs of asyncio (see :class:`botters.tasks._run.Runtime`)."""

    __slots__ = ("_loop",)

    name = "asyncio"

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()

    def now(self) -> float:
        return self._loop.time()

    async def sleep_until(self, deadline: float) -> None:
        await asyncio.sleep(max(deadline - self._loop.time(), 0.0))

    async def checkpoint(self) -> None:
        await asyncio.sleep(0)

    def group(self) -> _Group:
        return _Group()

    async def gather(
        self, fn: Callable[..., Coroutine[Any, Any, Any]], arglists: Iterable[tuple[Any, ...]]
    ) -> None:
        async with asyncio.TaskGroup() as tg:
            for args in arglists:
                tg.create_task(fn(*args))

    def channel(
        self, size: int
    ) -> tuple[Callable[[Any], Awaitable[None]], Callable[[], Awaitable[Any]]]:
        queue: asyncio.Queue[Any] = asyncio.Queue(size)
        return queue.put, queue.get

    def stray_cancel(self, exc: BaseException) -> bool:
        """A ``CancelledError`` nobody asked this task for (it came from an awaited future).

        Such an error is the task's failure, not a cancellation: the task was
        not cancelled (``cancelling() == 0``), something it awaited was.
        """
        if not isinstance(exc, asyncio.CancelledError):
            return False
        current = asyncio.current_task()
        return current is not None and current.cancelling() == 0
