"""Local servers for the aiohttp adapter: aiohttp.web on 127.0.0.1, TLS from a trustme CA.

Signing is keyed by exact host names, so signed requests keep their real URL
(``https://api.bitflyer.com/...``) and reach the local TLS server through the
client's ``resolve=`` pin; the server's certificate is issued by a throwaway CA
for those names.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import trustme
from aiohttp import WSMsgType, web

BITFLYER_KEY = "test-bitflyer-key-0001"
BITFLYER_SECRET = "test-bitflyer-secret-must-not-leak-0001"
APIS = {"bitflyer": [BITFLYER_KEY, BITFLYER_SECRET]}

TLS_NAMES = (
    "api.bitflyer.com",
    "ws.lightstream.bitflyer.com",
    "ws-api.binance.com",
    "other.example",
    "localhost",
    "127.0.0.1",
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _register_secret(known_secrets: dict[str, str]) -> None:
    known_secrets[BITFLYER_SECRET] = "tests/transports/aiohttp: bitflyer secret"


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_ssl(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*TLS_NAMES).configure_cert(ctx)
    return ctx


@pytest.fixture(scope="session")
def client_ssl(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    host: str
    raw_path: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Server:
    """A recording HTTP(S) server; ``routes`` maps a path to a handler."""

    port: int = 0
    scheme: str = "http"
    seen: list[Seen] = field(default_factory=list)
    routes: dict[str, Handler] = field(default_factory=dict)

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(
            Seen(
                request.method,
                request.host,
                request.raw_path,
                {k.lower(): v for k, v in request.headers.items()},
                body,
            )
        )
        handler = self.routes.get(request.path)
        if handler is not None:
            return await handler(request)
        return web.json_response({"ok": True, "path": request.path})


async def _serve(ssl_context: ssl.SSLContext | None) -> AsyncIterator[Server]:
    server = Server(scheme="https" if ssl_context else "http")
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    server.port = runner.addresses[0][1]
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture
async def http_server() -> AsyncIterator[Server]:
    async for server in _serve(None):
        yield server


@pytest.fixture
async def tls_server(server_ssl: ssl.SSLContext) -> AsyncIterator[Server]:
    async for server in _serve(server_ssl):
        yield server


class Tools:
    """Helpers the tests get through the ``tools`` fixture."""

    apis = APIS
    key = BITFLYER_KEY

    @staticmethod
    def signature(seen: Seen, secret: str = BITFLYER_SECRET) -> str:
        """What bitFlyer computes: HMAC-SHA256(ts + METHOD + raw path?query + raw body)."""
        text = seen.headers["access-timestamp"].encode() + seen.method.encode()
        text += seen.raw_path.encode() + seen.body
        return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()

    @staticmethod
    def pins(server: Server, *hosts: str) -> dict[str, Any]:
        """``resolve=`` pins sending ``hosts`` (default: api.bitflyer.com) to ``server``."""
        return dict.fromkeys(hosts or ("api.bitflyer.com",), ("127.0.0.1", server.port))


@pytest.fixture
def tools() -> type[Tools]:
    return Tools


# -- WebSocket server ------------------------------------------------------------------------


@dataclass
class WsPeer:
    """The server side of one WebSocket connection."""

    ws: web.WebSocketResponse
    request: web.Request
    path: str
    headers: dict[str, str]
    received: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    gone: asyncio.Event = field(default_factory=asyncio.Event)

    async def recv_json(self) -> Any:
        return json.loads(await self.received.get())

    async def send_json(self, data: Any) -> None:
        await self.ws.send_str(json.dumps(data))

    def abort(self) -> None:
        """Drop the TCP connection without a close frame."""
        transport = self.request.transport
        assert transport is not None
        transport.abort()


@dataclass
class WsServer:
    """A WebSocket server: each accepted connection is put on ``peers``.

    ``on_connect(peer)`` may answer the first messages (a login...); ``refuse``
    holds HTTP statuses to answer the next handshakes with, one per attempt.
    """

    port: int = 0
    scheme: str = "ws"
    peers: asyncio.Queue[WsPeer] = field(default_factory=asyncio.Queue)
    all_peers: list[WsPeer] = field(default_factory=list)
    refuse: list[int] = field(default_factory=list)
    on_message: Callable[[WsPeer, Any], Awaitable[None]] | None = None
    autoping: bool = True

    def url(self, path: str = "/ws") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.refuse:
            return web.Response(status=self.refuse.pop(0), text="go away")
        ws = web.WebSocketResponse(autoping=self.autoping)
        await ws.prepare(request)
        peer = WsPeer(
            ws, request, request.path_qs, {k.lower(): v for k, v in request.headers.items()}
        )
        self.all_peers.append(peer)
        self.peers.put_nowait(peer)
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    peer.received.put_nowait(msg.data)
                    if self.on_message is not None:
                        await self.on_message(peer, msg.data)
        finally:
            peer.gone.set()
        return ws


async def _serve_ws(ssl_context: ssl.SSLContext | None) -> AsyncIterator[WsServer]:
    server = WsServer(scheme="wss" if ssl_context else "ws")
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    server.port = runner.addresses[0][1]
    try:
        yield server
    finally:
        for peer in server.all_peers:
            if not peer.ws.closed:
                await peer.ws.close()
        await runner.cleanup()


@pytest.fixture
async def ws_server() -> AsyncIterator[WsServer]:
    async for server in _serve_ws(None):
        yield server


@pytest.fixture
async def wss_server(server_ssl: ssl.SSLContext) -> AsyncIterator[WsServer]:
    async for server in _serve_ws(server_ssl):
        yield server
