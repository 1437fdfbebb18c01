"""Phemex WebSocket: login and keepalive.

Rules (https://github.com/phemex/phemex-api-docs/blob/master/Public-Contract-API-en.md,
"WebSocket API", and the shorter
https://github.com/phemex/phemex-api-docs/blob/master/Websocket-API-en.md):

* Login: ``{"method": "user.auth", "params": ["API", api_key, signature,
  expiry], "id": <id>}``, where ``expiry`` is Unix **seconds** "between now and
  now + 5 minutes" (a JSON number) and ``signature`` is the hex HMAC-SHA256 of
  ``api_key + str(expiry)``. botters uses ``now + 60 s`` and id ``123``, as
  pybotters did.
* Reply: ``{"error": null, "id": 123, "result": {"status": "success"}}``; a
  rejection carries an ``error`` object.
* Keepalive: "Each client is required to actively send heartbeat (ping)
  message ... with interval less than 30 seconds, otherwise DataGW will drop
  the connection"; "the heartbeat interval is recommended to be set as 5
  seconds". The ping is ``{"id": <id>, "method": "server.ping", "params": []}``
  and the answer ``{"error": null, "id": <id>, "result": "pong"}``. botters
  pings every 5 s with the millisecond time as the id (so a ping's id never
  equals the login's). pybotters pinged every 10 s and forgot
  ``ws.phemex.com`` (its quirk 8.14): every Phemex host gets the ping here.

* Send limit (Public-Contract-API-en.md, "API Rate Limits" of the WebSocket
  API, https://github.com/phemex/phemex-api-docs/blob/master/Public-Contract-API-en.md#wsapiratelimits):
  "Each connection has throttle limit to *10* request/s" in some revisions of
  the page and of the spot and hedged-perpetual pages, *20* in others.
  botters paces at the lower figure, :data:`PACING`: every data frame, the
  ``server.ping`` keepalive included.

Hosts: ``ws.phemex.com`` (the current endpoint), ``phemex.com`` (the older
``wss://phemex.com/ws``), ``vapi.phemex.com`` (high rate limit) and
``api.phemex.com`` (pybotters pinged it) sign as ``phemex``;
``testnet.phemex.com`` and ``testnet-api.phemex.com`` as ``phemex_testnet``.
"""

from __future__ import annotations

from typing import Any, Final

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import hmac_hex, ms
from botters.protocol._pacing import Pacing
from botters.protocol._request import URLParts
from botters.protocol._ws import AppPing, Frame, LoginReply, WsRoute, dumps, json_object

__all__ = [
    "APP_PING",
    "EXPIRY_SECONDS",
    "LOGIN_ID",
    "PACING",
    "WS_ROUTES",
    "classify_reply",
    "is_pong",
    "login_message",
]

LOGIN_ID: Final = 123
"""The ``id`` of the ``user.auth`` request (and of its reply)."""
EXPIRY_SECONDS: Final = 60
"""How long a login signature stays valid (the docs allow up to 5 minutes)."""


def login_message(
    parts: URLParts, credentials: Credentials, /, *, now: float, nonce: str = ""
) -> dict[str, Any]:
    """The ``user.auth`` request (pure: same inputs, same output)."""
    expiry = int(now) + EXPIRY_SECONDS
    signature = hmac_hex(credentials.secret, f"{credentials.key}{expiry}")
    return {
        "method": "user.auth",
        "params": ["API", credentials.key, signature, expiry],
        "id": LOGIN_ID,
    }


def classify_reply(frame: Frame) -> LoginReply | None:
    """The response with the login's id; ``None`` for anything else."""
    msg = json_object(frame)
    if msg is None or msg.get("id") != LOGIN_ID:
        return None
    if "result" not in msg and "error" not in msg:
        return None
    error = msg.get("error")
    if error is not None:
        if isinstance(error, dict):
            return LoginReply.rejected(error.get("code"), error.get("message"))
        return LoginReply.rejected(error)
    result = msg.get("result")
    if isinstance(result, dict) and result.get("status") == "success":
        return LoginReply.accepted()
    return LoginReply.rejected("result was", result)


def _ping(now: float, nonce: str) -> str:
    return dumps({"id": ms(now), "method": "server.ping", "params": []})


def is_pong(frame: Frame) -> bool:
    """Whether ``frame`` is a ``server.ping`` answer (``result: "pong"``)."""
    msg = json_object(frame)
    return msg is not None and msg.get("result") == "pong"


APP_PING: Final = AppPing(interval=5.0, build=_ping, pong=is_pong)
"""``server.ping`` every 5 s, as the docs recommend."""

PACING: Final = Pacing(
    messages=10,
    per=1.0,
    source="https://github.com/phemex/phemex-api-docs/blob/master/Public-Contract-API-en.md",
)
"""10 requests a second per connection (the lower of the documented figures)."""

WS_ROUTES: Final = (
    WsRoute(
        exchange="phemex",
        hosts=("ws.phemex.com", "phemex.com", "vapi.phemex.com", "api.phemex.com"),
        api_name="phemex",
        login=login_message,
        classify_reply=classify_reply,
        app_ping=APP_PING,
        pacing=PACING,
    ),
    WsRoute(
        exchange="phemex",
        hosts=("testnet.phemex.com", "testnet-api.phemex.com"),
        api_name="phemex_testnet",
        login=login_message,
        classify_reply=classify_reply,
        app_ping=APP_PING,
        pacing=PACING,
    ),
)
