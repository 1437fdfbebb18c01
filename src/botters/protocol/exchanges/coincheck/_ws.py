"""Coincheck WebSocket: login to the private stream.

Rules (https://coincheck.com/documents/exchange/api, "WebSocket API" and
"Private WebSocket API"; the private-stream text of that page could not be
re-read when this was written, so the login below is the one pybotters sends,
is used live and is pinned by the published vector):

* Public channels are served at ``wss://ws-api.coincheck.com/`` with no login.
* The private stream is ``wss://stream.coincheck.com``. After connecting, send
  ``{"type": "login", "access_key": key, "access_nonce": nonce,
  "access_signature": signature}``; then subscribe, e.g.
  ``{"type": "subscribe", "channels": ["order-events"]}``.
* ``access_nonce`` is an ever-increasing positive integer, as for REST:
  botters sends the time in milliseconds, as a string.
* ``access_signature`` is the hex HMAC-SHA256 of ``nonce +
  "wss://stream.coincheck.com/private"``.

  pybotters' quirk 8.15 asked whether that fixed text should rather be the
  connection URL. It should not: the text names the private channel, not the
  socket; pybotters connected to ``wss://stream.coincheck.com`` (no path) and
  signed this text, and that login is used live. Signing the connection URL
  would break exactly that case, so botters signs the fixed text whatever the
  path or query of the connection URL.
* The reply is an object with a ``success`` member (``true`` on success).
* Coincheck needs no app-level ping.

Hosts: ``stream.coincheck.com`` (``coincheck``, logs in) and
``ws-api.coincheck.com`` (public, never logs in).
"""

from __future__ import annotations

from typing import Any, Final

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import hmac_hex, ms
from botters.protocol._request import URLParts
from botters.protocol._ws import Frame, LoginReply, WsRoute, json_object

__all__ = ["SIGNED_URL", "WS_ROUTES", "classify_reply", "login_message"]

SIGNED_URL: Final = "wss://stream.coincheck.com/private"
"""The text signed after the nonce, whatever the connection URL is."""


def login_message(
    parts: URLParts, credentials: Credentials, /, *, now: float, nonce: str = ""
) -> dict[str, Any]:
    """The ``type: login`` message (pure: same inputs, same output).

    ``nonce`` is ignored: Coincheck's nonce must increase, so it is the time.
    """
    access_nonce = str(ms(now))
    return {
        "type": "login",
        "access_key": credentials.key,
        "access_nonce": access_nonce,
        "access_signature": hmac_hex(credentials.secret, f"{access_nonce}{SIGNED_URL}"),
    }


def classify_reply(frame: Frame) -> LoginReply | None:
    """An object with a boolean ``success``; ``None`` for anything else."""
    msg = json_object(frame)
    if msg is None or not isinstance(msg.get("success"), bool):
        return None
    if msg["success"]:
        return LoginReply.accepted()
    return LoginReply.rejected(msg.get("error") or msg.get("message"))


WS_ROUTES: Final = (
    WsRoute(
        exchange="coincheck",
        hosts=("stream.coincheck.com",),
        api_name="coincheck",
        login=login_message,
        classify_reply=classify_reply,
    ),
    WsRoute(exchange="coincheck", hosts=("ws-api.coincheck.com",), api_name="coincheck"),
)
