"""Message queues and filtered message streams, for asyncio and trio alike.

Theory of operation
-------------------
A WebSocket delivers messages to synchronous handlers (``h(msg, ws)``). To
consume them with ``async for`` instead, a handler puts each message into a
buffer and a reader awaits it:

* :class:`WebSocketQueue` is that buffer, pybotters-compatible: pass its
  :meth:`~WebSocketQueue.onmessage` as any ``hdlr_*`` and iterate it.
* :class:`MessageStream` is a queue with filters, made by
  ``WebSocketApp.stream(*filters)``: the connection offers it every parsed JSON
  message and it keeps only those matching one of its filters (see
  :func:`matches`). Any number of streams can read one connection; each gets
  its own copy of the reference to the message, not a copy of the message.

Both work under asyncio and under trio: a reader waits on an event of the
framework running it, found at call time, so nothing here imports either.

Bounding and overflow. A queue created with ``maxsize=n`` (``n > 0``) holds at
most ``n`` unread messages. When a message arrives at a full queue, the
**oldest** unread message is dropped to make room: a slow reader keeps seeing
the most recent data, which is what a trading bot wants from market data. Each
drop is counted in :attr:`WebSocketQueue.dropped`, and the first drop of an
episode (until the reader empties the queue again) is logged once at WARNING
on the ``botters.ws`` logger. Nothing is raised into the reader or into the
connection. :class:`WebSocketQueue` is unbounded by default (as in pybotters);
:class:`MessageStream` is bounded by default (:data:`DEFAULT_MAXSIZE`), since a
stream nobody reads would otherwise grow forever.

Closing. :meth:`WebSocketQueue.close` stops accepting messages; the reader still
gets what is buffered, then iteration ends (``get()`` raises
:class:`QueueClosed`). Closing a :class:`MessageStream` also detaches it from
its connection. Both are context managers (``with`` and ``async with``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Final, TypeVar

from botters.protocol._errors import BottersError, ConfigError
from botters.protocol.store._async import Waiter, new_waiter

__all__ = [
    "DEFAULT_MAXSIZE",
    "MessageStream",
    "QueueClosed",
    "QueueEmpty",
    "WebSocketQueue",
    "matches",
]

logger = logging.getLogger("botters.ws")

DEFAULT_MAXSIZE: Final = 65_536
"""Unread messages a :class:`MessageStream` holds before it drops the oldest."""

_Q = TypeVar("_Q", bound="WebSocketQueue")


class QueueEmpty(BottersError):  # noqa: N818 - named like asyncio.QueueEmpty
    """:meth:`WebSocketQueue.get_nowait` found nothing to return."""


class QueueClosed(BottersError):  # noqa: N818 - names the state, like StopIteration
    """:meth:`WebSocketQueue.get` was called on a closed, fully read queue."""


def matches(message: Any, filter_: Mapping[str, Any]) -> bool:
    """Whether ``message`` contains every key of ``filter_`` with an equal value.

    A filter is a dict *subset*: extra keys in the message are ignored. A dict
    value in the filter matches a dict in the message as a subset too, at any
    depth; every other value must be equal (``==``, so ``1`` equals ``1.0``
    and lists must be equal as a whole). The empty filter ``{}`` matches every
    message; any other filter matches only dicts.

    >>> msg = {"method": "channelMessage",
    ...        "params": {"channel": "lightning_ticker_BTC_JPY", "message": {}}}
    >>> matches(msg, {"params": {"channel": "lightning_ticker_BTC_JPY"}})
    True
    >>> matches(msg, {"params": {"channel": "lightning_ticker_ETH_JPY"}})
    False
    >>> matches(msg, {"id": 1}), matches(msg, {})
    (False, True)
    """
    if not filter_:
        return True
    if not isinstance(message, dict):
        return False
    for key, want in filter_.items():
        try:
            got = message[key]
        except KeyError:
            return False
        if isinstance(want, Mapping):
            if not matches(got, want):
                return False
        elif got != want:
            return False
    return True


class WebSocketQueue:
    """An ``async for``-able buffer of WebSocket messages (pybotters-compatible).

    Pass :meth:`onmessage` as a handler and iterate::

        wsq = botters.WebSocketQueue()
        await client.ws_connect(url, send_json=..., hdlr_json=wsq.onmessage)
        async for msg in wsq:
            print(msg)

    Unlike pybotters' (an ``asyncio.Queue`` subclass) it works under trio too;
    it keeps the queue methods bots use (``get``, ``get_nowait``,
    ``put_nowait``, ``qsize``, ``empty``, ``full``, ``maxsize``) but not
    ``task_done``/``join``. ``get_nowait`` raises :class:`QueueEmpty` (a
    :class:`botters.BottersError`, not ``asyncio.QueueEmpty``).

    Args:
        maxsize: ``0`` (default) for unbounded; otherwise the number of unread
            messages kept, the oldest being dropped beyond it (see the module
            documentation).
    """

    __slots__ = ("_buffer", "_closed", "_dropped", "_maxsize", "_overflowing", "_waiters")

    def __init__(self, maxsize: int = 0) -> None:
        if not isinstance(maxsize, int) or maxsize < 0:
            raise ConfigError(f"maxsize must be an int >= 0 (0: unbounded), got {maxsize!r}")
        self._maxsize = maxsize
        self._buffer: deque[Any] = deque()
        self._waiters: list[Waiter] = []
        self._dropped = 0
        self._overflowing = False
        self._closed = False

    # -- producer side -------------------------------------------------------------

    def onmessage(self, msg: Any, ws: Any = None) -> None:
        """Handler to pass as ``hdlr_json``/``hdlr_str``/``hdlr_bytes``: queue ``msg``."""
        self.put_nowait(msg)

    def put_nowait(self, msg: Any) -> None:
        """Queue ``msg``; on a full queue drop the oldest message. Ignored once closed."""
        if self._closed:
            return
        buffer = self._buffer
        if self._maxsize and len(buffer) >= self._maxsize:
            buffer.popleft()
            self._dropped += 1
            if not self._overflowing:
                self._overflowing = True
                logger.warning(
                    "%r is full: dropping the oldest messages until it is read empty "
                    "(read faster or raise maxsize)",
                    self,
                )
        buffer.append(msg)
        if self._waiters:
            self._wake()

    def _wake(self) -> None:
        waiters = self._waiters
        self._waiters = []
        for waiter in waiters:
            waiter.set()

    # -- consumer side -------------------------------------------------------------

    def get_nowait(self) -> Any:
        """Return the oldest unread message.

        Raises:
            QueueEmpty: nothing is buffered.
        """
        buffer = self._buffer
        if not buffer:
            raise QueueEmpty("no message is buffered")
        msg = buffer.popleft()
        if not buffer:
            self._overflowing = False
        return msg

    async def get(self) -> Any:
        """Wait for and return the oldest unread message.

        Raises:
            QueueClosed: the queue is closed and everything buffered was read.
        """
        while not self._buffer:
            if self._closed:
                raise QueueClosed(f"{self!r} is closed")
            waiter = new_waiter()
            self._waiters.append(waiter)
            try:
                await waiter.wait()
            finally:
                if not waiter.is_set():  # cancelled: do not leave a dead waiter behind
                    self._waiters.remove(waiter)
        return self.get_nowait()

    def __aiter__(self: _Q) -> _Q:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.get()
        except QueueClosed:
            raise StopAsyncIteration from None

    # -- state ---------------------------------------------------------------------

    @property
    def maxsize(self) -> int:
        """The bound given at creation; ``0`` means unbounded."""
        return self._maxsize

    @property
    def dropped(self) -> int:
        """How many messages were dropped because the queue was full."""
        return self._dropped

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def qsize(self) -> int:
        """Number of unread messages."""
        return len(self._buffer)

    def __len__(self) -> int:
        return len(self._buffer)

    def empty(self) -> bool:
        """Whether no message is buffered."""
        return not self._buffer

    def full(self) -> bool:
        """Whether the next message will push the oldest out."""
        return bool(self._maxsize) and len(self._buffer) >= self._maxsize

    def close(self) -> None:
        """Stop accepting messages; buffered ones can still be read, then iteration ends."""
        if self._closed:
            return
        self._closed = True
        self._wake()

    async def aclose(self) -> None:
        """:meth:`close`, awaitable (for ``await stream.aclose()`` and ``contextlib.aclosing``)."""
        self.close()

    def __enter__(self: _Q) -> _Q:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self: _Q) -> _Q:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        bound = self._maxsize or "unbounded"
        return f"<{type(self).__name__} {state} unread={len(self._buffer)} maxsize={bound}>"


class MessageStream(WebSocketQueue):
    """Parsed JSON messages of one connection that match any of some filters.

    Made by ``WebSocketApp.stream(*filters)`` (alias ``stream_filter([...])``);
    see :func:`matches` for what a filter matches and the module documentation
    for bounding and closing. With no filter, every JSON message is kept::

        with app.stream({"params": {"channel": "lightning_ticker_BTC_JPY"}}) as s:
            async for msg in s:
                ...

    A stream opened while the connection is down starts receiving once it is
    up; a reconnect does not end it. It ends when it is closed or when its
    ``WebSocketApp`` is closed.
    """

    __slots__ = ("_detach", "_filters")

    def __init__(
        self,
        filters: tuple[Mapping[str, Any], ...] = (),
        *,
        maxsize: int = DEFAULT_MAXSIZE,
        detach: Callable[[MessageStream], None] | None = None,
    ) -> None:
        for f in filters:
            if not isinstance(f, Mapping):
                raise ConfigError(
                    f"stream filters must be dicts (matched as subsets), not {type(f).__name__}"
                )
        super().__init__(maxsize)
        self._filters = tuple(filters)
        self._detach = detach

    @property
    def filters(self) -> tuple[Mapping[str, Any], ...]:
        """The filters; a message is kept if it matches any of them (all, if none)."""
        return self._filters

    def offer(self, msg: Any) -> None:
        """Queue ``msg`` if it matches a filter (called by the connection for each message)."""
        filters = self._filters
        if not filters:
            self.put_nowait(msg)
            return
        for f in filters:
            if matches(msg, f):
                self.put_nowait(msg)
                return

    def close(self) -> None:
        """Detach from the connection and end iteration once the buffer is read."""
        if self._closed:
            return
        detach, self._detach = self._detach, None
        if detach is not None:
            detach(self)
        super().close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (
            f"<MessageStream {state} filters={len(self._filters)} "
            f"unread={len(self._buffer)} maxsize={self._maxsize or 'unbounded'}>"
        )
