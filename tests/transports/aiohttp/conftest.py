"""Local servers for the aiohttp adapter: aiohttp.web on 127.0.0.1, TLS from a trustme CA.

Signing is keyed by exact host names, so signed requests keep their real URL
(``https://api.bitflyer.com/...``) and reach the local TLS server through the
client's ``resolve=`` pin; the server's certificate is issued by a throwaway CA
for those names.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import trustme
from aiohttp import web

BITFLYER_KEY = "test-bitflyer-key-0001"
BITFLYER_SECRET = "test-bitflyer-secret-must-not-leak-0001"
APIS = {"bitflyer": [BITFLYER_KEY, BITFLYER_SECRET]}

TLS_NAMES = (
    "api.bitflyer.com",
    "ws.lightstream.bitflyer.com",
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
