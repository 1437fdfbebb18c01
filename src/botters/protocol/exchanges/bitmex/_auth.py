"""BitMEX REST and WebSocket-handshake authentication.

Rules (https://www.bitmex.com/app/apiKeysUsage, "Authenticating with an API Key"):

* ``api-signature`` is ``hex(HMAC_SHA256(apiSecret, verb + path + expires +
  data))``: the method, the path with its query exactly as sent
  (``/api/v1/instrument?filter=%7B%22symbol%22%3A+%22XBTM15%22%7D``), the
  expiry and the raw body text (``""`` when there is none).
* ``api-expires`` is "a UNIX timestamp after which the request is no longer
  valid", and "UNIX timestamps are in seconds". botters sends ``round(now) + 5``
  seconds, the 5 s grace period of BitMEX's own reference connectors
  (BitMEX/api-connectors, ``APIKeyAuthWithExpires``). pybotters sent
  milliseconds there ((now + 5 s) * 1000): read as seconds, that names a moment
  tens of thousands of years ahead, so it gave none of the short replay window
  the docs intend. botters follows the docs.
* An ``api-expires`` header the caller set is honoured as the expiry (it must be
  whole digits): a bot that wants a longer or shorter window sets it itself. A
  request signed again keeps that header, so to re-sign with a fresh expiry,
  drop ``api-expires`` first.
* ``api-key`` is the key.

Bodies are sent as forms (``application/x-www-form-urlencoded``), as pybotters
sent them; BitMEX takes form or JSON, and the signature covers whichever bytes
are sent.

WebSocket (https://www.bitmex.com/app/wsAPI, "Authentication"): the handshake
``GET`` to ``wss://ws.bitmex.com/realtime`` may carry the same three headers,
signed over ``"GET/realtime" + expires`` with no body. botters registers the
``wss`` hosts below for that, so a private stream is authenticated from its
first byte.

Hosts: ``www.bitmex.com`` (``bitmex``) and ``testnet.bitmex.com``
(``bitmex_testnet``) for REST; ``ws.bitmex.com``/``www.bitmex.com`` and
``ws.testnet.bitmex.com``/``testnet.bitmex.com`` for the WebSocket handshake.
"""

from __future__ import annotations

from typing import Final

from botters.protocol._credentials import Credentials
from botters.protocol._errors import ConfigError
from botters.protocol._hmac import hmac_hex
from botters.protocol._registry import Route
from botters.protocol._request import Request

__all__ = [
    "EXPIRES_AFTER",
    "HOSTS",
    "ROUTES",
    "TESTNET_HOSTS",
    "TESTNET_WS_HOSTS",
    "WS_HOSTS",
    "sign",
]

HOSTS: Final = ("www.bitmex.com",)
"""Mainnet REST hosts (``bitmex``)."""
TESTNET_HOSTS: Final = ("testnet.bitmex.com",)
"""Testnet REST hosts (``bitmex_testnet``)."""
WS_HOSTS: Final = ("ws.bitmex.com", "www.bitmex.com")
"""Mainnet WebSocket hosts whose handshake is signed (``bitmex``)."""
TESTNET_WS_HOSTS: Final = ("ws.testnet.bitmex.com", "testnet.bitmex.com")
"""Testnet WebSocket hosts whose handshake is signed (``bitmex_testnet``)."""

EXPIRES_AFTER: Final = 5
"""Seconds a signed request stays valid when the caller sets no ``api-expires``."""

_EXPIRES: Final = "api-expires"
_WS_VERB_PATH: Final = "GET/realtime"


def _expires(request: Request, now: float) -> str:
    preset = request.headers.get(_EXPIRES)
    if preset is None:
        return str(round(now) + EXPIRES_AFTER)
    if not (preset.isascii() and preset.isdigit()):
        raise ConfigError(f"{_EXPIRES} must be whole UNIX seconds (digits only), got {preset!r}")
    return preset


def sign(
    request: Request, credentials: Credentials, /, *, now: float, nonce: str | None
) -> Request:
    """Sign a BitMEX REST request or WebSocket handshake (pure).

    Args:
        request: The request exactly as it will be sent. An ``api-expires``
            header on it is used as the expiry. A ``wss`` request is a
            handshake and is signed over ``"GET/realtime" + expires``.
        credentials: Key and secret.
        now: Seconds since the epoch; the expiry is ``round(now) + 5``.
        nonce: Unused: BitMEX's scheme has no nonce.

    Returns:
        A new request with ``api-expires``, ``api-key`` and ``api-signature``.

    Raises:
        ConfigError: The caller's ``api-expires`` is not a whole number.
    """
    expires = _expires(request, now)
    if request.scheme == "wss":
        text = f"{_WS_VERB_PATH}{expires}"
    else:
        text = f"{request.method}{request.path_qs}{expires}{request.body.decode()}"
    return request.with_headers(
        {
            _EXPIRES: expires,
            "api-key": credentials.key,
            "api-signature": hmac_hex(credentials.secret, text),
        }
    )


ROUTES = (
    Route("bitmex", HOSTS, "bitmex", sign, "form"),
    Route("bitmex", TESTNET_HOSTS, "bitmex_testnet", sign, "form"),
    Route("bitmex", WS_HOSTS, "bitmex", sign, "form", scheme="wss"),
    Route("bitmex", TESTNET_WS_HOSTS, "bitmex_testnet", sign, "form", scheme="wss"),
)
