"""A WebSocket client connection: wsproto over a trio stream.

Theory of operation
-------------------
:class:`WireConnection` turns a connected trio stream (TCP, or TLS over TCP)
into WebSocket messages and back; wsproto does the framing. It takes no
decision about keepalive or reconnecting (the session machine does): it runs
the opening handshake, reassembles messages, enforces a size limit, completes
the closing handshake and keeps writes in order.

Reading is *bytes in, events out*. One task calls :meth:`WireConnection.receive`.
Each ``receive_some`` is split into frames and every frame becomes an item of
a local queue, in order: whole data messages (``str`` for text, ``bytes`` for
binary; fragments and frames split across reads are joined first) and control
items (PING, PONG, CLOSE). ``receive`` returns the next data message and hands
control items to the ``on_ping`` / ``on_pong`` callbacks on the way. Between
two socket reads nothing awaits: a consumer that is slow to call ``receive``
again only delays its own next read, and never makes the connection drop
data. Whatever splitting of the bytes the network produces, the messages come
out the same (a property test checks it).

Framing. wsproto parses frames in pure Python at roughly 10 µs each, which
made it the bottleneck of a busy feed. So this module reads each frame
*header* itself (two to ten bytes) and takes the one case that covers nearly
every exchange message, a whole, unfragmented, uncompressed, unmasked text or
binary frame of at most 1 MiB, straight from the buffer: its payload is the
message (text is decoded as strict UTF-8). Every other frame (control frames,
fragments, compressed or oversized frames, anything malformed, and a text
frame that is not valid UTF-8) is handed to wsproto byte for byte, so wsproto
sees whole frames in stream order and keeps every protocol rule and every
error code. The handshake response head is given to wsproto alone, so the
frames that follow it in the same read are framed here from their first byte.

Writing goes through one :class:`trio.StrictFIFOLock` held around wsproto's
``send`` and the stream's ``send_all``: wsproto's frame encoder and the deflate
compressor are stateful, and a trio stream allows one sender at a time, so
concurrent writers (the reader answering a close, the application sending,
pings) are serialised in arrival order. A write that fails or is cancelled
half-way leaves the stream unusable; the connection then refuses further
writes with :class:`~botters.WebSocketClosedError`.

Closing. Whoever closes first, the handshake is completed when possible:

* the peer sends CLOSE: it is answered (within ``close_timeout``), the
  transport is closed, and ``receive`` raises :class:`WsClosed` (``clean``);
* we send CLOSE (:meth:`send_close`): the reader keeps delivering until the
  peer's CLOSE arrives; :meth:`aclose` does all of it and gives up after
  ``close_timeout`` by aborting the transport;
* the bytes are not a valid WebSocket stream (garbage, bad UTF-8 text, a
  broken deflate stream) or a message exceeds ``max_message_size``: the
  connection *fails*: a CLOSE with the matching code (1002, 1007, 1009) is
  sent if possible, the transport is aborted, ``receive`` raises
  :class:`WsClosed` (not ``clean``);
* the transport breaks or ends without CLOSE: code 1006, not ``clean``.

Limits. ``max_message_size`` (default :data:`DEFAULT_MAX_MESSAGE_SIZE`, 4 MiB
like aiohttp's ``max_msg_size``) bounds a reassembled message, counted in
bytes after decompression. wsproto inflates each piece of input at once, so
with permessage-deflate the input is fed in slices of 4 KiB: one slice cannot
expand past about 4 MiB before the limit is checked. The handshake response
is bounded by h11's 16 KiB header limit.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections import deque
from collections.abc import Callable, Sequence
from typing import Final, cast

import trio
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    Pong,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import CloseReason, FrameDecoder, FrameProtocol, Opcode, RsvBits
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from botters._version import __version__
from botters.transports._errors import (
    ConnectError,
    ConnectionLostError,
    HandshakeError,
    WebSocketClosedError,
)

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "WireConnection",
    "WsClosed",
    "handshake",
]

logger = logging.getLogger("botters.ws")

DEFAULT_MAX_MESSAGE_SIZE: Final = 4 * 1024 * 1024
"""Largest message accepted (bytes, after decompression), as aiohttp's ``max_msg_size``."""

RECEIVE_SIZE: Final = 65_536
"""Bytes asked of the stream per read."""

_DEFLATE_SLICE: Final = 4096
"""With permessage-deflate, input is fed to wsproto in slices of this size."""

_FAST_FRAME_MAX: Final = 1024 * 1024
"""Simple frames up to this size are framed here; larger ones stream through wsproto."""

_MAX_HANDSHAKE: Final = 65_536
"""Largest handshake response head accepted."""

_ABORT_TIMEOUT: Final = 1.0
"""How long closing the transport may take (a TLS close_notify) before it is forced."""

_USER_AGENT: Final = f"botters/{__version__}"

# Headers wsproto writes itself; a caller's copy would be sent twice.
_RESERVED: Final = frozenset(
    {
        "host",
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
    }
)

CLOSE_MESSAGE_TOO_BIG: Final = 1009
CLOSE_ABNORMAL: Final = 1006


class WsClosed(ConnectionLostError):  # noqa: N818 - it names the event, as ConnectionClosed does
    """The WebSocket connection ended; what :meth:`WireConnection.receive` raises at the end.

    Attributes:
        code: The close code: the peer's (or the echo of ours) after a close
            handshake, ours when we failed the connection (1002, 1007,
            1009...), 1006 when the transport ended without a close frame.
        reason: The close reason, or a description of what went wrong.
        clean: Whether a close handshake completed (in either direction).
    """

    def __init__(self, code: int, reason: str = "", *, clean: bool, url: str | None = None) -> None:
        super().__init__(f"WebSocket closed ({code}{': ' + reason if reason else ''})", url=url)
        self.code = code
        self.reason = reason
        self.clean = clean


class _Control:
    """A PING, PONG or CLOSE waiting in the receive queue behind earlier messages."""

    __slots__ = ("close", "payload", "pong")

    def __init__(self, pong: bool, payload: bytes, close: CloseConnection | None = None) -> None:
        self.pong = pong
        self.payload = payload
        self.close = close


class _PerMessageDeflate(PerMessageDeflate):
    """wsproto's permessage-deflate, with control frames kept out of the message's state.

    RFC 6455 §5.4 lets a PING or PONG arrive between the fragments of a
    message. wsproto 1.3's extension resets its "this message is compressed"
    flag on every frame, control frames included, so the fragments after such
    a PING were passed on still compressed (a UTF-8 error for text, deflate
    bytes for binary). Fixed upstream in python-hyper/wsproto#205 (open);
    until then, control frames bypass the extension here: they are never
    compressed (RFC 7692 §6.1), so it has nothing to do for them anyway.
    """

    def __init__(self) -> None:
        super().__init__()
        self._control = False

    def frame_inbound_header(
        self,
        proto: FrameDecoder | FrameProtocol,
        opcode: Opcode,
        rsv: RsvBits,
        payload_length: int,
    ) -> CloseReason | RsvBits:
        self._control = opcode.iscontrol()
        if self._control:
            return CloseReason.PROTOCOL_ERROR if rsv.rsv1 else RsvBits(False, False, False)
        return super().frame_inbound_header(proto, opcode, rsv, payload_length)

    def frame_inbound_payload_data(
        self, proto: FrameDecoder | FrameProtocol, data: bytes
    ) -> bytes | CloseReason:
        if self._control:
            return data
        return super().frame_inbound_payload_data(proto, data)

    def frame_inbound_complete(
        self, proto: FrameDecoder | FrameProtocol, fin: bool
    ) -> bytes | CloseReason | None:
        if self._control:
            return None
        return super().frame_inbound_complete(proto, fin)


def _describe(exc: BaseException) -> str:
    """``Type: message`` of what trio wrapped (its ``__cause__``), never empty."""
    cause = exc.__cause__ or exc
    return f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__


def _size(data: str | bytes) -> int:
    """Bytes on the wire of a message piece (``str.isascii`` is O(1) in CPython)."""
    if isinstance(data, str) and not data.isascii():
        return len(data.encode("utf-8", "surrogatepass"))
    return len(data)


def _join(parts: list[str | bytes]) -> str | bytes:
    if isinstance(parts[0], str):
        return "".join(p for p in parts if isinstance(p, str))
    return b"".join(p for p in parts if not isinstance(p, str))


class WireConnection:
    """An open WebSocket client connection over a trio stream (see the module docs).

    Made by :func:`handshake`. One task reads (:meth:`receive`); any number
    of tasks may write (:meth:`send`, :meth:`ping`, :meth:`pong`,
    :meth:`send_close`).

    Args:
        stream: The connected stream, after the handshake.
        ws: wsproto's connection, in the OPEN state.
        max_message_size: Largest message accepted; ``None`` or ``0``: no limit.
        close_timeout: Seconds the closing handshake may take.
        on_ping: Called with each PING's payload. ``None``: answer it here.
        on_pong: Called with each PONG's payload.
        subprotocol: What the server selected.
        extensions: Names of the extensions in use (``permessage-deflate``).
        origin: ``scheme://host[:port]``, for error messages (never the path).
        initial: Bytes received after the handshake response, in the same read.
    """

    def __init__(
        self,
        stream: trio.abc.Stream,
        ws: WSConnection,
        *,
        max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
        close_timeout: float = 5.0,
        on_ping: Callable[[bytes], object] | None = None,
        on_pong: Callable[[bytes], object] | None = None,
        subprotocol: str | None = None,
        extensions: Sequence[str] = (),
        origin: str = "",
        initial: bytes = b"",
    ) -> None:
        self._stream = stream
        self._ws = ws
        self._limit = max_message_size or math.inf
        self._close_timeout = close_timeout
        self.on_ping = on_ping
        self.on_pong = on_pong
        self.subprotocol = subprotocol
        """The subprotocol the server selected, if any."""
        self.extensions = tuple(extensions)
        """Names of the negotiated extensions (``("permessage-deflate",)`` or empty)."""
        self.origin = origin
        self._slice = _DEFLATE_SLICE if self.extensions else 0
        self._queue: deque[str | bytes | _Control] = deque()
        self._parts: list[str | bytes] = []
        self._pending = 0
        self._final: WsClosed | None = None
        self._write_lock = trio.StrictFIFOLock()
        self._write_broken = False
        self._reading = False
        self._done = trio.Event()
        # Framing (see _split): bytes of an incomplete frame header or simple
        # frame; how many bytes of the current frame still go to wsproto;
        # whether wsproto holds an unfinished fragmented message; whether the
        # peer's CLOSE was seen (nothing after it is read).
        self._buf = bytearray(initial)
        self._through = 0
        self._fragmented = False
        self._close_seen = False
        self._fast_max = min(self._limit, _FAST_FRAME_MAX)

    # -- state ------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether the connection is over (the transport is closed or closing)."""
        return self._final is not None

    @property
    def closing(self) -> bool:
        """Whether a close frame was sent or received, or the connection is over."""
        return self._final is not None or self._ws.state is not ConnectionState.OPEN

    @property
    def close_info(self) -> WsClosed | None:
        """How the connection ended, once it has."""
        return self._final

    # -- reading ----------------------------------------------------------------------

    async def receive(self) -> str | bytes:
        """The next message: ``str`` for text, ``bytes`` for binary.

        PINGs and PONGs that arrive before it go to ``on_ping`` / ``on_pong``
        (a PING is answered here when ``on_ping`` is ``None``).

        Raises:
            WsClosed: the connection ended (after every earlier message was returned).
            trio.BusyResourceError: another task is already receiving.
        """
        queue = self._queue
        while True:
            while queue:
                item = queue.popleft()
                if not isinstance(item, _Control):
                    return item
                await self._control(item)
            final = self._final
            if final is not None:
                raise final
            if self._reading:
                raise trio.BusyResourceError("another task is already receiving")
            self._reading = True
            try:
                if self._buf and not self._through and not queue:
                    # Bytes that came with the handshake answer: frame them first.
                    data, self._buf = bytes(self._buf), bytearray()
                    await self._split(data)
                    if not queue and self._final is None:
                        await self._read()
                else:
                    await self._read()
            finally:
                self._reading = False

    async def _control(self, item: _Control) -> None:
        if item.close is not None:
            await self._closed_by(item.close)
        elif item.pong:
            if self.on_pong is not None:
                self.on_pong(item.payload)
        elif self.on_ping is not None:
            self.on_ping(item.payload)
        else:
            with contextlib.suppress(WebSocketClosedError):
                await self.pong(item.payload)

    async def _read(self) -> None:
        """Read once from the stream and queue what it completes; finish if it ends."""
        try:
            data = await self._stream.receive_some(RECEIVE_SIZE)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            await self._finish(CLOSE_ABNORMAL, f"connection lost ({_describe(exc)})", clean=False)
            return
        if not data:
            await self._finish(
                CLOSE_ABNORMAL, "connection closed without a close frame", clean=False
            )
            return
        if self._buf:
            self._buf += data
            data, self._buf = bytes(self._buf), bytearray()
        await self._split(cast(bytes, data))

    async def _split(self, data: bytes) -> None:
        """Frame ``data``: simple messages are queued here, every other frame goes to wsproto.

        A *simple* frame is a whole unfragmented, uncompressed, unmasked text
        or binary frame outside any fragmented message, of at most
        ``_FAST_FRAME_MAX`` bytes: nearly every frame an exchange sends. Its
        payload is the message, so it is queued straight from the buffer.
        Every other frame (control frames, fragments, compressed frames,
        anything malformed) is handed to wsproto byte for byte, so wsproto
        always sees whole frames in order and every protocol rule (and every
        error) stays wsproto's. A simple frame larger than the size limit
        fails the connection (1009) before its payload is read.
        """
        queue = self._queue
        fast_max = self._fast_max
        end = len(data)
        pos = 0
        while pos < end:
            if self._close_seen or self._final is not None:
                return  # nothing after the peer's CLOSE (or a failure) is read
            through = self._through
            if through:
                stop = min(end, pos + through)
                self._through = through - (stop - pos)
                await self._to_wsproto(data[pos:stop])
                pos = stop
                continue
            if end - pos < 2:
                break
            b0 = data[pos]
            b1 = data[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if end - pos < 4:
                    break
                length = (data[pos + 2] << 8) | data[pos + 3]
                head = 4
            elif length == 127:
                if end - pos < 10:
                    break
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                head = 10
            opcode = b0 & 0x0F
            if (
                (b0 & 0xF0) == 0x80  # FIN, no RSV bit
                and (opcode == 1 or opcode == 2)
                and not b1 & 0x80  # unmasked
                and not self._fragmented
            ):
                if length > self._limit:
                    await self._fail(CLOSE_MESSAGE_TOO_BIG, self._too_big(length))
                    return
                if length <= fast_max:
                    stop = pos + head + length
                    if stop > end:
                        break  # wait for the rest of this frame
                    payload = data[pos + head : stop]
                    if opcode == 2:
                        queue.append(payload)
                        pos = stop
                        continue
                    try:
                        queue.append(payload.decode())
                        pos = stop
                        continue
                    except UnicodeDecodeError:
                        pass  # wsproto fails it with 1007
            elif opcode < 3:  # a data frame wsproto takes: does a message stay open?
                self._fragmented = not b0 & 0x80
            self._through = head + (4 if b1 & 0x80 else 0) + length
        if pos < end:
            self._buf += data[pos:]

    async def _to_wsproto(self, data: bytes) -> None:
        ws = self._ws
        step = self._slice
        if not step or len(data) <= step:
            ws.receive_data(data)
            await self._process()
            return
        view = memoryview(data)
        for start in range(0, len(data), step):
            ws.receive_data(bytes(view[start : start + step]))
            await self._process()
            if self._final is not None or self._close_seen:
                return

    async def _process(self) -> None:
        """Queue the events wsproto has ready; handle a close or a failure."""
        queue = self._queue
        parts = self._parts
        limit = self._limit
        for event in self._ws.events():
            kind = type(event)
            if kind is TextMessage or kind is BytesMessage:
                assert isinstance(event, TextMessage | BytesMessage)
                data = cast("str | bytes", event.data)  # wsproto gives bytes, not bytearray
                if event.message_finished and not parts:
                    if len(data) * 4 > limit and _size(data) > limit:
                        await self._fail(CLOSE_MESSAGE_TOO_BIG, self._too_big(_size(data)))
                        return
                    queue.append(data)
                    continue
                self._pending += _size(data)
                if self._pending > limit:
                    await self._fail(CLOSE_MESSAGE_TOO_BIG, self._too_big(self._pending))
                    return
                parts.append(data)
                if event.message_finished:
                    queue.append(_join(parts))
                    parts.clear()
                    self._pending = 0
            elif kind is Ping:
                assert isinstance(event, Ping)
                queue.append(_Control(False, bytes(event.payload)))
            elif kind is Pong:
                assert isinstance(event, Pong)
                queue.append(_Control(True, bytes(event.payload)))
            elif kind is CloseConnection:
                assert isinstance(event, CloseConnection)
                if self._ws.state is ConnectionState.OPEN or (
                    self._ws.state is ConnectionState.LOCAL_CLOSING
                ):
                    # A protocol violation, reported by wsproto as a close
                    # while the connection is still OPEN (or LOCAL_CLOSING).
                    await self._fail(int(event.code), event.reason or "protocol error")
                    return
                # The peer's close (or its answer to ours) ends the stream
                # after what came before it: the queue keeps the order.
                queue.append(_Control(False, b"", event))
                self._close_seen = True
                return

    def _too_big(self, size: int) -> str:
        return f"message too big ({size} > {int(self._limit)} bytes)"

    async def _closed_by(self, event: CloseConnection) -> None:
        state = self._ws.state
        code = int(event.code)
        reason = event.reason or ""
        if state is ConnectionState.REMOTE_CLOSING:
            # The peer closes: echo its close, then close the transport.
            with trio.move_on_after(self._close_timeout):
                with contextlib.suppress(WebSocketClosedError):
                    await self._send(event.response())
        # Else CLOSED: this is the answer to our close.
        await self._finish(code, reason, clean=True)

    async def _fail(self, code: int, reason: str) -> None:
        """Fail the connection: send CLOSE ``code`` if still possible, then drop the transport."""
        logger.debug("%s: failing the WebSocket connection: %d %s", self.origin, code, reason)
        if self._ws.state is ConnectionState.OPEN:
            with trio.move_on_after(self._close_timeout):
                with contextlib.suppress(WebSocketClosedError):
                    await self._send(CloseConnection(code=code, reason=reason))
        await self._finish(code, reason, clean=False)

    async def _finish(self, code: int, reason: str, *, clean: bool) -> None:
        if self._final is None:
            self._final = WsClosed(code, reason, clean=clean, url=self.origin or None)
            self._parts.clear()
            self._pending = 0
        await self._close_transport()

    async def _close_transport(self) -> None:
        try:
            with trio.move_on_after(_ABORT_TIMEOUT) as scope:
                await self._stream.aclose()
            if scope.cancelled_caught:
                await trio.aclose_forcefully(self._stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        finally:
            self._done.set()

    # -- writing ----------------------------------------------------------------------

    async def send(self, data: str | bytes) -> None:
        """Send one message: ``str`` as a text frame, ``bytes`` as a binary frame.

        Raises:
            WebSocketClosedError: the connection is closing or closed.
        """
        event: Event = TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data)
        await self._send(event)

    async def ping(self, payload: bytes = b"") -> None:
        """Send a PING (``payload``: at most 125 bytes)."""
        await self._send(Ping(payload=payload))

    async def pong(self, payload: bytes = b"") -> None:
        """Send a PONG (the answer to a PING carries its payload)."""
        await self._send(Pong(payload=payload))

    async def send_close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake; the reader sees the peer's answer.

        Does nothing if a close frame was already sent or the connection is over.
        """
        if self._final is not None or self._ws.state is not ConnectionState.OPEN:
            return
        await self._send(CloseConnection(code=code, reason=reason))

    async def _send(self, event: Event) -> None:
        async with self._write_lock:
            if self._final is not None or self._write_broken:
                raise WebSocketClosedError("the WebSocket connection is closed", url=self.origin)
            try:
                data = self._ws.send(event)
            except LocalProtocolError:
                raise WebSocketClosedError(
                    f"the WebSocket connection is closing ({self._ws.state.name})", url=self.origin
                ) from None
            ok = False
            try:
                await self._stream.send_all(data)
                ok = True
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                raise WebSocketClosedError(
                    f"the WebSocket connection broke while sending ({_describe(exc)})",
                    url=self.origin,
                ) from exc
            finally:
                if not ok:
                    self._write_broken = True  # part of a frame may have gone out

    # -- closing ----------------------------------------------------------------------

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Close: send CLOSE, wait for the peer's (``close_timeout``), close the transport.

        Messages still arriving meanwhile are discarded unless another task is
        receiving. Never raises for a connection that is already gone.
        """
        if self._final is None:
            with trio.move_on_after(self._close_timeout):
                with contextlib.suppress(WebSocketClosedError):
                    await self.send_close(code, reason)
                if self._reading:
                    await self._done.wait()
                else:
                    try:
                        while True:
                            await self.receive()
                    except WsClosed:
                        pass
        await self.abort()

    async def abort(self) -> None:
        """Close the transport now, without a closing handshake."""
        if self._final is None:
            self._final = WsClosed(CLOSE_ABNORMAL, "closed by botters", clean=False)
        if not self._done.is_set():
            try:
                await trio.aclose_forcefully(self._stream)
            finally:
                self._done.set()

    async def wait_closed(self) -> None:
        """Wait until the transport is closed."""
        await self._done.wait()

    def __repr__(self) -> str:
        state = "closed" if self._final is not None else self._ws.state.name.lower()
        return f"<WireConnection {self.origin} {state}>"


def _header_list(headers: Sequence[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    has_agent = False
    for name, value in headers:
        lower = name.lower()
        if lower in _RESERVED:
            continue
        has_agent = has_agent or lower == "user-agent"
        out.append((name.encode("latin-1"), value.encode("latin-1")))
    if not has_agent:
        out.append((b"User-Agent", _USER_AGENT.encode()))
    return out


async def handshake(
    stream: trio.abc.Stream,
    *,
    host: str,
    target: str,
    headers: Sequence[tuple[str, str]] = (),
    subprotocols: Sequence[str] = (),
    compression: bool = False,
    max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
    close_timeout: float = 5.0,
    origin: str = "",
) -> WireConnection:
    """Run the client's opening handshake on ``stream`` and return the connection.

    On any failure (and on cancellation) ``stream`` is closed before this raises.

    Args:
        stream: A connected trio stream (TLS already set up for ``wss``).
        host: The ``Host`` header: the URL's host (and port, if not the
            default), never the address it was resolved or pinned to.
        target: The request target: path and query.
        headers: Extra headers (signed ``api-key``/``api-signature``...).
            Those wsproto writes itself are ignored; ``User-Agent`` defaults
            to ``botters/<version>``.
        subprotocols: Offered in ``Sec-WebSocket-Protocol``.
        compression: Offer permessage-deflate.
        max_message_size: See :class:`WireConnection`.
        close_timeout: See :class:`WireConnection`.
        origin: ``scheme://host[:port]`` for messages.

    Raises:
        HandshakeError: the server answered with an HTTP status other than 101.
        ConnectError: the answer was not a valid WebSocket upgrade.
        ConnectionLostError: the connection ended or broke during the handshake.
    """
    ws = WSConnection(ConnectionType.CLIENT)
    extensions = [_PerMessageDeflate()] if compression else []
    request = Request(
        host=host,
        target=target,
        extra_headers=_header_list(headers),
        subprotocols=list(subprotocols),
        extensions=extensions,
    )
    ok = False
    try:
        try:
            await stream.send_all(ws.send(request))
            # wsproto gets the response head only: frames sent right behind it
            # stay ours, so that WireConnection frames the stream from byte 0.
            received = b""
            while (cut := received.find(b"\r\n\r\n")) < 0:
                if len(received) > _MAX_HANDSHAKE:
                    raise ConnectError(
                        "invalid WebSocket handshake response: head too large",
                        url=origin or None,
                    )
                data = await stream.receive_some(RECEIVE_SIZE)
                if not data:
                    raise ConnectionLostError(
                        "the server closed the connection during the WebSocket handshake",
                        url=origin or None,
                    )
                received += data
            try:
                ws.receive_data(received[: cut + 4])
                events = list(ws.events())
            except RemoteProtocolError as exc:
                raise ConnectError(
                    f"invalid WebSocket handshake response: {exc}", url=origin or None
                ) from None
            for event in events:
                if isinstance(event, AcceptConnection):
                    conn = WireConnection(
                        stream,
                        ws,
                        max_message_size=max_message_size,
                        close_timeout=close_timeout,
                        subprotocol=event.subprotocol,
                        extensions=[e.name for e in event.extensions],
                        origin=origin,
                        initial=received[cut + 4 :],
                    )
                    ok = True
                    return conn
                if isinstance(event, RejectConnection):
                    raise HandshakeError(
                        f"WebSocket upgrade refused: HTTP {event.status_code}",
                        status=event.status_code,
                        url=origin or None,
                        headers={
                            k.decode("latin-1"): v.decode("latin-1") for k, v in event.headers
                        },
                    )
            raise ConnectError(  # e.g. a 1xx other than 101
                "invalid WebSocket handshake response: no upgrade", url=origin or None
            )
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise ConnectionLostError(
                f"the connection broke during the WebSocket handshake ({_describe(exc)})",
                url=origin or None,
            ) from exc
    finally:
        if not ok:
            await trio.aclose_forcefully(stream)
