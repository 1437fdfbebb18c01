"""OKX v5 REST authentication (also used, unchanged, by OKJ).

Rules (https://www.okx.com/docs-v5/en/#overview-rest-authentication):

* ``OK-ACCESS-SIGN`` is the standard-base64 HMAC-SHA256 of
  ``OK-ACCESS-TIMESTAMP + METHOD + requestPath + body``, where ``requestPath``
  carries the query (``/api/v5/account/balance?ccy=BTC,ETH``) exactly as sent and
  ``body`` is the raw body text (``""`` when there is none).
* ``OK-ACCESS-TIMESTAMP`` is UTC ISO-8601 with milliseconds and ``Z``
  (``2020-12-08T09:08:57.715Z``), made from ``now`` by :func:`iso_ms`.
* ``OK-ACCESS-KEY`` is the key and ``OK-ACCESS-PASSPHRASE`` the passphrase in
  plain text (it is *not* hashed, unlike KuCoin's).
* Request bodies are JSON labelled ``Content-Type: application/json``. The label
  is added to every request that has no ``Content-Type`` yet, GET included, as
  pybotters did and as the published vectors expect. A caller-set one is kept,
  so a body is never labelled as something it is not.

Demo trading (https://www.okx.com/docs-v5/en/, "Demo Trading Services")
uses the same hosts with the request header ``x-simulated-trading: 1`` and
separate demo keys: a request carrying that header, with exactly the value
``"1"``, is signed with the ``okx_demo`` credentials, every other request with
``okx``. The header is the caller's to set; botters only reads it.

Hosts: ``www.okx.com`` and ``aws.okx.com`` (the AWS entry point the docs list for
the same API). Other regional hosts are not registered until botters has an OKX
page that documents them.
"""

from __future__ import annotations

from typing import Final

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import hmac_b64, iso_ms
from botters.protocol._registry import Route
from botters.protocol._request import Request

__all__ = ["HOSTS", "ROUTES", "api_name_for", "sign"]

HOSTS: Final = ("www.okx.com", "aws.okx.com")
"""REST hosts that take OKX v5 signatures."""

_JSON: Final = "application/json"


def api_name_for(request: Request) -> str:
    """``"okx_demo"`` when the caller asked for demo trading, else ``"okx"``.

    OKX tells live and demo trading apart only by the ``x-simulated-trading: 1``
    header, not by host, and demo keys are separate keys; so the header decides
    which credentials sign. Any other value (``"0"``, ``"true"``) means live.
    """
    return "okx_demo" if request.headers.get("x-simulated-trading") == "1" else "okx"


def sign(
    request: Request, credentials: Credentials, /, *, now: float, nonce: str | None
) -> Request:
    """Sign an OKX (or OKJ) REST request (pure: same inputs, same output).

    Args:
        request: The request exactly as it will be sent.
        credentials: Key, secret and passphrase.
        now: Seconds since the epoch; becomes the millisecond ISO timestamp.
        nonce: Unused: OKX's scheme has no nonce.

    Returns:
        A new request with the four ``OK-ACCESS-*`` headers, and
        ``Content-Type: application/json`` unless one was already set.
    """
    timestamp = iso_ms(now)
    text = f"{timestamp}{request.method}{request.path_qs}{request.body.decode()}"
    headers = {
        "OK-ACCESS-KEY": credentials.key,
        "OK-ACCESS-SIGN": hmac_b64(credentials.secret, text),
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-PASSPHRASE": credentials.passphrase,
    }
    if "content-type" not in request.headers:
        headers["Content-Type"] = _JSON
    return request.with_headers(headers)


ROUTES = (Route("okx", HOSTS, api_name_for, sign, "json"),)
