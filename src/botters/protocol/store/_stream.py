"""Change records and bounded change streams (``DataStore.watch()``).

Theory of operation
-------------------

A store keeps a list of weak references to its open streams. When a mutation
changes an item and at least one stream is open, the store builds **one**
:class:`StoreChange` and pushes that same object into every stream: there is
no per-watcher copy. When no stream is open no change object is built at all,
so watching costs nothing until someone watches.

Each stream buffers at most ``maxsize`` changes. A consumer that falls behind
does not make the process grow: when a change arrives at a full buffer, the
whole backlog is dropped and the stream enters the *overflowed* state, in
which further changes are counted and dropped too. The consumer's next read
raises :class:`StoreStreamOverflow` carrying the number of changes it lost;
the stream then delivers every change made after that moment. Because the
store is synchronous, a consumer that re-reads the store right after catching
the error (``store.find()``, without awaiting in between) has a view that is
exactly "the store now", and the changes it reads next are exactly the ones
made after that view: a mirror built this way stays consistent.

Dropping the backlog (rather than the newest change) is deliberate: after an
overflow the consumer must resynchronise from the store anyway, and the store
already reflects every dropped change, so keeping any of them would make the
consumer apply them twice.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal

from botters.protocol._errors import BottersError, ConfigError

from ._async import Waiter, new_waiter

if TYPE_CHECKING:
    from ._store import DataStore

__all__ = [
    "DEFAULT_STREAM_MAXSIZE",
    "Operation",
    "StoreChange",
    "StoreStream",
    "StoreStreamClosed",
    "StoreStreamOverflow",
]

Operation = Literal["insert", "update", "delete"]

DEFAULT_STREAM_MAXSIZE: Final = 65_536
"""Changes a :class:`StoreStream` buffers before it overflows.

Large enough that a full order-book snapshot (every old level deleted, every
new level inserted, all inside one ``onmessage`` call) fits, small enough that
a stream nobody reads stays a few tens of megabytes at worst.
"""


@dataclass(slots=True)
class StoreChange:
    """One change to one item, as delivered by :meth:`DataStore.watch`.

    Attributes:
        store: The store that changed.
        operation: ``"insert"``, ``"update"`` or ``"delete"``.
        source: What caused the change: the partial item given to ``_update``,
            the item given to ``_delete``; ``None`` for inserts, for
            trimming and for removals by id.
        data: The item as it was right after the change (for ``insert`` and
            ``update``: a shallow snapshot taken at that moment, so later
            updates of the live item do not show through), or the removed
            item (for ``delete``).

    One change object is shared by every open stream of the store, so treat
    it and its ``source`` and ``data`` as read-only; copy (``dict(change.data)``)
    before modifying. (It is a plain slotted dataclass, like pybotters', and
    not ``frozen``: freezing would triple the cost of building one per change.)
    """

    store: DataStore
    operation: Operation
    source: dict[str, Any] | None
    data: dict[str, Any]


class StoreStreamOverflow(BottersError):  # noqa: N818 - names the event, like StopIteration
    """The consumer fell behind and ``lost`` changes were dropped.

    Raised once, by the first read after the overflow. Re-read the store
    (``store.find()``) to resynchronise, then keep reading the same stream:
    it delivers every change made after the error was raised.

    Attributes:
        lost: How many changes were dropped.
    """

    def __init__(self, lost: int) -> None:
        super().__init__(f"store stream overflowed: {lost} changes were dropped; re-read the store")
        self.lost = lost


class StoreStreamClosed(BottersError):  # noqa: N818 - names the state, like StopIteration
    """:meth:`StoreStream.get` was called on a closed stream with nothing left to read."""


class StoreStream:
    """A bounded stream of :class:`StoreChange` from one store.

    Made by :meth:`DataStore.watch`. Use it as a context manager so it is
    closed (and the store stops feeding it) when you are done::

        with store.executions.watch() as stream:
            async for change in stream:
                print(change.operation, change.data)

    Reading works under asyncio and trio. If the consumer falls behind by
    more than :attr:`maxsize` changes, the next read raises
    :class:`StoreStreamOverflow` (see the module documentation for why and
    how to recover). The store holds only a weak reference to the stream, so
    a stream that is dropped without ``close()`` simply disappears.
    """

    __slots__ = (
        "__weakref__",
        "_buffer",
        "_closed",
        "_lost",
        "_maxsize",
        "_overflowed",
        "_store",
        "_waiters",
    )

    def __init__(self, store: DataStore, *, maxsize: int = DEFAULT_STREAM_MAXSIZE) -> None:
        if maxsize < 1:
            raise ConfigError(f"StoreStream maxsize must be at least 1, got {maxsize!r}")
        self._store = store
        self._maxsize = maxsize
        self._buffer: deque[StoreChange] = deque()
        self._lost = 0
        self._overflowed = False
        self._closed = False
        self._waiters: list[Waiter] = []
        store._attach_stream(self)

    @property
    def store(self) -> DataStore:
        """The store this stream watches."""
        return self._store

    @property
    def maxsize(self) -> int:
        """How many unread changes the stream holds before it overflows."""
        return self._maxsize

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def __len__(self) -> int:
        """Number of buffered, unread changes."""
        return len(self._buffer)

    def _push(self, change: StoreChange) -> None:
        # Called synchronously by the store for every change.
        if self._overflowed:
            self._lost += 1
            return
        buffer = self._buffer
        if len(buffer) >= self._maxsize:
            self._lost = len(buffer) + 1
            buffer.clear()
            self._overflowed = True
        else:
            buffer.append(change)
        if self._waiters:
            self._wake()

    def _wake(self) -> None:
        waiters = self._waiters
        self._waiters = []
        for waiter in waiters:
            waiter.set()

    def get_nowait(self) -> StoreChange | None:
        """Return the next buffered change, or ``None`` if there is none yet.

        Raises:
            StoreStreamOverflow: changes were dropped since the last read.
        """
        if self._overflowed:
            lost = self._lost
            self._overflowed = False
            self._lost = 0
            raise StoreStreamOverflow(lost)
        if self._buffer:
            return self._buffer.popleft()
        return None

    async def get(self) -> StoreChange:
        """Wait for and return the next change.

        Raises:
            StoreStreamOverflow: changes were dropped since the last read.
            StoreStreamClosed: the stream is closed and fully read.
        """
        while True:
            change = self.get_nowait()
            if change is not None:
                return change
            if self._closed:
                raise StoreStreamClosed("the store stream is closed")
            waiter = new_waiter()
            self._waiters.append(waiter)
            try:
                await waiter.wait()
            finally:
                if not waiter.is_set():
                    # Cancelled: forget the waiter so cancelled reads cannot pile up.
                    self._waiters.remove(waiter)

    def close(self) -> None:
        """Stop receiving changes. Buffered changes can still be read; then iteration ends."""
        if self._closed:
            return
        self._closed = True
        self._store._detach_stream(self)
        self._wake()

    def __enter__(self) -> StoreStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __aiter__(self) -> StoreStream:
        return self

    async def __anext__(self) -> StoreChange:
        try:
            return await self.get()
        except StoreStreamClosed:
            raise StopAsyncIteration from None

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (
            f"<StoreStream {state} store={self._store!r} "
            f"buffered={len(self._buffer)} maxsize={self._maxsize}>"
        )
