"""Bybit v5 REST authentication.

Rule (https://bybit-exchange.github.io/docs/v5/guide#authentication): HMAC-SHA256
hex of ``timestamp + api_key + recv_window + payload`` where the payload is the
query string for GET and the raw body otherwise. ``recv_window`` is the value of
an ``X-BAPI-RECV-WINDOW`` header the caller set, or ``""`` when there is none
(the server then uses its default of 5000 ms). Headers ``X-BAPI-API-KEY``,
``X-BAPI-TIMESTAMP`` (ms) and ``X-BAPI-SIGN`` are added.

The query is signed exactly as sent, so a value that already contained ``%3D`` is
signed as ``%253D``, the way it travels.
"""

from __future__ import annotations

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import hmac_hex, ms
from botters.protocol._registry import Route
from botters.protocol._request import Request

__all__ = ["ROUTES", "sign"]


def sign(
    request: Request, credentials: Credentials, /, *, now: float, nonce: str | None
) -> Request:
    """Sign a Bybit v5 REST request (pure: same inputs, same output)."""
    timestamp = str(ms(now))
    recv_window = request.headers.get("X-BAPI-RECV-WINDOW", "")
    payload = request.query if request.method == "GET" else request.body.decode()
    text = f"{timestamp}{credentials.key}{recv_window}{payload}"
    return request.with_headers(
        {
            "X-BAPI-API-KEY": credentials.key,
            "X-BAPI-TIMESTAMP": timestamp,
            "X-BAPI-SIGN": hmac_hex(credentials.secret, text),
        }
    )


ROUTES = (
    Route("bybit", ("api.bybit.com", "api.bytick.com"), "bybit", sign, "json"),
    Route("bybit", ("api-demo.bybit.com",), "bybit_demo", sign, "json"),
    Route("bybit", ("api-testnet.bybit.com",), "bybit_testnet", sign, "json"),
)
