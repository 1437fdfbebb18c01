"""What the Bybit and OKX dialect tests share: signing by hand, reading frames, rebuilding books.

The signatures are written out from the exchanges' documented rules, apart
from botters' signers and from the simulator's checks, so each is pinned from
two sides. The book code is the plainest version of what a client does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
import zlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp

from botters.simulator import DEMO_APIS_BY_EXCHANGE

BYBIT_KEY, BYBIT_SECRET = DEMO_APIS_BY_EXCHANGE["bybit"]["bybit"]
OKX_KEY, OKX_SECRET, OKX_PASSPHRASE = DEMO_APIS_BY_EXCHANGE["okx"]["okx"]

Levels = list[tuple[str, str]]


def hex_sign(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def b64_sign(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def bybit_headers(
    payload: str,
    *,
    key: str = BYBIT_KEY,
    secret: str = BYBIT_SECRET,
    timestamp: int | None = None,
    recv_window: str | None = "5000",
) -> dict[str, str]:
    """Bybit v5 REST headers: hex HMAC of timestamp + key + recv_window + payload."""
    ts = str(timestamp if timestamp is not None else int(time.time() * 1000))
    window = recv_window or ""
    headers = {
        "X-BAPI-API-KEY": key,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-SIGN": hex_sign(secret, ts + key + window + payload),
        "Content-Type": "application/json",
    }
    if recv_window is not None:
        headers["X-BAPI-RECV-WINDOW"] = recv_window
    return headers


def bybit_auth(
    *, key: str = BYBIT_KEY, secret: str = BYBIT_SECRET, expires: int | None = None
) -> dict[str, Any]:
    """Bybit's ``op: auth``: hex HMAC of ``GET/realtime`` + expires (ms, in the future)."""
    exp = expires if expires is not None else int(time.time() * 1000) + 5000
    return {"op": "auth", "args": [key, exp, hex_sign(secret, f"GET/realtime{exp}")]}


def okx_timestamp(now: float | None = None) -> str:
    when = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def okx_headers(
    method: str,
    path_qs: str,
    body: str = "",
    *,
    key: str = OKX_KEY,
    secret: str = OKX_SECRET,
    passphrase: str = OKX_PASSPHRASE,
    timestamp: str | None = None,
) -> dict[str, str]:
    """OKX v5 REST headers: base64 HMAC of timestamp + METHOD + path?query + body."""
    ts = timestamp or okx_timestamp()
    return {
        "OK-ACCESS-KEY": key,
        "OK-ACCESS-SIGN": b64_sign(secret, ts + method + path_qs + body),
        "OK-ACCESS-TIMESTAMP": ts,
        "OK-ACCESS-PASSPHRASE": passphrase,
        "Content-Type": "application/json",
    }


def okx_login(
    *,
    key: str = OKX_KEY,
    secret: str = OKX_SECRET,
    passphrase: str = OKX_PASSPHRASE,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """OKX's ``op: login``: base64 HMAC of seconds + ``GET/users/self/verify``."""
    ts = timestamp or str(int(time.time()))
    sign = b64_sign(secret, ts + "GET/users/self/verify")
    return {
        "op": "login",
        "args": [{"apiKey": key, "passphrase": passphrase, "timestamp": ts, "sign": sign}],
    }


def okx_checksum(bids: list[list[str]], asks: list[list[str]]) -> int:
    """OKX's checksum, from its documented definition (pairs zipped, longer side trailing)."""
    pairs = []
    for bid, ask in itertools.zip_longest(bids[:25], asks[:25]):
        if bid is not None:
            pairs.append(f"{bid[0]}:{bid[1]}")
        if ask is not None:
            pairs.append(f"{ask[0]}:{ask[1]}")
    value = zlib.crc32(":".join(pairs).encode())
    return value - 2**32 if value >= 2**31 else value


class Feed:
    """JSON frames from a plain aiohttp WebSocket (the text ``pong`` comes back as a str)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._sentinels = itertools.count(1)

    async def next(self, timeout: float = 10.0) -> Any:
        msg = await self.ws.receive(timeout=timeout)
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        return msg.data if msg.data == "pong" else json.loads(msg.data)

    async def send(self, message: Any) -> None:
        await self.ws.send_str(message if isinstance(message, str) else json.dumps(message))

    async def request(self, message: Any) -> Any:
        """Send ``message``; return the next frame (the reply, with no data flowing)."""
        await self.send(message)
        return await self.next()

    async def flush_bybit(self) -> list[Any]:
        """Every frame queued before now: ping, and read until that pong."""
        req_id = f"flush-{next(self._sentinels)}"
        await self.send({"op": "ping", "req_id": req_id})
        out = []
        while (frame := await self.next()).get("req_id") != req_id:
            out.append(frame)
        return out

    async def flush_okx(self) -> list[Any]:
        """Every frame queued before now: text ``ping``, and read until ``pong``."""
        await self.send("ping")
        out = []
        while (frame := await self.next()) != "pong":
            out.append(frame)
        return out


class Book:
    """A client's book from snapshots and diffs: price -> size text, per side."""

    def __init__(self) -> None:
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}

    def reset(self, bids: list[list[str]], asks: list[list[str]]) -> None:
        self.bids = {level[0]: level[1] for level in bids}
        self.asks = {level[0]: level[1] for level in asks}

    def apply(self, bids: list[list[str]], asks: list[list[str]]) -> None:
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for level in levels:
                price, size = level[0], level[1]
                if size == "0":
                    assert price in side, f"deleting {price}, which the client never had"
                    del side[price]
                else:
                    side[price] = size

    def levels(self) -> tuple[Levels, Levels]:
        """``(bids, asks)`` best first, as ``sim.book_levels`` gives them."""
        bids = sorted(self.bids.items(), key=lambda kv: Decimal(kv[0]), reverse=True)
        asks = sorted(self.asks.items(), key=lambda kv: Decimal(kv[0]))
        return bids, asks

    def top(self, depth: int = 25) -> tuple[list[list[str]], list[list[str]]]:
        bids, asks = self.levels()
        return [list(x) for x in bids[:depth]], [list(x) for x in asks[:depth]]
