"""bitbank's documented private REST API limits.

Source: https://github.com/bitbankinc/bitbank-api-docs/blob/master/rest-api.md#rate-limit

Rules
-----
* "We limits REST API calls per user, per UPDATE or QUERY, per second": UPDATE
  is "order, cancel and withdrawal request", QUERY "others". Usually QUERY is
  10 calls per second and UPDATE 6 calls per second. Per user, so
  ``scope="key"``; per second without clock alignment, so ``"sliding"``.
  bitbank raises limits on request; pass ``RateLimiter(scale=...)`` then.
* A system-wide limit also exists ("high enough for usual case"); it is not
  quantified, and the limiter's 429 handling covers it.
* ``public.bitbank.cc`` (the public API) is not limited here: it is not one of
  botters' signed hosts and the private API's page covers only the private API.

bitbank documents no rate-limit response headers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from botters.protocol._request import Request
from botters.protocol.limits import Cost, ExchangeLimits, Window

__all__ = ["LIMITS", "price"]

SOURCE: Final = "https://github.com/bitbankinc/bitbank-api-docs/blob/master/rest-api.md#rate-limit"

QUERY: Final = Window(
    name="bitbank.query", limit=10, period=1.0, kind="sliding", scope="key", source=SOURCE
)
UPDATE: Final = Window(
    name="bitbank.update", limit=6, period=1.0, kind="sliding", scope="key", source=SOURCE
)

_QUERY: Final = ((QUERY, 1.0),)
_UPDATE: Final = ((UPDATE, 1.0),)

# The order, cancel and withdrawal-request endpoints (SOURCE, "Order" and "Withdrawal").
_UPDATE_PATHS: Final = frozenset(
    {
        "/v1/user/spot/order",
        "/v1/user/spot/cancel_order",
        "/v1/user/spot/cancel_orders",
        "/v1/user/request_withdrawal",
    }
)


def price(request: Request) -> Sequence[Cost]:
    """One UPDATE call for a POST to an order, cancel or withdrawal endpoint, else one QUERY."""
    if request.method == "POST" and request.path in _UPDATE_PATHS:
        return _UPDATE
    return _QUERY


LIMITS: Final = ExchangeLimits(
    exchange="bitbank",
    hosts=frozenset({"api.bitbank.cc"}),  # ROUTES in _auth.py
    windows=(QUERY, UPDATE),
    price=price,
    source=SOURCE,
)
