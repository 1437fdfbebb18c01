"""bitFlyer Lightning Realtime API (JSON-RPC 2.0 over WebSocket): login.

Rules (https://bf-lightning-api.readme.io/docs/realtime-api-auth and
https://bf-lightning-api.readme.io/docs/endpoint-json-rpc):

* Private channels need the ``auth`` method, with params ``api_key``,
  ``timestamp`` (a Unix timestamp of 10 or 13 digits, a JSON number: botters
  sends milliseconds), ``nonce`` (a random string of 16 to 255 characters, new
  for every request) and ``signature``, the hex HMAC-SHA256 of
  ``str(timestamp) + nonce``. The nonce is the ``nonce`` argument: the adapter
  supplies fresh randomness (the core never reads a random source).
* "This connection method complies with the JSON-RPC 2.0 Specification", whose
  requests carry ``"jsonrpc": "2.0"``. pybotters omitted that member (and the
  server accepted it); botters sends it, as the specification requires. The
  request ``id`` is ``"auth"``.
* Reply: ``result: true`` on success ("be sure to check it"), an ``error``
  object otherwise; both echo ``id: "auth"``.
* bitFlyer needs no app-level ping. Public channels share the endpoint and the
  login does them no harm, so every connection logs in when credentials exist,
  as in pybotters.

Host: ``ws.lightstream.bitflyer.com`` (``bitflyer``).
"""

from __future__ import annotations

from typing import Any, Final

from botters.protocol._credentials import Credentials
from botters.protocol._errors import ConfigError
from botters.protocol._hmac import hmac_hex, ms
from botters.protocol._request import URLParts
from botters.protocol._ws import Frame, LoginReply, WsRoute, json_object

__all__ = ["LOGIN_ID", "WS_ROUTES", "classify_reply", "login_message"]

LOGIN_ID: Final = "auth"
"""The JSON-RPC ``id`` of the login request (and of its reply)."""

_NONCE_LENGTH: Final = range(16, 256)


def login_message(
    parts: URLParts, credentials: Credentials, /, *, now: float, nonce: str
) -> dict[str, Any]:
    """The JSON-RPC ``auth`` request (pure: same inputs, same output).

    Raises:
        ConfigError: ``nonce`` is not 16 to 255 characters long.
    """
    if len(nonce) not in _NONCE_LENGTH:
        raise ConfigError(
            f"bitFlyer's WebSocket auth needs a random nonce of 16 to 255 characters, "
            f"got {len(nonce)}"
        )
    timestamp = ms(now)
    signature = hmac_hex(credentials.secret, f"{timestamp}{nonce}")
    return {
        "jsonrpc": "2.0",
        "method": "auth",
        "params": {
            "api_key": credentials.key,
            "timestamp": timestamp,
            "nonce": nonce,
            "signature": signature,
        },
        "id": LOGIN_ID,
    }


def classify_reply(frame: Frame) -> LoginReply | None:
    """The response with ``id: "auth"``; ``None`` for anything else."""
    msg = json_object(frame)
    if msg is None or msg.get("id") != LOGIN_ID:
        return None
    error = msg.get("error")
    if error is not None:
        if isinstance(error, dict):
            return LoginReply.rejected(error.get("code"), error.get("message"))
        return LoginReply.rejected(error)
    if msg.get("result") is True:
        return LoginReply.accepted()
    return LoginReply.rejected("result was", msg.get("result"))


WS_ROUTES: Final = (
    WsRoute(
        exchange="bitflyer",
        hosts=("ws.lightstream.bitflyer.com",),
        api_name="bitflyer",
        login=login_message,
        classify_reply=classify_reply,
    ),
)
