"""One HTTP/1.1 client connection: an h11 state machine over a trio stream.

Theory of operation
-------------------
:class:`HTTPConnection` only moves bytes between h11 and the stream; it makes
no decision about pooling, redirects or decoding. One request/response cycle
is::

    await conn.send_request(method, target, headers, body)   # headers + body
    head = await conn.receive_head()                         # skips 1xx
    while (data := await conn.receive_data()) is not None:   # body bytes
        ...
    conn.reusable  # True when both sides finished cleanly and keep-alive holds

The connection is *poisoned* (``broken``) by any exception or cancellation
in the middle of a cycle: h11 would otherwise be left mid-message and the
next request would read the rest of the previous response. The pool then
closes it instead of keeping it; see :mod:`._pool`.

Bytes are read in pieces of at most :data:`READ_SIZE`; h11 reassembles
events from any split, so the result never depends on how the peer's bytes
were chunked. ``max_header_size`` bounds a response head (status line plus
headers, 1xx heads included): reading stops as soon as more than that arrived
without completing it, and a complete head that is larger is refused too, with
:class:`h11.RemoteProtocolError`. h11 applies the same bound to what it
buffers inside a body (e.g. one chunk-size line).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Sequence
from typing import Final

import h11
import trio

from botters.transports._errors import ConnectionLostError

from ._net import socket_of

__all__ = ["READ_SIZE", "Body", "HTTPConnection", "Key", "StaleConnectionError"]

READ_SIZE: Final = 65536
"""Bytes asked for per ``receive_some`` call."""

Key = tuple[str, str, int]
"""``(scheme, host, port)``: connections are pooled (and TLS-checked) per real host name."""

Body = bytes | Iterable[bytes] | AsyncIterable[bytes]
"""A request body: bytes (sent with ``Content-Length``) or an (async) iterable of
bytes (sent chunked)."""


class StaleConnectionError(ConnectionLostError):
    """A reused connection turned out closed before any byte of a response arrived.

    Internal: the client retries such requests once on a fresh connection when
    that is safe (see :mod:`._client`).
    """


class HTTPConnection:
    """An HTTP/1.1 connection to one ``(scheme, host, port)``.

    Args:
        stream: The connected (and, for https, TLS-wrapped) stream; owned from
            now on.
        key: The pool key it serves.
        max_header_size: h11's ``max_incomplete_event_size``.
        now: The trio clock time it was opened at.
    """

    __slots__ = (
        "_eof",
        "_h11",
        "_max_head",
        "_received",
        "broken",
        "idle_since",
        "key",
        "requests",
        "stream",
    )

    def __init__(self, stream: trio.abc.Stream, key: Key, *, max_header_size: int, now: float):
        self.stream = stream
        self.key = key
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_header_size)
        self._max_head = max_header_size
        self.requests = 0
        """Requests sent on it so far (``> 1``: the connection was reused)."""
        self.idle_since = now
        self.broken = False
        self._received = False
        self._eof = False

    # -- one cycle -----------------------------------------------------------------------

    async def send_request(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: Body | None,
    ) -> None:
        """Send the request head and body (``Content-Length`` or chunked, per ``headers``)."""
        self.broken = True  # until the request is out
        self.requests += 1
        self._received = False
        conn = self._h11
        out = conn.send(h11.Request(method=method, target=target, headers=list(headers)))
        assert out is not None
        if isinstance(body, bytes):
            if body:
                out += conn.send(h11.Data(data=body)) or b""
            out += conn.send(h11.EndOfMessage()) or b""
            await self.stream.send_all(out)
        else:
            await self.stream.send_all(out)
            if body is not None:
                if isinstance(body, AsyncIterable):
                    async for chunk in body:
                        await self._send_chunk(chunk)
                else:
                    for chunk in body:
                        await self._send_chunk(chunk)
            await self.stream.send_all(conn.send(h11.EndOfMessage()) or b"")
        self.broken = False

    async def _send_chunk(self, chunk: bytes) -> None:
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise TypeError(f"a streamed body yields bytes, not {type(chunk).__name__}")
        if chunk:
            await self.stream.send_all(self._h11.send(h11.Data(data=bytes(chunk))) or b"")

    async def _next_event(self) -> h11.Event | type[h11.PAUSED]:
        conn = self._h11
        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]  # narrowed by the `is not`
            data = bytes(await self.stream.receive_some(READ_SIZE))
            if data:
                self._received = True
            else:
                self._eof = True
            conn.receive_data(data)

    async def receive_head(self) -> h11.Response:
        """Read up to the end of the final response head (1xx responses are skipped).

        Raises:
            h11.RemoteProtocolError: The head is malformed, or larger than
                ``max_header_size`` (refused as soon as that many bytes
                arrived without completing it).
        """
        self.broken = True
        conn = self._h11
        received = 0
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    if received > self._max_head:
                        raise h11.RemoteProtocolError(
                            f"response head larger than {self._max_head} bytes"
                        )
                    data = bytes(await self.stream.receive_some(READ_SIZE))
                    received += len(data)
                    if data:
                        self._received = True
                    else:
                        self._eof = True
                    conn.receive_data(data)
                    continue
                if isinstance(event, h11.Response):
                    break
                if isinstance(event, h11.InformationalResponse):
                    continue
                raise h11.RemoteProtocolError(f"unexpected {event!r} instead of a response")
            if received - len(conn.trailing_data[0]) > self._max_head:
                raise h11.RemoteProtocolError(f"response head larger than {self._max_head} bytes")
        except (h11.RemoteProtocolError, trio.BrokenResourceError) as exc:
            if not self._received and self.requests > 1:
                raise StaleConnectionError("the kept-alive connection was closed") from exc
            if self._eof and not isinstance(exc, trio.BrokenResourceError):
                raise ConnectionLostError(
                    "the server closed the connection before a complete response head"
                ) from exc
            raise
        self.broken = False
        return event

    def buffered_data(self) -> tuple[list[bytes], bool]:
        """Body bytes already received, without I/O; and whether the body is complete.

        Small responses usually arrive with their head: reading them here lets
        the connection go back to the pool before anyone awaits the body.
        """
        chunks: list[bytes] = []
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError:
                return chunks, False  # raised again by receive_data, where it is handled
            if isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return chunks, True
            else:  # NEED_DATA
                return chunks, False

    async def receive_data(self) -> bytes | None:
        """The next piece of the body, or ``None`` once the body is complete."""
        self.broken = True
        try:
            event = await self._next_event()
        except h11.RemoteProtocolError as exc:
            if self._eof:
                raise ConnectionLostError(
                    "the server closed the connection before the end of the body"
                ) from exc
            raise
        if isinstance(event, h11.Data):
            self.broken = False
            return bytes(event.data)
        if isinstance(event, h11.EndOfMessage):
            self.broken = False
            return None
        raise h11.RemoteProtocolError(f"unexpected {event!r} in a response body")

    @property
    def reusable(self) -> bool:
        """Whether the finished cycle leaves the connection fit for another request."""
        conn = self._h11
        return (
            not self.broken
            and conn.our_state is h11.DONE
            and conn.their_state is h11.DONE
            and not conn.trailing_data[0]
            and not conn.trailing_data[1]
        )

    def start_next_cycle(self, now: float) -> None:
        """Reset h11 for the next request (only when :attr:`reusable`)."""
        self._h11.start_next_cycle()
        self.idle_since = now

    # -- closing -------------------------------------------------------------------------

    def close_now(self) -> bool:
        """Close the socket synchronously (no checkpoint); ``False`` if there is none."""
        self.broken = True
        sock = socket_of(self.stream)
        if sock is None:
            return False
        sock.close()
        return True

    async def aclose(self) -> None:
        """Close at once, without a TLS goodbye (callable even when cancelled)."""
        if not self.close_now():
            await trio.aclose_forcefully(self.stream)

    def __repr__(self) -> str:
        scheme, host, port = self.key
        state = "broken" if self.broken else self._h11.our_state
        return f"<HTTPConnection {scheme}://{host}:{port} requests={self.requests} {state}>"
