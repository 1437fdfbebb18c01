"""GMO Coin (crypto) REST authentication.

Rule (https://api.coin.z.com/docs/en/#authentication, and the request examples
of the private endpoints, e.g. the create / extend / delete access token
examples from https://api.coin.z.com/docs/en/#ws-auth-post on):

* ``API-TIMESTAMP`` is the time in milliseconds.
* The signed path is the request path without its first segment:
  ``/private/v1/order`` is signed as ``/v1/order`` (the docs sign the part after
  the ``https://api.coin.z.com/private`` endpoint). **The query string is not
  signed.**
* The signature is the lower-case hex HMAC-SHA256 of
  ``API-TIMESTAMP + METHOD + signed path + body`` for **POST**, and of
  ``API-TIMESTAMP + METHOD + signed path`` for every other method. GET has no
  body; PUT and DELETE (``/v1/ws-auth`` to extend or delete a WebSocket token)
  send a JSON body, but GMO's own examples sign them *without* it, so botters
  does too (as pybotters did).
* Headers ``API-KEY``, ``API-TIMESTAMP`` and ``API-SIGN`` are added.
* The Public API (paths under ``/public/``) "does not require authentication":
  such requests are sent unchanged, with no key, so a public call looks the same
  with or without credentials loaded.
* A ``data`` mapping is sent as JSON (``application/json``). A POST without data
  has no body and is signed with an empty body, as pybotters sent
  ``POST /private/v1/ws-auth``; GMO's own example for that endpoint sends and
  signs ``{}`` instead, which ``data="{}"`` reproduces byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import ms
from botters.protocol._registry import Route
from botters.protocol._request import Request

__all__ = ["ROUTES", "sign"]


def _signed_path(path: str) -> str:
    """``/private/v1/order`` -> ``/v1/order``: the path without its first segment."""
    rest = path.split("/", 2)
    return "/" + rest[2] if len(rest) == 3 else "/"


def sign(
    request: Request, credentials: Credentials, /, *, now: float, nonce: str | None
) -> Request:
    """Sign a GMO Coin private REST request; public ones are returned unchanged."""
    path = request.path
    if path == "/public" or path.startswith("/public/"):
        return request
    timestamp = str(ms(now))
    payload = f"{timestamp}{request.method}{_signed_path(path)}".encode()
    if request.method == "POST":
        payload += request.body
    return request.with_headers(
        {
            "API-KEY": credentials.key,
            "API-TIMESTAMP": timestamp,
            "API-SIGN": hmac.new(credentials.secret, payload, hashlib.sha256).hexdigest(),
        }
    )


ROUTES = (Route("gmocoin", ("api.coin.z.com",), "gmocoin", sign, "json"),)
