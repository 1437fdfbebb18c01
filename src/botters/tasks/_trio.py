"""The trio half of :mod:`botters.tasks`: nurseries, sleeping, a results channel.

Imported only when a tree runs under trio. Time is ``trio.current_time()``, so
``trio.testing.MockClock`` drives repeats in tests.

Children spawned here never raise on purpose (the engine catches every task's
exception itself). A nursery can still end with ``Cancelled`` (an enclosing
cancel scope fired) or with the exception of the code inside ``async with``
(the body of a :class:`~botters.tasks.Stream`); trio wraps those in an
``ExceptionGroup``, and the groups here unwrap them again: the body's
exception comes out as it is, and a group of nothing but ``Cancelled`` as one
``Cancelled`` (which the enclosing scope then catches as usual).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterable
from types import TracebackType
from typing import Any

import trio

__all__ = ["TrioRuntime"]


def _leaves(group: BaseExceptionGroup[Any]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            out.extend(_leaves(exc))
        else:
            out.append(exc)
    return out


def _reraise(exc: BaseException) -> None:
    """Raise ``exc`` again keeping the context it had (not the group it came out of)."""
    context, suppress = exc.__context__, exc.__suppress_context__
    try:
        raise exc
    finally:
        exc.__context__, exc.__suppress_context__ = context, suppress


def _unwrap(group: BaseExceptionGroup[Any], body: BaseException | None) -> None:
    """Raise the one exception ``group`` stands for, if there is one; else return."""
    leaves = _leaves(group)
    real = [e for e in leaves if not isinstance(e, trio.Cancelled)]
    if body is not None and real and all(e is body for e in real):
        _reraise(body)
    if not real:
        _reraise(leaves[0])


class _Group:
    """A nursery whose spawns return a handle that cancels that child (and only it)."""

    __slots__ = ("_cm", "_nursery")

    def __init__(self) -> None:
        self._cm = trio.open_nursery()
        self._nursery: trio.Nursery | None = None

    async def __aenter__(self) -> _Group:
        self._nursery = await self._cm.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        try:
            return await self._cm.__aexit__(exc_type, exc, tb)
        except BaseExceptionGroup as group:
            _unwrap(group, exc)
            raise

    def spawn(
        self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any
    ) -> Callable[[], object]:
        assert self._nursery is not None
        scope = trio.CancelScope()

        async def child() -> None:
            with scope:
                await fn(*args)

        self._nursery.start_soon(child)
        return scope.cancel


class TrioRuntime:
    """What the engine needs of trio (see :class:`botters.tasks._run.Runtime`)."""

    __slots__ = ()

    name = "trio"

    def now(self) -> float:
        return trio.current_time()

    async def sleep_until(self, deadline: float) -> None:
        await trio.sleep_until(deadline)

    async def checkpoint(self) -> None:
        await trio.lowlevel.checkpoint()

    def group(self) -> _Group:
        return _Group()

    async def gather(
        self, fn: Callable[..., Coroutine[Any, Any, Any]], arglists: Iterable[tuple[Any, ...]]
    ) -> None:
        try:
            async with trio.open_nursery() as nursery:
                for args in arglists:
                    nursery.start_soon(fn, *args)
        except BaseExceptionGroup as group:
            _unwrap(group, None)
            raise

    def channel(
        self, size: int
    ) -> tuple[Callable[[Any], Awaitable[None]], Callable[[], Awaitable[Any]]]:
        send, receive = trio.open_memory_channel[Any](size)
        return send.send, receive.receive

    def stray_cancel(self, exc: BaseException) -> bool:
        """Never: a ``Cancelled`` in trio always comes from a cancel scope around the task."""
        return False
