"""Bitget's REST limit table (API v2): one per-second window per endpoint, per UID or per IP."""

from __future__ import annotations

import pytest

from botters.protocol import Request
from botters.protocol.exchanges.bitget import _limits as bitget
from botters.protocol.limits import RateLimiter

BASE = "https://api.bitget.com"


def _price(request: Request) -> dict[str, tuple[float, str, float]]:
    return {w.name: (w.limit, w.scope, units) for w, units in bitget.price(request)}


@pytest.mark.parametrize(
    ("method", "path", "limit", "scope"),
    [
        ("POST", "/api/v2/spot/trade/place-order", 10, "key"),
        ("POST", "/api/v2/spot/trade/cancel-order", 10, "key"),
        ("POST", "/api/v2/spot/trade/batch-orders", 5, "key"),
        ("GET", "/api/v2/spot/trade/unfilled-orders", 20, "key"),
        ("GET", "/api/v2/spot/trade/orderInfo", 20, "key"),
        ("GET", "/api/v2/spot/account/assets", 10, "key"),
        ("GET", "/api/v2/spot/market/tickers", 20, "ip"),
        ("GET", "/api/v2/spot/market/orderbook", 20, "ip"),
        ("GET", "/api/v2/spot/market/merge-depth", 20, "ip"),
        ("POST", "/api/v2/mix/order/place-order", 10, "key"),
        ("POST", "/api/v2/mix/order/cancel-order", 10, "ip"),  # no dimension given: per IP
        ("POST", "/api/v2/mix/order/batch-cancel-orders", 10, "key"),
        ("GET", "/api/v2/mix/order/orders-pending", 10, "key"),
        ("GET", "/api/v2/mix/position/all-position", 5, "key"),
        ("GET", "/api/v2/mix/account/account", 10, "key"),
        ("GET", "/api/v2/mix/account/bill", 10, "key"),
        ("GET", "/api/v2/mix/market/ticker", 20, "ip"),
        ("GET", "/api/v2/mix/market/merge-depth", 20, "ip"),
    ],
)
def test_documented_endpoint_limits(method: str, path: str, limit: int, scope: str) -> None:
    request = Request.build(method, BASE + path, params={"symbol": "BTCUSDT"})
    [(name, value)] = list(_price(request).items())
    assert value == (float(limit), scope, 1.0)
    assert name == "bitget." + path.removeprefix("/api/v2/").replace("/", ".")


def test_every_window_is_a_sliding_second_with_its_page() -> None:
    assert len({w.name for w in bitget.WINDOWS}) == len(bitget.WINDOWS) == 18
    for window in bitget.WINDOWS:
        assert (window.kind, window.period) == ("sliding", 1.0)
        assert window.source.startswith("https://www.bitget.com/api-doc/")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v2/public/time"),
        ("GET", "/api/v2/spot/trade/place-order"),  # wrong method
        ("POST", "/api/spot/v1/trade/orders"),  # v1: not tabulated
        ("GET", "/api/mix/v1/market/ticker"),
    ],
)
def test_untabulated_requests_are_not_priced(method: str, path: str) -> None:
    assert bitget.price(Request.build(method, BASE + path)) == ()
    assert bitget.LIMITS.observe is None


def test_a_burst_of_orders_is_paced_per_key_per_second() -> None:
    limiter = RateLimiter([bitget.LIMITS], margin=0)
    order = Request.build("POST", BASE + "/api/v2/spot/trade/place-order", data={"a": "1"})
    ats = []
    for _ in range(25):
        reservation = limiter.reserve(order, now=50.0, key="k1")
        assert reservation is not None
        ats.append(reservation.at)
    assert ats == [50.0] * 10 + [51.0] * 10 + [52.0] * 5
    # Another key has its own budget.
    other = limiter.reserve(order, now=50.0, key="k2")
    assert other is not None
    assert other.at == 50.0


def test_ip_windows_are_shared_by_every_key() -> None:
    limiter = RateLimiter([bitget.LIMITS], margin=0)
    tickers = Request.build("GET", BASE + "/api/v2/spot/market/tickers")
    ats = []
    for i in range(45):
        reservation = limiter.reserve(tickers, now=7.0, key=("a", "b", None)[i % 3])
        assert reservation is not None
        ats.append(reservation.at)
    assert ats == [7.0] * 20 + [8.0] * 20 + [9.0] * 5
