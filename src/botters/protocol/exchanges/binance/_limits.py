"""Binance's documented REST limits: Spot, USDⓈ-M futures and COIN-M futures.

Rules
-----
Binance counts three kinds of budget, each in fixed windows that start at
wall-clock multiples of their length (a minute window starts at second 0), so
every window here is ``kind="fixed"``:

* **request weight per IP**: every request costs its endpoint's weight,
  which can depend on a parameter (``depth``'s ``limit``, whether ``symbol``
  was sent). The limits are per IP, not per key
  (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits).
* **orders per account** (``scope="key"``): placing an order costs 1 in each
  order window; the count is kept "against each account"
  (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits).
* Spot also has ``RAW_REQUESTS`` per 5 minutes. It is not modelled: every
  request weighs at least 1 and the weight budget admits at most
  5 x 6,000 = 30,000 requests in 5 minutes, below the 61,000 Binance's docs
  show, so that budget can never be the one that binds.

Spot, USDⓈ-M and COIN-M "don't share limits with each other"
(https://dev.binance.vision/t/request-limit-on-the-api-endpoints/9275), so each
family has its own :class:`ExchangeLimits` and windows. ``/sapi`` endpoints on
the spot hosts have separate per-endpoint limits (same page) that are not
tabulated here; they are not limited.

Endpoints missing from the tables cost weight 1: Binance documents no default,
but 1 is the smallest weight any endpoint has, and the ``X-MBX-USED-WEIGHT-1M``
counter every response carries (read by :func:`observe_spot` and friends)
corrects the count when an endpoint costs more.

The limit numbers are the defaults Binance documents; ``exchangeInfo``'s
``rateLimits`` can show higher ones for an account, which callers can apply
with ``RateLimiter(scale=...)``. Binance's testnets are not included: the docs
do not say they share these limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final, TypeAlias

from botters.protocol._request import Request
from botters.protocol.exchanges._limitkit import form_value, header_float, query_value, to_int
from botters.protocol.limits import Cost, ExchangeLimits, Observation, Window

__all__ = ["COIN_M", "LIMITS", "SPOT", "USDS_M"]

_Costs: TypeAlias = tuple[Cost, ...]
_Pricer: TypeAlias = Callable[[Request], Sequence[Cost]]
_Entry: TypeAlias = "_Costs | _Pricer"

# -- Spot ---------------------------------------------------------------------------------

SPOT_LIMITS_URL: Final = "https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits"
SPOT_MARKET_URL: Final = (
    "https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints"
)
SPOT_GENERAL_URL: Final = (
    "https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-endpoints"
)
SPOT_TRADING_URL: Final = (
    "https://developers.binance.com/docs/binance-spot-api-docs/rest-api/trading-endpoints"
)
SPOT_ACCOUNT_URL: Final = (
    "https://developers.binance.com/docs/binance-spot-api-docs/rest-api/account-endpoints"
)

# REQUEST_WEIGHT 6,000 per minute per IP, as the docs' rateLimits examples show
# ("limit": 6000, e.g. https://developers.binance.com/docs/binance-spot-api-docs/web-socket-api/market-data-requests).
SPOT_WEIGHT: Final = Window(
    name="binance.spot.weight",
    limit=6000,
    period=60.0,
    kind="fixed",
    scope="ip",
    source=SPOT_LIMITS_URL,
)
# ORDERS 50 per 10 seconds and 160,000 per day per account: the numbers Binance's
# docs print in their rateLimits examples
# (https://developers.binance.com/docs/binance-spot-api-docs/testnet/websocket-api/response-format);
# an account with higher limits sees them in exchangeInfo.
SPOT_ORDERS_10S: Final = Window(
    name="binance.spot.orders.10s",
    limit=50,
    period=10.0,
    kind="fixed",
    scope="key",
    source=SPOT_LIMITS_URL,
)
SPOT_ORDERS_1D: Final = Window(
    name="binance.spot.orders.1d",
    limit=160_000,
    period=86_400.0,
    kind="fixed",
    scope="key",
    source=SPOT_LIMITS_URL,
)


def _w(window: Window, weight: float) -> _Costs:
    return ((window, weight),)


_SPOT_1: Final = _w(SPOT_WEIGHT, 1)
_SPOT_2: Final = _w(SPOT_WEIGHT, 2)
_SPOT_4: Final = _w(SPOT_WEIGHT, 4)
_SPOT_5: Final = _w(SPOT_WEIGHT, 5)
_SPOT_6: Final = _w(SPOT_WEIGHT, 6)
_SPOT_20: Final = _w(SPOT_WEIGHT, 20)
_SPOT_25: Final = _w(SPOT_WEIGHT, 25)
_SPOT_40: Final = _w(SPOT_WEIGHT, 40)
_SPOT_50: Final = _w(SPOT_WEIGHT, 50)
_SPOT_80: Final = _w(SPOT_WEIGHT, 80)
_SPOT_250: Final = _w(SPOT_WEIGHT, 250)
# An order: weight 1 (trading endpoints page) and one order in each order window.
_SPOT_ORDER: Final = ((SPOT_WEIGHT, 1.0), (SPOT_ORDERS_10S, 1.0), (SPOT_ORDERS_1D, 1.0))
# An OCO order list counts as 2 orders
# (https://dev.binance.vision/t/request-limit-on-the-api-endpoints/9275).
_SPOT_OCO: Final = ((SPOT_WEIGHT, 1.0), (SPOT_ORDERS_10S, 2.0), (SPOT_ORDERS_1D, 2.0))


def _spot_depth(request: Request) -> _Costs:
    # GET /api/v3/depth: weight by limit (default 100, max 5000): 1-100 -> 5,
    # 101-500 -> 25, 501-1000 -> 50, 1001-5000 -> 250 (SPOT_MARKET_URL). An
    # unreadable limit is priced as the largest.
    raw = query_value(request.query, "limit=")
    limit = 100 if raw is None else to_int(raw)
    if limit is None:
        return _SPOT_250
    if limit <= 100:
        return _SPOT_5
    if limit <= 500:
        return _SPOT_25
    if limit <= 1000:
        return _SPOT_50
    return _SPOT_250


def _symbol_count(query: str) -> int:
    """How many symbols a ticker request names: 1 for ``symbol``, n for ``symbols``, 0 for none."""
    if query_value(query, "symbol=") is not None:
        return 1
    raw = query_value(query, "symbols=")
    if raw is None:
        return 0
    # symbols=["A","B"] arrives percent-encoded (%2C) or raw; count the separators.
    return 1 + raw.count("%2C") + raw.count("%2c") + raw.count(",")


def _spot_ticker_24hr(request: Request) -> _Costs:
    # GET /api/v3/ticker/24hr: 2 for one symbol or 1-20 symbols, 40 for 21-100,
    # 80 for 101 or more or when no symbol is given (SPOT_MARKET_URL).
    n = _symbol_count(request.query)
    if n == 0 or n > 100:
        return _SPOT_80
    return _SPOT_2 if n <= 20 else _SPOT_40


def _spot_ticker_one_or_all(request: Request) -> _Costs:
    # GET /api/v3/ticker/price and /ticker/bookTicker: 2 for one symbol, 4 for
    # several or all (SPOT_MARKET_URL).
    return _SPOT_2 if query_value(request.query, "symbol=") is not None else _SPOT_4


def _spot_open_orders(request: Request) -> _Costs:
    # GET /api/v3/openOrders: 6 with a symbol, 80 without (SPOT_ACCOUNT_URL).
    return _SPOT_6 if query_value(request.query, "symbol=") is not None else _SPOT_80


def _spot_order_test(request: Request) -> _Costs:
    # POST /api/v3/order/test: 1, or 20 with computeCommissionRates=true
    # (SPOT_TRADING_URL). Parameters may be in the query or the form body.
    flag = query_value(request.query, "computeCommissionRates=")
    if flag is None:
        raw = form_value(request.body, b"computeCommissionRates=")
        flag = None if raw is None else raw.decode("ascii", "replace")
    return _SPOT_20 if flag == "true" else _SPOT_1


_SPOT_TABLE: Final[dict[str, dict[str, _Entry]]] = {
    "/api/v3/ping": {"GET": _SPOT_1},  # SPOT_GENERAL_URL
    "/api/v3/time": {"GET": _SPOT_1},  # SPOT_GENERAL_URL
    "/api/v3/exchangeInfo": {"GET": _SPOT_20},  # SPOT_GENERAL_URL
    "/api/v3/depth": {"GET": _spot_depth},
    "/api/v3/trades": {"GET": _SPOT_25},  # SPOT_MARKET_URL
    "/api/v3/klines": {"GET": _SPOT_2},  # SPOT_MARKET_URL
    "/api/v3/ticker/24hr": {"GET": _spot_ticker_24hr},
    "/api/v3/ticker/price": {"GET": _spot_ticker_one_or_all},
    "/api/v3/ticker/bookTicker": {"GET": _spot_ticker_one_or_all},
    "/api/v3/order": {
        "POST": _SPOT_ORDER,  # weight 1 + one order (SPOT_TRADING_URL, SPOT_LIMITS_URL)
        "GET": _SPOT_4,  # query order (SPOT_ACCOUNT_URL)
        "DELETE": _SPOT_1,  # cancel order (SPOT_TRADING_URL)
    },
    "/api/v3/order/test": {"POST": _spot_order_test},
    "/api/v3/order/oco": {"POST": _SPOT_OCO},
    "/api/v3/openOrders": {
        "GET": _spot_open_orders,
        "DELETE": _SPOT_1,  # cancel all on a symbol (SPOT_TRADING_URL)
    },
    "/api/v3/allOrders": {"GET": _SPOT_20},  # SPOT_ACCOUNT_URL
    "/api/v3/account": {"GET": _SPOT_20},  # SPOT_ACCOUNT_URL
    "/api/v3/myTrades": {"GET": _SPOT_20},  # SPOT_ACCOUNT_URL
}


def _price(
    table: Mapping[str, Mapping[str, _Entry]], default: _Costs, request: Request, path: str
) -> Sequence[Cost]:
    by_method = table.get(path)
    if by_method is None:
        return default
    entry = by_method.get(request.method)
    if entry is None:
        return default
    if isinstance(entry, tuple):
        return entry
    return entry(request)


def price_spot(request: Request) -> Sequence[Cost]:
    """What a spot request costs: its weight, and for orders one order in each order window."""
    path = request.parts.path
    if path.startswith("/sapi/"):
        return ()  # separate per-endpoint limits, not tabulated (see the module docstring)
    return _price(_SPOT_TABLE, _SPOT_1, request, path)


def _used(window: Window, headers: Mapping[str, str], name: str) -> Observation | None:
    used = header_float(headers, name)
    return None if used is None else Observation(window=window, used=used)


_SPOT_COUNTERS: Final = (
    (SPOT_WEIGHT, "x-mbx-used-weight-1m"),
    (SPOT_ORDERS_10S, "x-mbx-order-count-10s"),
    (SPOT_ORDERS_1D, "x-mbx-order-count-1d"),
)


def observe_spot(
    request: Request, status: int, headers: Mapping[str, str]
) -> Iterable[Observation]:
    """Read ``X-MBX-USED-WEIGHT-1M`` and the ``X-MBX-ORDER-COUNT-10S``/``-1D`` counters.

    Both report the exchange's count in the current window, including this
    request (SPOT_LIMITS_URL).
    """
    out = []
    get = headers.get
    for window, name in _SPOT_COUNTERS:
        if get(name) is not None:  # most responses carry one of the three
            seen = _used(window, headers, name)
            if seen is not None:
                out.append(seen)
    return out


SPOT: Final = ExchangeLimits(
    exchange="binance",
    # The spot hosts of ROUTES in _auth.py (the alternatives Binance lists,
    # https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-api-information).
    hosts=frozenset(
        {
            "api.binance.com",
            "api-gcp.binance.com",
            "api1.binance.com",
            "api2.binance.com",
            "api3.binance.com",
            "api4.binance.com",
        }
    ),
    windows=(SPOT_WEIGHT, SPOT_ORDERS_10S, SPOT_ORDERS_1D),
    price=price_spot,
    observe=observe_spot,
    source=SPOT_LIMITS_URL,
)

# -- USDⓈ-M futures -----------------------------------------------------------------------

FUTURES_FAQ_URL: Final = "https://www.binance.com/en/support/faq/rate-limits-on-binance-futures-281596e222414cdd9051664ea621cdc3"
UM_GENERAL_URL: Final = (
    "https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info"
)
UM_DEPTH_URL: Final = "https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Order-Book"
UM_KLINES_URL: Final = (
    "https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/"
    "Kline-Candlestick-Data"
)
UM_TICKER_URL: Final = (
    "https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/"
    "24hr-Ticker-Price-Change-Statistics"
)
UM_PRICE_URL: Final = (
    "https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/websocket-api/"
    "Symbol-Price-Ticker"
)
UM_OPEN_ORDERS_URL: Final = (
    "https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/"
    "Current-All-Open-Orders"
)

# "The default rate limit per IP is 2,400/min, and the default order limit per
# account/sub-account is 1,200/min ... an additional 10-second limit applicable
# to USDⓈ-M Futures, default at 300/10s" (FUTURES_FAQ_URL).
UM_WEIGHT: Final = Window(
    name="binance.usdm.weight",
    limit=2400,
    period=60.0,
    kind="fixed",
    scope="ip",
    source=FUTURES_FAQ_URL,
)
UM_ORDERS_10S: Final = Window(
    name="binance.usdm.orders.10s",
    limit=300,
    period=10.0,
    kind="fixed",
    scope="key",
    source=FUTURES_FAQ_URL,
)
UM_ORDERS_1M: Final = Window(
    name="binance.usdm.orders.1m",
    limit=1200,
    period=60.0,
    kind="fixed",
    scope="key",
    source=FUTURES_FAQ_URL,
)

_UM_1: Final = _w(UM_WEIGHT, 1)
_UM_2: Final = _w(UM_WEIGHT, 2)
_UM_5: Final = _w(UM_WEIGHT, 5)
_UM_10: Final = _w(UM_WEIGHT, 10)
_UM_20: Final = _w(UM_WEIGHT, 20)
_UM_40: Final = _w(UM_WEIGHT, 40)
# POST /fapi/v1/order: one order in each order window (FUTURES_FAQ_URL); its IP
# weight page was not available, so it is charged the default weight 1.
_UM_ORDER: Final = ((UM_WEIGHT, 1.0), (UM_ORDERS_10S, 1.0), (UM_ORDERS_1M, 1.0))


def _futures_depth(request: Request, w2: _Costs, w5: _Costs, w10: _Costs, w20: _Costs) -> _Costs:
    # Order book weight by limit (default 500): 5/10/20/50 -> 2, 100 -> 5,
    # 500 -> 10, 1000 -> 20 (UM_DEPTH_URL; COIN-M the same, CM_DEPTH_URL). Values
    # between the documented ones are rounded up; unreadable ones priced highest.
    raw = query_value(request.query, "limit=")
    limit = 500 if raw is None else to_int(raw)
    if limit is None:
        return w20
    if limit <= 50:
        return w2
    if limit <= 100:
        return w5
    if limit <= 500:
        return w10
    return w20


def _um_depth(request: Request) -> _Costs:
    return _futures_depth(request, _UM_2, _UM_5, _UM_10, _UM_20)


def _futures_klines(request: Request, w1: _Costs, w2: _Costs, w5: _Costs, w10: _Costs) -> _Costs:
    # Klines weight by limit (default 500): [1,100) -> 1, [100,500) -> 2,
    # [500,1000] -> 5, > 1000 -> 10 (UM_KLINES_URL, CM_MARK_KLINES_URL).
    raw = query_value(request.query, "limit=")
    limit = 500 if raw is None else to_int(raw)
    if limit is None:
        return w10
    if limit < 100:
        return w1
    if limit < 500:
        return w2
    if limit <= 1000:
        return w5
    return w10


def _um_klines(request: Request) -> _Costs:
    return _futures_klines(request, _UM_1, _UM_2, _UM_5, _UM_10)


def _um_symbol_1_or(costs_without: _Costs) -> _Pricer:
    def price(request: Request) -> _Costs:
        return _UM_1 if query_value(request.query, "symbol=") is not None else costs_without

    return price


_UM_TABLE: Final[dict[str, dict[str, _Entry]]] = {
    "/fapi/v1/depth": {"GET": _um_depth},
    "/fapi/v1/klines": {"GET": _um_klines},
    "/fapi/v1/markPriceKlines": {"GET": _um_klines},  # same table as klines
    # 1 for a single symbol; 40 when the symbol parameter is omitted (UM_TICKER_URL).
    "/fapi/v1/ticker/24hr": {"GET": _um_symbol_1_or(_UM_40)},
    # 1 for a single symbol; 2 when the symbol parameter is omitted (UM_PRICE_URL).
    "/fapi/v1/ticker/price": {"GET": _um_symbol_1_or(_UM_2)},
    "/fapi/v2/ticker/price": {"GET": _um_symbol_1_or(_UM_2)},
    # 1 for a single symbol; 40 when the symbol parameter is omitted (UM_OPEN_ORDERS_URL).
    "/fapi/v1/openOrders": {"GET": _um_symbol_1_or(_UM_40)},
    "/fapi/v1/order": {"POST": _UM_ORDER},
}


def price_usds_m(request: Request) -> Sequence[Cost]:
    """What a USDⓈ-M futures request costs: its weight, and for orders one per order window."""
    return _price(_UM_TABLE, _UM_1, request, request.parts.path)


def observe_usds_m(
    request: Request, status: int, headers: Mapping[str, str]
) -> Iterable[Observation]:
    """Read ``X-MBX-USED-WEIGHT-1M`` and ``X-MBX-ORDER-COUNT-10S``/``-1M`` (UM_GENERAL_URL)."""
    out = []
    for window, name in (
        (UM_WEIGHT, "x-mbx-used-weight-1m"),
        (UM_ORDERS_10S, "x-mbx-order-count-10s"),
        (UM_ORDERS_1M, "x-mbx-order-count-1m"),
    ):
        seen = _used(window, headers, name)
        if seen is not None:
            out.append(seen)
    return out


USDS_M: Final = ExchangeLimits(
    exchange="binance-usdm",
    hosts=frozenset({"fapi.binance.com"}),
    windows=(UM_WEIGHT, UM_ORDERS_10S, UM_ORDERS_1M),
    price=price_usds_m,
    observe=observe_usds_m,
    source=FUTURES_FAQ_URL,
)

# -- COIN-M futures -----------------------------------------------------------------------

CM_GENERAL_URL: Final = (
    "https://developers.binance.com/docs/derivatives/coin-margined-futures/general-info"
)
CM_DEPTH_URL: Final = (
    "https://developers.binance.me/docs/derivatives/coin-margined-futures/market-data/Order-Book"
)
CM_MARK_KLINES_URL: Final = (
    "https://developers.binance.me/docs/derivatives/coin-margined-futures/market-data/"
    "Mark-Price-Kline-Candlestick-Data"
)

# 2,400 weight per minute per IP and 1,200 orders per minute per account; the
# extra 10-second order limit applies to USDⓈ-M only (FUTURES_FAQ_URL).
CM_WEIGHT: Final = Window(
    name="binance.coinm.weight",
    limit=2400,
    period=60.0,
    kind="fixed",
    scope="ip",
    source=FUTURES_FAQ_URL,
)
CM_ORDERS_1M: Final = Window(
    name="binance.coinm.orders.1m",
    limit=1200,
    period=60.0,
    kind="fixed",
    scope="key",
    source=FUTURES_FAQ_URL,
)

_CM_1: Final = _w(CM_WEIGHT, 1)
_CM_2: Final = _w(CM_WEIGHT, 2)
_CM_5: Final = _w(CM_WEIGHT, 5)
_CM_10: Final = _w(CM_WEIGHT, 10)
_CM_20: Final = _w(CM_WEIGHT, 20)
_CM_ORDER: Final = ((CM_WEIGHT, 1.0), (CM_ORDERS_1M, 1.0))


def _cm_depth(request: Request) -> _Costs:
    return _futures_depth(request, _CM_2, _CM_5, _CM_10, _CM_20)


def _cm_klines(request: Request) -> _Costs:
    return _futures_klines(request, _CM_1, _CM_2, _CM_5, _CM_10)


_CM_TABLE: Final[dict[str, dict[str, _Entry]]] = {
    "/dapi/v1/depth": {"GET": _cm_depth},  # CM_DEPTH_URL
    "/dapi/v1/markPriceKlines": {"GET": _cm_klines},  # CM_MARK_KLINES_URL
    "/dapi/v1/premiumIndexKlines": {"GET": _cm_klines},  # same table, same docs
    "/dapi/v1/order": {"POST": _CM_ORDER},
}


def price_coin_m(request: Request) -> Sequence[Cost]:
    """What a COIN-M futures request costs: its weight, and for orders one order."""
    return _price(_CM_TABLE, _CM_1, request, request.parts.path)


def observe_coin_m(
    request: Request, status: int, headers: Mapping[str, str]
) -> Iterable[Observation]:
    """Read ``X-MBX-USED-WEIGHT-1M`` and ``X-MBX-ORDER-COUNT-1M`` (CM_GENERAL_URL)."""
    out = []
    for window, name in (
        (CM_WEIGHT, "x-mbx-used-weight-1m"),
        (CM_ORDERS_1M, "x-mbx-order-count-1m"),
    ):
        seen = _used(window, headers, name)
        if seen is not None:
            out.append(seen)
    return out


COIN_M: Final = ExchangeLimits(
    exchange="binance-coinm",
    hosts=frozenset({"dapi.binance.com"}),
    windows=(CM_WEIGHT, CM_ORDERS_1M),
    price=price_coin_m,
    observe=observe_coin_m,
    source=FUTURES_FAQ_URL,
)

LIMITS: Final = (SPOT, USDS_M, COIN_M)
"""Binance's families, each on its own hosts and counted apart."""
