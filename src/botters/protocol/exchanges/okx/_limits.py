"""OKX v5's documented REST limits (https://www.okx.com/docs-v5/en/#overview-rate-limits).

Rules
-----
* Every endpoint has its own budget, written on its page as "Rate Limit: N
  requests per 2 seconds" with a "Rate limit rule": ``IP`` for public
  endpoints, ``User ID`` (each sub-account its own) for private ones. OKX does
  not say the windows are aligned to the clock, so all are ``"sliding"``;
  ``User ID`` budgets are ``scope="key"``.
* Trade endpoints are counted per User ID **and Instrument ID** (Instrument
  Family for options). The limiter keeps one budget per key, so here all
  instruments of a key share the endpoint's budget: never looser than OKX,
  but a bot trading many instruments at once is paced as if they were one.
* Batch endpoints count orders, not requests ("300 orders per 2 seconds"); a
  batch is priced by the number of orders in its JSON body.
* Sub-account limit: "a maximum of 1000 order requests per 2 seconds"; only new
  and amended orders count, each order of a batch individually
  (https://www.okx.com/help/fill-ratio-sub-account-rate-limit).
* Endpoints not in the table are not limited: OKX has no shared budget that
  covers them (every endpoint is counted apart), so a catch-all window would
  only make unrelated endpoints wait for each other. (The limiter then books
  nothing for them, so it also cannot pause them after an HTTP 429.)

OKX sends no rate-limit headers, so there is no ``observe``. Demo trading uses
the same hosts (with the ``x-simulated-trading`` header and its own keys), and
is counted with them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, TypeAlias

from botters.protocol._request import Request
from botters.protocol.exchanges._limitkit import json_count
from botters.protocol.limits import Cost, ExchangeLimits, Window

__all__ = ["LIMITS", "SUB_ACCOUNT_ORDERS", "price"]

SOURCE: Final = "https://www.okx.com/docs-v5/en/#overview-rate-limits"
TRADE_URL: Final = "https://www.okx.com/docs-v5/en/#order-book-trading-trade"
MARKET_URL: Final = "https://www.okx.com/docs-v5/en/#order-book-trading-market-data"
ACCOUNT_URL: Final = "https://www.okx.com/docs-v5/en/#trading-account-rest-api"
PUBLIC_URL: Final = "https://www.okx.com/docs-v5/en/#public-data-rest-api"
SUB_ACCOUNT_URL: Final = "https://www.okx.com/help/fill-ratio-sub-account-rate-limit"

_Costs: TypeAlias = tuple[Cost, ...]
_Pricer: TypeAlias = Callable[[Request], Sequence[Cost]]

SUB_ACCOUNT_ORDERS: Final = Window(
    name="okx.sub-account.orders",
    limit=1000,
    period=2.0,
    kind="sliding",
    scope="key",
    source=SUB_ACCOUNT_URL,
)

_WINDOWS: list[Window] = [SUB_ACCOUNT_ORDERS]


def _window(path: str, limit: float, period: float, scope: str, source: str) -> Window:
    window = Window(
        name="okx." + path.removeprefix("/api/v5/").replace("/", "."),
        limit=limit,
        period=period,
        kind="sliding",
        scope="ip" if scope == "ip" else "key",
        source=source,
    )
    _WINDOWS.append(window)
    return window


def _ip(path: str, per_2s: float, source: str = MARKET_URL) -> _Costs:
    return ((_window(path, per_2s, 2.0, "ip", source), 1.0),)


def _uid(path: str, per_2s: float, source: str, *, order: bool = False) -> _Costs:
    window = _window(path, per_2s, 2.0, "key", source)
    if order:  # a new or amended order also counts in the sub-account window
        return ((window, 1.0), (SUB_ACCOUNT_ORDERS, 1.0))
    return ((window, 1.0),)


def _batch(path: str, orders_per_2s: float, *, order: bool) -> _Pricer:
    window = _window(path, orders_per_2s, 2.0, "key", TRADE_URL)

    def price(request: Request) -> _Costs:
        # Each order object of the batch carries an instId.
        n = float(json_count(request.body, b'"instId"'))
        if order:
            return ((window, n), (SUB_ACCOUNT_ORDERS, n))
        return ((window, n),)

    return price


_TABLE: Final[dict[str, dict[str, _Costs | _Pricer]]] = {
    # Market data: rule IP (MARKET_URL).
    "/api/v5/market/tickers": {"GET": _ip("/api/v5/market/tickers", 20)},
    "/api/v5/market/ticker": {"GET": _ip("/api/v5/market/ticker", 20)},
    "/api/v5/market/books": {"GET": _ip("/api/v5/market/books", 40)},
    "/api/v5/market/books-full": {"GET": _ip("/api/v5/market/books-full", 10)},
    "/api/v5/market/candles": {"GET": _ip("/api/v5/market/candles", 40)},
    "/api/v5/market/history-candles": {"GET": _ip("/api/v5/market/history-candles", 20)},
    "/api/v5/market/trades": {"GET": _ip("/api/v5/market/trades", 100)},
    "/api/v5/public/instruments": {"GET": _ip("/api/v5/public/instruments", 20, PUBLIC_URL)},
    "/api/v5/public/funding-rate": {"GET": _ip("/api/v5/public/funding-rate", 20, PUBLIC_URL)},
    # Trade: rule User ID + Instrument ID, shared by instruments here (TRADE_URL).
    "/api/v5/trade/order": {
        "POST": _uid("/api/v5/trade/order.post", 60, TRADE_URL, order=True),
        "GET": _uid("/api/v5/trade/order.get", 60, TRADE_URL),
    },
    "/api/v5/trade/batch-orders": {"POST": _batch("/api/v5/trade/batch-orders", 300, order=True)},
    "/api/v5/trade/cancel-order": {"POST": _uid("/api/v5/trade/cancel-order", 60, TRADE_URL)},
    "/api/v5/trade/cancel-batch-orders": {
        "POST": _batch("/api/v5/trade/cancel-batch-orders", 300, order=False)
    },
    "/api/v5/trade/amend-order": {
        "POST": _uid("/api/v5/trade/amend-order", 60, TRADE_URL, order=True)
    },
    "/api/v5/trade/amend-batch-orders": {
        "POST": _batch("/api/v5/trade/amend-batch-orders", 300, order=True)
    },
    "/api/v5/trade/close-position": {"POST": _uid("/api/v5/trade/close-position", 20, TRADE_URL)},
    "/api/v5/trade/order-algo": {"POST": _uid("/api/v5/trade/order-algo", 20, TRADE_URL)},
    "/api/v5/trade/cancel-algos": {"POST": _uid("/api/v5/trade/cancel-algos", 20, TRADE_URL)},
    # Trade queries: rule User ID (TRADE_URL).
    "/api/v5/trade/orders-pending": {"GET": _uid("/api/v5/trade/orders-pending", 60, TRADE_URL)},
    "/api/v5/trade/orders-history": {"GET": _uid("/api/v5/trade/orders-history", 40, TRADE_URL)},
    "/api/v5/trade/orders-history-archive": {
        "GET": _uid("/api/v5/trade/orders-history-archive", 20, TRADE_URL)
    },
    "/api/v5/trade/fills": {"GET": _uid("/api/v5/trade/fills", 60, TRADE_URL)},
    "/api/v5/trade/fills-history": {"GET": _uid("/api/v5/trade/fills-history", 10, TRADE_URL)},
    # Trading account: rule User ID (ACCOUNT_URL).
    "/api/v5/account/balance": {"GET": _uid("/api/v5/account/balance", 10, ACCOUNT_URL)},
    "/api/v5/account/positions": {"GET": _uid("/api/v5/account/positions", 10, ACCOUNT_URL)},
    "/api/v5/account/config": {"GET": _uid("/api/v5/account/config", 5, ACCOUNT_URL)},
    "/api/v5/account/set-leverage": {"POST": _uid("/api/v5/account/set-leverage", 20, ACCOUNT_URL)},
    "/api/v5/account/max-size": {"GET": _uid("/api/v5/account/max-size", 20, ACCOUNT_URL)},
}

WINDOWS: Final = tuple(_WINDOWS)


def price(request: Request) -> Sequence[Cost]:
    """The endpoint's window (and the sub-account order window for new/amended orders)."""
    by_method = _TABLE.get(request.parts.path)
    if by_method is None:
        return ()
    entry = by_method.get(request.method)
    if entry is None:
        return ()
    if isinstance(entry, tuple):
        return entry
    return entry(request)


LIMITS: Final = ExchangeLimits(
    exchange="okx",
    hosts=frozenset({"www.okx.com", "aws.okx.com"}),  # HOSTS in _auth.py
    windows=WINDOWS,
    price=price,
    source=SOURCE,
)
