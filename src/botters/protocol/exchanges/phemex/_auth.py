"""Phemex REST authentication (contract, hedged perpetual and spot APIs).

Rules (https://github.com/phemex/phemex-api-docs/blob/master/Public-Contract-API-en.md,
"HTTP REST Request Header" and "Signature Example 1-3"; the same text is at
https://phemex-docs.github.io/#rest-request-header):

* ``x-phemex-request-signature`` is the lower-case hex HMAC-SHA256 of
  ``URL path + queryString + expiry + body``: the query without ``?`` and the
  raw body text (``""`` when there is none), concatenated with no separator.
* The query is signed decoded (``%XX`` and ``+`` for a space undone), as
  pybotters signed it and as Phemex's own client signs the plain
  ``key=value&...`` text it sends (phemex/phemex-python-api, ``client.py``).
  The request itself is sent encoded.
* ``x-phemex-request-expiry`` is "the Unix EPoch SECONDS to expire the request,
  normally it should be (Now() + 1 minute)": ``int(now) + 60``. An
  ``x-phemex-request-expiry`` the caller set is honoured instead (it must be a
  whole number of seconds), so a bot can pick its own window.
* ``x-phemex-access-token`` is the API key (its id).

Open question, recorded here on purpose: the contract docs also say
"apiSecret = Base64::urlDecode(API Secret)", i.e. the HMAC key would be the
base64url-*decoded* secret. Phemex's official Python client and pybotters use
the raw secret string as the key, and the published vectors (pybotters'
``test_phemex_get``/``test_phemex_post``) were made that way, so botters does
the same. If Phemex ever rejects such signatures, this is the first suspect.

Hosts: ``api.phemex.com`` and ``vapi.phemex.com`` (high rate limit) sign as
``phemex``; ``testnet-api.phemex.com`` as ``phemex_testnet``.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import unquote_plus

from botters.protocol._credentials import Credentials
from botters.protocol._errors import ConfigError
from botters.protocol._hmac import hmac_hex
from botters.protocol._registry import Route
from botters.protocol._request import Request

__all__ = ["EXPIRY_SECONDS", "HOSTS", "ROUTES", "TESTNET_HOSTS", "sign"]

HOSTS: Final = ("api.phemex.com", "vapi.phemex.com")
"""Mainnet REST hosts (``phemex``)."""

TESTNET_HOSTS: Final = ("testnet-api.phemex.com",)
"""Testnet REST hosts (``phemex_testnet``)."""

EXPIRY_SECONDS: Final = 60
"""How long a signed request stays valid when the caller sets no expiry."""

_EXPIRY_HEADER: Final = "x-phemex-request-expiry"


def _expiry(request: Request, now: float) -> str:
    preset = request.headers.get(_EXPIRY_HEADER)
    if preset is None:
        return str(int(now) + EXPIRY_SECONDS)
    if not (preset.isascii() and preset.isdigit()):
        raise ConfigError(
            f"{_EXPIRY_HEADER} must be whole epoch seconds (digits only), got {preset!r}"
        )
    return preset


def sign(
    request: Request, credentials: Credentials, /, *, now: float, nonce: str | None
) -> Request:
    """Sign a Phemex REST request (pure: same inputs, same output).

    Args:
        request: The request exactly as it will be sent. An
            ``x-phemex-request-expiry`` header on it is used as the expiry.
        credentials: Key and secret (the raw secret string is the HMAC key).
        now: Seconds since the epoch; the expiry is ``int(now) + 60``.
        nonce: Unused: Phemex's scheme has no nonce.

    Returns:
        A new request with the three ``x-phemex-*`` headers.

    Raises:
        ConfigError: The caller's ``x-phemex-request-expiry`` is not a whole
            number of seconds.
    """
    expiry = _expiry(request, now)
    text = f"{request.path}{unquote_plus(request.query)}{expiry}{request.body.decode()}"
    return request.with_headers(
        {
            "x-phemex-access-token": credentials.key,
            _EXPIRY_HEADER: expiry,
            "x-phemex-request-signature": hmac_hex(credentials.secret, text),
        }
    )


ROUTES = (
    Route("phemex", HOSTS, "phemex", sign, "json"),
    Route("phemex", TESTNET_HOSTS, "phemex_testnet", sign, "json"),
)
