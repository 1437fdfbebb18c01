"""A local stand-in for Binance's WebSocket API (request/reply by id), served over TLS.

Binance's WebSocket API (https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/general-api-information)
answers every request ``{"id", "method", "params"}`` with
``{"id": <the same id>, "status": 200, "result": ...}`` (or ``"error"`` and a
4xx status). This server does that, and lets a test arrange what would be
timing on a real exchange by the request's ``method``:

* ``echo``: answered at once, ``result`` = the request's ``params``;
* ``hold``: not answered until a ``release`` request comes, which answers
  every held request **in reverse order**, then itself (out-of-order replies);
* ``ignore``: never answered, until ``answer-ignored`` answers them late;
* ``drop``: the connection is dropped (transport aborted) without a reply;
* any signed method (``order.place``): answered with ``{"verified": bool}``
  after checking ``params.signature`` by Binance's documented rule
  (https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/request-security):
  hex HMAC-SHA256, with the secret of ``params.apiKey``, of every other param
  sorted by name as ``name=value`` joined with ``&``, not URL-encoded, numbers
  and booleans as their JSON text.

It runs on its own event loop in a thread (so asyncio and trio clients alike
talk to it) and records every request in :attr:`WsApiServer.received`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

HOST = "ws-api.binance.com"
URL = f"wss://{HOST}/ws-api/v3"


def signature_ok(params: Mapping[str, Any], secrets: Mapping[str, str]) -> bool:
    """Whether ``params.signature`` is right, per Binance's rule (written from the docs)."""
    secret = secrets.get(str(params.get("apiKey")))
    signature = params.get("signature")
    if secret is None or not isinstance(signature, str):
        return False
    pairs = []
    for name in sorted(params):
        if name == "signature":
            continue
        value = params[name]
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        pairs.append(f"{name}={text}")
    payload = "&".join(pairs)
    expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


@dataclass
class WsApiServer:
    """``with WsApiServer(ssl_context, secrets) as server:``; pin ``server.resolve``."""

    ssl_context: ssl.SSLContext
    secrets: Mapping[str, str] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._held: list[tuple[web.WebSocketResponse, dict[str, Any]]] = []
        self._ignored: list[tuple[web.WebSocketResponse, dict[str, Any]]] = []

    @property
    def resolve(self) -> dict[str, tuple[str, int]]:
        return {HOST: ("127.0.0.1", self.port)}

    def methods(self) -> list[str]:
        return [m.get("method", "") for m in list(self.received)]

    def __enter__(self) -> WsApiServer:
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
        app.router.add_get("/ws-api/v3", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        assert self._runner is not None
        await self._runner.shutdown()
        await self._runner.cleanup()

    async def _serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            message = json.loads(msg.data)
            self.received.append(message)
            method = message.get("method")
            if method == "hold":
                self._held.append((ws, message))
            elif method == "release":
                held, self._held = self._held, []
                for target, m in reversed(held):
                    await _answer(target, m, m.get("params"))
                await _answer(ws, message, {"released": len(held)})
            elif method == "ignore":
                self._ignored.append((ws, message))
            elif method == "answer-ignored":
                ignored, self._ignored = self._ignored, []
                for target, m in ignored:
                    await _answer(target, m, {"late": True})
                await _answer(ws, message, {"answered": len(ignored)})
            elif method == "drop":
                assert request.transport is not None
                request.transport.abort()
                break
            elif method == "echo":
                await _answer(ws, message, message.get("params"))
            else:
                verified = signature_ok(message.get("params") or {}, self.secrets)
                await _answer(ws, message, {"verified": verified})
        return ws


async def _answer(ws: web.WebSocketResponse, request: Mapping[str, Any], result: Any) -> None:
    if not ws.closed:
        await ws.send_str(json.dumps({"id": request.get("id"), "status": 200, "result": result}))
