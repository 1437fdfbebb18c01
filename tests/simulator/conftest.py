"""Shared pieces of the simulator tests: signing by hand, a JSON-RPC client, runners.

The tests sign with their own few lines (from bitFlyer's documented rule), and
separately with botters' signer, so the simulator's check is pinned from two
sides.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from botters.simulator import DEMO_APIS, DEMO_APIS_BY_EXCHANGE

KEY, SECRET = DEMO_APIS["bitflyer"]


@pytest.fixture(autouse=True)
def _register_demo_secret(known_secrets: dict[str, str]) -> None:
    # The end-of-run log scan fails the suite if a demo secret is ever logged.
    known_secrets[SECRET] = "simulator DEMO_APIS secret"
    for exchange, apis in DEMO_APIS_BY_EXCHANGE.items():
        for _key, *private in apis.values():
            for value in private:
                known_secrets[value] = f"simulator {exchange} demo secret or passphrase"


def rest_headers(
    method: str,
    path_qs: str,
    body: str = "",
    *,
    key: str = KEY,
    secret: str = SECRET,
    timestamp: str | None = None,
) -> dict[str, str]:
    """Headers signed by bitFlyer's rule, written out independently of botters."""
    ts = timestamp if timestamp is not None else str(int(time.time() * 1000))
    text = f"{ts}{method}{path_qs}{body}"
    sign = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    headers = {"ACCESS-KEY": key, "ACCESS-TIMESTAMP": ts, "ACCESS-SIGN": sign}
    if body:
        headers["Content-Type"] = "application/json"
    return headers


_nonces = itertools.count(1)


def auth_params(
    *, key: str = KEY, secret: str = SECRET, timestamp: int | None = None, nonce: str | None = None
) -> dict[str, Any]:
    ts = timestamp if timestamp is not None else int(time.time() * 1000)
    nonce = nonce if nonce is not None else f"test-nonce-{next(_nonces):08d}"
    signature = hmac.new(secret.encode(), f"{ts}{nonce}".encode(), hashlib.sha256).hexdigest()
    return {"api_key": key, "timestamp": ts, "nonce": nonce, "signature": signature}


class Rpc:
    """A minimal JSON-RPC client over a plain aiohttp WebSocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self.backlog: list[dict[str, Any]] = []

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        if self.backlog:
            return self.backlog.pop(0)
        msg = await self.ws.receive(timeout=timeout)
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        return json.loads(msg.data)  # type: ignore[no-any-return]

    async def call(self, method: str, params: Any = None, timeout: float = 10.0) -> dict[str, Any]:
        """Send a request with an id; return its response (other messages go to the backlog)."""
        request_id = next(self._ids)
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": request_id}
        if params is not None:
            message["params"] = params
        await self.ws.send_json(message)
        while True:
            msg = await self.ws.receive(timeout=timeout)
            assert msg.type is aiohttp.WSMsgType.TEXT, msg
            data = json.loads(msg.data)
            if data.get("id") == request_id and "method" not in data:
                return data  # type: ignore[no-any-return]
            self.backlog.append(data)

    async def subscribe(self, channel: str) -> dict[str, Any]:
        return await self.call("subscribe", {"channel": channel})

    async def login(self, **kwargs: Any) -> dict[str, Any]:
        return await self.call("auth", auth_params(**kwargs))

    async def channel(self, channel: str, timeout: float = 10.0) -> Any:
        """The next message of ``channel`` (skipping others)."""
        while True:
            data = await self.recv(timeout)
            if data.get("method") == "channelMessage" and data["params"]["channel"] == channel:
                return data["params"]["message"]


@pytest.fixture
def rpc() -> type[Rpc]:
    return Rpc


@pytest.fixture
def sign() -> Callable[..., dict[str, str]]:
    return rest_headers


@pytest.fixture
def auth() -> Callable[..., dict[str, Any]]:
    return auth_params
