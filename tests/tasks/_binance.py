"""A local stand-in for Binance COIN-M REST (dapi.binance.com), served over TLS from a thread.

It answers the four endpoints aioca's examples use, with Binance's shapes
(https://developers.binance.com/docs/derivatives/coin-margined-futures):

* ``GET /dapi/v1/time`` -> ``{"serverTime": ms}``;
* ``GET /dapi/v1/ticker/price?symbol=`` -> ``[{"symbol", "ps", "price", "time"}]``;
* ``GET /dapi/v1/klines?symbol=&interval=1m&limit=&endTime=`` -> candles (lists),
  the last one opening at the minute that contains ``endTime``;
* ``GET /dapi/v1/account`` (SIGNED) -> ``{"label": ...}`` of the account whose
  key signed it, after checking the signature as Binance documents it: the
  ``X-MBX-APIKEY`` header names the key, and ``signature`` (the last query
  parameter) is the hex HMAC-SHA256, with that key's secret, of the query
  string before it. Otherwise Binance's ``{"code": -2015}`` (unknown key) or
  ``{"code": -1022}`` (bad signature), with status 401 / 400.

It runs in its own thread and event loop, so asyncio and trio clients alike
talk to it; each request is recorded in :attr:`FakeBinance.seen`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ssl
import threading
import time
from dataclasses import dataclass, field

from aiohttp import web

HOST = "dapi.binance.com"

ACCOUNTS = {
    "main-key-0001": ("main-secret-must-not-leak-0001", "main"),
    "sub-key-0002": ("sub-secret-must-not-leak-0002", "sub"),
}
MAIN_APIS = {"binance": ["main-key-0001", "main-secret-must-not-leak-0001"]}
SUB_APIS = {"binance": ["sub-key-0002", "sub-secret-must-not-leak-0002"]}
PRICES = {"BTCUSD_PERP": "55163.4", "ETHUSD_PERP": "2118.17"}


@dataclass
class FakeBinance:
    """``with FakeBinance(ssl_context) as server:``; pin ``server.resolve`` in the client."""

    ssl_context: ssl.SSLContext
    port: int = 0
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)
    """(method, path?query, X-MBX-APIKEY) of each request, in arrival order."""

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def resolve(self) -> dict[str, tuple[str, int]]:
        return {HOST: ("127.0.0.1", self.port)}

    def __enter__(self) -> FakeBinance:
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
        app.router.add_get("/dapi/v1/time", self._time)
        app.router.add_get("/dapi/v1/ticker/price", self._ticker)
        app.router.add_get("/dapi/v1/klines", self._klines)
        app.router.add_get("/dapi/v1/account", self._account)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def _record(self, request: web.Request) -> None:
        self.seen.append((request.method, request.raw_path, request.headers.get("X-MBX-APIKEY")))

    async def _time(self, request: web.Request) -> web.Response:
        self._record(request)
        return web.json_response({"serverTime": int(time.time() * 1000)})

    async def _ticker(self, request: web.Request) -> web.Response:
        self._record(request)
        symbol = request.query["symbol"]
        row = {
            "symbol": symbol,
            "ps": symbol.split("_")[0],
            "price": PRICES[symbol],
            "time": int(time.time() * 1000),
        }
        return web.json_response([row])

    async def _klines(self, request: web.Request) -> web.Response:
        self._record(request)
        q = request.query
        assert q["interval"] == "1m"
        limit, end = int(q["limit"]), int(q["endTime"])
        last_open = end // 60_000 * 60_000
        price = PRICES[q["symbol"]]
        candles = [
            [t, price, price, price, price, "1", t + 59_999, "0.1", 1, "0", "0", "0"]
            for t in range(last_open - 60_000 * (limit - 1), last_open + 1, 60_000)
        ]
        return web.json_response(candles)

    async def _account(self, request: web.Request) -> web.Response:
        self._record(request)
        key = request.headers.get("X-MBX-APIKEY")
        if key not in ACCOUNTS:
            return web.json_response({"code": -2015, "msg": "Invalid API-key."}, status=401)
        secret, label = ACCOUNTS[key]
        payload, _, signature = request.rel_url.raw_query_string.rpartition("&signature=")
        expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not payload or not hmac.compare_digest(signature, expected):
            return web.json_response(
                {"code": -1022, "msg": "Signature for this request is not valid."}, status=400
            )
        return web.json_response({"label": label, "canTrade": True, "assets": []})


def known_secrets() -> dict[str, str]:
    """The fake's secrets, for the suite's log scan."""
    return {secret: f"tests/tasks fake Binance {label}" for secret, label in ACCOUNTS.values()}
