"""bitFlyer Lightning's documented HTTP API limits (https://lightning.bitflyer.com/docs).

Rules
-----
The docs' table, all "per 5 minutes" or "per minute" with no clock alignment
stated, so every window is ``"sliding"``:

* same IP address: 500 queries per 5 minutes (every request);
* private APIs (``/v1/me/...``): 500 queries per 5 minutes, per API user
  (``scope="key"``);
* ``POST /v1/me/sendchildorder``, ``/v1/me/sendparentorder`` and
  ``/v1/me/cancelallchildorders``: 300 queries per 5 minutes;
* orders with volume <= 0.1: 100 placements per minute; exceeding it lowers the
  limit to 10 per minute for an hour. An order's volume is the ``size`` of its
  JSON body; a parent order counts once if any of its child orders is that
  small.

Exceeding a limit blocks calls for a while and lowers the limit afterwards,
which the docs do not quantify except for small orders; the limiter's 429
handling covers the block. bitFlyer documents no rate-limit response headers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from botters.protocol._request import Request
from botters.protocol.limits import Cost, ExchangeLimits, Window

__all__ = ["LIMITS", "price"]

SOURCE: Final = "https://lightning.bitflyer.com/docs"

IP: Final = Window(
    name="bitflyer.ip", limit=500, period=300.0, kind="sliding", scope="ip", source=SOURCE
)
PRIVATE: Final = Window(
    name="bitflyer.private", limit=500, period=300.0, kind="sliding", scope="key", source=SOURCE
)
ORDERS: Final = Window(
    name="bitflyer.orders", limit=300, period=300.0, kind="sliding", scope="key", source=SOURCE
)
SMALL_ORDERS: Final = Window(
    name="bitflyer.small-orders", limit=100, period=60.0, kind="sliding", scope="key", source=SOURCE
)

_PUBLIC: Final = ((IP, 1.0),)
_PRIVATE: Final = ((IP, 1.0), (PRIVATE, 1.0))
_ORDER: Final = ((IP, 1.0), (PRIVATE, 1.0), (ORDERS, 1.0))
_SMALL_ORDER: Final = ((IP, 1.0), (PRIVATE, 1.0), (ORDERS, 1.0), (SMALL_ORDERS, 1.0))

_ORDER_PATHS: Final = frozenset({"/v1/me/sendchildorder", "/v1/me/sendparentorder"})
_CANCEL_ALL: Final = "/v1/me/cancelallchildorders"
_SIZE: Final = b'"size"'
_SMALL: Final = 0.1


def _has_small_size(body: bytes) -> bool:
    """Whether any ``"size"`` member of the JSON body is <= 0.1 (or unreadable)."""
    at = body.find(_SIZE)
    if at < 0:
        return True  # no size to read: counted as small, the safe side
    while at >= 0:
        i = body.find(b":", at + len(_SIZE))
        if i < 0:
            return True
        j = i + 1
        n = len(body)
        while j < n and body[j] in b' \t\r\n"':
            j += 1
        end = j
        while end < n and body[end] not in b',}] \t\r\n"':
            end += 1
        try:
            if float(body[j:end]) <= _SMALL:
                return True
        except ValueError:
            return True
        at = body.find(_SIZE, end)
    return False


def price(request: Request) -> Sequence[Cost]:
    """The IP window for every request; the private, order and small-order windows as they apply."""
    path = request.path
    if not path.startswith("/v1/me/"):
        return _PUBLIC
    if request.method != "POST":
        return _PRIVATE
    if path in _ORDER_PATHS:
        return _SMALL_ORDER if _has_small_size(request.body) else _ORDER
    if path == _CANCEL_ALL:
        return _ORDER
    return _PRIVATE


LIMITS: Final = ExchangeLimits(
    exchange="bitflyer",
    hosts=frozenset({"api.bitflyer.com"}),  # ROUTES in _auth.py
    windows=(IP, PRIVATE, ORDERS, SMALL_ORDERS),
    price=price,
    source=SOURCE,
)
