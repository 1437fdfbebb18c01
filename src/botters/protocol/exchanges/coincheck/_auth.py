"""Coincheck REST authentication.

Rule (https://coincheck.com/documents/exchange/api#auth):

* ``ACCESS-NONCE`` is a positive integer that must grow with every request made
  with the same key. botters uses the time in milliseconds, as pybotters (and
  ccxt) do. A caller that manages its own counter (several processes sharing a
  key) may set the ``ACCESS-NONCE`` header itself; that value is kept and signed.
* The signature is the lower-case hex HMAC-SHA256 of
  ``ACCESS-NONCE + full request URL + body``. The URL is exactly as sent: scheme,
  host, path and ``?query``, e.g. ``https://coincheck.com/api/deposit_money?currency=BTC``.
* Headers ``ACCESS-KEY``, ``ACCESS-NONCE`` and ``ACCESS-SIGNATURE`` are added.
* A ``data`` mapping is sent as a form body (``application/x-www-form-urlencoded``),
  as pybotters sent it.
"""

from __future__ import annotations

import hashlib
import hmac

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import ms
from botters.protocol._registry import Route
from botters.protocol._request import Request

__all__ = ["ROUTES", "sign"]


def sign(
    request: Request, credentials: Credentials, /, *, now: float, nonce: str | None
) -> Request:
    """Sign a Coincheck REST request (pure: same inputs, same output)."""
    access_nonce = request.headers.get("ACCESS-NONCE") or str(ms(now))
    payload = f"{access_nonce}{request.url}".encode() + request.body
    return request.with_headers(
        {
            "ACCESS-KEY": credentials.key,
            "ACCESS-NONCE": access_nonce,
            "ACCESS-SIGNATURE": hmac.new(credentials.secret, payload, hashlib.sha256).hexdigest(),
        }
    )


ROUTES = (Route("coincheck", ("coincheck.com",), "coincheck", sign, "form"),)
