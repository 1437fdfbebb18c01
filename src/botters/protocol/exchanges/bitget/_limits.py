"""Bitget's documented REST limits (API v2, https://www.bitget.com/api-doc/common/intro).

Rules
-----
* Bitget documents a limit on each endpoint's page, as "Frequency limit: 10
  times/1s (UID)", "Rate limit: 10 requests/second/UID" or "20 times/1s (IP)".
  Every endpoint is counted apart, so each has its own window: ``scope="key"``
  for UID limits, ``scope="ip"`` for IP limits. The pages do not say the second
  is aligned to the clock, so every window is ``"sliding"``.
* Where a page gives the number without saying whose (``POST
  /api/v2/mix/order/cancel-order``: "Frequency limit: 10 times/1s"), it is
  counted per IP: one budget for every key of this process is never looser
  than one per key.
* Copy-trading traders have a lower limit on the order endpoints ("Trader
  frequency limit: 1 times/1s (UID)"); it is not applied. Such a key can pass
  ``RateLimiter(scale=0.1)`` or its own limits.
* Endpoints not in the table (the rest of v2, and all of the v1 API, whose
  pages are no longer the reference) are not limited: Bitget documents no
  shared budget that would cover them, and a catch-all window would only make
  unrelated endpoints wait for each other. (The limiter books nothing for them,
  so after an HTTP 429 it holds every unpriced request, as it does for OKX.)

Bitget documents no rate-limit response headers, so there is no ``observe``.
The numbers are quoted from each endpoint's page, named next to it below.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal, TypeAlias

from botters.protocol._request import Request
from botters.protocol.limits import Cost, ExchangeLimits, Window

__all__ = ["LIMITS", "WINDOWS", "price"]

SOURCE: Final = "https://www.bitget.com/api-doc/common/intro"
_DOC: Final = "https://www.bitget.com/api-doc/"

_Costs: TypeAlias = tuple[Cost, ...]

_WINDOWS: list[Window] = []


def _per_second(path: str, limit: float, scope: Literal["ip", "key"], page: str) -> _Costs:
    window = Window(
        name="bitget." + path.removeprefix("/api/v2/").replace("/", "."),
        limit=limit,
        period=1.0,
        kind="sliding",
        scope=scope,
        source=_DOC + page,
    )
    _WINDOWS.append(window)
    return ((window, 1.0),)


# (method, path) -> costs, with the page each number is quoted from.
_TABLE: Final[dict[tuple[str, str], _Costs]] = {
    # Spot trade: "Frequency limit: 10 times/1s (UID)" and the like.
    ("POST", "/api/v2/spot/trade/place-order"): _per_second(
        "/api/v2/spot/trade/place-order", 10, "key", "spot/trade/Place-Order"
    ),
    ("POST", "/api/v2/spot/trade/cancel-order"): _per_second(
        "/api/v2/spot/trade/cancel-order", 10, "key", "spot/trade/Cancel-Order"
    ),
    ("POST", "/api/v2/spot/trade/batch-orders"): _per_second(
        "/api/v2/spot/trade/batch-orders", 5, "key", "spot/trade/Batch-Place-Orders"
    ),
    ("GET", "/api/v2/spot/trade/unfilled-orders"): _per_second(
        "/api/v2/spot/trade/unfilled-orders", 20, "key", "spot/trade/Get-Unfilled-Orders"
    ),
    ("GET", "/api/v2/spot/trade/orderInfo"): _per_second(
        "/api/v2/spot/trade/orderInfo", 20, "key", "spot/trade/Get-Order-Info"
    ),
    # Spot account: "Frequency limit: 10 times/1s (User ID)".
    ("GET", "/api/v2/spot/account/assets"): _per_second(
        "/api/v2/spot/account/assets", 10, "key", "spot/account/Get-Account-Assets"
    ),
    # Spot market: "Frequency limit: 20 times/1s (IP)".
    ("GET", "/api/v2/spot/market/tickers"): _per_second(
        "/api/v2/spot/market/tickers", 20, "ip", "spot/market/Get-Tickers"
    ),
    ("GET", "/api/v2/spot/market/orderbook"): _per_second(
        "/api/v2/spot/market/orderbook", 20, "ip", "spot/market/Get-Orderbook"
    ),
    ("GET", "/api/v2/spot/market/merge-depth"): _per_second(
        "/api/v2/spot/market/merge-depth", 20, "ip", "spot/market/Merge-Orderbook"
    ),
    # Futures (mix) trade.
    ("POST", "/api/v2/mix/order/place-order"): _per_second(
        "/api/v2/mix/order/place-order", 10, "key", "contract/trade/Place-Order"
    ),
    # "Frequency limit: 10 times/1s", no dimension given: per IP, the safe reading.
    ("POST", "/api/v2/mix/order/cancel-order"): _per_second(
        "/api/v2/mix/order/cancel-order", 10, "ip", "contract/trade/Cancel-Order"
    ),
    ("POST", "/api/v2/mix/order/batch-cancel-orders"): _per_second(
        "/api/v2/mix/order/batch-cancel-orders", 10, "key", "contract/trade/Batch-Cancel-Orders"
    ),
    ("GET", "/api/v2/mix/order/orders-pending"): _per_second(
        "/api/v2/mix/order/orders-pending", 10, "key", "contract/trade/Get-Orders-Pending"
    ),
    # Futures position and account: "Rate limit: 5 requests/sec/UID", "10 times/1s (uid)".
    ("GET", "/api/v2/mix/position/all-position"): _per_second(
        "/api/v2/mix/position/all-position", 5, "key", "contract/position/get-all-position"
    ),
    ("GET", "/api/v2/mix/account/account"): _per_second(
        "/api/v2/mix/account/account", 10, "key", "contract/account/Get-Single-Account"
    ),
    ("GET", "/api/v2/mix/account/bill"): _per_second(
        "/api/v2/mix/account/bill", 10, "key", "contract/account/Get-Account-Bill"
    ),
    # Futures market: "Frequency limit: 20 times/1s (IP)".
    ("GET", "/api/v2/mix/market/ticker"): _per_second(
        "/api/v2/mix/market/ticker", 20, "ip", "contract/market/Get-Ticker"
    ),
    ("GET", "/api/v2/mix/market/merge-depth"): _per_second(
        "/api/v2/mix/market/merge-depth", 20, "ip", "contract/market/Get-Merge-Depth"
    ),
}

WINDOWS: Final = tuple(_WINDOWS)


def price(request: Request) -> Sequence[Cost]:
    """One request of the endpoint's own window; nothing for endpoints not tabulated."""
    return _TABLE.get((request.method, request.parts.path), ())


LIMITS: Final = ExchangeLimits(
    exchange="bitget",
    hosts=frozenset({"api.bitget.com"}),  # HOSTS in _auth.py
    windows=WINDOWS,
    price=price,
    source=SOURCE,
)
