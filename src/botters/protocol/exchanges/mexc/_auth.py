"""MEXC REST authentication: spot v3 (``api.mexc.com``) and contract (``contract.mexc.com``).

Both sign with the ``mexc`` credentials, but with different schemes.

Spot v3 (``api.mexc.com``)
--------------------------
Rule (https://www.mexc.com/api-docs/spot-v3/general-info, formerly
https://mexcdevelop.github.io/apidocs/spot_v3_en/#signed), the same design as
Binance:

* ``timestamp=<milliseconds>`` is appended to the query, unless the caller
  already put a ``timestamp`` parameter in the query or form body (then the
  caller's value is kept and signed). No ``recvWindow`` is added (MEXC's
  default, 5000 ms, applies).
* The signed payload is ``totalParams``: the query string exactly as sent
  followed by the body, **with no ``&`` between them** (the docs' "mixed query
  string and request body" example). HMAC-SHA256, lower-case hex.
* ``signature=<hex>`` is appended as the last query parameter and the
  ``X-MEXC-APIKEY`` header is added.
* A ``data`` mapping is sent as an ``application/x-www-form-urlencoded`` body and
  labelled so. pybotters sent the same urlencoded bytes labelled
  ``application/json`` (its quirk §8.3); MEXC's own signed examples post the body
  with ``curl -d``, i.e. as a form. The general-info page also says a body may be
  JSON; the one layout every MEXC example agrees on is the query string, so
  passing parameters as ``params=`` is the safest choice for POST/DELETE.
* No ``Content-Type`` is added to a request without a body.

Contract / open-api v2 (``contract.mexc.com``, ``www.mexc.com``)
----------------------------------------------------------------
Rule (https://www.mexc.com/api-docs/futures/integration-guide, formerly
https://mexcdevelop.github.io/apidocs/contract_v1_en/#access-and-authentication):

* ``Request-Time`` is the time in milliseconds.
* The parameter string is, for GET and DELETE, the query parameters sorted by
  name and joined as ``name=value`` with ``&``, each value URL-encoded the way
  the docs' Java sample does (``URLEncoder`` with ``%20`` for a space, so a comma
  in a batch parameter is signed as ``%2C``, as the docs require); for other
  methods, the raw JSON body. No parameters give ``""``.
* The signature is the lower-case hex HMAC-SHA256 of
  ``api_key + Request-Time + parameter string``.
* Headers ``ApiKey``, ``Request-Time`` and ``Signature`` are added, and
  ``Content-Type: application/json`` unless the request already names its
  content type: the docs give that content type for the API and MEXC's clients
  (and pybotters) send it on every call. An optional ``Recv-Window`` header set by
  the caller is passed through; it is not signed.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote, unquote_plus

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import ms
from botters.protocol._registry import Route
from botters.protocol._request import Request

__all__ = ["ROUTES", "sign", "sign_contract"]

# java.net.URLEncoder leaves letters, digits and ".-*_" alone; MEXC's sample
# then turns "+" (space) into "%20", which is what quote() gives directly.
_JAVA_URLENCODER_SAFE = "-_.*"


def _hex(secret: bytes, payload: bytes) -> str:
    return hmac.new(secret, payload, hashlib.sha256).hexdigest()


def _has_param(encoded: str, name: str) -> bool:
    if not encoded:
        return False
    return any(pair.partition("=")[0] == name for pair in encoded.split("&"))


def sign(
    request: Request, credentials: Credentials, /, *, now: float, nonce: str | None
) -> Request:
    """Sign a MEXC spot v3 request (``api.mexc.com``), Binance style.

    Pure: the same inputs always give the same output.
    """
    query = request.query
    body = request.body
    form = "" if not body or body[:1] in (b"{", b"[") else body.decode("utf-8", "replace")
    if not (_has_param(query, "timestamp") or _has_param(form, "timestamp")):
        stamp = f"timestamp={ms(now)}"
        query = f"{query}&{stamp}" if query else stamp
    signature = _hex(credentials.secret, query.encode() + body)
    query = f"{query}&signature={signature}" if query else f"signature={signature}"
    return request.with_query(query).with_headers({"X-MEXC-APIKEY": credentials.key})


def _sorted_params(query: str) -> str:
    """The contract API's GET/DELETE parameter string: sorted by name, values re-encoded."""
    pairs: list[tuple[str, str]] = []
    for item in query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append((unquote_plus(name), unquote_plus(value)))
    pairs.sort(key=lambda pair: pair[0])  # stable: repeated names keep their order
    return "&".join(
        f"{quote(name, safe=_JAVA_URLENCODER_SAFE)}={quote(value, safe=_JAVA_URLENCODER_SAFE)}"
        for name, value in pairs
    )


def sign_contract(
    request: Request, credentials: Credentials, /, *, now: float, nonce: str | None
) -> Request:
    """Sign a MEXC contract / open-api v2 request (pure: same inputs, same output)."""
    request_time = str(ms(now))
    if request.method in ("GET", "DELETE"):
        params = _sorted_params(request.query).encode()
    else:
        params = request.body
    payload = f"{credentials.key}{request_time}".encode() + params
    headers = {
        "ApiKey": credentials.key,
        "Request-Time": request_time,
        "Signature": _hex(credentials.secret, payload),
    }
    if "content-type" not in request.headers:
        headers["Content-Type"] = "application/json"
    return request.with_headers(headers)


ROUTES = (
    Route("mexc", ("api.mexc.com",), "mexc", sign, "form"),
    Route("mexc", ("contract.mexc.com", "www.mexc.com"), "mexc", sign_contract, "json"),
)
