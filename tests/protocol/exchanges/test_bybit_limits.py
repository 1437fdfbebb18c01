"""Bybit v5's REST limit table: the IP window, per-UID endpoint windows by category, headers."""

from __future__ import annotations

import pytest

from botters.protocol import Request
from botters.protocol.exchanges.bybit import _limits as bybit
from botters.protocol.limits import RateLimiter

BASE = "https://api.bybit.com"


def _price(request: Request) -> dict[str, tuple[float, float]]:
    return {w.name: (w.limit, units) for w, units in bybit.price(request)}


@pytest.mark.parametrize(
    ("category", "window", "limit"),
    [
        ("linear", "bybit.order.create.derivatives", 10),
        ("inverse", "bybit.order.create.derivatives", 10),
        ("option", "bybit.order.create.option", 10),
        ("spot", "bybit.order.create.spot", 20),
    ],
)
def test_order_create_is_counted_per_category(category: str, window: str, limit: int) -> None:
    request = Request.build("POST", BASE + "/v5/order/create", data={"category": category})
    assert _price(request) == {"bybit.ip": (600, 1), window: (limit, 1)}


def test_category_is_read_from_compact_json_and_get_queries() -> None:
    compact = Request.build(
        "POST", BASE + "/v5/order/cancel-all", data=b'{"category":"option","symbol":"X"}'
    )
    assert _price(compact) == {"bybit.ip": (600, 1), "bybit.order.cancel-all.option": (1, 1)}
    pending = Request.build("GET", BASE + "/v5/order/realtime", params={"category": "spot"})
    assert _price(pending) == {"bybit.ip": (600, 1), "bybit.order.realtime": (50, 1)}


def test_an_unreadable_category_costs_every_category_budget() -> None:
    request = Request.build("POST", BASE + "/v5/order/amend", data={"symbol": "BTCUSDT"})
    assert _price(request) == {
        "bybit.ip": (600, 1),
        "bybit.order.amend.derivatives": (10, 1),
        "bybit.order.amend.option": (10, 1),
        "bybit.order.amend.spot": (10, 1),
    }


@pytest.mark.parametrize(
    ("method", "path", "window", "limit"),
    [
        ("GET", "/v5/position/list", "bybit.position.list", 50),
        ("POST", "/v5/position/set-leverage", "bybit.position.set-leverage", 10),
        ("GET", "/v5/account/wallet-balance", "bybit.account.wallet-balance", 50),
        ("GET", "/v5/account/fee-rate", "bybit.account.fee-rate", 5),
        ("POST", "/v5/order/disconnected-cancel-all", "bybit.order.disconnected-cancel-all", 5),
    ],
)
def test_shared_endpoint_windows(method: str, path: str, window: str, limit: int) -> None:
    request = Request.build(method, BASE + path)
    assert _price(request) == {"bybit.ip": (600, 1), window: (limit, 1)}


def test_public_and_unknown_endpoints_cost_only_the_ip_window() -> None:
    for path in ("/v5/market/tickers", "/v5/market/orderbook", "/v5/whatever"):
        request = Request.build("GET", "https://api.bytick.com" + path)
        assert _price(request) == {"bybit.ip": (600, 1)}
    assert bybit.IP.kind == "sliding"
    assert bybit.IP.period == 5
    assert all(w.scope == "key" and w.period == 1 for w in bybit.WINDOWS if w is not bybit.IP)


def test_headers_become_one_observation_of_the_endpoint_window() -> None:
    request = Request.build("POST", BASE + "/v5/order/create", data={"category": "linear"})
    headers = {
        "x-bapi-limit-status": "7",
        "x-bapi-limit": "10",
        "x-bapi-limit-reset-timestamp": "1672738134824",
    }
    [seen] = bybit.observe(request, 200, headers)
    assert seen.window.name == "bybit.order.create.derivatives"
    assert (seen.remaining, seen.limit, seen.reset_at) == (7, 10, 1672738134.824)
    # Public endpoints have no per-UID window; an unreadable category names none.
    market = Request.build("GET", BASE + "/v5/market/tickers")
    assert list(bybit.observe(market, 200, headers)) == []
    unknown = Request.build("POST", BASE + "/v5/order/create", data={"symbol": "X"})
    assert list(bybit.observe(unknown, 200, headers)) == []
    assert list(bybit.observe(request, 200, {})) == []


def test_an_exhausted_endpoint_counter_delays_the_next_request_until_reset() -> None:
    limiter = RateLimiter([bybit.LIMITS], margin=0)
    order = Request.build("POST", BASE + "/v5/order/create", data={"category": "spot"})
    assert limiter.reserve(order, now=1000.0, key="k") is not None
    headers = {
        "X-Bapi-Limit-Status": "0",
        "X-Bapi-Limit": "20",
        "X-Bapi-Limit-Reset-Timestamp": "1000900",
    }
    limiter.observe(order, 200, headers, now=1000.1, key="k")
    # The linear budget of the same key is another window: not held back. (It
    # is asked for first: the shared IP window is first come, first served, so
    # a linear order asked for after the delayed spot one would queue behind it.)
    linear = Request.build("POST", BASE + "/v5/order/create", data={"category": "linear"})
    other = limiter.reserve(linear, now=1000.2, key="k")
    assert other is not None
    assert other.at == 1000.2
    later = limiter.reserve(order, now=1000.2, key="k")
    assert later is not None
    assert later.at >= 1000.9


def test_a_higher_reported_limit_replaces_the_documented_one() -> None:
    limiter = RateLimiter([bybit.LIMITS], margin=0)
    order = Request.build("POST", BASE + "/v5/order/create", data={"category": "linear"})
    limiter.observe(
        order, 200, {"x-bapi-limit": "40", "x-bapi-limit-status": "40"}, now=5.0, key="k"
    )
    ats = [limiter.reserve(order, now=5.0, key="k") for _ in range(40)]
    assert all(r is not None and r.at == 5.0 for r in ats)
