"""A local stand-in for Binance's listenKey endpoints, served over TLS from a thread.

Spot user-data streams (https://developers.binance.com/docs/binance-spot-api-docs/user-data-stream):
``POST /api/v3/userDataStream`` creates a listenKey (``{"listenKey": ...}``),
``PUT /api/v3/userDataStream?listenKey=...`` extends its life (``{}``). Both
are USER_STREAM requests: only the ``X-MBX-APIKEY`` header, no signature.

The server answers PUTs with the statuses queued in :attr:`UserDataServer.put_statuses`
(then 200), and records every request in :attr:`UserDataServer.seen`. It runs
on its own event loop in a thread, so asyncio and trio clients alike talk to it.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections import deque
from dataclasses import dataclass, field

from aiohttp import web

HOST = "api.binance.com"
URL = f"https://{HOST}/api/v3/userDataStream"
LISTEN_KEY = "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"
API_KEY = "test-userdata-binance-key-0001"
SECRET = "test-userdata-binance-secret-must-not-leak-0001"
APIS = {"binance": [API_KEY, SECRET]}
SUB_KEY = "test-userdata-binance-sub-key-0002"
SUB_APIS = {"binance": [SUB_KEY, "test-userdata-binance-sub-secret-must-not-leak-0002"]}


@dataclass(frozen=True)
class Seen:
    """One request as the server got it."""

    method: str
    query: dict[str, str]
    api_key: str | None
    status: int


@dataclass
class UserDataServer:
    """``with UserDataServer(ssl_context) as server:``; pin ``server.resolve`` in the client."""

    ssl_context: ssl.SSLContext
    put_statuses: deque[int] = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def resolve(self) -> dict[str, tuple[str, int]]:
        return {HOST: ("127.0.0.1", self.port)}

    def puts(self) -> list[Seen]:
        return [s for s in self.seen if s.method == "PUT"]

    def __enter__(self) -> UserDataServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/v3/userDataStream", self._create)
        app.router.add_put("/api/v3/userDataStream", self._extend)
        self._runner = web.AppRunner(app, access_log=None)  # its lines show the listenKey
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def _record(self, request: web.Request, status: int) -> None:
        self.seen.append(
            Seen(request.method, dict(request.query), request.headers.get("X-MBX-APIKEY"), status)
        )

    async def _create(self, request: web.Request) -> web.Response:
        self._record(request, 200)
        return web.json_response({"listenKey": LISTEN_KEY})

    async def _extend(self, request: web.Request) -> web.Response:
        status = self.put_statuses.popleft() if self.put_statuses else 200
        self._record(request, status)
        if status != 200:
            # Binance's error shape; the key is echoed so the test proves it is masked.
            body = {"code": -1000, "msg": f"internal error for listenKey={LISTEN_KEY}"}
            return web.json_response(body, status=status)
        return web.json_response({})
