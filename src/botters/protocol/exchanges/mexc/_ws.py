"""MEXC futures (contract) WebSocket: login and keepalive.

Rules (https://www.mexc.com/api-docs/futures/websocket-api):

* Endpoint ``wss://contract.mexc.com/edge`` (older ``/ws``). Market channels
  need no login; personal channels need ``{"method": "login", "param":
  {"apiKey", "reqTime", "signature"}}`` where ``signature`` is the hex
  HMAC-SHA256 of ``apiKey + reqTime``. Both channel kinds share the URL, so
  every connection logs in when credentials exist, as in pybotters.
* ``reqTime``'s unit is a recorded doubt: pybotters and the published vector use
  **seconds** (``"2085848896"``); the docs' example string
  ``mx0aBYs33eIilxBW5C1657186536762`` uses milliseconds, like MEXC's REST
  ``Request-Time``. botters keeps seconds (the vector) until a live test
  decides; if MEXC rejects the login, milliseconds is the first thing to try.
* Reply: ``{"channel": "rs.login", "data": "success", ...}``; errors come as
  ``{"channel": "rs.error", "data": <message>}``.
* Keepalive ("Command details for data exchange"): "If no ping is received
  from the client within 1 minute, the connection will be closed. Send a ping
  every 10-20 seconds." The ping is ``{"method": "ping"}``; the answer is
  ``{"channel": "pong", "data": <ms>}``. botters pings every 10 s.

Host: ``contract.mexc.com`` (``mexc``). Spot streams use a listenKey in the URL
and no login message; they are not registered here.
"""

from __future__ import annotations

from typing import Any, Final

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import hmac_hex
from botters.protocol._request import URLParts
from botters.protocol._ws import AppPing, Frame, LoginReply, WsRoute, json_object

__all__ = ["APP_PING", "WS_ROUTES", "classify_reply", "is_pong", "login_message"]


def login_message(
    parts: URLParts, credentials: Credentials, /, *, now: float, nonce: str = ""
) -> dict[str, Any]:
    """The ``method: login`` message (pure: same inputs, same output)."""
    req_time = str(int(now))
    return {
        "method": "login",
        "param": {
            "apiKey": credentials.key,
            "reqTime": req_time,
            "signature": hmac_hex(credentials.secret, f"{credentials.key}{req_time}"),
        },
    }


def classify_reply(frame: Frame) -> LoginReply | None:
    """``channel: rs.login`` or ``channel: rs.error``; ``None`` for anything else."""
    msg = json_object(frame)
    if msg is None:
        return None
    channel = msg.get("channel")
    if channel == "rs.login":
        if msg.get("data") == "success":
            return LoginReply.accepted()
        return LoginReply.rejected(msg.get("data"))
    if channel == "rs.error":
        return LoginReply.rejected(msg.get("data"))
    return None


def is_pong(frame: Frame) -> bool:
    """Whether ``frame`` is the ``channel: pong`` answer."""
    msg = json_object(frame)
    return msg is not None and msg.get("channel") == "pong"


APP_PING: Final = AppPing.constant('{"method":"ping"}', interval=10.0, pong=is_pong)
"""``{"method":"ping"}`` every 10 s."""

WS_ROUTES: Final = (
    WsRoute(
        exchange="mexc",
        hosts=("contract.mexc.com",),
        api_name="mexc",
        login=login_message,
        classify_reply=classify_reply,
        app_ping=APP_PING,
    ),
)
