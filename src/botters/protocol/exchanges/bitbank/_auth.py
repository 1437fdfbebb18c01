"""bitbank REST authentication (private API on ``api.bitbank.cc``).

Rule (https://github.com/bitbankinc/bitbank-api-docs/blob/master/rest-api.md#authorization):
bitbank accepts two timing methods; both sign with HMAC-SHA256 (lower-case hex)
and send ``ACCESS-KEY`` and ``ACCESS-SIGNATURE``. The *payload* is the path with
``/v1`` and ``?query`` for GET (``/v1/user/spot/order?pair=btc_jpy``) and the
JSON body for every other method (the path is then not signed).

* **ACCESS-REQUEST-TIME method** (the default, and the one bitbank recommends):
  ``ACCESS-REQUEST-TIME`` is the time in milliseconds and the signed text is
  ``request time + time window + payload``. The time window is the value of an
  ``ACCESS-TIME-WINDOW`` header the caller set (milliseconds, at most 60000), or
  nothing when there is none, in which case bitbank's default of 5000 ms applies
  and nothing is inserted. A caller-set ``ACCESS-REQUEST-TIME`` is kept.
* **ACCESS-NONCE method**, used when the caller sets an ``ACCESS-NONCE`` header
  (and no ``ACCESS-REQUEST-TIME``): the signed text is ``nonce + payload``, the
  nonce is sent as given, and no request time is added. The nonce must grow with
  every request, which only the caller can guarantee across processes, so
  botters never invents one. (bitbank uses the request-time method when both
  headers arrive, and so does botters.)
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
    """Sign a bitbank private REST request (pure: same inputs, same output)."""
    payload = request.path_qs.encode() if request.method == "GET" else request.body
    headers = request.headers
    caller_nonce = headers.get("ACCESS-NONCE")
    if caller_nonce is not None and "ACCESS-REQUEST-TIME" not in headers:
        prefix = caller_nonce
        added = {"ACCESS-KEY": credentials.key}
    else:
        request_time = headers.get("ACCESS-REQUEST-TIME") or str(ms(now))
        prefix = request_time + headers.get("ACCESS-TIME-WINDOW", "")
        added = {"ACCESS-KEY": credentials.key, "ACCESS-REQUEST-TIME": request_time}
    digest = hmac.new(credentials.secret, prefix.encode() + payload, hashlib.sha256)
    added["ACCESS-SIGNATURE"] = digest.hexdigest()
    return request.with_headers(added)


ROUTES = (Route("bitbank", ("api.bitbank.cc",), "bitbank", sign, "json"),)
