"""Find the running async framework when a coroutine runs, importing none at load.

The core is framework-neutral (DESIGN.md): ``DataStore.wait()`` and
``StoreStream.get()`` must work under asyncio and under trio without botters
importing either. They ask, at call time, which framework is driving the
current task, and borrow that framework's ``Event`` through ``sys.modules``:
if a framework is running, its module has already been imported by whoever
started it, so looking it up imports nothing.

This is the same idea as sniffio, done inline because the core has no runtime
dependencies.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Coroutine, Sequence
from typing import Any, Protocol, TypeVar

from botters.protocol._errors import BottersError

__all__ = [
    "AsyncLibraryNotFoundError",
    "Waiter",
    "current_async_library",
    "gather_settled",
    "new_waiter",
]

_T = TypeVar("_T")


class AsyncLibraryNotFoundError(BottersError, RuntimeError):
    """An awaitable of the store was awaited outside a running asyncio or trio task."""


class Waiter(Protocol):
    """The part of ``asyncio.Event`` / ``trio.Event`` the stores use."""

    def set(self) -> None:
        """Wake every task waiting on this waiter (safe to call twice)."""

    def is_set(self) -> bool:
        """Whether :meth:`set` was called."""

    def wait(self) -> Awaitable[Any]:
        """Block the calling task until :meth:`set` is called."""


def current_async_library() -> str:
    """Return ``"trio"`` or ``"asyncio"``: the framework running the current task.

    Raises:
        AsyncLibraryNotFoundError: neither framework is running in this thread.
    """
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_task()
        except RuntimeError:
            pass
        else:
            return "trio"
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            return "asyncio"
    raise AsyncLibraryNotFoundError(
        "botters stores must be awaited from an asyncio or trio task "
        "(no running event loop was found in this thread)"
    )


def new_waiter() -> Waiter:
    """Make a one-shot event of the running framework (``trio.Event`` or ``asyncio.Event``)."""
    library = current_async_library()
    event: Waiter = sys.modules[library].Event()
    return event


async def gather_settled(
    coroutines: Sequence[Coroutine[Any, Any, _T]],
) -> list[tuple[bool, Any]]:
    """Run coroutines concurrently and return ``(True, result)`` or ``(False, error)`` for each.

    Results come back in argument order. Failures (``Exception``, not
    cancellation) are returned, not raised, so one failed request cannot
    cancel the others or surface as an exception group; the caller decides
    what to raise. Under asyncio the coroutines run as tasks of
    ``asyncio.gather`` (cancelled with the caller); under trio they run in a
    nursery that closes before this returns.
    """
    if len(coroutines) == 1:
        return [await _settle(coroutines[0])]
    library = current_async_library()
    if library == "asyncio":
        asyncio = sys.modules["asyncio"]
        results: list[tuple[bool, Any]] = await asyncio.gather(*(_settle(c) for c in coroutines))
        return results
    trio = sys.modules["trio"]
    slots: list[tuple[bool, Any]] = [(False, None)] * len(coroutines)

    async def run(i: int, coroutine: Coroutine[Any, Any, _T]) -> None:
        slots[i] = await _settle(coroutine)

    async with trio.open_nursery() as nursery:
        for i, coroutine in enumerate(coroutines):
            nursery.start_soon(run, i, coroutine)
    return slots


async def _settle(coroutine: Coroutine[Any, Any, _T]) -> tuple[bool, Any]:
    try:
        return True, await coroutine
    except Exception as exc:
        return False, exc
