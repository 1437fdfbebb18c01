"""OKX v5 WebSocket: login and keepalive.

Rules (https://www.okx.com/docs-v5/en/#overview-websocket-login and
https://www.okx.com/docs-v5/en/#overview-websocket-connect):

* Login: ``{"op": "login", "args": [{"apiKey", "passphrase", "timestamp",
  "sign"}]}``. ``timestamp`` is Unix time in **seconds**, as a string; ``sign``
  is the standard-base64 HMAC-SHA256 of ``timestamp + "GET" +
  "/users/self/verify"``. The request expires 30 seconds after the timestamp.
* Reply: ``{"event": "login", "code": "0", ...}`` on success,
  ``{"event": "error", "code": "60009", "msg": "Login failed.", ...}`` on failure.
* Public channels (``/ws/v5/public``) need no login, so botters sends none
  there. pybotters logged in on every OKX URL, public included (its quirk
  8.13). ``/ws/v5/private`` and ``/ws/v5/business`` log in.
* Keepalive: "If there's no data return after connecting or subscribing within
  30 seconds, the connection will break"; clients should send the text ``ping``
  at an interval under 30 s and expect the text ``pong``. botters pings every
  15 s, as pybotters did. ``pong`` is not JSON: it is recognised as the
  keepalive answer, never as an error.

* Send limit (https://www.okx.com/docs-v5/en/#overview-websocket-connect,
  "Request limit"): "The total number of 'subscribe'/'unsubscribe'/'login'
  requests per connection is limited to 480 times per hour": :data:`PACING`
  counts exactly those (:func:`counts_toward_limit`); the ``ping`` keepalive
  and order requests are not counted and never wait (orders have their own,
  per-instrument limits, which are the user's business). The connection limit
  (3 requests per second per IP) is about opening connections, not sending.

Hosts: ``ws.okx.com`` and ``wsaws.okx.com`` (``okx``); ``wspap.okx.com``, the
demo-trading endpoint, signs with the separate demo keys (``okx_demo``).
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

__all__ = [
    "APP_PING",
    "PACING",
    "VERIFY_PATH",
    "WS_ROUTES",
    "classify_reply",
    "counts_toward_limit",
    "is_pong",
    "login_message",
]

VERIFY_PATH: Final = "GET/users/self/verify"
"""Method and path signed after the timestamp (shared with OKJ)."""


def login_message(
    parts: URLParts, credentials: Credentials, /, *, now: float, nonce: str = ""
) -> dict[str, Any]:
    """The ``op: login`` message (pure: same inputs, same output)."""
    timestamp = str(int(now))
    return {
        "op": "login",
        "args": [
            {
                "apiKey": credentials.key,
                "passphrase": credentials.passphrase,
                "timestamp": timestamp,
                "sign": hmac_b64(credentials.secret, f"{timestamp}{VERIFY_PATH}"),
            }
        ],
    }


def _needs_login(parts: URLParts) -> bool:
    return "public" not in path_segments(parts)


def classify_reply(frame: Frame) -> LoginReply | None:
    """``event: login`` (accepted) or ``event: error`` (rejected); else ``None``."""
    msg = json_object(frame)
    if msg is None:
        return None
    event = msg.get("event")
    if event == "login":
        if str(msg.get("code", "0")) == "0":
            return LoginReply.accepted()
        return LoginReply.rejected(msg.get("code"), msg.get("msg"))
    if event == "error":
        return LoginReply.rejected(msg.get("code"), msg.get("msg"))
    return None


def is_pong(frame: Frame) -> bool:
    """Whether ``frame`` is the bare ``pong`` text."""
    return frame == ("pong" if isinstance(frame, str) else b"pong")


APP_PING: Final = AppPing.constant("ping", interval=15.0, pong=is_pong)
"""Text ``ping`` every 15 s."""


_LIMITED_OPS: Final = frozenset({"subscribe", "unsubscribe", "login"})


def counts_toward_limit(frame: Frame) -> bool:
    """Whether a frame is a request OKX counts per connection (subscribe, unsubscribe, login).

    >>> counts_toward_limit('{"op":"subscribe","args":[{"channel":"tickers"}]}')
    True
    >>> counts_toward_limit("ping"), counts_toward_limit('{"op":"order","args":[]}')
    (False, False)
    """
    msg = json_object(frame)
    op = msg.get("op") if msg is not None else None
    return isinstance(op, str) and op in _LIMITED_OPS


PACING: Final = Pacing(
    messages=480,
    per=3600.0,
    counts=counts_toward_limit,
    source="https://www.okx.com/docs-v5/en/#overview-websocket-connect",
)
"""480 subscribe/unsubscribe/login requests per connection per hour."""


def _routes() -> tuple[WsRoute, ...]:
    def route(hosts: tuple[str, ...], name: str) -> WsRoute:
        return WsRoute(
            exchange="okx",
            hosts=hosts,
            api_name=name,
            login=login_message,
            needs_login=_needs_login,
            classify_reply=classify_reply,
            app_ping=APP_PING,
            pacing=PACING,
        )

    return (route(("ws.okx.com", "wsaws.okx.com"), "okx"), route(("wspap.okx.com",), "okx_demo"))


WS_ROUTES: Final = _routes()
