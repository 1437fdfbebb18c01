"""Bybit v5 WebSocket: login, keepalive and order-entry headers.

Rules (https://bybit-exchange.github.io/docs/v5/ws/connect):

* Public topics need no authentication, so a URL with a ``public`` path segment
  (``wss://stream.bybit.com/v5/public/spot``) never logs in. The private stream
  (``/v5/private``) and order entry (``/v5/trade``) do.
* Login: ``{"op": "auth", "args": [api_key, expires, signature]}`` where
  ``expires`` is a millisecond timestamp in the future (a JSON number) and
  ``signature`` is the hex HMAC-SHA256 of ``"GET/realtime" + expires``. botters
  uses ``now + 5 s`` like pybotters (the docs' example uses ``+ 1 s``; a little
  more slack tolerates a slow handshake).
* Login replies: the private stream answers
  ``{"success": true, "ret_msg": "", "op": "auth", ...}``; order entry answers
  ``{"retCode": 0, "retMsg": "OK", "op": "auth", ...}``
  (https://bybit-exchange.github.io/docs/v5/websocket/trade/guideline); any
  other ``success``/``retCode`` is a rejection.
* Keepalive: send ``{"op": "ping"}`` every 20 seconds, as the docs recommend.
  The answer is ``{"op": "pong", ...}`` on private streams and
  ``{"op": "ping", "ret_msg": "pong", ...}`` on public ones.
* Order entry (https://bybit-exchange.github.io/docs/v5/websocket/trade/guideline):
  every request (``order.create``, ``order.amend``, ``order.cancel`` and the
  batch forms) carries ``header: {"X-BAPI-TIMESTAMP": <ms, string>}``, plus an
  optional ``X-BAPI-RECV-WINDOW`` (default 5000 ms, so botters does not add
  one) and ``Referer``. botters adds or refreshes ``X-BAPI-TIMESTAMP`` at send
  time on a copy of the message, keeping any other header fields the user set;
  pybotters left a stale timestamp in place on reconnect (its quirk 8.8).
* Request ids: a trade request carries ``reqId`` (a string the client
  chooses) and its reply echoes it (``{"reqId": ..., "retCode": 0, "op":
  "order.create", ...}``, same page); on the public and private streams the
  field is ``req_id`` (``{"req_id": ..., "op": "subscribe", ...}`` and the
  reply's ``"req_id"``, https://bybit-exchange.github.io/docs/v5/ws/connect).
  :func:`request_id` names the one a URL uses, for ``WebSocketApp.request``.

Hosts: ``stream.bybit.com`` and ``stream.bytick.com`` (``bybit``),
``stream-demo.bybit.com`` (``bybit_demo``; the docs say demo trading has no
order-entry stream) and ``stream-testnet.bybit.com`` (``bybit_testnet``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import hmac_hex, ms
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
    "EXPIRES_AFTER_MS",
    "WS_ROUTES",
    "classify_reply",
    "is_pong",
    "login_message",
    "request_id",
    "sign_trade_request",
]

EXPIRES_AFTER_MS: Final = 5000
"""How far ahead of ``now`` a login's ``expires`` lies, in milliseconds."""

_TIMESTAMP: Final = "X-BAPI-TIMESTAMP"
_NOT_SIGNED_OPS: Final = frozenset({"auth", "ping", "pong"})


def login_message(
    parts: URLParts, credentials: Credentials, /, *, now: float, nonce: str = ""
) -> dict[str, Any]:
    """The ``op: auth`` message (pure: same inputs, same output)."""
    expires = ms(now) + EXPIRES_AFTER_MS
    signature = hmac_hex(credentials.secret, f"GET/realtime{expires}")
    return {"op": "auth", "args": [credentials.key, expires, signature]}


def _needs_login(parts: URLParts) -> bool:
    return "public" not in path_segments(parts)


def classify_reply(frame: Frame) -> LoginReply | None:
    """The ``op: auth`` reply of either stream kind; ``None`` for anything else."""
    msg = json_object(frame)
    if msg is None or msg.get("op") != "auth":
        return None
    if "success" in msg:
        if msg["success"] is True:
            return LoginReply.accepted()
        return LoginReply.rejected(msg.get("ret_msg"))
    if "retCode" in msg:
        if msg["retCode"] == 0:
            return LoginReply.accepted()
        return LoginReply.rejected(msg["retCode"], msg.get("retMsg"))
    return None


def is_pong(frame: Frame) -> bool:
    """Whether ``frame`` answers ``{"op": "ping"}`` (private or public form)."""
    msg = json_object(frame)
    if msg is None:
        return False
    op = msg.get("op")
    return op == "pong" or (op == "ping" and msg.get("ret_msg") == "pong")


APP_PING: Final = AppPing.constant('{"op":"ping"}', interval=20.0, pong=is_pong)
"""``{"op":"ping"}`` every 20 s."""


def sign_trade_request(
    parts: URLParts,
    message: Mapping[str, Any],
    credentials: Credentials,
    /,
    *,
    now: float,
) -> Mapping[str, Any]:
    """Add a fresh ``header.X-BAPI-TIMESTAMP`` to an order-entry request, on a copy.

    Only URLs with a ``trade`` path segment (``/v5/trade``) and requests other
    than ``auth``/``ping`` get one; every other message is returned as it is.
    """
    if "trade" not in path_segments(parts) or message.get("op") in _NOT_SIGNED_OPS:
        return message
    header = message.get("header")
    new_header = dict(header) if isinstance(header, Mapping) else {}
    new_header[_TIMESTAMP] = str(ms(now))
    return {**message, "header": new_header}


def request_id(parts: URLParts) -> str:
    """``reqId`` on the trade stream (``/v5/trade``), ``req_id`` on every other stream."""
    return "reqId" if "trade" in path_segments(parts) else "req_id"


WS_ROUTES: Final = tuple(
    WsRoute(
        exchange="bybit",
        hosts=hosts,
        api_name=name,
        login=login_message,
        needs_login=_needs_login,
        classify_reply=classify_reply,
        app_ping=APP_PING,
        sign_outgoing=sign_trade_request,
        request_id=request_id,
    )
    for hosts, name in (
        (("stream.bybit.com", "stream.bytick.com"), "bybit"),
        (("stream-demo.bybit.com",), "bybit_demo"),
        (("stream-testnet.bybit.com",), "bybit_testnet"),
    )
)
