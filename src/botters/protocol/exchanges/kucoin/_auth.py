"""KuCoin REST authentication (spot, margin and futures; API key versions 1-3).

Rules (https://www.kucoin.com/docs-new/authentication and
https://www.kucoin.com/docs/basic-info/connection-method/authentication/signing-a-message):

* ``KC-API-SIGN`` is the standard-base64 HMAC-SHA256 of
  ``KC-API-TIMESTAMP + METHOD + endpoint(?query) + body``; ``body`` is the raw
  body text, ``""`` when there is none.
* "When generating signature, the URL must use the content that has not been
  URL-encoded": ``/api/v1/sub/api-key?passphrase=abc%21%40%2311`` is signed as
  ``/api/v1/sub/api-key?passphrase=abc!@#11``. So the path is percent-decoded
  and the query is decoded as a form would be (``%XX`` and ``+`` for a space),
  which is how botters encodes ``params`` and how KuCoin's own SDK signs the raw
  ``key=value`` text (Kucoin/kucoin-universal-sdk, ``default_transport.py``).
  Unlike pybotters (yarl's ``path_qs``), encoded ``%26``, ``%3D``, ``%2B`` and
  ``%25`` are decoded too, as the SDK does. The request itself is sent encoded.
* ``KC-API-TIMESTAMP`` is milliseconds since the epoch.
* ``KC-API-PASSPHRASE``: for key versions 2 and 3 it is the base64 HMAC-SHA256
  of the passphrase under the secret; for version 1 it is the plain passphrase.
* ``KC-API-KEY-VERSION`` is ``"2"`` (what pybotters sent; v2 and v3 keys sign
  alike). A ``KC-API-KEY-VERSION`` the caller set is honoured and decides the
  passphrase form, so v1 and v3 keys work too.

No ``Content-Type`` is added: a request with a body already carries
``application/json`` from :meth:`Request.build`, and a GET has no body to label.

Hosts: ``api.kucoin.com`` (spot and margin) and ``api-futures.kucoin.com``
(futures), both ``kucoin``.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import unquote, unquote_plus

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import hmac_b64, ms
from botters.protocol._registry import Route
from botters.protocol._request import Request

__all__ = ["DEFAULT_KEY_VERSION", "HOSTS", "ROUTES", "sign", "signed_path"]

HOSTS: Final = ("api.kucoin.com", "api-futures.kucoin.com")
"""REST hosts that take KuCoin signatures."""

DEFAULT_KEY_VERSION: Final = "2"
"""``KC-API-KEY-VERSION`` sent when the caller did not set one."""

_VERSION_HEADER: Final = "KC-API-KEY-VERSION"


def signed_path(request: Request) -> str:
    """The un-URL-encoded ``path(?query)`` KuCoin signs for ``request``.

    >>> r = Request("GET", "https://api.kucoin.com/api/v1/sub/api-key?passphrase=abc%21%40%2311")
    >>> signed_path(r)
    '/api/v1/sub/api-key?passphrase=abc!@#11'
    """
    path = unquote(request.path)
    query = request.query
    return f"{path}?{unquote_plus(query)}" if query else path


def sign(
    request: Request, credentials: Credentials, /, *, now: float, nonce: str | None
) -> Request:
    """Sign a KuCoin REST request (pure: same inputs, same output).

    Args:
        request: The request exactly as it will be sent. A ``KC-API-KEY-VERSION``
            header on it is kept and chooses how the passphrase is sent.
        credentials: Key, secret and passphrase.
        now: Seconds since the epoch; sent in milliseconds.
        nonce: Unused: KuCoin's scheme has no nonce.

    Returns:
        A new request with the five ``KC-API-*`` headers.
    """
    timestamp = str(ms(now))
    version = request.headers.get(_VERSION_HEADER, DEFAULT_KEY_VERSION)
    text = f"{timestamp}{request.method}{signed_path(request)}{request.body.decode()}"
    passphrase = (
        credentials.passphrase
        if version == "1"
        else hmac_b64(credentials.secret, credentials.passphrase)
    )
    return request.with_headers(
        {
            "KC-API-KEY": credentials.key,
            "KC-API-SIGN": hmac_b64(credentials.secret, text),
            "KC-API-TIMESTAMP": timestamp,
            "KC-API-PASSPHRASE": passphrase,
            _VERSION_HEADER: version,
        }
    )


ROUTES = (Route("kucoin", HOSTS, "kucoin", sign, "json"),)
