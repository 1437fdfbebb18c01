r"""BitTrade (formerly Huobi Japan) REST authentication, signature version 2.

Rules (https://api-doc.bittrade.co.jp/, "Authentication"; the scheme is Huobi's
signature v2):

1. Four query parameters are added: ``AccessKeyId`` (the key),
   ``SignatureMethod=HmacSHA256``, ``SignatureVersion=2`` and ``Timestamp`` (UTC
   ``YYYY-MM-DDThh:mm:ss``, no fraction, no zone).
2. All query parameters, the request's own and these four, are URL-encoded
   with upper-case hex (``:`` becomes ``%3A``, a space ``%20``) and sorted by
   name in ASCII order, then joined with ``&``.
3. The text signed is ``METHOD + "\n" + host + "\n" + path + "\n" +
   sorted_query``; the body is not signed.
4. ``Signature`` is the standard-base64 HMAC-SHA256 of that text. It is
   appended, percent-encoded, as the last query parameter.

The query that is sent is the caller's query as written, then the four
parameters and ``Signature``; the server sorts again on its side, so the order
on the wire does not matter. Auth parameters already in the query (a request
signed before) are replaced, not repeated. A space is signed as ``%20`` as the
Huobi docs say, where pybotters (``urlencode``) signed ``+``.

A ``data`` body is sent as JSON. No header is added.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl, quote

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import hmac_b64, utc_seconds_iso
from botters.protocol._registry import Route
from botters.protocol._request import Request

__all__ = ["AUTH_PARAMS", "HOSTS", "ROUTES", "sign"]

HOSTS: Final = ("api-cloud.bittrade.co.jp",)
"""REST hosts that take BitTrade signatures."""

AUTH_PARAMS: Final = frozenset(
    {"AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp", "Signature"}
)
"""Query parameters the signer owns; any already in the query are replaced."""


def _enc(text: str) -> str:
    # RFC 3986 unreserved characters stay; everything else is %XX (upper-case).
    return quote(text, safe="-_.~")


def _split_query(query: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The raw ``&``-separated pieces to keep, and their decoded pairs, minus auth params."""
    kept_raw: list[str] = []
    pairs: list[tuple[str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        parsed = parse_qsl(piece, keep_blank_values=True)
        name, value = parsed[0] if parsed else (piece, "")
        if name in AUTH_PARAMS:
            continue
        kept_raw.append(piece)
        pairs.append((name, value))
    return kept_raw, pairs


def sign(
    request: Request, credentials: Credentials, /, *, now: float, nonce: str | None
) -> Request:
    """Sign a BitTrade REST request (pure: same inputs, same output).

    Args:
        request: The request exactly as it will be sent.
        credentials: Key and secret.
        now: Seconds since the epoch; sent as UTC ``YYYY-MM-DDThh:mm:ss``.
        nonce: Unused: the scheme has no nonce.

    Returns:
        A new request whose query ends with the four auth parameters and
        ``Signature``. Headers and body are unchanged.
    """
    kept_raw, pairs = _split_query(request.query)
    auth = [
        ("AccessKeyId", credentials.key),
        ("SignatureMethod", "HmacSHA256"),
        ("SignatureVersion", "2"),
        ("Timestamp", utc_seconds_iso(now)),
    ]
    encoded = [(_enc(k), _enc(v)) for k, v in (*pairs, *auth)]
    encoded.sort(key=lambda kv: kv[0])
    canonical = "&".join(f"{k}={v}" for k, v in encoded)
    text = f"{request.method}\n{request.host}\n{request.path}\n{canonical}"
    signature = hmac_b64(credentials.secret, text)
    added = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in (*auth, ("Signature", signature)))
    return request.with_query("&".join((*kept_raw, added)))


ROUTES = (Route("bittrade", HOSTS, "bittrade", sign, "json"),)
