"""botters.trio.Client.ws_connect / WebSocketApp against real local servers on 127.0.0.1.

The WebSocket server here is a small trio server on wsproto's server side,
running in the test's own nursery: each accepted connection becomes a
:class:`Peer` the test drives (send, ping, close, drop, go silent, raw bytes).
It also answers plain HTTP requests (``http_routes``) on the same port, for
token flows whose REST and WebSocket hosts are the same (GMO Coin).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
import trio
import trio.testing
import trustme
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.extensions import PerMessageDeflate

import botters
from botters.protocol._errors import ConfigError
from botters.protocol.session import GMOCoinToken, State
from botters.transports._errors import WebSocketClosedError
from botters.transports._streams import MessageStream, WebSocketQueue
from botters.transports.trio import Client
from botters.transports.trio._ws import WebSocketApp, WebSocketConnection, ws_connect

pytestmark = pytest.mark.anyio

FAST = (0.01, 0.05, 1.5, 0.0)  # backoff: reconnect at once, then within 50 ms
SUB = {"method": "subscribe", "params": {"channel": "lightning_ticker_BTC_JPY"}, "id": 1}
BF_URL = "wss://ws.lightstream.bitflyer.com/json-rpc"


# -- the WebSocket server ---------------------------------------------------------------------


@dataclass
class Peer:
    """The server end of one WebSocket connection."""

    stream: trio.abc.Stream
    ws: WSConnection
    path: str
    headers: dict[str, str]
    server: WsServer
    messages: list[str | bytes] = field(default_factory=list)
    changed: trio.Event = field(default_factory=trio.Event)
    gone: trio.Event = field(default_factory=trio.Event)
    close_code: int | None = None
    silent: bool = False
    autopong: bool = True
    pings: int = 0
    lock: trio.Lock = field(default_factory=trio.Lock)

    def _changed(self) -> None:
        self.changed.set()
        self.changed = trio.Event()

    async def recv(self, index: int | None = None) -> str | bytes:
        """The next unread message (or message ``index``), waiting for it."""
        want = self._read if index is None else index
        while len(self.messages) <= want:
            await self.changed.wait()
        if index is None:
            self._read += 1
        return self.messages[want]

    _read: int = 0

    async def recv_json(self) -> Any:
        return json.loads(await self.recv())

    async def send(self, data: str | bytes, *, fin: bool = True) -> None:
        message: Message[Any] = (
            TextMessage(data=data, message_finished=fin)
            if isinstance(data, str)
            else BytesMessage(data=data, message_finished=fin)
        )
        await self.send_raw(self.ws.send(message))

    async def send_json(self, data: Any) -> None:
        await self.send(json.dumps(data))

    async def send_raw(self, data: bytes) -> None:
        async with self.lock:
            await self.stream.send_all(data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.send_raw(self.ws.send(CloseConnection(code=code, reason=reason)))

    async def drop(self) -> None:
        """Close TCP without a close frame."""
        await trio.aclose_forcefully(self.stream)


@dataclass
class WsServer:
    """A WebSocket server: each accepted connection is sent on ``peers`` and kept in ``all``."""

    port: int = 0
    scheme: str = "ws"
    ssl_context: ssl.SSLContext | None = None
    all: list[Peer] = field(default_factory=list)
    refuse: list[int] = field(default_factory=list)
    on_message: Callable[[Peer, Any], Awaitable[None]] | None = None
    http_routes: dict[str, Callable[[str, dict[str, str], bytes], tuple[int, Any]]] = field(
        default_factory=dict
    )
    http_seen: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    compress: bool = False
    silent: bool = False  # new peers start silent
    new_peer: trio.Event = field(default_factory=trio.Event)

    def url(self, path: str = "/ws") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    async def peer(self, n: int) -> Peer:
        """The ``n``-th connection (1-based), waiting for it."""
        while len(self.all) < n:
            await self.new_peer.wait()
        return self.all[n - 1]

    async def handle(self, stream: trio.abc.Stream) -> None:
        try:
            if self.ssl_context is not None:
                stream = trio.SSLStream(stream, self.ssl_context, server_side=True)
                await stream.do_handshake()
            await self._serve(stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await trio.aclose_forcefully(stream)

    async def _serve(self, stream: trio.abc.Stream) -> None:
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = await stream.receive_some(65536)
            if not chunk:
                return
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if headers.get("upgrade", "").lower() != "websocket":
            length = int(headers.get("content-length", "0"))
            while len(rest) < length:
                rest += await stream.receive_some(65536)
            self.http_seen.append((method, target, headers, rest))
            route = self.http_routes.get(target.split("?")[0])
            status, body = route(method, headers, rest) if route else (404, {"error": "nope"})
            data = json.dumps(body).encode()
            await stream.send_all(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                + data
            )
            return
        ws = WSConnection(ConnectionType.SERVER)
        ws.receive_data(buf)
        request = next(ws.events())
        assert isinstance(request, Request)
        if self.refuse:
            status = self.refuse.pop(0)
            out = ws.send(RejectConnection(status_code=status, has_body=True))
            out += ws.send(RejectData(data=b"go away"))
            await stream.send_all(out)
            return
        extensions = [PerMessageDeflate()] if self.compress else []
        await stream.send_all(ws.send(AcceptConnection(extensions=extensions)))
        peer = Peer(stream, ws, target, headers, self, silent=self.silent)
        self.all.append(peer)
        self.new_peer.set()
        self.new_peer = trio.Event()
        try:
            await self._read(peer)
        finally:
            peer.gone.set()
            peer._changed()

    async def _read(self, peer: Peer) -> None:
        ws = peer.ws
        parts: list[Any] = []
        while True:
            try:
                data = await peer.stream.receive_some(65536)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return
            if not data:
                return
            if peer.silent:
                continue  # a black hole: read and ignore everything
            ws.receive_data(data)
            for event in ws.events():
                if isinstance(event, TextMessage | BytesMessage):
                    parts.append(event.data)
                    if event.message_finished:
                        whole = (
                            "".join(parts) if isinstance(event, TextMessage) else b"".join(parts)
                        )
                        parts.clear()
                        peer.messages.append(whole)
                        peer._changed()
                        if self.on_message is not None:
                            await self.on_message(peer, whole)
                elif isinstance(event, Ping):
                    peer.pings += 1
                    if peer.autopong:
                        await peer.send_raw(ws.send(event.response()))
                elif isinstance(event, CloseConnection):
                    peer.close_code = event.code
                    if ws.state is ConnectionState.REMOTE_CLOSING:
                        await peer.send_raw(ws.send(event.response()))
                    return


@asynccontextmanager
async def serve_ws(ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[WsServer]:
    server = WsServer(scheme="wss" if ssl_context else "ws", ssl_context=ssl_context)
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, server.handle, 0, host="127.0.0.1"))
        server.port = listeners[0].socket.getsockname()[1]
        try:
            yield server
        finally:
            nursery.cancel_scope.cancel()


@pytest.fixture
async def ws_server() -> AsyncIterator[WsServer]:
    async with serve_ws() as server:
        yield server


@pytest.fixture
async def wss_server(server_ssl: ssl.SSLContext) -> AsyncIterator[WsServer]:
    async with serve_ws(server_ssl) as server:
        yield server


# -- helpers ---------------------------------------------------------------------------------


def botters_tasks() -> set[trio.lowlevel.Task]:
    """Every live task started by botters (named ``botters ...``)."""
    found: set[trio.lowlevel.Task] = set()
    todo = [trio.lowlevel.current_root_task()]
    while todo:
        task = todo.pop()
        if task is None:
            continue
        if task.name.startswith("botters"):
            found.add(task)
        for nursery in task.child_nurseries:
            todo.extend(nursery.child_tasks)
    return found


class Interrupted(botters.DataStoreCollection):
    """A collection that records messages and feed_interrupted() calls."""

    def _init(self) -> None:
        self.messages: list[Any] = []
        self.interrupted = 0

    def _onmessage(self, msg: Any, ws: Any) -> None:
        self.messages.append(msg)

    def feed_interrupted(self) -> None:
        self.interrupted += 1
        super().feed_interrupted()


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    with trio.fail_after(timeout):
        while not predicate():
            await trio.sleep(0.002)


# -- connecting, sending, receiving -----------------------------------------------------------


async def test_subscribe_and_receive(ws_server: WsServer) -> None:
    q = WebSocketQueue()
    async with Client(apis={}) as client:
        app = await client.ws_connect(
            ws_server.url(), send_json=SUB, hdlr_json=q.onmessage, backoff=FAST
        )
        assert isinstance(app, WebSocketApp)
        assert app.state is State.OPEN
        assert isinstance(app.current_ws, WebSocketConnection)
        peer = await ws_server.peer(1)
        assert await peer.recv_json() == SUB
        for i in range(3):
            await peer.send_json({"n": i})
        assert [await q.get() for _ in range(3)] == [{"n": 0}, {"n": 1}, {"n": 2}]


async def test_initial_messages_in_order_before_user_sends(ws_server: WsServer) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(
            ws_server.url(),
            send_str=["a", "b"],
            send_bytes=b"c",
            send_json=[{"d": 1}, {"e": 2}],
            backoff=FAST,
        )
        ws = app.current_ws
        assert ws is not None
        await ws.send_str("f")
        await ws.send_bytes(b"g")
        await ws.send_json({"h": 3})
        ws.send_json_nowait({"i": 4})
        peer = await ws_server.peer(1)
        got = [await peer.recv() for _ in range(9)]
    assert got == ["a", "b", b"c", '{"d":1}', '{"e":2}', "f", b"g", '{"h":3}', '{"i":4}']


async def test_handshake_headers_and_options(ws_server: WsServer) -> None:
    async with Client(apis={}, headers={"X-Client": "1"}) as client:
        await client.ws_connect(
            ws_server.url("/path?q=1"),
            headers={"X-Extra": "yes"},
            origin="https://example.com",
            protocols=["v1"],
            autoping=False,
            timeout=3.0,
            backoff=FAST,
        )
        peer = await ws_server.peer(1)
    assert peer.path == "/path?q=1"
    assert peer.headers["x-extra"] == "yes"
    assert peer.headers["origin"] == "https://example.com"
    assert peer.headers["sec-websocket-protocol"] == "v1"
    assert peer.headers["host"] == f"127.0.0.1:{ws_server.port}"
    assert peer.headers["user-agent"].startswith("botters/")


async def test_real_host_name_in_host_and_sni_under_a_pin(
    ca: trustme.CA, client_ssl: ssl.SSLContext
) -> None:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("feed.example").configure_cert(server_ctx)  # not valid for 127.0.0.1
    sni: list[str | None] = []
    server_ctx.sni_callback = lambda sock, name, ctx: sni.append(name)  # type: ignore[assignment]
    async with serve_ws(server_ctx) as server:
        pins = {"feed.example": ("127.0.0.1", server.port)}
        async with Client(apis={}, resolve=pins, ssl=client_ssl) as client:
            await client.ws_connect("wss://feed.example/feed?x=1", backoff=FAST)
            peer = await server.peer(1)
    assert sni == ["feed.example"]
    assert peer.headers["host"] == "feed.example"
    assert peer.path == "/feed?x=1"


async def test_a_handshake_that_never_answers_is_abandoned_and_retried(
    silent_listener: Callable[[], Any],
) -> None:
    async with silent_listener() as port, Client(apis={}) as client:
        app = client.ws_connect(f"ws://127.0.0.1:{port}/ws", connect_timeout=0.05, backoff=FAST)
        await until(lambda: app.session.failures >= 3)
        assert app.state is not State.OPEN
        await app.close()
        assert not botters_tasks()


async def test_bitmex_handshake_is_signed(
    ca: trustme.CA, client_ssl: ssl.SSLContext, known_secrets: dict[str, str]
) -> None:
    secret = "test-bitmex-secret-must-not-leak-0001"
    known_secrets[secret] = "tests/transports/trio: bitmex secret"
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("ws.bitmex.com").configure_cert(server_ctx)
    async with serve_ws(server_ctx) as server:
        pins = {"ws.bitmex.com": ("127.0.0.1", server.port)}
        apis = {"bitmex": ["test-bitmex-key", secret]}
        async with Client(apis=apis, resolve=pins, ssl=client_ssl) as client:
            client.ws_connect("wss://ws.bitmex.com/realtime", backoff=FAST)
            peer = await server.peer(1)
            client.ws_connect("wss://ws.bitmex.com/realtime", backoff=FAST, auth=None)
            unsigned = await server.peer(2)
    headers = peer.headers
    assert headers["host"] == "ws.bitmex.com"
    assert headers["api-key"] == "test-bitmex-key"
    expected = hmac.new(
        secret.encode(), f"GET/realtime{headers['api-expires']}".encode(), hashlib.sha256
    ).hexdigest()
    assert headers["api-signature"] == expected
    assert "api-key" not in unsigned.headers


async def test_handler_exception_is_logged_and_the_stream_goes_on(
    ws_server: WsServer, caplog: pytest.LogCaptureFixture
) -> None:
    q = WebSocketQueue()

    def boom(msg: Any, ws: Any) -> None:
        if msg.get("n") == 0:
            raise RuntimeError("bug in a handler")

    async with Client(apis={}) as client:
        await client.ws_connect(ws_server.url(), hdlr_json=[boom, q.onmessage], backoff=FAST)
        peer = await ws_server.peer(1)
        await peer.send_json({"n": 0})
        await peer.send_json({"n": 1})
        assert [await q.get(), await q.get()] == [{"n": 0}, {"n": 1}]
    failures = [r for r in caplog.records if r.name == "botters.ws" and r.exc_info]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    assert failures[0].exc_info[0] is RuntimeError


async def test_text_binary_and_non_json_frames(
    ws_server: WsServer, caplog: pytest.LogCaptureFixture
) -> None:
    q, raw, blobs = WebSocketQueue(), WebSocketQueue(), WebSocketQueue()
    async with Client(apis={}) as client:
        await client.ws_connect(
            ws_server.url(),
            hdlr_json=q.onmessage,
            hdlr_str=raw.onmessage,
            hdlr_bytes=blobs.onmessage,
            backoff=FAST,
        )
        peer = await ws_server.peer(1)
        with caplog.at_level(logging.DEBUG, logger="botters.ws"):
            await peer.send("pong")
            await peer.send("<html>oops</html>")
            await peer.send(b"\x00\xff")
            await peer.send(b'{"bin":1}')
            await peer.send_json({"ok": 1})
            assert await q.get() == {"bin": 1}
            assert await q.get() == {"ok": 1}
    assert [raw.get_nowait() for _ in range(3)] == ["pong", "<html>oops</html>", '{"ok": 1}']
    assert [blobs.get_nowait() for _ in range(2)] == [b"\x00\xff", b'{"bin":1}']
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "botters.ws" and r.levelno == logging.WARNING and "not JSON" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert "<html>oops</html>" in warnings[0]


async def test_filtered_streams_and_handlers_at_runtime(ws_server: WsServer) -> None:
    q1, q2 = WebSocketQueue(), WebSocketQueue()
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), hdlr_json=q1.onmessage, backoff=FAST)
        btc = app.stream({"params": {"channel": "btc"}})
        both = app.stream_filter([{"params": {"channel": "btc"}}, {"params": {"channel": "eth"}}])
        assert isinstance(btc, MessageStream)
        app.add_handler(q2.onmessage)
        peer = await ws_server.peer(1)
        for channel in ("eth", "btc", "xrp", "btc"):
            await peer.send_json({"params": {"channel": channel}})
        await peer.send_json({"sentinel": 1})
        assert (await q2.get())["params"]["channel"] == "eth"
        while (await q1.get()).get("sentinel") != 1:
            pass
        assert btc.qsize() == 2
        assert both.qsize() == 3
        assert app.remove_handler(q2.onmessage)
        assert app.handlers["json"] == (q1.onmessage,)
        await app.close()
    assert btc.closed
    assert both.closed
    assert len([m async for m in both]) == 3
    with pytest.raises(WebSocketClosedError):
        app.stream()


async def test_send_on_a_closed_connection_raises(ws_server: WsServer) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), backoff=FAST)
        ws = app.current_ws
        assert ws is not None
        await ws.close()
        assert ws.closed
        with pytest.raises(WebSocketClosedError):
            await ws.send_str("late")
        ws.send_json_nowait({"late": True})  # logged and dropped, never raises
        await app  # it reconnects by itself
        assert app.current_ws is not ws
        first = await ws_server.peer(1)
        assert first.close_code == 1000


def nowait_drops(caplog: pytest.LogCaptureFixture) -> list[int]:
    return [
        r.levelno
        for r in caplog.records
        if r.name == "botters.ws" and "send_json_nowait" in r.getMessage()
    ]


async def test_send_json_nowait_on_a_lost_connection_warns(
    ws_server: WsServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), backoff=FAST)
        ws = app.current_ws
        assert ws is not None
        first = await ws_server.peer(1)
        await first.drop()  # the server goes away; the app runs on
        await ws_server.peer(2)
        await app
        assert app.current_ws is not ws
        ws.send_json_nowait({"method": "unsubscribe"})
        assert nowait_drops(caplog) == [logging.WARNING]


async def test_send_json_nowait_while_the_app_closes_is_debug(
    ws_server: WsServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), backoff=FAST)
        ws = app.current_ws
        assert ws is not None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(app.close)
            await trio.testing.wait_all_tasks_blocked()  # close() waits for the close handshake
            assert app.closed
            ws.send_json_nowait({"method": "unsubscribe"})  # a store answering a late snapshot
        ws.send_json_nowait({"method": "unsubscribe"})  # and after close() returned
    assert nowait_drops(caplog) == [logging.DEBUG, logging.DEBUG]


# -- reconnecting -----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["close", "drop", "garbage", "oversized"])
async def test_reconnects_and_resubscribes(ws_server: WsServer, how: str) -> None:
    store = Interrupted()
    async with Client(apis={}) as client:
        app = await client.ws_connect(
            ws_server.url(),
            send_json=SUB,
            hdlr_json=store.onmessage,
            backoff=FAST,
            max_msg_size=10_000,
        )
        first = await ws_server.peer(1)
        assert await first.recv_json() == SUB
        await first.send_json({"before": 1})
        await until(lambda: store.messages == [{"before": 1}])
        if how == "close":
            await first.close(1001, "going away")
        elif how == "drop":
            await first.drop()
        elif how == "garbage":
            await first.send_raw(b"\x83\x00not a frame at all")
        else:
            await first.send("x" * 10_001)
        second = await ws_server.peer(2)
        assert await second.recv_json() == SUB
        await app
        await second.send_json({"after": 1})
        await until(lambda: store.messages[-1] == {"after": 1})
        assert store.interrupted == 1
        await first.gone.wait()
        if how == "garbage":
            assert first.close_code == 1002
        elif how == "oversized":
            assert first.close_code == 1009


async def test_refused_handshakes_are_retried(ws_server: WsServer) -> None:
    ws_server.refuse = [503, 503]
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), backoff=FAST)
        assert app.state is State.OPEN
        assert len(ws_server.all) == 1
        assert not ws_server.refuse


async def test_a_token_in_the_url_is_never_logged(
    ws_server: WsServer, caplog: pytest.LogCaptureFixture
) -> None:
    token = "SECRET-TOKEN-1234567890"
    ws_server.refuse = [503]
    async with Client(apis={}) as client:
        await client.ws_connect(ws_server.url(f"/private/{token}?key={token}"), backoff=FAST)
        peer = await ws_server.peer(1)
        await peer.drop()
        await ws_server.peer(2)
    ours = [r for r in caplog.records if r.name.startswith("botters")]
    assert ours
    assert not [r.getMessage() for r in ours if token in r.getMessage()]


async def test_url_setter_applies_to_the_next_connect(ws_server: WsServer) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url("/one"), backoff=FAST)
        first = await ws_server.peer(1)
        app.url = ws_server.url("/two")
        assert app.url == ws_server.url("/two")
        assert not first.gone.is_set()
        await first.close()
        second = await ws_server.peer(2)
        assert (first.path, second.path) == ("/one", "/two")
        with pytest.raises(ConfigError):
            app.url = "https://not-a-websocket.example/"


async def test_a_silent_peer_is_given_up_and_replaced(ws_server: WsServer) -> None:
    ws_server.silent = True  # accepts, then never answers a PING nor sends anything
    async with Client(apis={}) as client:
        client.ws_connect(
            ws_server.url(), send_str="sub", heartbeat=0.05, backoff=FAST, close_timeout=0.1
        )
        first = await ws_server.peer(1)
        second = await ws_server.peer(2)  # the session's dead-peer clock fired
        assert second is not first
        await first.gone.wait()


@pytest.mark.parametrize(
    "anyio_backend", [pytest.param(("trio", {"clock": trio.testing.MockClock(rate=200)}))]
)
async def test_timeouts_follow_trios_clock(ws_server: WsServer) -> None:
    """With a clock 200 times faster, 10-second keepalive timeouts pass in real milliseconds."""
    ws_server.silent = True
    async with Client(apis={}) as client:
        start = trio.current_time()
        client.ws_connect(ws_server.url(), heartbeat=10.0, backoff=FAST, close_timeout=5.0)
        first = await ws_server.peer(1)
        await ws_server.peer(2)
        elapsed = trio.current_time() - start
        assert elapsed >= 15.0  # dead peer: 1.5 x heartbeat, of trio's (mock) time
        await first.gone.wait()


async def test_heartbeat_returns_on_pong_and_replaces_on_timeout(
    ws_server: WsServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), backoff=FAST, heartbeat=None)
        await app.heartbeat(timeout=5.0)
        first = await ws_server.peer(1)
        assert first.pings == 1
        first.autopong = False
        ws_server.silent = False
        with trio.fail_after(10):
            await app.heartbeat(timeout=0.05)  # first one times out: reconnect, then a pong
        second = await ws_server.peer(2)
        await first.gone.wait()
        assert first.close_code == 1011
        assert second.pings == 1
    # One event, one warning: the missing pong; the loss it causes follows at DEBUG.
    ours = [r for r in caplog.records if r.name == "botters.ws"]
    warnings = [r.getMessage() for r in ours if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "no pong within 0.05 s; closing connection 1" in warnings[0]
    assert [r.levelno for r in ours if "connection 1 lost" in r.getMessage()] == [logging.DEBUG]


async def test_closing_a_connection_yourself_is_not_a_warning(
    ws_server: WsServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), backoff=FAST)
        await ws_server.peer(1)
        conn = app.current_ws
        assert conn is not None
        await conn.close()
        await ws_server.peer(2)  # the session reconnected
        await app
    ours = [r for r in caplog.records if r.name == "botters.ws"]
    assert not [r.getMessage() for r in ours if r.levelno >= logging.WARNING]
    [lost] = [r for r in ours if "connection 1 lost" in r.getMessage()]
    assert lost.levelno == logging.INFO
    assert "reconnecting in" in lost.getMessage()


async def test_server_pings_are_answered(ws_server: WsServer) -> None:
    async with Client(apis={}) as client:
        await client.ws_connect(ws_server.url(), backoff=FAST)
        peer = await ws_server.peer(1)
        got: list[bytes] = []
        # Read the pong on the server side by hand.
        original = peer.ws.events

        def spy() -> Any:
            for event in original():
                if type(event).__name__ == "Pong":
                    got.append(bytes(event.payload))  # type: ignore[attr-defined]
                yield event

        peer.ws.events = spy  # type: ignore[method-assign]
        await peer.send_raw(peer.ws.send(Ping(payload=b"hello")))
        await until(lambda: got == [b"hello"])


async def test_fragmented_and_compressed_messages(ws_server: WsServer) -> None:
    ws_server.compress = True
    q = WebSocketQueue()
    big = {"data": [{"price": i, "size": i / 7} for i in range(3000)]}
    text = json.dumps(big)
    async with Client(apis={}) as client:
        await client.ws_connect(ws_server.url(), hdlr_json=q.onmessage, compress=15, backoff=FAST)
        peer = await ws_server.peer(1)
        assert "permessage-deflate" in peer.headers["sec-websocket-extensions"]
        third = len(text) // 3
        await peer.send(text[:third], fin=False)
        await peer.send_raw(peer.ws.send(Ping(payload=b"mid")))  # between fragments
        await peer.send(text[third : 2 * third], fin=False)
        await peer.send(text[2 * third :])
        await peer.send_json({"small": True})
        assert await q.get() == big
        assert await q.get() == {"small": True}
        app_ws = client._apps.copy().pop().current_ws
        assert app_ws is not None
        await app_ws.send_str("compressed too")
        assert await peer.recv() == "compressed too"


# -- login (bitFlyer over wss, signed for the real host name) ---------------------------------


async def test_await_app_waits_for_login_and_subscription(
    wss_server: WsServer, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    release = trio.Event()

    async def on_message(peer: Peer, data: Any) -> None:
        msg = json.loads(data)
        if msg.get("method") == "auth":
            params = msg["params"]
            expected = hmac.new(
                b"test-trio-bitflyer-secret-must-not-leak-0001",
                f"{params['timestamp']}{params['nonce']}".encode(),
                hashlib.sha256,
            ).hexdigest()
            ok = params["api_key"] == tools.key and params["signature"] == expected
            await release.wait()
            await peer.send_json({"jsonrpc": "2.0", "id": "auth", "result": ok})

    wss_server.on_message = on_message
    pins = {"ws.lightstream.bitflyer.com": ("127.0.0.1", wss_server.port)}
    async with Client(apis=tools.apis, resolve=pins, ssl=client_ssl) as client:
        app = client.ws_connect(BF_URL, send_json=SUB, backoff=FAST)
        opened: list[WebSocketApp] = []

        async def wait_open() -> None:
            opened.append(await app)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(wait_open)
            peer = await wss_server.peer(1)
            login = json.loads(await peer.recv(0))
            assert login["method"] == "auth"
            await trio.testing.wait_all_tasks_blocked()
            assert not opened  # the reply has not been sent: not open yet
            assert app.state is State.AUTHENTICATING
            assert app.current_ws is None
            release.set()
        assert opened == [app]
        assert json.loads(await peer.recv(1)) == SUB  # subscriptions only after the login
        assert app.state is State.OPEN


async def test_a_rejected_login_is_logged_and_retried(
    wss_server: WsServer,
    client_ssl: ssl.SSLContext,
    tools: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers = [False, True]

    async def on_message(peer: Peer, data: Any) -> None:
        if json.loads(data).get("method") == "auth":
            if answers.pop(0):
                await peer.send_json({"jsonrpc": "2.0", "id": "auth", "result": True})
            else:
                error = {"code": -32000, "message": "invalid signature"}
                await peer.send_json({"jsonrpc": "2.0", "id": "auth", "error": error})

    wss_server.on_message = on_message
    pins = {"ws.lightstream.bitflyer.com": ("127.0.0.1", wss_server.port)}
    async with Client(apis=tools.apis, resolve=pins, ssl=client_ssl) as client:
        await client.ws_connect(BF_URL, send_json=SUB, backoff=FAST)
        first, second = wss_server.all
        assert json.loads(await first.recv(0))["method"] == "auth"
        assert len(first.messages) == 1  # no subscription after a rejected login
        assert json.loads(await second.recv(0))["method"] == "auth"
        assert json.loads(await second.recv(1)) == SUB
    failed = [r.getMessage() for r in caplog.records if "login failed" in r.getMessage()]
    assert len(failed) == 1
    assert "invalid signature" in failed[0]


async def test_outgoing_messages_are_signed_on_a_copy_unless_auth_none(
    wss_server: WsServer, client_ssl: ssl.SSLContext, known_secrets: dict[str, str]
) -> None:
    secret = "test-binance-secret-must-not-leak-0002"
    known_secrets[secret] = "tests/transports/trio: binance secret"
    order = {"id": 1, "method": "order.place", "params": {"symbol": "BTCUSDT", "price": "1.5"}}
    pins = {"ws-api.binance.com": ("127.0.0.1", wss_server.port)}
    apis = {"binance": ["test-binance-key", secret]}
    async with Client(apis=apis, resolve=pins, ssl=client_ssl) as client:
        app = await client.ws_connect(
            "wss://ws-api.binance.com/ws-api/v3", send_json=order, backoff=FAST
        )
        ws = app.current_ws
        assert ws is not None
        await ws.send_json(order)
        await ws.send_json(order, auth=None)
        peer = await wss_server.peer(1)
        initial, again, unsigned = [await peer.recv_json() for _ in range(3)]
    assert order["params"] == {"symbol": "BTCUSDT", "price": "1.5"}  # never mutated
    assert unsigned == order
    for signed in (initial, again):
        params = signed["params"]
        assert params["apiKey"] == "test-binance-key"
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
        expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        assert params["signature"] == expected


async def test_token_flow_goes_through_the_clients_http(
    ca: trustme.CA, client_ssl: ssl.SSLContext, known_secrets: dict[str, str]
) -> None:
    secret = "test-gmo-secret-must-not-leak-0001"
    known_secrets[secret] = "tests/transports/trio: gmo secret"
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("api.coin.z.com").configure_cert(server_ctx)
    async with serve_ws(server_ctx) as server:
        server.http_routes["/private/v1/ws-auth"] = lambda method, headers, body: (
            200,
            {"status": 0, "data": "tok-123"},
        )
        pins = {"api.coin.z.com": ("127.0.0.1", server.port)}
        apis = {"gmocoin": ["test-gmo-key", secret]}
        async with Client(apis=apis, resolve=pins, ssl=client_ssl) as client:
            app = await client.ws_connect(
                "wss://api.coin.z.com/ws/private/v1",
                token_flow=GMOCoinToken(),
                backoff=FAST,
            )
            assert app.state is State.OPEN
            peer = await server.peer(1)
    assert peer.path == "/ws/private/v1/tok-123"
    method, target, headers, _ = server.http_seen[0]
    assert (method, target) == ("POST", "/private/v1/ws-auth")
    assert headers["api-key"] == "test-gmo-key"  # signed by the client's REST signer
    assert "api-sign" in headers


# -- the bitFlyer simulator: login, store, drops ----------------------------------------------


async def test_simulator_board_stays_in_sync_through_drops(
    server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    from botters.simulator import DEMO_APIS, Simulator

    fx = "FX_BTC_JPY"
    channels = (
        f"lightning_board_snapshot_{fx}",
        f"lightning_board_{fx}",
        f"lightning_ticker_{fx}",
        "child_order_events",
    )
    async with Simulator(seed=7, tick_interval=None, ssl=server_ssl) as sim:
        store = botters.bitFlyerDataStore()
        async with Client(apis=dict(DEMO_APIS), resolve=sim.resolve, ssl=client_ssl) as client:
            sends: list[Any] = [
                {"method": "subscribe", "params": {"channel": c}, "id": i}
                for i, c in enumerate(channels)
            ]
            app = client.ws_connect(
                BF_URL, send_json=sends, hdlr_json=store.onmessage, backoff=FAST
            )
            ticker = app.stream({"params": {"channel": f"lightning_ticker_{fx}"}})
            await app
            conn = await sim.wait_for_subscription("child_order_events")
            assert conn.authenticated  # a private channel: granted after the session's login
            tick = 0

            async def ticks(n: int) -> None:
                nonlocal tick
                for _ in range(n):
                    tick += 1
                    sim.advance()
                    while (await ticker.get())["params"]["message"]["tick_id"] < tick:
                        pass

            await ticks(30)
            # The store unsubscribed from the snapshot channel through current_ws.
            await sim.wait_until(lambda _: channels[0] not in conn.subscriptions)
            assert store.board.is_synced(fx)
            assert store.board.sorted({"product_code": fx}) == sim.board_snapshot(fx)
            for attempt in (2, 3):
                conn.drop()
                conn = await sim.wait_for_connections(attempt)
                await sim.wait_for_subscription(f"lightning_ticker_{fx}", connection=conn)
                assert conn.authenticated
                await ticks(30)
                assert store.board.is_synced(fx)
                assert store.board.sorted({"product_code": fx}) == sim.board_snapshot(fx)


# -- closing, cancellation, structured concurrency --------------------------------------------


async def test_close_leaves_no_task_or_socket_behind(ws_server: WsServer) -> None:
    q = WebSocketQueue()
    async with Client(apis={}) as client:
        assert not botters_tasks()
        app = await client.ws_connect(ws_server.url(), send_json=SUB, hdlr_json=q.onmessage)
        stream = app.stream()
        peer = await ws_server.peer(1)
        names = {t.name for t in botters_tasks()}
        assert any(n.startswith("botters ws connection") for n in names)
        assert any(n.startswith("botters ws writer") for n in names)
        assert any(n.startswith("botters ws timer") for n in names)
        await app.close()
        assert not botters_tasks()
        assert app.closed
        assert app.current_ws is None
        assert stream.closed
        assert peer.close_code == 1000  # a clean close handshake
        await peer.gone.wait()
        await app.close()  # twice is harmless
        await app.wait()
    assert not botters_tasks()


async def test_client_exit_closes_its_apps(ws_server: WsServer) -> None:
    async with Client(apis={}) as client:
        apps = [client.ws_connect(ws_server.url(), backoff=FAST) for _ in range(3)]
        for app in apps:
            await app
    for n in (1, 2, 3):
        peer = await ws_server.peer(n)
        await peer.gone.wait()
        assert peer.close_code == 1000
    assert all(app.closed for app in apps)
    assert not botters_tasks()
    with pytest.raises(botters.ClientClosedError):
        client.ws_connect(ws_server.url())


async def test_close_while_connecting_and_await_after_close(ws_server: WsServer) -> None:
    ws_server.refuse = [503] * 1000
    async with Client(apis={}) as client:
        app = client.ws_connect(ws_server.url(), backoff=FAST)
        await trio.sleep(0.05)
        await app.close()
        with pytest.raises(WebSocketClosedError):
            await app
        assert not botters_tasks()


async def test_close_right_after_ws_connect(ws_server: WsServer) -> None:
    async with Client(apis={}) as client:
        app = client.ws_connect(ws_server.url(), backoff=FAST)
        await app.close()  # before its task ever ran
        with pytest.raises(WebSocketClosedError):
            await app
        assert not ws_server.all


async def test_cancellation_at_any_await_leaves_the_client_usable(ws_server: WsServer) -> None:
    ws_server.refuse = [503] * 3
    async with Client(apis={}) as client:
        app = client.ws_connect(ws_server.url(), backoff=(0.2, 0.2, 1.0, 0.2))
        with trio.move_on_after(0.01):
            await app  # cancelled while waiting to open
        assert not app._open_waiters  # the waiter is gone
        await app
        ws = app.current_ws
        assert ws is not None
        with trio.move_on_after(0):
            await ws.send_str("maybe")  # cancelled at once
        await ws.send_str("surely")
        peer = await ws_server.peer(1)
        with trio.move_on_after(0):
            await app.close()  # cancelled: the app stops anyway
        with trio.fail_after(5):
            await app.wait()
        assert not botters_tasks()
        await peer.gone.wait()
        # The client goes on.
        again = await client.ws_connect(ws_server.url(), backoff=FAST)
        assert again.state is State.OPEN
        r = await client.fetch("GET", ws_server.url("/nothing").replace("ws://", "http://"))
        assert r.response.status == 404


async def test_caller_nursery_and_no_exception_group(ws_server: WsServer) -> None:
    async with Client(apis={}) as client:
        async with trio.open_nursery() as nursery:
            app = ws_connect(client, ws_server.url(), nursery=nursery, backoff=FAST)
            await app
            assert any(t.name.startswith("botters WebSocketApp") for t in nursery.child_tasks)
            await app.close()
            assert not nursery.child_tasks

            # A bug inside (a task raising) ends the app with one BottersError.
            async def broken() -> None:
                raise KeyError("internal bug")

            app = ws_connect(client, ws_server.url(), nursery=nursery, backoff=FAST)
            app._run_timer = broken  # type: ignore[method-assign]
            with trio.fail_after(5), pytest.raises(botters.BottersError) as info:
                await app.wait()
            assert not isinstance(info.value, BaseExceptionGroup)
            assert isinstance(info.value.__cause__, BaseExceptionGroup)
            with pytest.raises(botters.BottersError):
                await app
            assert not nursery.child_tasks  # the caller's nursery lives on, empty
        assert not botters_tasks()
        assert not client._apps


async def test_ws_connect_argument_errors(ws_server: WsServer) -> None:
    async def handler(msg: Any, ws: Any) -> None:
        pass

    with pytest.raises(ConfigError, match="async with"):
        Client(apis={}).ws_connect(ws_server.url())
    async with Client(apis={}) as client:
        with pytest.raises(ConfigError):
            client.ws_connect("https://example.com/")
        with pytest.raises(ConfigError):
            client.ws_connect(ws_server.url(), send_str=[b"bytes"])
        with pytest.raises(ConfigError, match="async"):
            client.ws_connect(ws_server.url(), hdlr_json=handler)
        with pytest.raises(ConfigError, match="unexpected"):
            client.ws_connect(ws_server.url(), proxy="http://proxy")
        with pytest.raises(ConfigError, match="max_msg_size"):
            client.ws_connect(ws_server.url(), max_msg_size=-1)
        with pytest.raises(ConfigError, match="json"):
            client.ws_connect(ws_server.url(), json={})
        assert not client._apps
    assert math.isfinite(1.0)


async def test_send_json_options(ws_server: WsServer) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), backoff=FAST)
        ws = app.current_ws
        assert ws is not None
        await ws.send_json({"a": 1}, dumps=lambda d: "custom")
        await ws.send_json([1, 2])
        with pytest.raises(ConfigError):
            await ws.send_json({"a": 1}, compress=9)
        peer = await ws_server.peer(1)
        assert [await peer.recv(), await peer.recv()] == ["custom", "[1,2]"]
        assert app.session.current == ws.conn_id
        assert repr(ws).startswith(f"<WebSocketConnection {ws.conn_id} open ws://127.0.0.1")
        assert "open" in repr(app)
