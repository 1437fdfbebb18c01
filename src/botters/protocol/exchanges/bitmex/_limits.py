"""BitMEX's documented REST limits.

Rules
-----
* "Request Rate Limits when authenticated: 120 requests per minute on all
  routes; unauthenticated limit remains 30 requests per minute"
  (https://blog.bitmex.com/api_announcement/updates-to-rate-limits/). The
  limiter is a token bucket refilled evenly ("one token is added ... every
  second", https://www.bitmex.com/app/restAPI#Request-Rate-Limits); a sliding
  window of the bucket's size per minute never admits more than it, so both
  windows are ``"sliding"``. Authenticated requests are counted per API key
  (``scope="key"``), the others per IP.
* A second layer of 10 requests per second applies to the order-management
  routes listed in
  https://blog.bitmex.com/second-layer-rate-limits-to-improve-the-bitmex-trading-experience/
  (also ``scope="key"``: only signed requests reach them).
* The unauthenticated budget is ``scope="anonymous"``: only requests sent
  without a key count against it, and the limiter, told the key before the
  request is signed, picks the right budget without reading signature headers.
* Responses report the minute bucket in ``x-ratelimit-limit``,
  ``x-ratelimit-remaining`` and ``x-ratelimit-reset`` (UNIX seconds), and the
  order routes' second layer in ``x-ratelimit-remaining-1s`` (and
  ``x-ratelimit-limit-1s``); :func:`observe` reads both.

``testnet.bitmex.com`` is not included: the announcements cover the production
API only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from botters.protocol._request import Request
from botters.protocol.exchanges._limitkit import header_float
from botters.protocol.limits import Cost, ExchangeLimits, Observation, Window

__all__ = ["LIMITS", "observe", "price"]

SOURCE: Final = "https://blog.bitmex.com/api_announcement/updates-to-rate-limits/"
SECOND_LAYER_URL: Final = (
    "https://blog.bitmex.com/second-layer-rate-limits-to-improve-the-bitmex-trading-experience/"
)

AUTHENTICATED: Final = Window(
    name="bitmex.authenticated", limit=120, period=60.0, kind="sliding", scope="key", source=SOURCE
)
UNAUTHENTICATED: Final = Window(
    name="bitmex.unauthenticated",
    limit=30,
    period=60.0,
    kind="sliding",
    scope="anonymous",
    source=SOURCE,
)
ORDERS_1S: Final = Window(
    name="bitmex.orders.1s",
    limit=10,
    period=1.0,
    kind="sliding",
    scope="key",
    source=SECOND_LAYER_URL,
)

# Each request costs one in whichever minute budget applies (the limiter skips
# the key's without a key and the anonymous one with a key).
_ANY: Final = ((AUTHENTICATED, 1.0), (UNAUTHENTICATED, 1.0))
_ORDER: Final = (*_ANY, (ORDERS_1S, 1.0))

# The routes under the second layer (SECOND_LAYER_URL).
_SECOND_LAYER: Final = {
    "/api/v1/order": frozenset({"POST", "PUT", "DELETE"}),
    "/api/v1/order/bulk": frozenset({"POST", "PUT"}),
    "/api/v1/order/all": frozenset({"DELETE"}),
    "/api/v1/position/isolate": frozenset({"POST"}),
    "/api/v1/position/leverage": frozenset({"POST"}),
    "/api/v1/position/transferMargin": frozenset({"POST"}),
}


def price(request: Request) -> Sequence[Cost]:
    """One request of the authenticated or unauthenticated minute budget, plus the order layer."""
    methods = _SECOND_LAYER.get(request.path)
    if methods is not None and request.method in methods:
        return _ORDER
    return _ANY


def observe(request: Request, status: int, headers: Mapping[str, str]) -> Iterable[Observation]:
    """The minute bucket's and the order layer's counters, from the ``x-ratelimit-*`` headers."""
    out = []
    remaining = header_float(headers, "x-ratelimit-remaining")
    limit = header_float(headers, "x-ratelimit-limit")
    if remaining is not None or limit is not None:
        window = AUTHENTICATED if "api-key" in request.headers else UNAUTHENTICATED
        out.append(
            Observation(
                window=window,
                remaining=remaining,
                limit=limit,
                reset_at=header_float(headers, "x-ratelimit-reset"),
            )
        )
    remaining_1s = header_float(headers, "x-ratelimit-remaining-1s")
    if remaining_1s is not None:
        out.append(
            Observation(
                window=ORDERS_1S,
                remaining=remaining_1s,
                limit=header_float(headers, "x-ratelimit-limit-1s"),
            )
        )
    return out


LIMITS: Final = ExchangeLimits(
    exchange="bitmex",
    hosts=frozenset({"www.bitmex.com"}),  # HOSTS in _auth.py (testnet excluded, see above)
    windows=(AUTHENTICATED, UNAUTHENTICATED, ORDERS_1S),
    price=price,
    observe=observe,
    source=SOURCE,
)
