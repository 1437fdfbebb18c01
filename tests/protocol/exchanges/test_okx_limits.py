"""OKX v5's REST limit table: per-endpoint IP and User ID windows, batches, sub-account orders."""

from __future__ import annotations

import pytest

from botters.protocol import Request
from botters.protocol.exchanges.okx import _limits as okx
from botters.protocol.limits import RateLimiter

BASE = "https://www.okx.com"


def _price(request: Request) -> dict[str, tuple[float, str, float]]:
    return {w.name: (w.limit, w.scope, units) for w, units in okx.price(request)}


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/api/v5/market/ticker", 20),
        ("/api/v5/market/tickers", 20),
        ("/api/v5/market/books", 40),
        ("/api/v5/market/books-full", 10),
        ("/api/v5/market/candles", 40),
        ("/api/v5/market/history-candles", 20),
        ("/api/v5/market/trades", 100),
        ("/api/v5/public/instruments", 20),
    ],
)
def test_market_data_is_per_ip_per_endpoint(path: str, limit: int) -> None:
    request = Request.build("GET", BASE + path, params={"instId": "BTC-USDT"})
    [(name, value)] = _price(request).items()
    assert value == (limit, "ip", 1)
    assert name.startswith("okx.")


@pytest.mark.parametrize(
    ("method", "path", "limit"),
    [
        ("GET", "/api/v5/trade/order", 60),
        ("POST", "/api/v5/trade/cancel-order", 60),
        ("GET", "/api/v5/trade/orders-pending", 60),
        ("GET", "/api/v5/trade/orders-history", 40),
        ("GET", "/api/v5/trade/fills", 60),
        ("GET", "/api/v5/account/balance", 10),
        ("GET", "/api/v5/account/positions", 10),
        ("GET", "/api/v5/account/config", 5),
    ],
)
def test_private_endpoints_are_per_user_id(method: str, path: str, limit: int) -> None:
    [value] = _price(Request.build(method, BASE + path)).values()
    assert value == (limit, "key", 1)


def test_new_and_amended_orders_also_count_in_the_sub_account_window() -> None:
    place = Request.build("POST", BASE + "/api/v5/trade/order", data={"instId": "BTC-USDT"})
    assert _price(place) == {
        "okx.trade.order.post": (60, "key", 1),
        "okx.sub-account.orders": (1000, "key", 1),
    }
    amend = Request.build("POST", BASE + "/api/v5/trade/amend-order", data={"instId": "X"})
    assert "okx.sub-account.orders" in _price(amend)
    cancel = Request.build("POST", BASE + "/api/v5/trade/cancel-order", data={"instId": "X"})
    assert "okx.sub-account.orders" not in _price(cancel)


def test_batches_cost_one_unit_per_order() -> None:
    orders = [{"instId": f"X{i}", "sz": "1"} for i in range(7)]
    batch = Request.build("POST", BASE + "/api/v5/trade/batch-orders", data=orders)
    assert _price(batch) == {
        "okx.trade.batch-orders": (300, "key", 7),
        "okx.sub-account.orders": (1000, "key", 7),
    }
    cancels = Request.build("POST", BASE + "/api/v5/trade/cancel-batch-orders", data=orders[:3])
    assert _price(cancels) == {"okx.trade.cancel-batch-orders": (300, "key", 3)}


def test_unknown_endpoints_are_not_limited() -> None:
    assert okx.price(Request.build("GET", BASE + "/api/v5/public/time")) == ()
    assert okx.price(Request.build("PUT", BASE + "/api/v5/market/ticker")) == ()
    assert okx.LIMITS.observe is None


def test_windows_are_sliding_two_second_budgets() -> None:
    for window in okx.WINDOWS:
        assert window.kind == "sliding"
        assert window.period == 2.0


def test_place_order_budget_is_shared_by_instruments_of_one_key() -> None:
    limiter = RateLimiter([okx.LIMITS], margin=0)
    ats = []
    for i in range(61):
        order = Request.build("POST", BASE + "/api/v5/trade/order", data={"instId": f"I{i % 3}"})
        reservation = limiter.reserve(order, now=10.0, key="k")
        assert reservation is not None
        ats.append(reservation.at)
    assert ats[:60] == [10.0] * 60
    assert ats[60] == 12.0
