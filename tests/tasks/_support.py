"""Running a test body under asyncio or trio, on a virtual clock, and checking nothing is left.

``run_in(framework, fn, *args)`` runs ``fn(*args)`` to completion:

* ``"asyncio"``: on :class:`VirtualTimeLoop`, an ordinary selector event loop
  whose clock only moves when every task is waiting: then it jumps straight to
  the next timer (the same idea as trio's ``MockClock(autojump_threshold=0)``).
  Real I/O still works (the selector is polled), but no test here does any on
  this loop; tests with sockets use :func:`run_real`.
* ``"trio"``: ``trio.run`` with ``MockClock(autojump_threshold=0)``.

After ``fn`` returns, asyncio must have no task left but the main one (trio
cannot leave one behind: its nurseries are closed by then).
"""

from __future__ import annotations

import asyncio
import gc
import selectors
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import trio
import trio.testing

T = TypeVar("T")

FRAMEWORKS = ("asyncio", "trio")


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0


class _JumpingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """Polls for real; when nothing is ready and a timer is due later, moves the clock there."""

    clock: _Clock

    def select(self, timeout: float | None = None) -> list[Any]:
        ready: list[Any] = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            raise RuntimeError("deadlock: every task waits and no timer is scheduled")
        self.clock.now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop on a virtual clock that jumps to the next timer when all tasks wait."""

    def __init__(self) -> None:
        self._virtual = _Clock()
        selector = _JumpingSelector()
        selector.clock = self._virtual
        super().__init__(selector)

    def time(self) -> float:
        return self._virtual.now


async def _checked(fn: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> T:
    result = await fn(*args)
    left = asyncio.all_tasks() - {asyncio.current_task()}
    assert not left, f"tasks left behind: {left}"
    return result


def run_in(framework: str, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``fn(*args)`` under ``framework`` on a virtual clock (see the module docs)."""
    try:
        if framework == "asyncio":
            with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
                return runner.run(_checked(fn, args))
        return trio.run(fn, *args, clock=trio.testing.MockClock(autojump_threshold=0))
    finally:
        gc.collect()


def run_real(framework: str, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``fn(*args)`` under ``framework`` on the real clock (for tests with sockets)."""
    try:
        if framework == "asyncio":
            return asyncio.run(_checked(fn, args))
        return trio.run(fn, *args)
    finally:
        gc.collect()


def now() -> float:
    """The running framework's clock."""
    try:
        return trio.current_time()
    except RuntimeError:
        return asyncio.get_running_loop().time()


async def sleep(seconds: float) -> None:
    """The running framework's sleep (tests' tasks use it to finish in a chosen order)."""
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        await asyncio.sleep(seconds)
    else:
        await trio.sleep(seconds)


async def sleep_forever() -> None:
    """Wait until cancelled."""
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        await asyncio.Event().wait()
    else:
        await trio.sleep_forever()
