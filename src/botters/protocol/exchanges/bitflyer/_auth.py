"""bitFlyer Lightning REST authentication.

Rule (https://lightning.bitflyer.com/docs#authentication): HMAC-SHA256 hex of
``ACCESS-TIMESTAMP + METHOD + path(?query) + body``, sent with ``ACCESS-KEY``,
``ACCESS-TIMESTAMP`` and ``ACCESS-SIGN``. The timestamp is in milliseconds, as
pybotters sends it and bitFlyer accepts.
"""

from __future__ import annotations

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import hmac_hex, ms
from botters.protocol._registry import Route
from botters.protocol._request import Request

__all__ = ["ROUTES", "sign"]


def sign(
    request: Request, credentials: Credentials, /, *, now: float, nonce: str | None
) -> Request:
    """Sign a bitFlyer REST request (pure: same inputs, same output)."""
    timestamp = str(ms(now))
    text = f"{timestamp}{request.method}{request.path_qs}{request.body.decode()}"
    return request.with_headers(
        {
            "ACCESS-KEY": credentials.key,
            "ACCESS-TIMESTAMP": timestamp,
            "ACCESS-SIGN": hmac_hex(credentials.secret, text),
        }
    )


ROUTES = (Route("bitflyer", ("api.bitflyer.com",), "bitflyer", sign, "json"),)
