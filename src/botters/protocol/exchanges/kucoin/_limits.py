"""KuCoin's documented REST limits ("rate limit 2.0", https://www.kucoin.com/docs-new/rate-limit).

Rules
-----
* **Resource pools.** "Each API resource pool has a certain quota, the
  specific amount of which depends on the VIP level". The tables use VIP0, the
  level every account starts at: Spot (include Margin) 4000/30s, Futures
  2000/30s, Public 2000/30s. An account with a higher level gets a higher
  ``gw-ratelimit-limit`` in every response, which replaces the documented
  number (see below), or can pass ``RateLimiter(scale=...)``.
* **Who shares a pool.** The Public pool "is based on IP" (``scope="ip"``);
  "with the exception of Public resource pool endpoints, all other resource
  pools are based on UID" (``scope="key"``: the limiter keeps one budget per
  API key, so two keys of one UID are counted apart; give each UID one key, or
  a sub-account, which KuCoin counts independently).
* **Weights.** "When a user requests any API, the weight of this interface
  will be deducted"; each endpoint's page gives its pool and weight. Only the
  endpoints whose weights are quoted below are priced; every other request is
  not limited here (the pools are shared, so an unpriced request still uses
  quota, which the next priced response's counters report).
* **Window.** The quota is "updated every 30s (starting from the arrival time
  of the user's first request)": a 30-second window that starts with the first
  request, not at a wall-clock multiple. A sliding window of 30 s admits no more
  in any such window, so every pool is ``"sliding"`` (the safe reading).
* **Headers.** "The returned information of each request will carry ...
  Total resource pool quota, resource pool remaining quota, resource pool quota
  reset countdown (milliseconds)": ``gw-ratelimit-limit``,
  ``gw-ratelimit-remaining`` and ``gw-ratelimit-reset``. :func:`observe` reads
  them as an :class:`Observation` of the pool the request is priced in. The
  reset is a countdown, and ``observe`` is not given the limiter's clock, so it
  is anchored to the response's ``Date`` header (which is rounded down to the
  second, so one second is added: the later, safe reading); it is only worked
  out when the pool is reported exhausted, the one case the limiter uses it.
* Exceeding a pool returns HTTP 429 (code 429000); so does server overload,
  without the headers. Both are the limiter's generic 429 handling.

Weights used (each from its endpoint page):

* ``GET /api/v1/market/orderbook/level1`` (spot ticker): "Public weight: 2"
  (https://www.kucoin.com/docs/rest/spot-trading/market-data/get-ticker).
* ``POST /api/v1/hf/orders``: "Spot weight: 1"
  (https://www.kucoin.com/docs/rest/spot-trading/spot-hf-trade-pro-account/place-hf-order).
* ``DELETE /api/v1/hf/orders/{orderId}``: "Spot weight: 1"
  (https://www.kucoin.com/docs/rest/spot-trading/spot-hf-trade-pro-account/cancel-hf-order-by-orderid),
  ``DELETE /api/v1/hf/orders/client-order/{clientOid}``: "Spot weight: 1"
  (https://www.kucoin.com/docs/rest/spot-trading/spot-hf-trade-pro-account/cancel-hf-order-by-clientoid).
* ``POST /api/v1/orders`` on the spot host: "Spot weight: limit 2, market 2"
  (https://www.kucoin.com/docs/rest/spot-trading/orders/place-order);
  ``DELETE /api/v1/orders/{orderId}``: "Spot weight: 3"
  (https://www.kucoin.com/docs/rest/spot-trading/orders/cancel-order-by-orderid).
* ``POST /api/v1/orders`` on the futures host: one version of the page says
  "Futures weight: limit 1, market 2", another "limit 2, market 2"
  (https://www.kucoin.com/docs/rest/futures-trading/orders/place-order); the
  stricter 2 is used for every order.
* ``DELETE /api/v1/orders/{orderId}`` and ``/api/v1/orders/client-order/{clientOid}``
  on the futures host: "Futures weight: 1"
  (https://www.kucoin.com/docs/rest/futures-trading/orders/cancel-order-by-orderid,
  https://www.kucoin.com/docs/rest/futures-trading/orders/cancel-order-by-clientoid).

The Management, Earn, CopyTrading and Unified Account pools have no priced
endpoint here, so they have no window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final, TypeAlias

from botters.protocol._request import Request
from botters.protocol.exchanges._limitkit import header_float
from botters.protocol.limits import Cost, ExchangeLimits, Observation, Window

__all__ = ["FUTURES", "LIMITS", "PUBLIC", "SPOT", "observe", "price"]

SOURCE: Final = "https://www.kucoin.com/docs-new/rate-limit"

_SPOT_HOST: Final = "api.kucoin.com"
_FUTURES_HOST: Final = "api-futures.kucoin.com"

# VIP0 quotas per 30 seconds (SOURCE, "1. Resource Pool").
PUBLIC: Final = Window(
    name="kucoin.public", limit=2000, period=30.0, kind="sliding", scope="ip", source=SOURCE
)
SPOT: Final = Window(
    name="kucoin.spot", limit=4000, period=30.0, kind="sliding", scope="key", source=SOURCE
)
FUTURES: Final = Window(
    name="kucoin.futures", limit=2000, period=30.0, kind="sliding", scope="key", source=SOURCE
)

_Costs: TypeAlias = tuple[Cost, ...]

_PUBLIC_2: Final = ((PUBLIC, 2.0),)
_SPOT_1: Final = ((SPOT, 1.0),)
_SPOT_2: Final = ((SPOT, 2.0),)
_SPOT_3: Final = ((SPOT, 3.0),)
_FUTURES_1: Final = ((FUTURES, 1.0),)
_FUTURES_2: Final = ((FUTURES, 2.0),)

# (host, method, path) -> costs, for paths without an id in them.
_EXACT: Final[dict[tuple[str, str, str], _Costs]] = {
    (_SPOT_HOST, "GET", "/api/v1/market/orderbook/level1"): _PUBLIC_2,
    (_SPOT_HOST, "POST", "/api/v1/hf/orders"): _SPOT_1,
    (_SPOT_HOST, "POST", "/api/v1/orders"): _SPOT_2,
    (_FUTURES_HOST, "POST", "/api/v1/orders"): _FUTURES_2,
}

# DELETE <prefix><one path segment>: cancel one order by id, per host, the
# longest prefix first. Segments that name another endpoint under the same
# prefix (cancel-all, batch and sync variants) are not ids.
_CANCEL_BY_ID: Final[dict[str, tuple[tuple[str, _Costs], ...]]] = {
    _SPOT_HOST: (
        ("/api/v1/hf/orders/client-order/", _SPOT_1),
        ("/api/v1/hf/orders/", _SPOT_1),
        ("/api/v1/orders/", _SPOT_3),
    ),
    _FUTURES_HOST: (
        ("/api/v1/orders/client-order/", _FUTURES_1),
        ("/api/v1/orders/", _FUTURES_1),
    ),
}
_NOT_AN_ID: Final = frozenset(
    {"cancelAll", "cancel", "client-order", "multi", "multi-cancel", "sync", "alter", "test"}
)

WINDOWS: Final = (PUBLIC, SPOT, FUTURES)


def price(request: Request) -> Sequence[Cost]:
    """The request's weight in its resource pool; nothing for endpoints not tabulated."""
    host = request.host
    method = request.method
    path = request.parts.path
    costs = _EXACT.get((host, method, path))
    if costs is not None:
        return costs
    if method == "DELETE":
        for prefix, cancel in _CANCEL_BY_ID.get(host, ()):
            if path.startswith(prefix):
                segment = path[len(prefix) :]
                if segment and "/" not in segment and segment not in _NOT_AN_ID:
                    return cancel
                return ()
    return ()


def _server_time(headers: Mapping[str, str]) -> float | None:
    """The latest wall-clock second the response's ``Date`` header can stand for, or ``None``."""
    raw = headers.get("date")
    if raw is None:
        return None
    from email.utils import parsedate_to_datetime  # only read when a pool is exhausted

    try:
        return parsedate_to_datetime(raw).timestamp() + 1.0
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def observe(request: Request, status: int, headers: Mapping[str, str]) -> Iterable[Observation]:
    """The ``gw-ratelimit-*`` counters, as an observation of the request's pool."""
    remaining = header_float(headers, "gw-ratelimit-remaining")
    limit = header_float(headers, "gw-ratelimit-limit")
    if remaining is None and limit is None:
        return ()
    costs = price(request)
    if len(costs) != 1:  # not tabulated: the pool the counters belong to is unknown
        return ()
    reset_at = None
    if remaining is not None and remaining <= 0:
        countdown_ms = header_float(headers, "gw-ratelimit-reset")
        now = _server_time(headers)
        if countdown_ms is not None and now is not None:
            reset_at = now + max(countdown_ms, 0.0) / 1000.0
    return (Observation(window=costs[0][0], remaining=remaining, limit=limit, reset_at=reset_at),)


LIMITS: Final = ExchangeLimits(
    exchange="kucoin",
    hosts=frozenset({_SPOT_HOST, _FUTURES_HOST}),  # HOSTS in _auth.py
    windows=WINDOWS,
    price=price,
    observe=observe,
    source=SOURCE,
)
