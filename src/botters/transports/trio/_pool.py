"""A bounded keep-alive pool of HTTP/1.1 connections, per ``(scheme, host, port)``.

Theory of operation
-------------------
Each key has a :class:`trio.Semaphore` of ``max_per_host`` permits. A request
takes a permit for as long as it uses a connection, so at most
``max_per_host`` requests to one host are in flight; further ones wait (bounded
by the caller's cancel scopes). Idle connections hold no permit, but a new
connection is only opened when no idle one is left, so the number of open
connections per key (busy plus idle) never exceeds ``max_per_host`` either.

A connection leaves the pool with :meth:`ConnectionPool.acquire` and comes back
with exactly one of

* :meth:`~ConnectionPool.release`: the response was read to its end and h11
  says the connection can carry another request; it becomes idle (LIFO, so
  the warmest connection is reused first);
* :meth:`~ConnectionPool.discard`: anything else (an error, a cancellation,
  a response closed half-read, ``Connection: close``); the socket is closed
  at once, synchronously, so this is safe in a cancelled task.

An idle connection is used again only if it has been idle less than
``keepalive_expiry`` seconds (trio's clock) and its socket has nothing to read
(a readable idle socket means the server closed it or is closing it). Nothing
runs in the background: expiry is checked when a connection is taken.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import trio

from botters.transports._errors import ClientClosedError

from ._http import HTTPConnection, Key
from ._net import is_idle_and_open

__all__ = ["DEFAULT_KEEPALIVE_EXPIRY", "DEFAULT_MAX_PER_HOST", "ConnectionPool"]

DEFAULT_MAX_PER_HOST = 10
"""Default bound on open connections (and requests in flight) per ``(scheme, host, port)``."""

DEFAULT_KEEPALIVE_EXPIRY = 15.0
"""Default seconds an idle connection is kept for reuse (servers commonly close at 15-75 s)."""


class ConnectionPool:
    """Keep-alive HTTP/1.1 connections, at most ``max_per_host`` per key.

    Args:
        connect: Opens a stream for a key (TCP, TLS, pins, connect timeout);
            raises botters' exceptions. Its second argument is the URL to
            name in error messages.
        max_per_host: Bound per key (>= 1).
        keepalive_expiry: Seconds an idle connection stays reusable.
        max_header_size: Passed to each :class:`HTTPConnection`.
    """

    def __init__(
        self,
        connect: Callable[[Key, str | None], Awaitable[trio.abc.Stream]],
        *,
        max_per_host: int = DEFAULT_MAX_PER_HOST,
        keepalive_expiry: float = DEFAULT_KEEPALIVE_EXPIRY,
        max_header_size: int,
    ) -> None:
        self._connect = connect
        self.max_per_host = max_per_host
        self.keepalive_expiry = keepalive_expiry
        self._max_header_size = max_header_size
        self._limits: dict[Key, trio.Semaphore] = {}
        self._idle: dict[Key, list[HTTPConnection]] = {}
        self._busy: set[HTTPConnection] = set()
        self._closed = False

    async def acquire(self, key: Key, url: str | None = None) -> HTTPConnection:
        """A connection for ``key``: an idle one still fit for use, or a new one.

        Waits while ``max_per_host`` connections to ``key`` are busy. ``url``
        names the request in connection errors.
        """
        if self._closed:
            raise ClientClosedError("this Client is closed")
        limit = self._limits.get(key)
        if limit is None:
            limit = self._limits[key] = trio.Semaphore(self.max_per_host)
        await limit.acquire()
        try:
            if self._closed:
                raise ClientClosedError("this Client is closed")
            conn = self._take_idle(key)
            if conn is None:
                stream = await self._connect(key, url)
                conn = HTTPConnection(
                    stream, key, max_header_size=self._max_header_size, now=trio.current_time()
                )
                if self.closed:  # closed while connecting
                    conn.close_now()
                    raise ClientClosedError("this Client is closed")
            self._busy.add(conn)
        except BaseException:
            limit.release()
            raise
        return conn

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def _take_idle(self, key: Key) -> HTTPConnection | None:
        idle = self._idle.get(key)
        now = trio.current_time()
        while idle:
            conn = idle.pop()
            if now - conn.idle_since < self.keepalive_expiry and is_idle_and_open(conn.stream):
                return conn
            conn.close_now()
        return None

    def release(self, conn: HTTPConnection) -> None:
        """Give back a connection whose response was read to the end (else it is closed)."""
        if conn not in self._busy:
            return  # already given back
        self._busy.discard(conn)
        self._limits[conn.key].release()
        if self._closed or not conn.reusable:
            conn.close_now()
            return
        conn.start_next_cycle(trio.current_time())
        self._idle.setdefault(conn.key, []).append(conn)

    def discard(self, conn: HTTPConnection) -> None:
        """Close a connection that must not be reused, and free its permit. Never blocks."""
        conn.close_now()
        if conn in self._busy:
            self._busy.discard(conn)
            self._limits[conn.key].release()

    def close(self) -> None:
        """Close every connection, idle or busy; later acquires raise :class:`ClientClosedError`.

        Busy connections are closed under their users, whose next read fails
        with a :class:`~botters.ConnectionLostError`.
        """
        self._closed = True
        for idle in self._idle.values():
            for conn in idle:
                conn.close_now()
        self._idle.clear()
        for conn in list(self._busy):
            conn.close_now()

    def stats(self) -> dict[Key, tuple[int, int]]:
        """``{key: (busy, idle)}``: for tests and debugging."""
        out: dict[Key, tuple[int, int]] = {}
        for key in self._limits.keys() | self._idle.keys():
            busy = sum(1 for c in self._busy if c.key == key)
            idle = len(self._idle.get(key, ()))
            if busy or idle:
                out[key] = (busy, idle)
        return out
