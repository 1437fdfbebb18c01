"""Bitget REST authentication (v1 and v2 APIs, HMAC keys).

Rules (https://www.bitget.com/api-doc/common/signature):

* ``ACCESS-SIGN`` is the standard-base64 HMAC-SHA256 of
  ``ACCESS-TIMESTAMP + METHOD + requestPath + ("?" + queryString) + body``. The
  query is signed exactly as sent, in the order it is sent (Bitget's example
  signs ``?symbol=BTCUSDT&limit=20`` unsorted); ``body`` is the raw body text,
  ``""`` when there is none.
* ``ACCESS-TIMESTAMP`` is milliseconds since the epoch.
* ``ACCESS-KEY`` is the key and ``ACCESS-PASSPHRASE`` the passphrase in plain
  text.
* Bitget asks for ``Content-Type: application/json`` on every request, so it is
  added when the request has none yet (GET included; the vectors expect it). A
  caller-set ``Content-Type`` is kept, so a body is never mislabelled.

RSA keys (``ACCESS-SIGN`` = RSA-SHA256) are not supported: botters takes HMAC
secrets for Bitget, as pybotters did.
"""

from __future__ import annotations

from typing import Final

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import hmac_b64, ms
from botters.protocol._registry import Route
from botters.protocol._request import Request

__all__ = ["HOSTS", "ROUTES", "sign"]

HOSTS: Final = ("api.bitget.com",)
"""REST hosts that take Bitget signatures."""

_JSON: Final = "application/json"


def sign(
    request: Request, credentials: Credentials, /, *, now: float, nonce: str | None
) -> Request:
    """Sign a Bitget REST request (pure: same inputs, same output).

    Args:
        request: The request exactly as it will be sent.
        credentials: Key, secret and passphrase.
        now: Seconds since the epoch; sent in milliseconds.
        nonce: Unused: Bitget's scheme has no nonce.

    Returns:
        A new request with the four ``ACCESS-*`` headers, and
        ``Content-Type: application/json`` unless one was already set.
    """
    timestamp = str(ms(now))
    text = f"{timestamp}{request.method}{request.path_qs}{request.body.decode()}"
    headers = {
        "ACCESS-KEY": credentials.key,
        "ACCESS-SIGN": hmac_b64(credentials.secret, text),
        "ACCESS-TIMESTAMP": timestamp,
        "ACCESS-PASSPHRASE": credentials.passphrase,
    }
    if "content-type" not in request.headers:
        headers["Content-Type"] = _JSON
    return request.with_headers(headers)


ROUTES = (Route("bitget", HOSTS, "bitget", sign, "json"),)
