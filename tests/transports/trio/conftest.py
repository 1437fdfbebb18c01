"""Local servers for the trio adapter: small trio servers on 127.0.0.1, TLS from a trustme CA.

The HTTP server speaks HTTP/1.1 through h11's server side and runs inside the
test's own nursery (``async with serve_http(...) as server:``), so no thread
and no other event loop is involved and the test sees every request as the
server parsed it. Handlers either return a :class:`Reply` (sent through h11,
keep-alive kept) or :class:`Raw` bytes written as they are (for malformed,
chunked-by-hand or truncated responses).

Signed requests keep their real URL (``https://api.bitflyer.com/...``) and
reach the local TLS server through the client's ``resolve=`` pin; the server's
certificate is issued by a throwaway CA for those names.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from typing import Any

import h11
import pytest
import trio
import trio.testing
import trustme

BITFLYER_KEY = "test-trio-bitflyer-key-0001"
BITFLYER_SECRET = "test-trio-bitflyer-secret-must-not-leak-0001"
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
    return "trio"


@pytest.fixture(autouse=True)
def _register_secret(known_secrets: dict[str, str]) -> None:
    known_secrets[BITFLYER_SECRET] = "tests/transports/trio: bitflyer secret"


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


# -- HTTP server ------------------------------------------------------------------------------


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    target: str
    headers: dict[str, str]
    header_list: list[tuple[str, str]]
    body: bytes
    connection: int

    @property
    def host(self) -> str:
        return self.headers.get("host", "").rsplit(":", 1)[0]


@dataclass
class Reply:
    """A response sent through h11 (``chunks`` set: chunked transfer encoding)."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunks: list[bytes] | None = None


@dataclass
class Raw:
    """Bytes written to the socket as they are, in the given pieces; then maybe close."""

    pieces: list[bytes]
    close: bool = True
    settle: bool = False  # wait until every task is blocked between pieces


_KNOWN = {s.value for s in HTTPStatus}

Handler = Callable[[Seen], Awaitable[Reply | Raw]]


async def _default(seen: Seen) -> Reply:
    path = seen.target.split("?", 1)[0]
    body = json.dumps({"ok": True, "path": path}).encode()
    return Reply(200, [("Content-Type", "application/json")], body)


@dataclass
class HTTPServer:
    """A recording HTTP(S) server; ``routes`` maps a path to a handler."""

    scheme: str = "http"
    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    routes: dict[str, Handler] = field(default_factory=dict)
    connections: int = 0
    open_connections: int = 0
    max_open: int = 0
    ssl_context: ssl.SSLContext | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    async def handle(self, stream: trio.abc.Stream) -> None:
        conn_id = next(self._ids)
        self.connections += 1
        self.open_connections += 1
        self.max_open = max(self.max_open, self.open_connections)
        try:
            if self.ssl_context is not None:
                stream = trio.SSLStream(
                    stream, self.ssl_context, server_side=True, https_compatible=True
                )
                await stream.do_handshake()
            await self._serve(stream, conn_id)
        except (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError):
            pass
        finally:
            self.open_connections -= 1
            await trio.aclose_forcefully(stream)

    async def _serve(self, stream: trio.abc.Stream, conn_id: int) -> None:
        conn = h11.Connection(h11.SERVER)
        while True:
            request: h11.Request | None = None
            body = b""
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await stream.receive_some(65536))
                elif isinstance(event, h11.Request):
                    request = event
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    break
                else:  # ConnectionClosed, or PAUSED at EOF
                    return
            assert request is not None
            items = request.headers.raw_items()
            raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in items]
            seen = Seen(
                request.method.decode(),
                request.target.decode(),
                {k.lower(): v for k, v in raw},
                raw,
                body,
                conn_id,
            )
            self.seen.append(seen)
            handler = self.routes.get(seen.target.split("?", 1)[0], _default)
            reply = await handler(seen)
            if isinstance(reply, Raw):
                for i, piece in enumerate(reply.pieces):
                    if reply.settle and i:
                        await trio.testing.wait_all_tasks_blocked()
                    await stream.send_all(piece)
                if reply.close:
                    return
                conn = h11.Connection(h11.SERVER)  # the raw reply was a complete response
                continue
            headers = list(reply.headers)
            if reply.chunks is None:
                if not any(k.lower() == "content-length" for k, _ in headers):
                    headers.append(("Content-Length", str(len(reply.body))))
            elif not any(k.lower() == "transfer-encoding" for k, _ in headers):
                headers.append(("Transfer-Encoding", "chunked"))
            reason = HTTPStatus(reply.status).phrase if reply.status in _KNOWN else ""
            response = h11.Response(status_code=reply.status, headers=headers, reason=reason)
            out = conn.send(response) or b""
            if request.method != b"HEAD":
                for chunk in reply.chunks if reply.chunks is not None else [reply.body]:
                    if chunk:
                        out += conn.send(h11.Data(data=chunk)) or b""
            out += conn.send(h11.EndOfMessage()) or b""
            await stream.send_all(out)
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                return
            conn.start_next_cycle()


@asynccontextmanager
async def _serve_http(ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[HTTPServer]:
    server = HTTPServer(scheme="https" if ssl_context else "http", ssl_context=ssl_context)
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, server.handle, 0, host="127.0.0.1"))
        server.port = listeners[0].socket.getsockname()[1]
        try:
            yield server
        finally:
            nursery.cancel_scope.cancel()


@pytest.fixture
def serve_http() -> Callable[..., Any]:
    """``async with serve_http() as server`` (or ``serve_http(server_ssl)`` for HTTPS)."""
    return _serve_http


@asynccontextmanager
async def _silent_listener() -> AsyncIterator[int]:
    """A port whose listener never accepts: TCP connects (kernel backlog), nothing answers."""
    sock = trio.socket.socket()
    await sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.fixture
def silent_listener() -> Callable[[], Any]:
    return _silent_listener


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


class Tools:
    """Helpers the tests get through the ``tools`` fixture."""

    apis = APIS
    key = BITFLYER_KEY

    @staticmethod
    def signature(seen: Seen, secret: str = BITFLYER_SECRET) -> str:
        """What bitFlyer computes: HMAC-SHA256(ts + METHOD + raw path?query + raw body)."""
        text = seen.headers["access-timestamp"].encode() + seen.method.encode()
        text += seen.target.encode() + seen.body
        return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()

    @staticmethod
    def pins(server: HTTPServer, *hosts: str) -> dict[str, Any]:
        """``resolve=`` pins sending ``hosts`` (default: api.bitflyer.com) to ``server``."""
        return dict.fromkeys(hosts or ("api.bitflyer.com",), ("127.0.0.1", server.port))


@pytest.fixture
def tools() -> type[Tools]:
    return Tools
