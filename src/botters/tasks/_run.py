"""Running a task tree: :func:`run` for its results, :func:`stream` for each task as it ends.

Theory of operation
-------------------
One engine, written once against a tiny :class:`Runtime` (``_asyncio.py``,
``_trio.py``), walks the tree:

* a :class:`~botters.tasks.Task` is awaited in the task that reaches it;
* a :class:`~botters.tasks.Serial` awaits its nodes one by one in that task;
* a :class:`~botters.tasks.Concurrent` runs each node in a child task of a
  group (``asyncio.TaskGroup`` / a trio nursery) that it waits for; with
  ``limit`` it runs ``limit`` workers that take the next node when one is
  done; results land in a list at the node's position, so they come back in
  declaration order whatever order they finish in;
* a :class:`~botters.tasks.Repeat` sleeps until each round's scheduled start
  (:func:`~botters.tasks._schedule.next_start`) and runs its node again.

The whole tree runs in one child task of a group opened by :func:`run` (or by
``async with stream(...)``); that child can be cancelled as a unit. Every
group is waited for before its parent goes on, so no task outlives the call
(or the ``async with`` block), whether it ends normally, by a failure or by
cancellation.

Failures. The engine catches each task's exception where the task ran, so the
framework's groups never see one (and never wrap one in an ``ExceptionGroup``).
With ``errors="collect"`` the exception object *is* that task's result and the
rest goes on. With ``errors="raise"`` the first failure is recorded, the whole
tree is cancelled (no further node starts; running ones get the framework's
cancellation and their ``finally`` blocks run), everything is waited for, and
the exception is raised as it is. Tasks that fail while being cancelled (an
exception from cleanup code, or two tasks failing in the same instant) are
"others": they are logged on the ``botters.tasks`` logger with their
tracebacks and listed in a note on the raised exception
(``BaseException.add_note``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from botters.protocol._errors import BottersError, ConfigError
from botters.protocol.store._async import current_async_library

from ._nodes import FOREVER, RUN_CLIENT, RUN_VIEW, Concurrent, Node, Repeat, Serial, Task, as_node
from ._schedule import next_start

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

__all__ = ["DEFAULT_BUFFER", "Done", "Errors", "Runtime", "Stream", "run", "runtime", "stream"]

logger = logging.getLogger("botters.tasks")

Errors = Literal["raise", "collect"]
"""What a task's exception does: end the run (``"raise"``) or become its result (``"collect"``)."""

DEFAULT_BUFFER: Final = 64
"""Finished tasks a :class:`Stream` holds for its reader before finishing tasks wait."""


class _Spawner(Protocol):
    def spawn(
        self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any
    ) -> Callable[[], object]: ...


class Runtime(Protocol):
    """What the engine needs of an event loop framework (asyncio or trio)."""

    name: str

    def now(self) -> float:
        """The framework's monotonic clock (what sleeping is measured in)."""
        ...

    async def sleep_until(self, deadline: float) -> None:
        """Sleep until ``now() >= deadline`` (a scheduling point even if it is already)."""
        ...

    async def checkpoint(self) -> None:
        """Let other tasks run (and deliver a pending cancellation)."""
        ...

    def group(self) -> AbstractAsyncContextManager[_Spawner]:
        """A task group whose ``spawn`` returns a handle cancelling that child only."""
        ...

    async def gather(
        self, fn: Callable[..., Coroutine[Any, Any, Any]], arglists: Iterable[tuple[Any, ...]]
    ) -> None:
        """Run ``fn(*args)`` for each ``args`` in child tasks; return when all are done."""
        ...

    def channel(
        self, size: int
    ) -> tuple[Callable[[Any], Awaitable[None]], Callable[[], Awaitable[Any]]]:
        """A bounded FIFO: ``(send, receive)``; ``send`` waits while ``size`` items are queued."""
        ...

    def stray_cancel(self, exc: BaseException) -> bool:
        """Whether ``exc`` is a cancellation the current task was not asked for."""
        ...


def runtime() -> Runtime:
    """The :class:`Runtime` of the framework running the calling task.

    Raises:
        AsyncLibraryNotFoundError: neither asyncio nor trio is running.
    """
    if current_async_library() == "trio":
        from ._trio import TrioRuntime

        return TrioRuntime()
    from ._asyncio import AsyncioRuntime

    return AsyncioRuntime()


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Done:
    """One task of a :func:`stream` that has finished: what it returned or raised, and when.

    Attributes:
        task: The leaf that ran (its ``name``, ``fn``, ``args``...).
        path: Where in the tree this run of it was: from the root down, the
            position in each :func:`~botters.tasks.serial` /
            :func:`~botters.tasks.concurrent` (from 0) and the round of each
            :func:`~botters.tasks.repeat` (from 0). ``()`` when the root is
            the task itself. The same leaf in round 3 and round 4 of a
            repeat has different paths.
        result: What ``fn`` returned (``None`` if it failed).
        error: The exception ``fn`` raised (with ``errors="collect"``), or
            ``None``.
        started: When it was called, on the event loop's clock
            (``loop.time()`` / ``trio.current_time()``).
        finished: When it returned or raised, on the same clock.
    """

    task: Task
    path: tuple[int, ...]
    result: Any = None
    error: BaseException | None = None
    started: float
    finished: float

    @property
    def name(self) -> str:
        """The task's name."""
        return self.task.label

    @property
    def ok(self) -> bool:
        """Whether the task returned (rather than raised)."""
        return self.error is None

    @property
    def elapsed(self) -> float:
        """Seconds the task took (``finished - started``)."""
        return self.finished - self.started

    def value(self) -> Any:
        """The result, or raise the task's exception: ``done.value()`` where failure is fatal."""
        if self.error is not None:
            raise self.error
        return self.result

    def __repr__(self) -> str:
        outcome = "ok" if self.error is None else repr(self.error)
        return f"<Done {self.name} path={self.path} {outcome} in {self.elapsed:.6f} s>"


def _check_errors(errors: object) -> bool:
    if errors not in ("raise", "collect"):
        raise ConfigError(f'errors= takes "raise" or "collect", not {errors!r}')
    return errors == "raise"


def _check_tree(root: Node, client: Any, *, forever_ok: bool) -> None:
    traits = root._traits
    if traits & FOREVER and not forever_ok:
        node = next(n for n in root.walk() if isinstance(n, Repeat) and n.forever)
        raise ConfigError(
            f"{node.describe()} never ends, so run() would never return: "
            "read it with `async with stream(node, client) as results:`"
        )
    if traits & RUN_CLIENT and client is None:
        task = next(n for n in root.walk() if isinstance(n, Task) and n.client is None)
        raise ConfigError(
            f"task {task.label!r} has no client: pass one to run()/stream() "
            "or give the task client="
        )
    if traits & RUN_VIEW and not callable(getattr(client, "with_apis", None)):
        task = next(
            n
            for n in root.walk()
            if isinstance(n, Task) and n.client is None and n.apis is not None
        )
        raise ConfigError(
            f"task {task.label!r} has apis= but its client "
            f"({type(client).__name__}) has no with_apis(): use a botters client"
        )


class _Engine:
    """One run of one tree: its state, and the code that walks the tree."""

    __slots__ = (
        "cancel",
        "client",
        "failure",
        "keep",
        "others",
        "raise_errors",
        "rt",
        "sink",
        "stopping",
        "views",
    )

    def __init__(
        self,
        rt: Runtime,
        client: Any,
        *,
        raise_errors: bool,
        sink: Callable[[Done], Awaitable[None]] | None,
    ) -> None:
        self.rt = rt
        self.client = client
        self.raise_errors = raise_errors
        self.sink = sink
        self.keep = sink is None  # stream() reads Done objects, not the tree's result
        self.failure: BaseException | None = None
        self.others: list[tuple[Task, BaseException]] = []
        self.stopping = False
        self.cancel: Callable[[], object] = _nothing
        self.views: dict[Task, Any] = {}

    # -- failures ------------------------------------------------------------------------

    def fail(self, node: Task, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc
            self.stopping = True
            self.cancel()
        else:
            self.others.append((node, exc))

    def raise_failure(self) -> None:
        exc = self.failure
        assert exc is not None
        if self.others:
            listed = "; ".join(f"{t.label}: {type(e).__name__}: {e}" for t, e in self.others)
            exc.add_note(
                f"botters.tasks: {len(self.others)} more task(s) failed while the run "
                f"was being cancelled (logged on 'botters.tasks'): {listed}"
            )
            for t, e in self.others:
                logger.error(
                    "task %r also failed while the run was cancelled after %s: %s",
                    t.label,
                    type(exc).__name__,
                    type(e).__name__,
                    exc_info=e,
                )
            self.others.clear()
        raise exc

    # -- walking the tree ----------------------------------------------------------------

    async def exec(self, node: Node, path: tuple[int, ...]) -> Any:
        if isinstance(node, Task):
            return await self._task(node, path)
        if isinstance(node, Serial):
            return await self._serial(node, path)
        if isinstance(node, Concurrent):
            return await self._concurrent(node, path)
        if isinstance(node, Repeat):
            return await self._repeat(node, path)
        raise ConfigError(f"cannot run {type(node).__name__}: not a botters.tasks node")

    def _client_for(self, node: Task) -> Any:
        base = node.client if node.client is not None else self.client
        if node.apis is None:
            return base
        view = self.views.get(node)
        if view is None:
            view = self.views[node] = base.with_apis(node.apis)
        return view

    async def _task(self, node: Task, path: tuple[int, ...]) -> Any:
        sink = self.sink
        started = self.rt.now() if sink is not None else 0.0
        error: BaseException | None = None
        if node.client is None and node.apis is None:
            client = self.client
        else:
            client = self._client_for(node)
        try:
            if node.kwargs:
                result = await node.fn(client, *node.args, **node.kwargs)
            else:  # (unpacking an empty mapping proxy still builds a dict)
                result = await node.fn(client, *node.args)
        except Exception as exc:
            error = result = _explain(node, exc)
        except BaseException as exc:
            if not self.rt.stray_cancel(exc):
                raise
            error = result = exc
        if error is not None and self.raise_errors:
            self.fail(node, error)
            return None
        if sink is not None and not self.stopping:
            finished = self.rt.now()
            if error is None:
                done = Done(task=node, path=path, result=result, started=started, finished=finished)
            else:
                done = Done(task=node, path=path, error=error, started=started, finished=finished)
            await sink(done)
        return result

    async def _serial(self, node: Serial, path: tuple[int, ...]) -> list[Any]:
        results: list[Any] = []
        track = self.sink is not None  # only stream() reads paths
        for i, child in enumerate(node.nodes):
            if self.stopping:
                break
            where = (*path, i) if track else path
            if type(child) is Task:  # the common case, without the dispatch
                results.append(await self._task(child, where))
            else:
                results.append(await self.exec(child, where))
        return results

    async def _concurrent(self, node: Concurrent, path: tuple[int, ...]) -> list[Any]:
        children = node.nodes
        n = len(children)
        results: list[Any] = [None] * n
        if n == 0 or self.stopping:
            return results

        track = self.sink is not None

        async def one(i: int) -> None:
            child, where = children[i], (*path, i) if track else path
            if type(child) is Task:
                results[i] = await self._task(child, where)
            else:
                results[i] = await self.exec(child, where)

        limit = node.limit
        if limit is None or limit >= n:
            await self.rt.gather(one, [(i,) for i in range(n)])
            return results
        todo = iter(range(n))

        async def worker() -> None:
            for i in todo:  # shared: each worker takes the next node not yet started
                if self.stopping:
                    return
                await one(i)

        await self.rt.gather(worker, [()] * limit)
        return results

    async def _repeat(self, node: Repeat, path: tuple[int, ...]) -> list[Any] | None:
        results: list[Any] | None = [] if self.keep else None
        rt, child, count = self.rt, node.node, node.count
        interval, align = node.interval, node.align
        # Aligned schedules are computed on the wall clock as read when the
        # repeat starts, then carried on the monotonic clock: the grid is the
        # wall clock's, and a later step of the system clock can neither burst
        # nor skip rounds.
        offset = time.time() - rt.now() if align else 0.0
        scheduled: float | None = None
        round_ = 0
        while count is None or round_ < count:
            if interval is None:
                if round_:
                    await rt.checkpoint()  # rounds that never wait must still let others run
            else:
                now = rt.now() + offset
                scheduled = next_start(now, interval, previous=scheduled, align=align)
                if scheduled > now:
                    await rt.sleep_until(scheduled - offset)
            if self.stopping:
                break
            result = await self.exec(child, (*path, round_) if self.sink is not None else path)
            if results is not None:
                results.append(result)
            round_ += 1
        return results


def _nothing() -> None:
    return None


def _explain(node: Task, exc: Exception) -> Exception:
    """A clearer error when ``fn`` is not an ``async def`` (its result could not be awaited)."""
    if isinstance(exc, TypeError) and "can't be used in 'await' expression" in str(exc):
        error = ConfigError(
            f"task {node.label!r}: {node.fn!r} did not return an awaitable; "
            "tasks take `async def fn(client, ...)` functions"
        )
        error.__cause__ = exc
        return error
    return exc


async def run(
    node: Node | Callable[..., Any], client: Any = None, *, errors: Errors = "raise"
) -> Any:
    """Run a task tree to the end and return its results, shaped like the tree.

    A task's result is what its function returned; a :func:`~botters.tasks.serial`
    or :func:`~botters.tasks.concurrent` gives the list of its nodes' results
    in declaration order (whatever order they finished in); a
    :func:`~botters.tasks.repeat` gives the list of its rounds' results.
    Works under asyncio and trio alike (it asks which one is running).

    Args:
        node: The root of the tree (a coroutine function counts as a task).
        client: The client every task gets (``botters.Client`` or
            ``botters.trio.Client``) unless it has its own ``client=``; a task
            with ``apis=`` gets ``client.with_apis(apis)``. It is not closed.
        errors: ``"raise"`` (default): the first task that raises ends the
            run: everything still running is cancelled and waited for, and
            that exception is raised as it is (never an ``ExceptionGroup``);
            tasks that fail during the cancellation are logged and listed in
            a note on it. ``"collect"``: a failed task's result is its
            exception object and everything else goes on.

    Raises:
        ConfigError: ``errors`` is not ``"raise"``/``"collect"``, a task has
            no client, or the tree contains a ``repeat`` without ``count``
            (it would never return: use :func:`stream`).
        Exception: with ``errors="raise"``, the first task's exception.
    """
    raise_errors = _check_errors(errors)
    root = as_node(node)
    _check_tree(root, client, forever_ok=False)
    engine = _Engine(runtime(), client, raise_errors=raise_errors, sink=None)
    box: list[Any] = []

    async def main() -> None:
        box.append(await engine.exec(root, ()))

    async with engine.rt.group() as group:
        engine.cancel = group.spawn(main)
    if engine.failure is not None:
        engine.raise_failure()
    if not box:
        raise BottersError("the run was cancelled by something else before it finished")
    return box[0]


_END: Final = object()


class Stream:
    """The finished tasks of a running tree, as they finish; made by :func:`stream`.

    Use it as ``async with stream(...) as results:`` and iterate ``results``.
    The ``async with`` block is what owns the running tasks: leaving it
    (after the last result, on ``break``, on an exception, or when cancelled)
    cancels whatever still runs and waits for it, so no task outlives the
    block. That is why there is no bare ``async for done in stream(...)``: an
    async generator holding running tasks across ``yield`` cannot guarantee
    that (if the loop is left early, the tasks keep running until the
    generator is garbage collected, and on trio its cancel scope would end
    up tangled with yours).
    """

    __slots__ = (
        "_client",
        "_engine",
        "_group",
        "_raise",
        "_receive",
        "_root",
        "_size",
        "_state",
        "_stop",
    )

    def __init__(self, root: Node, client: Any, *, raise_errors: bool, buffer: int) -> None:
        self._root = root
        self._client = client
        self._raise = raise_errors
        self._size = buffer
        self._state = "new"
        self._engine: _Engine | None = None
        self._group: Any = None
        self._receive: Callable[[], Awaitable[Any]] | None = None
        self._stop: Callable[[], object] = _nothing

    async def __aenter__(self) -> Stream:
        if self._state != "new":
            raise ConfigError("a Stream runs once: call stream(...) again for another run")
        rt = runtime()
        send, self._receive = rt.channel(self._size)
        engine = self._engine = _Engine(rt, self._client, raise_errors=self._raise, sink=send)
        root = self._root

        async def drive() -> None:
            async with rt.group() as inner:
                engine.cancel = inner.spawn(engine.exec, root, ())
            await send(_END)

        self._group = rt.group()
        group = await self._group.__aenter__()
        self._stop = group.spawn(drive)
        self._state = "open"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        if self._state == "new":
            return None
        self._stop()
        self._state = "closed"
        result: bool | None = await self._group.__aexit__(exc_type, exc, tb)
        return result

    def __aiter__(self) -> Stream:
        return self

    async def __anext__(self) -> Done:
        if self._state != "open":
            if self._state == "new":
                raise ConfigError(
                    "a Stream is read inside its block: "
                    "`async with stream(node, client) as results: async for done in results: ...`"
                )
            raise StopAsyncIteration
        assert self._receive is not None
        assert self._engine is not None
        item = await self._receive()
        if item is _END:
            self._state = "ended"
            if self._engine.failure is not None:
                self._engine.raise_failure()
            raise StopAsyncIteration
        done: Done = item
        return done

    def __repr__(self) -> str:
        return f"<Stream {self._state} {self._root!r}>"


def stream(
    node: Node | Callable[..., Any],
    client: Any = None,
    *,
    errors: Errors = "raise",
    buffer: int = DEFAULT_BUFFER,
) -> Stream:
    """Run a task tree and read each task as it finishes (a :class:`Done`), in finishing order.

    This is how an endless :func:`~botters.tasks.repeat` is consumed, and how
    a bot reacts to each answer as soon as it arrives::

        async with stream(repeat(concurrent(server_time, ticker), interval=1), client) as results:
            async for done in results:
                print(done.name, done.result)

    The tree starts when the block is entered and is cancelled (and waited
    for) when the block is left, also early with ``break``.

    Args:
        node: The root of the tree (a coroutine function counts as a task).
        client: As for :func:`run`.
        errors: ``"raise"`` (default): the first task's exception cancels
            the tree and is raised from the ``async for`` once the tasks
            that finished before it are read; its own :class:`Done` is not
            produced. ``"collect"``: a failed task's :class:`Done` has the
            exception in ``error`` and the tree goes on.
        buffer: How many finished tasks wait for you (>= 1). When that many
            are unread, tasks that finish wait before reporting, so a slow
            reader slows the tree down instead of growing memory without
            bound (with a ``repeat`` interval, its rounds then start late,
            never in a burst).

    Raises:
        ConfigError: a bad ``errors`` or ``buffer``, or a task without a client.
    """
    raise_errors = _check_errors(errors)
    if isinstance(buffer, bool) or not isinstance(buffer, int) or buffer < 1:
        raise ConfigError(f"buffer= takes an int >= 1, not {buffer!r}")
    root = as_node(node)
    _check_tree(root, client, forever_ok=True)
    return Stream(root, client, raise_errors=raise_errors, buffer=buffer)
