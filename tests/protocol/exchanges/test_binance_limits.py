"""Binance's REST limit tables: weights by endpoint and parameter, order windows, headers."""

from __future__ import annotations

import pytest

from botters.protocol import Request
from botters.protocol.exchanges.binance import _limits as binance
from botters.protocol.limits import RateLimiter

SPOT = "https://api.binance.com"
FAPI = "https://fapi.binance.com"
DAPI = "https://dapi.binance.com"


def _spot(method: str, path: str, **kwargs: object) -> dict[str, float]:
    request = Request.build(method, SPOT + path, **kwargs)  # type: ignore[arg-type]
    return {window.name: units for window, units in binance.SPOT.price(request)}


@pytest.mark.parametrize(
    ("limit", "weight"),
    [
        (None, 5),  # default limit 100
        (1, 5),
        (100, 5),
        (101, 25),
        (500, 25),
        (501, 50),
        (1000, 50),
        (1001, 250),
        (5000, 250),
        (9999, 250),
        ("abc", 250),  # unreadable: priced as the largest
    ],
)
def test_spot_depth_weight_follows_the_limit(limit: object, weight: int) -> None:
    params = {"symbol": "BTCUSDT"} if limit is None else {"symbol": "BTCUSDT", "limit": limit}
    assert _spot("GET", "/api/v3/depth", params=params) == {"binance.spot.weight": weight}


@pytest.mark.parametrize(
    ("params", "weight"),
    [
        ({"symbol": "BTCUSDT"}, 2),
        ({}, 80),
        ({"symbols": '["BTCUSDT","ETHUSDT"]'}, 2),
        ({"symbols": "[" + ",".join(f'"S{i}"' for i in range(20)) + "]"}, 2),
        ({"symbols": "[" + ",".join(f'"S{i}"' for i in range(21)) + "]"}, 40),
        ({"symbols": "[" + ",".join(f'"S{i}"' for i in range(100)) + "]"}, 40),
        ({"symbols": "[" + ",".join(f'"S{i}"' for i in range(101)) + "]"}, 80),
    ],
)
def test_spot_ticker_24hr_weight_follows_the_symbols(params: dict[str, str], weight: int) -> None:
    assert _spot("GET", "/api/v3/ticker/24hr", params=params) == {"binance.spot.weight": weight}


def test_spot_ticker_symbols_count_in_a_raw_query_too() -> None:
    raw = "/api/v3/ticker/24hr?symbols=[" + ",".join(f'"S{i}"' for i in range(30)) + "]"
    assert _spot("GET", raw) == {"binance.spot.weight": 40}


@pytest.mark.parametrize(
    ("method", "path", "params", "weight"),
    [
        ("GET", "/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m"}, 2),
        ("GET", "/api/v3/trades", {"symbol": "BTCUSDT"}, 25),
        ("GET", "/api/v3/exchangeInfo", {}, 20),
        ("GET", "/api/v3/ticker/price", {"symbol": "BTCUSDT"}, 2),
        ("GET", "/api/v3/ticker/price", {}, 4),
        ("GET", "/api/v3/ticker/bookTicker", {}, 4),
        ("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"}, 6),
        ("GET", "/api/v3/openOrders", {}, 80),
        ("DELETE", "/api/v3/openOrders", {"symbol": "BTCUSDT"}, 1),
        ("GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": 1}, 4),
        ("DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": 1}, 1),
        ("GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"}, 20),
        ("GET", "/api/v3/account", {}, 20),
        ("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"}, 20),
        ("GET", "/api/v3/ping", {}, 1),
        ("GET", "/api/v3/somethingNew", {}, 1),  # unknown endpoints cost 1
        ("PUT", "/api/v3/klines", {}, 1),  # a method the table does not list: default
    ],
)
def test_spot_weights(method: str, path: str, params: dict[str, object], weight: int) -> None:
    assert _spot(method, path, params=params) == {"binance.spot.weight": weight}


def test_spot_order_costs_weight_and_one_order_per_window() -> None:
    costs = _spot("POST", "/api/v3/order", data={"symbol": "BTCUSDT", "side": "BUY"})
    assert costs == {
        "binance.spot.weight": 1,
        "binance.spot.orders.10s": 1,
        "binance.spot.orders.1d": 1,
    }
    oco = _spot("POST", "/api/v3/order/oco", data={"symbol": "BTCUSDT"})
    assert oco == {
        "binance.spot.weight": 1,
        "binance.spot.orders.10s": 2,
        "binance.spot.orders.1d": 2,
    }


def test_spot_order_test_weight_depends_on_commission_rates_in_query_or_body() -> None:
    path = "/api/v3/order/test"
    assert _spot("POST", path, data={"symbol": "X"}) == {"binance.spot.weight": 1}
    flag = {"computeCommissionRates": "true"}
    assert _spot("POST", path, data={"symbol": "X", **flag}) == {"binance.spot.weight": 20}
    assert _spot("POST", path, params=flag) == {"binance.spot.weight": 20}
    assert binance.SPOT_ORDERS_10S.scope == "key"


def test_sapi_is_not_priced_against_the_api_weight() -> None:
    assert _spot("GET", "/sapi/v1/capital/config/getall") == {}


def test_windows_are_binance_fixed_minutes_and_account_order_counts() -> None:
    assert binance.SPOT_WEIGHT.limit == 6000
    assert binance.SPOT_WEIGHT.period == 60
    assert (binance.SPOT_ORDERS_10S.limit, binance.SPOT_ORDERS_1D.limit) == (50, 160_000)
    assert (binance.UM_WEIGHT.limit, binance.UM_ORDERS_10S.limit, binance.UM_ORDERS_1M.limit) == (
        2400,
        300,
        1200,
    )
    assert (binance.CM_WEIGHT.limit, binance.CM_ORDERS_1M.limit) == (2400, 1200)
    for limits in binance.LIMITS:
        for window in limits.windows:
            assert window.kind == "fixed"
            assert window.scope == ("ip" if "weight" in window.name else "key")


def _fapi(method: str, path: str, **kwargs: object) -> dict[str, float]:
    request = Request.build(method, FAPI + path, **kwargs)  # type: ignore[arg-type]
    return {window.name: units for window, units in binance.USDS_M.price(request)}


@pytest.mark.parametrize(
    ("limit", "weight"),
    [(None, 10), (5, 2), (10, 2), (20, 2), (50, 2), (100, 5), (500, 10), (1000, 20), ("x", 20)],
)
def test_usdm_depth_weight_follows_the_limit(limit: object, weight: int) -> None:
    params = {"symbol": "BTCUSDT"} if limit is None else {"symbol": "BTCUSDT", "limit": limit}
    assert _fapi("GET", "/fapi/v1/depth", params=params) == {"binance.usdm.weight": weight}


@pytest.mark.parametrize(
    ("limit", "weight"),
    [(None, 5), (1, 1), (99, 1), (100, 2), (499, 2), (500, 5), (1000, 5), (1001, 10), (1500, 10)],
)
def test_usdm_klines_weight_follows_the_limit(limit: object, weight: int) -> None:
    params = {"symbol": "BTCUSDT", "interval": "1m"}
    if limit is not None:
        params["limit"] = limit  # type: ignore[assignment]
    assert _fapi("GET", "/fapi/v1/klines", params=params) == {"binance.usdm.weight": weight}


def test_usdm_symbol_dependent_weights_and_orders() -> None:
    assert _fapi("GET", "/fapi/v1/ticker/24hr", params={"symbol": "X"}) == {
        "binance.usdm.weight": 1
    }
    assert _fapi("GET", "/fapi/v1/ticker/24hr") == {"binance.usdm.weight": 40}
    assert _fapi("GET", "/fapi/v1/ticker/price") == {"binance.usdm.weight": 2}
    assert _fapi("GET", "/fapi/v1/openOrders") == {"binance.usdm.weight": 40}
    assert _fapi("GET", "/fapi/v1/openOrders", params={"symbol": "X"}) == {"binance.usdm.weight": 1}
    assert _fapi("POST", "/fapi/v1/order", data={"symbol": "X"}) == {
        "binance.usdm.weight": 1,
        "binance.usdm.orders.10s": 1,
        "binance.usdm.orders.1m": 1,
    }


def test_coinm_depth_and_orders() -> None:
    def price(method: str, path: str, **kwargs: object) -> dict[str, float]:
        request = Request.build(method, DAPI + path, **kwargs)  # type: ignore[arg-type]
        return {window.name: units for window, units in binance.COIN_M.price(request)}

    assert price("GET", "/dapi/v1/depth", params={"symbol": "BTCUSD_PERP"}) == {
        "binance.coinm.weight": 10
    }
    assert price("GET", "/dapi/v1/depth", params={"symbol": "X", "limit": 5}) == {
        "binance.coinm.weight": 2
    }
    assert price("POST", "/dapi/v1/order", data={"symbol": "X"}) == {
        "binance.coinm.weight": 1,
        "binance.coinm.orders.1m": 1,
    }


def test_headers_become_observations_of_the_counted_windows() -> None:
    request = Request.build("POST", SPOT + "/api/v3/order", data={"symbol": "X"})
    headers = {
        "x-mbx-used-weight-1m": "31",
        "x-mbx-used-weight": "31",
        "x-mbx-order-count-10s": "3",
        "x-mbx-order-count-1d": "70",
    }
    seen = {(o.window.name, o.used) for o in binance.observe_spot(request, 200, headers)}
    assert seen == {
        ("binance.spot.weight", 31),
        ("binance.spot.orders.10s", 3),
        ("binance.spot.orders.1d", 70),
    }
    assert list(binance.observe_spot(request, 200, {"x-mbx-used-weight-1m": "n/a"})) == []
    um = {
        (o.window.name, o.used)
        for o in binance.observe_usds_m(
            request,
            200,
            {
                "x-mbx-used-weight-1m": "5",
                "x-mbx-order-count-10s": "1",
                "x-mbx-order-count-1m": "2",
            },
        )
    }
    assert um == {
        ("binance.usdm.weight", 5),
        ("binance.usdm.orders.10s", 1),
        ("binance.usdm.orders.1m", 2),
    }
    cm = {
        (o.window.name, o.used)
        for o in binance.observe_coin_m(
            request, 200, {"x-mbx-used-weight-1m": "9", "x-mbx-order-count-1m": "4"}
        )
    }
    assert cm == {("binance.coinm.weight", 9), ("binance.coinm.orders.1m", 4)}


def test_a_used_weight_header_above_our_count_delays_the_next_request() -> None:
    limiter = RateLimiter([binance.SPOT], margin=0)
    request = Request.build("GET", SPOT + "/api/v3/depth", params={"symbol": "BTCUSDT"})
    first = limiter.reserve(request, now=125.0)
    assert first is not None
    assert first.at == 125.0
    # Another program on this IP has used almost all of this minute's weight.
    limiter.observe(request, 200, {"X-MBX-USED-WEIGHT-1M": "5998"}, now=125.1)
    second = limiter.reserve(request, now=125.2)
    assert second is not None
    assert second.at == 180.0


def test_an_order_count_header_delays_the_next_order_of_that_key_only() -> None:
    limiter = RateLimiter([binance.SPOT], margin=0)
    order = Request.build("POST", SPOT + "/api/v3/order", data={"symbol": "X"})
    assert limiter.reserve(order, now=100.0, key="k1") is not None
    limiter.observe(order, 200, {"x-mbx-order-count-10s": "50"}, now=100.1, key="k1")
    later = limiter.reserve(order, now=100.2, key="k1")
    other = limiter.reserve(order, now=100.2, key="k2")
    assert later is not None
    assert later.at == 110.0
    assert other is not None
    assert other.at == 100.2
