"""The wsproto connection (``_wsconn``) against raw servers: bytes exactly as a server sends them.

Two kinds of peer:

* a raw TCP server on 127.0.0.1 that reads the upgrade request, answers
  with a handshake computed by hand, and writes hand-built frames (so
  malformed input is possible);
* :class:`ScriptedStream`, a trio stream whose ``receive_some`` returns
  exactly the chunks it is given, for "any chunking gives the same result".
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import ssl
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botters.transports._errors import (
    ConnectError,
    ConnectionLostError,
    HandshakeError,
    WebSocketClosedError,
)
from botters.transports.trio._wsconn import (
    DEFAULT_MAX_MESSAGE_SIZE,
    WireConnection,
    WsClosed,
    handshake,
)

pytestmark = pytest.mark.anyio

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# -- frames by hand ---------------------------------------------------------------------------

TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


def frame(opcode: int, payload: bytes, *, fin: bool = True, rsv1: bool = False) -> bytes:
    """A server frame (unmasked)."""
    head = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    if n < 126:
        return bytes([head, n]) + payload
    if n < 65536:
        return bytes([head, 126]) + struct.pack("!H", n) + payload
    return bytes([head, 127]) + struct.pack("!Q", n) + payload


def close_frame(code: int = 1000, reason: str = "") -> bytes:
    return frame(CLOSE, struct.pack("!H", code) + reason.encode())


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def accept_for(request: bytes) -> bytes:
    for line in request.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            return base64.b64encode(hashlib.sha1(value.strip() + GUID).digest())
    raise AssertionError("no Sec-WebSocket-Key in the request")


def upgrade_response(request: bytes, *, extensions: str | None = None) -> bytes:
    lines = [
        b"HTTP/1.1 101 Switching Protocols",
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Accept: " + accept_for(request),
    ]
    if extensions:
        lines.append(b"Sec-WebSocket-Extensions: " + extensions.encode())
    return b"\r\n".join(lines) + b"\r\n\r\n"


def parse_client_frames(data: bytes) -> list[tuple[int, bytes]]:
    """Decode masked client frames: ``[(opcode, payload)]`` (no fragmentation expected)."""
    out = []
    i = 0
    while i + 2 <= len(data):
        opcode = data[i] & 0x0F
        n = data[i + 1] & 0x7F
        i += 2
        if n == 126:
            (n,) = struct.unpack("!H", data[i : i + 2])
            i += 2
        elif n == 127:
            (n,) = struct.unpack("!Q", data[i : i + 8])
            i += 8
        mask = data[i : i + 4]
        i += 4
        if i + n > len(data):
            break
        payload = bytes(b ^ mask[j % 4] for j, b in enumerate(data[i : i + n]))
        i += n
        out.append((opcode, payload))
    return out


# -- a raw server -----------------------------------------------------------------------------


@dataclass
class RawPeer:
    """The server end of one connection, as raw bytes."""

    stream: trio.abc.Stream
    request: bytes = b""
    received: bytearray = field(default_factory=bytearray)

    async def read_request(self) -> bytes:
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = await self.stream.receive_some(65536)
            if not chunk:
                raise AssertionError("client went away during the handshake")
            buf += chunk
        self.request, _, rest = buf.partition(b"\r\n\r\n")
        self.request += b"\r\n\r\n"
        self.received += rest
        return self.request

    async def read_frames(self, until_close: bool = True) -> list[tuple[int, bytes]]:
        """Read client frames until a CLOSE (or EOF)."""
        while True:
            frames = parse_client_frames(bytes(self.received))
            if until_close and any(op == CLOSE for op, _ in frames):
                return frames
            try:
                chunk = await self.stream.receive_some(65536)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                chunk = b""
            if not chunk:
                return frames
            self.received += chunk

    def headers(self) -> dict[str, str]:
        out = {}
        for line in self.request.split(b"\r\n")[1:]:
            if b":" in line:
                k, _, v = line.partition(b":")
                out[k.decode().strip().lower()] = v.decode().strip()
        return out


Script = Callable[[RawPeer], Awaitable[None]]


@asynccontextmanager
async def raw_server(
    script: Script, *, tls: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[int, list[RawPeer]]]:
    peers: list[RawPeer] = []

    async def handle(stream: trio.abc.Stream) -> None:
        if tls is not None:
            stream = trio.SSLStream(stream, tls, server_side=True, https_compatible=True)
        peer = RawPeer(stream)
        peers.append(peer)
        try:
            await script(peer)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await trio.aclose_forcefully(stream)

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, handle, 0, host="127.0.0.1"))
        port = listeners[0].socket.getsockname()[1]
        yield port, peers
        nursery.cancel_scope.cancel()


async def connect(
    port: int,
    *,
    host: str = "127.0.0.1",
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    **kwargs: Any,
) -> WireConnection:
    stream: trio.abc.Stream = await trio.open_tcp_stream("127.0.0.1", port)
    if tls is not None:
        ssl_stream = trio.SSLStream(
            stream, tls, server_hostname=server_hostname or host, https_compatible=True
        )
        await ssl_stream.do_handshake()
        stream = ssl_stream
    return await handshake(stream, host=host, target="/ws?x=1", origin="ws://test", **kwargs)


async def receive_all(conn: WireConnection) -> tuple[list[str | bytes], WsClosed]:
    got: list[str | bytes] = []
    while True:
        try:
            got.append(await conn.receive())
        except WsClosed as closed:
            return got, closed


# -- the scripted stream (exact chunks) --------------------------------------------------------


class ScriptedStream(trio.abc.Stream):
    """``receive_some`` gives the handshake answer + ``body`` cut at ``cuts``, a chunk a call."""

    def __init__(self, body: bytes, cuts: list[int], *, extensions: str | None = None) -> None:
        self.body = body
        self.cuts = cuts
        self.extensions = extensions
        self.sent = bytearray()
        self.chunks: list[bytes] | None = None
        self.closed = False

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await trio.lowlevel.checkpoint()
        if self.closed:
            raise trio.ClosedResourceError
        self.sent += data

    async def wait_send_all_might_not_block(self) -> None:
        await trio.lowlevel.checkpoint()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        await trio.lowlevel.checkpoint()
        if self.chunks is None:
            data = upgrade_response(bytes(self.sent), extensions=self.extensions) + self.body
            points = sorted({min(c, len(data)) for c in self.cuts} | {0, len(data)})
            self.chunks = [data[a:b] for a, b in itertools.pairwise(points) if b > a]
        if not self.chunks:
            return b""
        return self.chunks.pop(0)

    async def aclose(self) -> None:
        self.closed = True
        await trio.lowlevel.checkpoint()


def _messages_body() -> tuple[bytes, list[str | bytes]]:
    """Frames covering every size encoding, fragments, control frames between fragments."""
    big = b"\x00\xff" * 40_000  # 80 000 bytes: 64-bit length
    mid = "é" * 200  # 400 bytes: 16-bit length, multi-byte UTF-8
    snow = "☃".encode()  # a 3-byte character split across fragments below
    body = b"".join(
        [
            frame(TEXT, b'{"n":1}'),
            frame(BINARY, big),
            frame(TEXT, mid.encode()),
            frame(TEXT, b"frag" + snow[:1], fin=False),
            frame(PING, b"p1"),
            frame(CONT, snow[1:], fin=False),
            frame(CONT, b"ment"),
            frame(BINARY, b"", fin=True),
            frame(PONG, b"p2"),
            frame(TEXT, b"last"),
            close_frame(1000, "bye"),
        ]
    )
    expected: list[str | bytes] = ['{"n":1}', big, mid, "frag☃ment", b"", "last"]
    return body, expected


BODY, EXPECTED = _messages_body()


async def _run_scripted(body: bytes, cuts: list[int], **kwargs: Any) -> Any:
    pings: list[bytes] = []
    pongs: list[bytes] = []
    stream = ScriptedStream(body, cuts, extensions=kwargs.pop("extensions", None))
    conn = await handshake(stream, host="example.com", target="/", **kwargs)
    conn.on_pong = pongs.append
    got, closed = await receive_all(conn)
    # Our pong for p1 and the echo of the close, masked, after the request.
    request_end = bytes(stream.sent).index(b"\r\n\r\n") + 4
    sent = parse_client_frames(bytes(stream.sent[request_end:]))
    pings = [p for op, p in sent if op == PONG]
    return got, closed, pings, pongs, sent


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(BODY) + 200), max_size=40))
def test_any_chunking_gives_the_same_messages(cuts: list[int]) -> None:
    got, closed, answered, pongs, sent = trio.run(_run_scripted, BODY, cuts)
    assert got == EXPECTED
    assert (closed.code, closed.reason, closed.clean) == (1000, "bye", True)
    # The PING is answered unless the CLOSE was parsed in the same read (after
    # a CLOSE is received, only the echo may be sent).
    assert answered in ([b"p1"], [])
    assert pongs == [b"p2"]
    assert sent[-1] == (CLOSE, struct.pack("!H", 1000) + b"bye")  # close echoed


def _compressed_body() -> tuple[bytes, list[str | bytes]]:
    text = ('{"table":"orderBook","data":[' + ",".join(['{"p":1,"q":2}'] * 500) + "]}").encode()
    packed = deflate(text)
    third = len(packed) // 3
    body = b"".join(
        [
            frame(TEXT, deflate(b"hello"), rsv1=True),
            # One compressed message in three fragments, a PING in between.
            frame(TEXT, packed[:third], fin=False, rsv1=True),
            frame(PING, b""),
            frame(CONT, packed[third : 2 * third], fin=False),
            frame(CONT, packed[2 * third :]),
            frame(BINARY, b"raw", rsv1=False),  # uncompressed messages stay allowed
            close_frame(1000),
        ]
    )
    return body, ["hello", text.decode(), b"raw"]


ZBODY, ZEXPECTED = _compressed_body()


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(ZBODY) + 200), max_size=20))
def test_fragmented_compressed_messages_any_chunking(cuts: list[int]) -> None:
    got, closed, _, _, _ = trio.run(
        lambda: _run_scripted(ZBODY, cuts, extensions="permessage-deflate", compression=True)
    )
    assert got == ZEXPECTED
    assert closed.clean


@st.composite
def message_streams(draw: st.DrawFn) -> tuple[bytes, list[str | bytes], list[int]]:
    """Random messages, randomly fragmented, PINGs anywhere, then random cut points."""
    frames: list[bytes] = []
    expected: list[str | bytes] = []
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.booleans()):
            text = draw(st.text(max_size=300))
            data: str | bytes = text
            raw = text.encode("utf-8", "surrogatepass")
            opcode = TEXT
        else:
            size = draw(st.sampled_from([0, 1, 125, 126, 65535, 65536, 70000]))
            raw = data = bytes([draw(st.integers(0, 255))]) * size
            opcode = BINARY
        try:
            raw.decode()
        except UnicodeDecodeError:
            continue  # lone surrogates: not valid UTF-8 text
        expected.append(data)
        pieces = draw(st.integers(1, 4))
        cuts = sorted(
            draw(st.lists(st.integers(0, len(raw)), min_size=pieces - 1, max_size=pieces - 1))
        )
        bounds = [0, *cuts, len(raw)]
        for i in range(pieces):
            if draw(st.booleans()):
                frames.append(frame(PING, b"hb"))
            frames.append(
                frame(
                    opcode if i == 0 else CONT, raw[bounds[i] : bounds[i + 1]], fin=i == pieces - 1
                )
            )
    frames.append(close_frame(1000))
    body = b"".join(frames)
    cuts = draw(st.lists(st.integers(1, len(body) + 200), max_size=30))
    return body, expected, cuts


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=message_streams())
def test_random_messages_any_fragmentation_any_chunking(
    stream: tuple[bytes, list[str | bytes], list[int]],
) -> None:
    body, expected, cuts = stream
    got, closed, _, _, _ = trio.run(_run_scripted, body, cuts)
    assert got == expected
    assert closed.clean


@settings(max_examples=10, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=3 * 1024 * 1024), max_size=12))
def test_frames_beyond_the_fast_path_stream_through_wsproto(cuts: list[int]) -> None:
    big = bytes(range(256)) * 6000  # 1.5 MiB: above the 1 MiB fast-path bound
    body = frame(TEXT, b"a") + frame(BINARY, big) + frame(TEXT, b"z") + close_frame()
    got, closed, _, _, _ = trio.run(_run_scripted, body, cuts)
    assert got == ["a", big, "z"]
    assert closed.clean


async def test_frames_in_the_same_read_as_the_handshake_are_delivered() -> None:
    stream = ScriptedStream(frame(TEXT, b"first") + close_frame(), [])  # one single chunk
    conn = await handshake(stream, host="example.com", target="/")
    got, closed = await receive_all(conn)
    assert got == ["first"]
    assert closed.clean


# -- limits and bad input -----------------------------------------------------------------------


async def test_oversized_message_closes_1009() -> None:
    body = frame(TEXT, b"ok") + frame(BINARY, b"x" * 2000) + frame(TEXT, b"never")
    stream = ScriptedStream(body, [])
    conn = await handshake(stream, host="h", target="/", max_message_size=1000)
    got, closed = await receive_all(conn)
    assert got == ["ok"]
    assert closed.code == 1009
    assert not closed.clean
    assert "too big" in closed.reason
    assert isinstance(closed, ConnectionLostError)
    request_end = bytes(stream.sent).index(b"\r\n\r\n") + 4
    sent = parse_client_frames(bytes(stream.sent[request_end:]))
    assert sent[-1][0] == CLOSE
    assert struct.unpack("!H", sent[-1][1][:2])[0] == 1009
    assert stream.closed


async def test_oversized_fragmented_message_is_caught_before_it_is_whole() -> None:
    parts = [frame(BINARY, b"a" * 600, fin=False)] + [
        frame(CONT, b"a" * 600, fin=False) for _ in range(100)
    ]
    stream = ScriptedStream(b"".join(parts), [])
    conn = await handshake(stream, host="h", target="/", max_message_size=1000)
    got, closed = await receive_all(conn)
    assert got == []
    assert closed.code == 1009
    assert not conn._parts  # the partial message was dropped


async def test_deflate_bomb_is_stopped_at_the_limit() -> None:
    bomb = deflate(b"\x00" * (64 * 1024 * 1024))  # 64 MiB of zeros, ~64 KiB compressed
    stream = ScriptedStream(frame(BINARY, bomb, rsv1=True), [])
    stream.extensions = "permessage-deflate"
    conn = await handshake(stream, host="h", target="/", compression=True)
    got, closed = await receive_all(conn)
    assert got == []
    assert closed.code == 1009
    assert str(DEFAULT_MAX_MESSAGE_SIZE) in closed.reason


async def test_unlimited_size() -> None:
    stream = ScriptedStream(frame(BINARY, b"z" * 5000) + close_frame(), [])
    conn = await handshake(stream, host="h", target="/", max_message_size=0)
    got, _ = await receive_all(conn)
    assert got == [b"z" * 5000]


@pytest.mark.parametrize(
    ("garbage", "code"),
    [
        (b"\x83\x00", 1002),  # reserved opcode
        (b"\xc1\x00", 1002),  # RSV1 without an extension
        (frame(TEXT, b"\xff\xfe"), 1007),  # invalid UTF-8 text
        (frame(CONT, b"x"), 1002),  # continuation without a start
        (frame(PING, b"x" * 126), 1002),  # control frame too long
        (bytes(range(256)) * 4, 1002),
        (b"\x81\x82abcd" + bytes([ord("h") ^ 97, ord("i") ^ 98]), 1002),  # masked server frame
    ],
)
async def test_garbage_is_rejected_cleanly(garbage: bytes, code: int) -> None:
    stream = ScriptedStream(frame(TEXT, b"before") + garbage + frame(TEXT, b"after"), [])
    conn = await handshake(stream, host="h", target="/")
    got, closed = await receive_all(conn)
    assert got == ["before"]
    assert closed.code == code
    assert not closed.clean
    assert stream.closed
    request_end = bytes(stream.sent).index(b"\r\n\r\n") + 4
    sent = parse_client_frames(bytes(stream.sent[request_end:]))
    assert sent[-1][0] == CLOSE
    with pytest.raises(WebSocketClosedError):
        await conn.send("late")


async def test_eof_without_close_frame_is_1006() -> None:
    stream = ScriptedStream(frame(TEXT, b"one") + frame(TEXT, b"tw"), [])  # truncated frame
    stream.body = stream.body[:-1]
    conn = await handshake(stream, host="h", target="/")
    got, closed = await receive_all(conn)
    assert got == ["one"]
    assert (closed.code, closed.clean) == (1006, False)


# -- against a real socket ---------------------------------------------------------------------


async def test_handshake_request_carries_host_path_and_headers() -> None:
    async def script(peer: RawPeer) -> None:
        await peer.stream.send_all(upgrade_response(await peer.read_request()) + close_frame())
        await peer.read_frames()

    async with raw_server(script) as (port, peers):
        conn = await connect(
            port,
            host="ws.example.com",
            headers=[("api-key", "k1"), ("Host", "evil"), ("User-Agent", "mine/1")],
            subprotocols=["v1"],
        )
        await receive_all(conn)
    request = peers[0].request
    assert request.startswith(b"GET /ws?x=1 HTTP/1.1\r\n")
    headers = peers[0].headers()
    assert headers["host"] == "ws.example.com"
    assert headers["api-key"] == "k1"
    assert headers["user-agent"] == "mine/1"
    assert headers["sec-websocket-protocol"] == "v1"
    assert request.count(b"Host:") + request.count(b"host:") == 1
    assert "sec-websocket-extensions" not in headers  # compression off unless asked


async def test_default_user_agent_and_deflate_offer() -> None:
    async def script(peer: RawPeer) -> None:
        await peer.stream.send_all(upgrade_response(await peer.read_request()) + close_frame())
        await peer.read_frames()

    async with raw_server(script) as (port, peers):
        conn = await connect(port, compression=True)
        assert conn.extensions == ()  # offered, not accepted
        await receive_all(conn)
    headers = peers[0].headers()
    assert headers["user-agent"].startswith("botters/")
    assert "permessage-deflate" in headers["sec-websocket-extensions"]


@pytest.mark.parametrize("status", [503, 403, 429])
async def test_refused_upgrade_raises_handshake_error(status: int) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.read_request()
        await peer.stream.send_all(
            f"HTTP/1.1 {status} Nope\r\nContent-Length: 7\r\nRetry-After: 3\r\n\r\ngo away".encode()
        )
        await trio.sleep(0.5)

    async with raw_server(script) as (port, _):
        with pytest.raises(HandshakeError) as info:
            await connect(port)
    assert info.value.status == status
    assert info.value.headers["retry-after"] == "3"


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: d3Jvbmc=\r\n\r\n",  # wrong accept token
        b"this is not HTTP at all\r\n\r\n",
    ],
)
async def test_invalid_upgrade_answer_raises_connect_error(answer: bytes) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.read_request()
        await peer.stream.send_all(answer)
        await trio.sleep(0.5)

    async with raw_server(script) as (port, _):
        with pytest.raises(ConnectError, match="invalid WebSocket handshake"):
            await connect(port)


async def test_server_closing_during_handshake() -> None:
    async def script(peer: RawPeer) -> None:
        await peer.read_request()

    async with raw_server(script) as (port, _):
        with pytest.raises(ConnectionLostError):
            await connect(port)


async def test_close_handshake_started_by_us() -> None:
    async def script(peer: RawPeer) -> None:
        await peer.stream.send_all(upgrade_response(await peer.read_request()))
        frames = await peer.read_frames()
        assert frames[-1] == (CLOSE, struct.pack("!H", 1000) + b"done")
        await peer.stream.send_all(close_frame(1000, "done"))

    async with raw_server(script) as (port, peers):
        conn = await connect(port)
        await conn.send("x")
        await conn.aclose(1000, "done")
        assert conn.closed
        info = conn.close_info
        assert info is not None
        assert (info.code, info.clean) == (1000, True)
    assert [op for op, _ in parse_client_frames(bytes(peers[0].received))] == [TEXT, CLOSE]


async def test_close_gives_up_on_a_silent_peer() -> None:
    async def script(peer: RawPeer) -> None:
        await peer.stream.send_all(upgrade_response(await peer.read_request()))
        await trio.sleep_forever()

    async with raw_server(script) as (port, _):
        conn = await connect(port, close_timeout=0.2)
        start = trio.current_time()
        await conn.aclose()
        assert trio.current_time() - start < 2.0
        assert conn.closed


async def test_close_while_another_task_reads() -> None:
    async def script(peer: RawPeer) -> None:
        await peer.stream.send_all(upgrade_response(await peer.read_request()))
        await peer.read_frames()
        await peer.stream.send_all(frame(TEXT, b"late") + close_frame(1000))

    async with raw_server(script) as (port, _):
        conn = await connect(port)
        got: list[Any] = []
        async with trio.open_nursery() as nursery:

            async def reader() -> None:
                got.extend(await receive_all(conn))

            nursery.start_soon(reader)
            await trio.sleep(0.05)
            await conn.aclose()
        messages, closed = got
        assert messages == ["late"]  # still delivered while closing
        assert closed.clean


async def test_concurrent_writers_do_not_interleave() -> None:
    async def script(peer: RawPeer) -> None:
        await peer.stream.send_all(upgrade_response(await peer.read_request()))
        frames = await peer.read_frames()
        peer.received = bytearray()
        await peer.stream.send_all(close_frame())
        peer.frames = frames  # type: ignore[attr-defined]

    payloads = [(f"{i:03d}" * 3000) for i in range(30)]
    async with raw_server(script) as (port, peers):
        conn = await connect(port)
        async with trio.open_nursery() as nursery:
            for p in payloads:
                nursery.start_soon(conn.send, p)
            for i in range(10):
                nursery.start_soon(conn.ping, str(i).encode())
        await conn.aclose()
    frames = peers[0].frames  # type: ignore[attr-defined]
    texts = sorted(p.decode() for op, p in frames if op == TEXT)
    assert texts == sorted(payloads)
    assert sum(1 for op, _ in frames if op == PING) == 10


async def test_sends_after_close_raise() -> None:
    stream = ScriptedStream(close_frame(1001, "going away"), [])
    conn = await handshake(stream, host="h", target="/")
    with pytest.raises(WsClosed) as info:
        await conn.receive()
    assert (info.value.code, info.value.reason) == (1001, "going away")
    with pytest.raises(WebSocketClosedError):
        await conn.send("x")
    with pytest.raises(WsClosed):  # stays at the end
        await conn.receive()


async def test_real_socket_tls_with_random_splits(
    server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    import random

    rng = random.Random(7)

    async def script(peer: RawPeer) -> None:
        data = upgrade_response(await peer.read_request()) + BODY
        i = 0
        while i < len(data):
            n = rng.randint(1, 3000)
            await peer.stream.send_all(data[i : i + n])
            i += n
            await trio.sleep(0)
        await peer.read_frames()

    async with raw_server(script, tls=server_ssl) as (port, _):
        conn = await connect(port, host="other.example", tls=client_ssl)
        got, closed = await receive_all(conn)
    assert got == EXPECTED
    assert closed.clean


async def test_receive_is_single_reader() -> None:
    async def script(peer: RawPeer) -> None:
        await peer.stream.send_all(upgrade_response(await peer.read_request()))
        await trio.sleep(1)

    async with raw_server(script) as (port, _):
        conn = await connect(port)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(conn.receive)
            await trio.testing.wait_all_tasks_blocked()
            with pytest.raises(trio.BusyResourceError):
                await conn.receive()
            nursery.cancel_scope.cancel()
        await conn.abort()


async def test_pings_are_answered() -> None:
    stream = ScriptedStream(frame(PING, b"a") + frame(TEXT, b"x"), [])
    conn = await handshake(stream, host="h", target="/")
    assert await conn.receive() == "x"
    request_end = bytes(stream.sent).index(b"\r\n\r\n") + 4
    assert parse_client_frames(bytes(stream.sent[request_end:])) == [(PONG, b"a")]
    await conn.abort()


async def test_nothing_after_the_peers_close_is_read() -> None:
    stream = ScriptedStream(frame(TEXT, b"a") + close_frame(1000) + frame(TEXT, b"after"), [])
    conn = await handshake(stream, host="h", target="/")
    got, closed = await receive_all(conn)
    assert got == ["a"]
    assert closed.clean
