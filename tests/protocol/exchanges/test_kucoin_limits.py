"""KuCoin's REST limit table: resource pools, endpoint weights, ``gw-ratelimit-*`` headers."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from botters.protocol import Request
from botters.protocol.exchanges.kucoin import _limits as kucoin
from botters.protocol.limits import RateLimiter, Reservation, Window

SPOT = "https://api.kucoin.com"
FUTURES = "https://api-futures.kucoin.com"


def _price(request: Request) -> dict[str, tuple[float, str, float]]:
    return {w.name: (w.limit, w.scope, units) for w, units in kucoin.price(request)}


@pytest.mark.parametrize(
    ("method", "url", "pool", "weight"),
    [
        ("GET", SPOT + "/api/v1/market/orderbook/level1?symbol=BTC-USDT", "kucoin.public", 2),
        ("POST", SPOT + "/api/v1/hf/orders", "kucoin.spot", 1),
        ("DELETE", SPOT + "/api/v1/hf/orders/5bd6e9286d99522a52e458de?symbol=X", "kucoin.spot", 1),
        ("DELETE", SPOT + "/api/v1/hf/orders/client-order/my-oid?symbol=X", "kucoin.spot", 1),
        ("POST", SPOT + "/api/v1/orders", "kucoin.spot", 2),
        ("DELETE", SPOT + "/api/v1/orders/5bd6e9286d99522a52e458de", "kucoin.spot", 3),
        ("POST", FUTURES + "/api/v1/orders", "kucoin.futures", 2),
        ("DELETE", FUTURES + "/api/v1/orders/5cdfc120b21023a909e5ad52", "kucoin.futures", 1),
        ("DELETE", FUTURES + "/api/v1/orders/client-order/638482?symbol=X", "kucoin.futures", 1),
    ],
)
def test_documented_weights_in_their_pools(method: str, url: str, pool: str, weight: int) -> None:
    data = {"symbol": "BTC-USDT"} if method == "POST" else None
    [(name, (_, _, units))] = _price(Request.build(method, url, data=data)).items()
    assert (name, units) == (pool, weight)


def test_pools_are_vip0_sliding_30_second_budgets() -> None:
    assert (kucoin.PUBLIC.limit, kucoin.PUBLIC.scope) == (2000, "ip")
    assert (kucoin.SPOT.limit, kucoin.SPOT.scope) == (4000, "key")
    assert (kucoin.FUTURES.limit, kucoin.FUTURES.scope) == (2000, "key")
    for window in kucoin.WINDOWS:
        assert (window.kind, window.period) == ("sliding", 30.0)
    assert kucoin.LIMITS.hosts == {"api.kucoin.com", "api-futures.kucoin.com"}


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", SPOT + "/api/v1/accounts"),  # not tabulated
        ("GET", SPOT + "/api/v1/hf/orders/active?symbol=X"),
        ("DELETE", SPOT + "/api/v1/hf/orders/cancelAll"),  # another endpoint, not an id
        ("DELETE", SPOT + "/api/v1/hf/orders/sync/5bd6e9286d99522a52e458de"),
        ("DELETE", SPOT + "/api/v1/hf/orders?symbol=X"),
        ("DELETE", FUTURES + "/api/v1/orders?symbol=X"),
        ("DELETE", FUTURES + "/api/v1/orders/multi-cancel"),
        ("GET", FUTURES + "/api/v1/orders/5cdfc120b21023a909e5ad52"),
        ("GET", FUTURES + "/api/v1/market/orderbook/level1"),  # the spot path, other host
    ],
)
def test_untabulated_requests_are_not_priced(method: str, url: str) -> None:
    assert kucoin.price(Request.build(method, url)) == ()


def test_headers_become_an_observation_of_the_request_pool() -> None:
    order = Request.build("POST", FUTURES + "/api/v1/orders", data={"symbol": "XBTUSDTM"})
    headers = {
        "gw-ratelimit-limit": "2000",
        "gw-ratelimit-remaining": "1990",
        "gw-ratelimit-reset": "1489",
    }
    [seen] = kucoin.observe(order, 200, headers)
    assert seen.window is kucoin.FUTURES
    assert (seen.remaining, seen.limit, seen.reset_at) == (1990, 2000, None)
    ticker = Request.build("GET", SPOT + "/api/v1/market/orderbook/level1?symbol=X")
    [public] = kucoin.observe(ticker, 200, headers)
    assert public.window is kucoin.PUBLIC
    unknown = Request.build("GET", SPOT + "/api/v1/accounts")
    assert list(kucoin.observe(unknown, 200, headers)) == []
    assert list(kucoin.observe(order, 200, {"date": formatdate(1000.0, usegmt=True)})) == []


def test_an_exhausted_pool_reset_countdown_is_anchored_to_the_date_header() -> None:
    order = Request.build("POST", SPOT + "/api/v1/hf/orders", data={"symbol": "X"})
    headers = {
        "gw-ratelimit-limit": "4000",
        "gw-ratelimit-remaining": "0",
        "gw-ratelimit-reset": "12500",
        "date": formatdate(1000.0, usegmt=True),
    }
    [seen] = kucoin.observe(order, 429, headers)
    # Date is rounded down to the second: the reset is placed a second later.
    assert seen.reset_at == 1000.0 + 1.0 + 12.5
    del headers["date"]
    [undated] = kucoin.observe(order, 429, headers)
    assert (undated.remaining, undated.reset_at) == (0, None)
    headers["date"] = "not a date"
    [bad] = kucoin.observe(order, 429, headers)
    assert bad.reset_at is None


def test_an_exhausted_pool_delays_the_next_request_until_its_reset() -> None:
    limiter = RateLimiter([kucoin.LIMITS], margin=0)
    order = Request.build("POST", SPOT + "/api/v1/hf/orders", data={"symbol": "X"})
    assert limiter.reserve(order, now=1000.0, key="k") is not None
    headers = {
        "GW-RateLimit-Limit": "4000",
        "GW-RateLimit-Remaining": "0",
        "GW-RateLimit-Reset": "45000",
        "Date": formatdate(1000.0, usegmt=True),
    }
    limiter.observe(order, 200, headers, now=1000.2, key="k")
    later = limiter.reserve(order, now=1000.3, key="k")
    assert later is not None
    assert later.at >= 1046.0
    # The futures pool of the same key is another budget.
    futures = Request.build("POST", FUTURES + "/api/v1/orders", data={"symbol": "X"})
    other = limiter.reserve(futures, now=1000.3, key="k")
    assert other is not None
    assert other.at == 1000.3


def test_a_higher_reported_quota_replaces_the_vip0_number() -> None:
    limiter = RateLimiter([kucoin.LIMITS], margin=0)
    order = Request.build("POST", FUTURES + "/api/v1/orders", data={"symbol": "X"})
    # VIP2's futures quota is 4000/30s: 2000 orders of weight 2, not VIP0's 1000.
    limiter.observe(
        order,
        200,
        {"gw-ratelimit-limit": "4000", "gw-ratelimit-remaining": "4000"},
        now=5.0,
        key="k",
    )
    ats = [limiter.reserve(order, now=5.0, key="k") for _ in range(1500)]
    assert all(r is not None and r.at == 5.0 for r in ats)


def _worst(bookings: list[Reservation], window: Window) -> float:
    """The most units ``window`` got in any interval of its period."""
    entries = sorted((r.at, u) for r in bookings for w, u in r.windows if w is window)
    worst = inside = 0.0
    first = 0
    for at, units in entries:  # the interval ending at each booking
        inside += units
        while entries[first][0] <= at - window.period + 1e-9:
            inside -= entries[first][1]
            first += 1
        worst = max(worst, inside)
    return worst


def test_a_burst_never_exceeds_a_pool() -> None:
    limiter = RateLimiter([kucoin.LIMITS], margin=0)
    futures = Request.build("POST", FUTURES + "/api/v1/orders", data={"symbol": "X"})
    ticker = Request.build("GET", SPOT + "/api/v1/market/orderbook/level1?symbol=X")
    bookings = []
    for i in range(1200):
        for request, key in ((futures, "k"), (ticker, None)):
            reservation = limiter.reserve(request, now=100.0 + (i // 100) * 0.5, key=key)
            assert reservation is not None
            bookings.append(reservation)
    # Weight 2 against 2000 per 30 s: 1000 orders, and 1000 tickers, per window.
    assert _worst(bookings, kucoin.FUTURES) == 2000
    assert _worst(bookings, kucoin.PUBLIC) == 2000
    orders = sorted(r.at for r in bookings if r.windows[0][0] is kucoin.FUTURES)
    assert orders[999] == 104.5
    assert orders[1000] == 130.0
