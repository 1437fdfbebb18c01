"""Bitget WebSocket (v2; v1 and v3 share the host and the scheme): login and keepalive.

Rules (https://www.bitget.com/api-doc/common/websocket-intro):

* Public channels (``wss://ws.bitget.com/v2/ws/public``) need no login, so a
  URL with a ``public`` path segment never logs in; ``/v2/ws/private`` does.
* Login: ``{"op": "login", "args": [{key, "passphrase", "timestamp",
  "sign"}]}`` where ``sign`` is the standard-base64 HMAC-SHA256 of
  ``timestamp + "GET" + "/user/verify"``.
* The key's field name: the English v2 page lists ``apiKey``; the Chinese page,
  Bitget's own v1 SDK (BitgetLimited/v3-bitget-api-sdk, ``bitget_ws_client.py``)
  and pybotters send ``api_key``, which the server demonstrably accepts
  (pybotters is used live with it). botters keeps ``api_key`` (the published
  vector) and records the doubt here: if Bitget ever rejects it, switch to
  ``apiKey``.
* The timestamp's unit: seconds in the SDK, in pybotters and in the vector; the
  Chinese page now says milliseconds, with a 30-second validity either way.
  botters sends whole seconds (``str(round(now))``); same doubt, same remedy.
* Reply: ``{"event": "login", "code": 0}`` (the code may come as a string), or
  ``{"event": "error", "code": 30005, "msg": ...}``.
* Keepalive: "set a 30 seconds timer to send string 'ping', and expect a string
  'pong' as response"; the server disconnects after 2 minutes without a ping.
  botters pings every 30 s (pybotters used 25 s).

* Send limit (same page, "Connect"): "The Websocket server accepts up to 10
  messages per second. The message includes: PING frame, messages in JSON
  format, such as subscribe, unsubscribe" (later revisions list the string
  ``ping`` instead of the PING frame); "if the user sends more messages than
  the limit, the connection will be disconnected": :data:`PACING`, every frame,
  PING/PONG frames included. The page also limits subscriptions to 240
  requests per hour per connection; botters does not enforce that one (it
  would hold the keepalive back behind a subscription backlog for minutes).

Host: ``ws.bitget.com`` (``bitget``).
"""

from __future__ import annotations

from typing import Any, Final

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import hmac_b64
from botters.protocol._pacing import Pacing
from botters.protocol._request import URLParts
from botters.protocol._ws import (
    AppPing,
    Frame,
    LoginReply,
    WsRoute,
    json_object,
    path_segments,
)

__all__ = ["APP_PING", "PACING", "WS_ROUTES", "classify_reply", "is_pong", "login_message"]

_VERIFY: Final = "GET/user/verify"


def login_message(
    parts: URLParts, credentials: Credentials, /, *, now: float, nonce: str = ""
) -> dict[str, Any]:
    """The ``op: login`` message (pure: same inputs, same output)."""
    timestamp = str(round(now))
    return {
        "op": "login",
        "args": [
            {
                "api_key": credentials.key,
                "passphrase": credentials.passphrase,
                "timestamp": timestamp,
                "sign": hmac_b64(credentials.secret, f"{timestamp}{_VERIFY}"),
            }
        ],
    }


def _needs_login(parts: URLParts) -> bool:
    return "public" not in path_segments(parts)


def classify_reply(frame: Frame) -> LoginReply | None:
    """``event: login`` (accepted when the code is 0) or ``event: error``; else ``None``."""
    msg = json_object(frame)
    if msg is None:
        return None
    event = msg.get("event")
    if event == "login":
        if str(msg.get("code", 0)) in ("0", "00000"):
            return LoginReply.accepted()
        return LoginReply.rejected(msg.get("code"), msg.get("msg"))
    if event == "error":
        return LoginReply.rejected(msg.get("code"), msg.get("msg"))
    return None


def is_pong(frame: Frame) -> bool:
    """Whether ``frame`` is the bare ``pong`` text."""
    return frame == ("pong" if isinstance(frame, str) else b"pong")


APP_PING: Final = AppPing.constant("ping", interval=30.0, pong=is_pong)
"""Text ``ping`` every 30 s."""

PACING: Final = Pacing(
    messages=10,
    per=1.0,
    count_control=True,
    source="https://www.bitget.com/api-doc/common/websocket-intro",
)
"""10 messages a second, PING frames included."""

WS_ROUTES: Final = (
    WsRoute(
        exchange="bitget",
        hosts=("ws.bitget.com",),
        api_name="bitget",
        login=login_message,
        needs_login=_needs_login,
        classify_reply=classify_reply,
        app_ping=APP_PING,
        pacing=PACING,
    ),
)
