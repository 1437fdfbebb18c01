"""Binance REST authentication: HMAC, Ed25519 and RSA keys.

Rules
-----
Spot (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security),
USDⓈ-M (https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info),
COIN-M (https://developers.binance.com/docs/derivatives/coin-margined-futures/general-info),
portfolio margin (https://developers.binance.com/docs/derivatives/portfolio-margin/general-info)
and options (https://developers.binance.com/docs/derivatives/option/general-info) share one
scheme:

* What a request needs depends on the endpoint's security type; see
  :func:`~botters.protocol.exchanges.binance.endpoint_security`. Public (NONE)
  requests are sent unchanged, MARKET_DATA and USER_STREAM (listenKey)
  requests get only the ``X-MBX-APIKEY`` header, and every other request is
  SIGNED as below.
* ``timestamp=<milliseconds>`` is appended to the query, unless the caller
  already put a ``timestamp`` parameter in the query or the form body; then the
  caller's value is kept (and signed), so a caller may choose its own clock.
  ``recvWindow`` is never added: Binance's default (5000 ms) applies unless the
  caller sends one.
* The signed payload is Binance's ``totalParams``: the query string exactly as
  sent (percent-encoded, so non-ASCII is signed as UTF-8 ``%XX`` escapes, as the
  docs require) immediately followed by the body, **with no ``&`` between them**.
  Parameters may travel in the query, a form body, or both.
* ``signature=<sig>`` is appended as the last query parameter, and the
  ``X-MBX-APIKEY`` header is added.
* The signature depends on the key type
  (https://developers.binance.com/docs/binance-spot-api-docs/faqs/api_key_types):

  - an HMAC secret (the usual case): lower-case hex HMAC-SHA256;
  - a PEM private key given as the secret: Ed25519, or RSASSA-PKCS1-v1_5 with
    SHA-256 for an RSA key, over the same payload, base64-encoded and then
    percent-encoded in the URL (``+``, ``/`` and ``=`` become ``%2B``, ``%2F``
    and ``%3D``), as the docs' RSA and Ed25519 examples show.

  PEM keys need the optional ``cryptography`` package (``pip install
  botters[crypto]``); it is imported only when a PEM key is first used, and the
  parsed key is cached on the :class:`~botters.protocol.Credentials`.

Hosts: ``api.binance.com``, ``api-gcp.binance.com`` and ``api1``-``api4``
(spot, the alternatives Binance lists), ``fapi``, ``dapi``, ``papi`` and
``eapi.binance.com`` sign with the ``binance`` credentials;
``testnet.binance.vision`` with ``binancespot_testnet`` and
``testnet.binancefuture.com`` with ``binancefuture_testnet``.
``data-api.binance.vision`` serves public data only and is never signed.
WebSocket URLs (``wss://stream.binance.com``...) are not registered, so a
handshake is never touched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote

from botters.protocol._credentials import Credentials
from botters.protocol._errors import SigningError
from botters.protocol._hmac import ms
from botters.protocol._registry import Route
from botters.protocol._request import Request
from botters.protocol.exchanges.binance._endpoints import endpoint_security

__all__ = ["ROUTES", "sign", "sign_payload"]

_INSTALL_HINT = "install the optional dependency: pip install 'botters[crypto]'"


def _has_param(encoded: str, name: str) -> bool:
    """Whether the ``&``-joined, percent-encoded ``encoded`` has a parameter ``name``."""
    if not encoded:
        return False
    return any(pair.partition("=")[0] == name for pair in encoded.split("&"))


def _load_private_key(credentials: Credentials) -> Any:
    """Parse the PEM secret once and cache the key object on ``credentials``.

    Every error message names the API name and the problem only; the key
    material never appears in it (``from None`` also drops the library's own
    exception, which could quote the input).
    """
    key = credentials._private_key
    if key is not None:
        return key
    try:
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives.asymmetric.ed25519 import (
            Ed25519PrivateKey,
        )
        from cryptography.hazmat.primitives.asymmetric.rsa import (
            RSAPrivateKey,
        )
        from cryptography.hazmat.primitives.serialization import (
            load_pem_private_key,
        )
    except ImportError:
        raise SigningError(
            f"{credentials.name}: the secret is a PEM private key (Ed25519/RSA), which "
            f"needs the 'cryptography' package; {_INSTALL_HINT}"
        ) from None
    try:
        key = load_pem_private_key(credentials.secret, password=None)
    except TypeError:
        raise SigningError(
            f"{credentials.name}: the PEM private key is encrypted; botters needs an "
            "unencrypted PKCS#8 key"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise SigningError(
            f"{credentials.name}: the secret starts like a PEM private key but could not "
            "be loaded; Binance expects an Ed25519 or RSA key in PKCS#8 PEM form"
        ) from None
    if not isinstance(key, Ed25519PrivateKey | RSAPrivateKey):
        raise SigningError(
            f"{credentials.name}: unsupported private key type {type(key).__name__}; "
            "Binance accepts Ed25519 or RSA keys"
        )
    credentials._private_key = key
    return key


def _asymmetric_b64(credentials: Credentials, payload: bytes) -> str:
    key = _load_private_key(credentials)
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    if isinstance(key, RSAPrivateKey):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        raw: bytes = key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
    else:
        raw = key.sign(payload)
    return base64.b64encode(raw).decode("ascii")


def _signature(credentials: Credentials, payload: bytes) -> str:
    if credentials.is_pem:
        return _asymmetric_b64(credentials, payload)
    return hmac.new(credentials.secret, payload, hashlib.sha256).hexdigest()


def sign_payload(credentials: Credentials, payload: str) -> str:
    """Sign an already-built Binance payload with whatever key the credentials hold.

    This is the primitive shared by REST and the WebSocket API (whose payload is
    the ``&``-joined, key-sorted, *unencoded* params; see
    https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/request-security).

    Args:
        credentials: Binance credentials; the secret is an HMAC key or a PEM
            Ed25519/RSA private key.
        payload: The exact text to sign (UTF-8 encoded before signing).

    Returns:
        Lower-case hex HMAC-SHA256 for an HMAC secret; standard base64 (not
        URL-encoded) of the Ed25519 or RSA-SHA256 signature for a PEM key.

    Raises:
        SigningError: The secret is a PEM key and ``cryptography`` is missing, or
            the key cannot be used. The message never contains the key.

    >>> sign_payload(Credentials("binance", "k", b"secret"), "timestamp=1")
    'c402d7b980cc9eabd875601df69f390fe7790d9ca1e140a3f62ec5f5d161e797'
    """
    return _signature(credentials, payload.encode())


def sign(
    request: Request, credentials: Credentials, /, *, now: float, nonce: str | None
) -> Request:
    """Sign a Binance REST request according to its endpoint's security type.

    Pure: the same request, credentials and ``now`` always give the same result
    (HMAC, Ed25519 and RSA-PKCS1-v1_5 signatures are all deterministic).

    Raises:
        SigningError: A PEM key cannot be used (see :func:`sign_payload`).
    """
    security = endpoint_security(request.path)
    if security == "NONE":
        return request
    key_header = {"X-MBX-APIKEY": credentials.key}
    if security == "API_KEY":
        return request.with_headers(key_header)
    query = request.query
    if not (_has_param(query, "timestamp") or _has_param(_form_text(request), "timestamp")):
        stamp = f"timestamp={ms(now)}"
        query = f"{query}&{stamp}" if query else stamp
    signature = _signature(credentials, query.encode() + request.body)
    if credentials.is_pem:
        signature = quote(signature, safe="")
    query = f"{query}&signature={signature}" if query else f"signature={signature}"
    return request.with_query(query).with_headers(key_header)


def _form_text(request: Request) -> str:
    """The body as text when it can hold form parameters, else ``""``."""
    body = request.body
    if not body or body[:1] in (b"{", b"["):
        return ""
    return body.decode("utf-8", "replace")


ROUTES = (
    Route(
        "binance",
        (
            "api.binance.com",
            "api-gcp.binance.com",
            "api1.binance.com",
            "api2.binance.com",
            "api3.binance.com",
            "api4.binance.com",
            "fapi.binance.com",
            "dapi.binance.com",
            "papi.binance.com",
            "eapi.binance.com",
        ),
        "binance",
        sign,
        "form",
    ),
    Route("binance", ("testnet.binance.vision",), "binancespot_testnet", sign, "form"),
    Route("binance", ("testnet.binancefuture.com",), "binancefuture_testnet", sign, "form"),
)
