"""OKJ (OKCoin Japan) WebSocket API v3: login, keepalive and frame decoding.

OKJ runs OKX's older v3 WebSocket API (https://dev.okcoin.jp/en/, "WebSocket
API"; the same scheme as OKEx v3):

* Endpoint ``wss://connect.okcoin.jp:443/ws/v3``.
* Every server frame is **binary and compressed with raw deflate** (no zlib
  header): decode with :func:`inflate`. The login reply and the ``pong`` answer
  arrive that way too.
* Login: ``{"op": "login", "args": [api_key, passphrase, timestamp, sign]}``
  where ``timestamp`` is Unix time in seconds **with a decimal fraction**, as a
  string (the docs' example ``"1538054050.975"``), and ``sign`` is the
  standard-base64 HMAC-SHA256 of ``timestamp + "GET/users/self/verify"``.
  botters sends ``str(round(now, 3))``: millisecond precision, and exactly
  ``"2085848896.0"`` for a whole second as pybotters did (``str(time.time())``).
* Reply: ``{"event": "login", "success": true}``, or
  ``{"event": "error", "message": ..., "errorCode": ...}``.
* Keepalive: if no data arrives for 30 seconds the server closes the
  connection; clients send the text ``ping`` and get ``pong`` back. botters
  pings every 15 s, as pybotters did.

Host: ``connect.okcoin.jp`` (``okj``).
"""

from __future__ import annotations

import zlib
from typing import Any, Final

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import hmac_b64
from botters.protocol._request import URLParts
from botters.protocol._ws import AppPing, Frame, LoginReply, WsRoute, json_object
from botters.protocol.exchanges.okx._ws import VERIFY_PATH

__all__ = [
    "APP_PING",
    "WS_ROUTES",
    "classify_reply",
    "decode",
    "inflate",
    "is_pong",
    "login_message",
]


def inflate(data: bytes) -> bytes:
    """Decompress one raw-deflate frame (what OKJ sends).

    Raises:
        zlib.error: ``data`` is not a complete raw-deflate stream.

    >>> import zlib
    >>> c = zlib.compressobj(wbits=-15)
    >>> inflate(c.compress(b'{"event":"login","success":true}') + c.flush())
    b'{"event":"login","success":true}'
    """
    d = zlib.decompressobj(wbits=-15)
    out = d.decompress(data) + d.flush()
    if not d.eof:
        raise zlib.error("incomplete raw-deflate stream")
    return out


def decode(frame: Frame) -> str | None:
    """The text inside an OKJ frame: binary frames inflated, text passed through.

    ``None`` when a binary frame is not valid raw deflate or not UTF-8, so a
    caller can treat it as "not one of ours" without catching anything.
    """
    if isinstance(frame, str):
        return frame
    try:
        return inflate(frame).decode()
    except (zlib.error, UnicodeDecodeError):
        return None


def login_message(
    parts: URLParts, credentials: Credentials, /, *, now: float, nonce: str = ""
) -> dict[str, Any]:
    """The ``op: login`` message (pure: same inputs, same output)."""
    timestamp = str(round(now, 3))
    sign = hmac_b64(credentials.secret, f"{timestamp}{VERIFY_PATH}")
    return {"op": "login", "args": [credentials.key, credentials.passphrase, timestamp, sign]}


def classify_reply(frame: Frame) -> LoginReply | None:
    """``event: login`` / ``event: error`` inside a (compressed) frame; else ``None``."""
    text = decode(frame)
    msg = None if text is None else json_object(text)
    if msg is None:
        return None
    event = msg.get("event")
    if event == "login":
        if msg.get("success") is True:
            return LoginReply.accepted()
        return LoginReply.rejected(msg.get("errorCode"), msg.get("message"))
    if event == "error":
        return LoginReply.rejected(msg.get("errorCode"), msg.get("message"))
    return None


def is_pong(frame: Frame) -> bool:
    """Whether ``frame`` (compressed or not) is the ``pong`` answer."""
    return decode(frame) == "pong"


APP_PING: Final = AppPing.constant("ping", interval=15.0, pong=is_pong)
"""Text ``ping`` every 15 s."""

WS_ROUTES: Final = (
    WsRoute(
        exchange="okj",
        hosts=("connect.okcoin.jp",),
        api_name="okj",
        login=login_message,
        classify_reply=classify_reply,
        app_ping=APP_PING,
    ),
)
