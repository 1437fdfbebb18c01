"""Phemex's REST limit table: the IP budget, the per-user groups and their weights, headers."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from botters.protocol import Request
from botters.protocol.exchanges.phemex import _limits as phemex
from botters.protocol.limits import RateLimiter

BASE = "https://api.phemex.com"
SIGNED = {
    "x-phemex-access-token": "k",
    "x-phemex-request-expiry": "1",
    "x-phemex-request-signature": "s",
}


def _price(request: Request) -> dict[str, float]:
    return {w.name: units for w, units in phemex.price(request)}


@pytest.mark.parametrize(
    ("method", "path", "weight"),
    [
        ("POST", "/orders", 1),
        ("PUT", "/orders/replace", 1),
        ("DELETE", "/orders/cancel", 1),
        ("DELETE", "/orders/all", 3),
        ("DELETE", "/orders", 1),
        ("GET", "/orders/activeList", 1),
        ("GET", "/orders/active", 1),
        ("GET", "/accounts/accountPositions", 1),
        ("GET", "/accounts/positions", 25),
    ],
)
def test_contract_group_weights(method: str, path: str, weight: int) -> None:
    request = Request.build(method, BASE + path, params={"symbol": "BTCUSD"})
    assert _price(request) == {"phemex.ip": 1, "phemex.contract": weight}


@pytest.mark.parametrize(
    ("method", "path", "weight"),
    [
        ("POST", "/spot/orders", 1),
        ("PUT", "/spot/orders", 1),
        ("DELETE", "/spot/orders", 2),
        ("DELETE", "/spot/orders/all", 2),
        ("GET", "/spot/orders/active", 1),
        ("GET", "/spot/orders", 1),
    ],
)
def test_spot_order_group_weights(method: str, path: str, weight: int) -> None:
    request = Request.build(method, BASE + path, params={"symbol": "sBTCUSDT"})
    assert _price(request) == {"phemex.ip": 1, "phemex.spot-order": weight}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/md/orderbook"),
        ("GET", "/exchange/public/md/v2/kline"),
        ("PUT", "/orders/create"),  # not in the docs' Contract table
        ("PUT", "/g-orders/create"),
        ("GET", "/spot/wallets"),
    ],
)
def test_every_other_api_is_in_the_others_group(method: str, path: str) -> None:
    request = Request.build(method, "https://vapi.phemex.com" + path)
    assert _price(request) == {"phemex.ip": 1, "phemex.others": 1, "phemex.others.anonymous": 1}


def test_windows() -> None:
    assert (phemex.IP.limit, phemex.IP.period, phemex.IP.scope) == (5000, 300.0, "ip")
    assert (phemex.CONTRACT.limit, phemex.CONTRACT.period) == (500, 60.0)
    assert (phemex.SPOT_ORDER.limit, phemex.SPOT_ORDER.period) == (500, 60.0)
    assert (phemex.OTHERS.limit, phemex.OTHERS.scope) == (100, "key")
    assert (phemex.OTHERS_ANONYMOUS.limit, phemex.OTHERS_ANONYMOUS.scope) == (100, "anonymous")
    assert all(w.kind == "sliding" for w in phemex.WINDOWS)
    assert phemex.LIMITS.hosts == {"api.phemex.com", "vapi.phemex.com"}


def test_group_headers_become_observations() -> None:
    order = Request.build("POST", BASE + "/orders", headers=SIGNED, data={"symbol": "BTCUSD"})
    headers = {
        "x-ratelimit-remaining-contract": "498",
        "x-ratelimit-capacity-contract": "500",
        "x-ratelimit-remaining-spotorder": "500",
        "x-ratelimit-capacity-spotorder": "500",
        "x-ratelimit-remaining": "99",
        "x-ratelimit-capacity": "100",
    }
    seen = {o.window.name: o for o in phemex.observe(order, 200, headers)}
    assert (seen["phemex.contract"].remaining, seen["phemex.contract"].limit) == (498, 500)
    assert (seen["phemex.spot-order"].remaining, seen["phemex.spot-order"].limit) == (500, 500)
    assert (seen["phemex.others"].remaining, seen["phemex.others"].limit) == (99, 100)
    assert all(o.reset_at is None for o in seen.values())
    # The unsuffixed group of an unsigned request is the per-IP Others budget.
    public = Request.build("GET", BASE + "/md/orderbook?symbol=BTCUSD")
    [others] = phemex.observe(public, 200, {"x-ratelimit-remaining": "3"})
    assert others.window is phemex.OTHERS_ANONYMOUS
    assert list(phemex.observe(public, 200, {})) == []


def test_a_throttled_group_is_blocked_for_its_retry_after() -> None:
    limiter = RateLimiter([phemex.LIMITS], margin=0)
    order = Request.build("POST", BASE + "/orders", headers=SIGNED, data={"symbol": "BTCUSD"})
    assert limiter.reserve(order, now=1000.0, key="k") is not None
    headers = {
        "X-RateLimit-Retry-After-CONTRACT": "20",
        "X-RateLimit-Capacity-CONTRACT": "500",
        "Date": formatdate(1000.0, usegmt=True),
    }
    [seen] = phemex.observe(order, 429, {k.lower(): v for k, v in headers.items()})
    assert (seen.remaining, seen.reset_at) == (0, 1021.0)
    limiter.observe(order, 429, headers, now=1000.1, key="k")
    later = limiter.reserve(order, now=1000.2, key="k")
    assert later is not None
    assert later.at >= 1021.0
    # The spot group of the same key waits only for the generic back-off of the
    # IP window the throttled request also cost (1 s without Retry-After).
    spot = Request.build("POST", BASE + "/spot/orders", headers=SIGNED, data={"a": 1})
    other = limiter.reserve(spot, now=1000.2, key="k")
    assert other is not None
    assert other.at == pytest.approx(1001.1)


def test_a_burst_never_exceeds_the_group_or_ip_budgets() -> None:
    limiter = RateLimiter([phemex.LIMITS], margin=0)
    positions = Request.build("GET", BASE + "/accounts/positions?currency=BTC", headers=SIGNED)
    # Weight 25 against 500 per minute: 20 per minute.
    ats = [limiter.reserve(positions, now=10.0, key="k") for _ in range(45)]
    times = [r.at for r in ats if r is not None]
    assert times == [10.0] * 20 + [70.0] * 20 + [130.0] * 5
    # Public requests: 100 per minute per IP in the anonymous Others budget.
    book = Request.build("GET", BASE + "/md/orderbook?symbol=BTCUSD")
    public = [limiter.reserve(book, now=10.0, key=None) for _ in range(250)]
    public_times = [r.at for r in public if r is not None]
    assert public_times == [10.0] * 100 + [70.0] * 100 + [130.0] * 50


def test_the_ip_budget_spans_every_key_and_both_hosts() -> None:
    limiter = RateLimiter([phemex.LIMITS], margin=0)
    orders = [
        Request.build("POST", host + "/orders", headers=SIGNED, data={"symbol": "BTCUSD"})
        for host in (BASE, "https://vapi.phemex.com")
    ]
    times = []
    for i in range(5001):
        reservation = limiter.reserve(orders[i % 2], now=0.0, key=f"k{i % 20}")
        assert reservation is not None
        times.append(reservation.at)
    # 20 keys x 250 orders fit each key's contract minute; the IP allows 5,000 per 5 min.
    assert times[:5000] == [0.0] * 5000
    assert times[5000] == 300.0
