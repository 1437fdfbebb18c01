"""Every exchange's ``_limits`` table, checked as data and driven through the real limiter.

The per-exchange files (``tests/protocol/exchanges/test_*_limits.py``) check what
each request costs; this one checks what holds for all of them: the registry
loads them without overlap, every number names its source, every host is one
the exchange signs for, and a :class:`RateLimiter` built from a table never lets
more through any window than the window allows, whatever the burst.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from collections import defaultdict
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botters.protocol import Request
from botters.protocol.exchanges import EXCHANGES
from botters.protocol.limits import ExchangeLimits, RateLimiter, Reservation, Window, default_limits

ALL = default_limits()
BY_NAME = {limits.exchange: limits for limits in ALL}


def _module_limits(name: str) -> tuple[ExchangeLimits, ...]:
    value = importlib.import_module(f"botters.protocol.exchanges.{name}._limits").LIMITS
    return (value,) if isinstance(value, ExchangeLimits) else tuple(value)


def _routes_hosts(name: str) -> set[str]:
    routes = importlib.import_module(f"botters.protocol.exchanges.{name}").ROUTES
    return {host for route in routes if route.scheme == "https" for host in route.hosts}


WITH_LIMITS = [
    name
    for name in EXCHANGES
    if importlib.util.find_spec(f"botters.protocol.exchanges.{name}._limits") is not None
]


def test_the_priority_exchanges_have_tables() -> None:
    for name in (
        "binance",
        "bybit",
        "okx",
        "bitflyer",
        "gmocoin",
        "bitbank",
        "kucoin",
        "bitget",
        "phemex",
    ):
        assert name in WITH_LIMITS


def test_default_limits_loads_every_table_once_without_host_overlap() -> None:
    expected = [entry for name in WITH_LIMITS for entry in _module_limits(name)]
    assert list(ALL) == expected
    seen: dict[str, str] = {}
    for limits in ALL:
        for host in limits.hosts:
            assert host not in seen, f"{host} in {limits.exchange} and {seen[host]}"
            seen[host] = limits.exchange


@pytest.mark.parametrize("name", WITH_LIMITS)
def test_every_host_is_one_the_exchange_signs_for(name: str) -> None:
    signed = _routes_hosts(name)
    for limits in _module_limits(name):
        assert limits.hosts, limits
        assert limits.hosts <= signed, sorted(limits.hosts - signed)
        assert all(host == host.lower() for host in limits.hosts)


@pytest.mark.parametrize("limits", ALL, ids=lambda limits: limits.exchange)
def test_every_window_names_its_source(limits: ExchangeLimits) -> None:
    assert limits.source.startswith("https://")
    names = [window.name for window in limits.windows]
    assert len(names) == len(set(names)), "window names are unique within an exchange"
    for window in limits.windows:
        assert window.source.startswith("https://"), window
        assert window.kind in ("fixed", "sliding")
        assert window.scope in ("ip", "key", "anonymous")


def test_window_names_are_unique_across_exchanges() -> None:
    names = [window.name for limits in ALL for window in limits.windows]
    assert len(names) == len(set(names))


# Requests every table is exercised with: the endpoints the tables name, with and
# without the parameters costs depend on, and a few they do not know.
SAMPLES: dict[str, list[Request]] = {
    "binance": [
        Request.build("GET", "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=5000"),
        Request.build("GET", "https://api.binance.com/api/v3/depth?symbol=BTCUSDT"),
        Request.build("GET", "https://api1.binance.com/api/v3/ticker/24hr"),
        Request.build("GET", "https://api.binance.com/api/v3/klines?symbol=BTCUSDT&interval=1m"),
        Request.build("POST", "https://api.binance.com/api/v3/order", data={"symbol": "BTCUSDT"}),
        Request.build("POST", "https://api.binance.com/api/v3/order/oco", data={"a": "1"}),
        Request.build("GET", "https://api.binance.com/api/v3/openOrders"),
        Request.build("GET", "https://api.binance.com/api/v3/unknown"),
    ],
    "binance-usdm": [
        Request.build("GET", "https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT&limit=1000"),
        Request.build("GET", "https://fapi.binance.com/fapi/v1/klines?symbol=BTCUSDT"),
        Request.build("POST", "https://fapi.binance.com/fapi/v1/order", data={"x": "1"}),
        Request.build("GET", "https://fapi.binance.com/fapi/v1/time"),
    ],
    "binance-coinm": [
        Request.build("GET", "https://dapi.binance.com/dapi/v1/depth?symbol=BTCUSD_PERP"),
        Request.build("POST", "https://dapi.binance.com/dapi/v1/order", data={"x": "1"}),
        Request.build("GET", "https://dapi.binance.com/dapi/v1/time"),
    ],
    "bybit": [
        Request.build("POST", "https://api.bybit.com/v5/order/create", data={"category": "linear"}),
        Request.build("POST", "https://api.bybit.com/v5/order/create", data={"category": "spot"}),
        Request.build("POST", "https://api.bytick.com/v5/order/cancel-all", data={"x": "1"}),
        Request.build("GET", "https://api.bybit.com/v5/order/realtime?category=linear"),
        Request.build("GET", "https://api.bybit.com/v5/market/tickers?category=spot"),
    ],
    "okx": [
        Request.build("GET", "https://www.okx.com/api/v5/market/books?instId=BTC-USDT"),
        Request.build("POST", "https://www.okx.com/api/v5/trade/order", data={"instId": "A"}),
        Request.build(
            "POST",
            "https://aws.okx.com/api/v5/trade/batch-orders",
            data=[{"instId": "A"}, {"instId": "B"}, {"instId": "C"}],
        ),
        Request.build("GET", "https://www.okx.com/api/v5/account/balance"),
    ],
    "bitflyer": [
        Request.build("GET", "https://api.bitflyer.com/v1/ticker"),
        Request.build("GET", "https://api.bitflyer.com/v1/me/getbalance"),
        Request.build("POST", "https://api.bitflyer.com/v1/me/sendchildorder", data={"size": 0.01}),
        Request.build("POST", "https://api.bitflyer.com/v1/me/sendchildorder", data={"size": 1}),
    ],
    "gmocoin": [
        Request.build("GET", "https://api.coin.z.com/private/v1/account/assets"),
        Request.build("POST", "https://api.coin.z.com/private/v1/order", data={"x": "1"}),
        Request.build("GET", "https://api.coin.z.com/public/v1/ticker"),
    ],
    "bitbank": [
        Request.build("GET", "https://api.bitbank.cc/v1/user/assets"),
        Request.build("POST", "https://api.bitbank.cc/v1/user/spot/order", data={"x": "1"}),
    ],
    "bitmex": [
        Request.build("GET", "https://www.bitmex.com/api/v1/instrument"),
        Request.build("GET", "https://www.bitmex.com/api/v1/position", headers={"api-key": "k"}),
        Request.build(
            "POST", "https://www.bitmex.com/api/v1/order", headers={"api-key": "k"}, data={"a": 1}
        ),
    ],
    "kucoin": [
        Request.build("GET", "https://api.kucoin.com/api/v1/market/orderbook/level1?symbol=X"),
        Request.build("POST", "https://api.kucoin.com/api/v1/hf/orders", data={"symbol": "X"}),
        Request.build("DELETE", "https://api.kucoin.com/api/v1/hf/orders/abc123?symbol=X"),
        Request.build("POST", "https://api.kucoin.com/api/v1/orders", data={"symbol": "X"}),
        Request.build("DELETE", "https://api.kucoin.com/api/v1/orders/abc123"),
        Request.build("POST", "https://api-futures.kucoin.com/api/v1/orders", data={"a": 1}),
        Request.build("DELETE", "https://api-futures.kucoin.com/api/v1/orders/abc123"),
        Request.build("GET", "https://api.kucoin.com/api/v1/accounts"),
    ],
    "bitget": [
        Request.build("POST", "https://api.bitget.com/api/v2/spot/trade/place-order", data={}),
        Request.build("GET", "https://api.bitget.com/api/v2/spot/market/tickers?symbol=X"),
        Request.build("POST", "https://api.bitget.com/api/v2/mix/order/place-order", data={}),
        Request.build("POST", "https://api.bitget.com/api/v2/mix/order/cancel-order", data={}),
        Request.build("GET", "https://api.bitget.com/api/v2/mix/position/all-position"),
        Request.build("GET", "https://api.bitget.com/api/v2/public/time"),
    ],
    "phemex": [
        Request.build("POST", "https://api.phemex.com/orders", data={"symbol": "BTCUSD"}),
        Request.build("DELETE", "https://api.phemex.com/orders/all?symbol=BTCUSD"),
        Request.build("GET", "https://vapi.phemex.com/accounts/positions?currency=BTC"),
        Request.build("DELETE", "https://api.phemex.com/spot/orders?symbol=sBTCUSDT"),
        Request.build("GET", "https://api.phemex.com/md/orderbook?symbol=BTCUSD"),
        Request.build("PUT", "https://api.phemex.com/g-orders/create?symbol=BTCUSDT"),
    ],
}


def test_every_table_has_samples() -> None:
    assert set(SAMPLES) == set(BY_NAME)


@pytest.mark.parametrize("exchange", sorted(SAMPLES))
def test_prices_use_only_listed_windows(exchange: str) -> None:
    limits = BY_NAME[exchange]
    for request in SAMPLES[exchange]:
        assert request.host in limits.hosts
        for window, units in limits.price(request):
            assert window in limits.windows, (request.url, window)
            assert units > 0


def _over_budget(bookings: Sequence[tuple[Reservation, str | None]]) -> list[str]:
    """Every window (and key) that got more than its limit in one window, as messages."""
    per_bucket: dict[tuple[Window, str | None], list[tuple[float, float]]] = defaultdict(list)
    for reservation, key in bookings:
        for window, units in reservation.windows:
            per_bucket[(window, key if window.scope == "key" else None)].append(
                (reservation.at, units)
            )
    problems = []
    for (window, key), entries in per_bucket.items():
        entries.sort()
        if window.kind == "fixed":
            totals: dict[int, float] = defaultdict(float)
            for at, units in entries:
                totals[math.floor(at / window.period)] += units
            worst = max(totals.values())
        else:
            worst = 0.0
            for i, (start, _) in enumerate(entries):
                inside = 0.0
                for at, units in entries[i:]:
                    if at >= start + window.period - 1e-9:
                        break
                    inside += units
                worst = max(worst, inside)
        if worst > window.limit + 1e-9:
            problems.append(f"{window!r} key={key}: {worst:g} > {window.limit:g}")
    return problems


@st.composite
def _bursts(draw: st.DrawFn) -> tuple[str, list[tuple[int, float, str | None]]]:
    exchange = draw(st.sampled_from(sorted(SAMPLES)))
    n = len(SAMPLES[exchange])
    steps = draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1),
                st.floats(0.0, 3.0, allow_nan=False),  # seconds since the previous request
                st.sampled_from(["k1", "k2", None]),
            ),
            min_size=1,
            max_size=400,
        )
    )
    return exchange, steps


@settings(max_examples=60, deadline=None)
@given(_bursts())
def test_the_limiter_never_exceeds_a_documented_budget(
    burst: tuple[str, list[tuple[int, float, str | None]]],
) -> None:
    exchange, steps = burst
    limits = BY_NAME[exchange]
    limiter = RateLimiter([limits], margin=0)
    now = 1_700_000_000.0
    bookings = []
    for index, gap, key in steps:
        now += gap
        reservation = limiter.reserve(SAMPLES[exchange][index], now=now, key=key)
        if reservation is None:
            continue
        assert reservation.at >= now
        bookings.append((reservation, key))
    assert _over_budget(bookings) == []


def test_a_burst_far_over_the_budget_is_spread_over_windows() -> None:
    # 100 depth requests of weight 250 against 6,000 per minute: 24 per minute.
    limiter = RateLimiter([BY_NAME["binance"]], margin=0)
    request = SAMPLES["binance"][0]
    times = [limiter.reserve(request, now=60.5, key=None) for _ in range(100)]
    ats = [r.at for r in times if r is not None]
    assert ats[:24] == [60.5] * 24
    assert ats[24] == 120.0
    assert _over_budget([(r, None) for r in times if r is not None]) == []


def test_the_budget_check_catches_an_overrun() -> None:
    # The same burst through a limiter allowed twice the budget must be caught,
    # or the property above would prove nothing.
    limiter = RateLimiter([BY_NAME["binance"]], scale=2.0, margin=0)
    request = SAMPLES["binance"][0]
    times = [limiter.reserve(request, now=60.5, key=None) for _ in range(30)]
    assert _over_budget([(r, None) for r in times if r is not None]) != []


# -- the field readers the tables use, against the standard library -----------------------

_names = st.sampled_from(["limit", "symbol", "symbols", "category", "xlimit", "limitx", "a"])
_values = st.text(alphabet="abcXYZ019.-_", max_size=6)


@given(st.lists(st.tuples(_names, _values), max_size=6), _names)
def test_query_value_finds_the_first_value_of_a_parameter(
    pairs: list[tuple[str, str]], name: str
) -> None:
    from botters.protocol.exchanges._limitkit import form_value, query_value

    query = "&".join(f"{k}={v}" for k, v in pairs)
    expected = next((v for k, v in pairs if k == name), None)
    assert query_value(query, name + "=") == expected
    raw = form_value(query.encode(), (name + "=").encode())
    assert (None if raw is None else raw.decode()) == expected


@given(
    st.dictionaries(
        st.sampled_from(["category", "size", "symbol", "qty"]),
        st.one_of(_values, st.integers(-5, 5), st.floats(0, 10, allow_nan=False)),
        max_size=4,
    ),
    st.sampled_from([None, (",", ":"), (", ", ": ")]),
)
def test_json_value_reads_a_flat_member_as_json_wrote_it(
    data: dict[str, object], separators: tuple[str, str] | None
) -> None:
    import json

    from botters.protocol.exchanges._limitkit import json_value

    body = json.dumps(data, separators=separators).encode()
    for name, value in data.items():
        got = json_value(body, f'"{name}"'.encode())
        assert got is not None
        assert got.decode() == (value if isinstance(value, str) else json.dumps(value))
    assert json_value(body, b'"missing"') is None
