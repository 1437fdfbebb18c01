"""OKX v5: REST signer and DataStores (the WebSocket login and keepalive live in ``._ws``).

DataStores are imported on first use: signing a request never loads them.
"""

from __future__ import annotations

from botters.protocol._lazy import lazy_exports

from ._auth import HOSTS, ROUTES, api_name_for, sign

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._book import (
        Books,
    )
    from ._checksum import (
        checksum,
        checksum_string,
    )
    from ._store import (
        Account,
        AccountGreeks,
        AlgoAdvance,
        BalanceAndPosition,
        Candle,
        EstimatedPrice,
        FundingRate,
        IndexCandle,
        IndexTickers,
        Instruments,
        LiquidationWarning,
        MarkPrice,
        MarkPriceCandle,
        OKXDataStore,
        OpenInterest,
        OptSummary,
        Orders,
        OrdersAlgo,
        Positions,
        PriceLimit,
        Status,
        Tickers,
        Trades,
    )

__all__ = [
    "HOSTS",
    "ROUTES",
    "Account",
    "AccountGreeks",
    "AlgoAdvance",
    "BalanceAndPosition",
    "Books",
    "Candle",
    "EstimatedPrice",
    "FundingRate",
    "IndexCandle",
    "IndexTickers",
    "Instruments",
    "LiquidationWarning",
    "MarkPrice",
    "MarkPriceCandle",
    "OKXDataStore",
    "OpenInterest",
    "OptSummary",
    "Orders",
    "OrdersAlgo",
    "Positions",
    "PriceLimit",
    "Status",
    "Tickers",
    "Trades",
    "api_name_for",
    "checksum",
    "checksum_string",
    "sign",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Books": f"{__name__}._book",
        "checksum": f"{__name__}._checksum",
        "checksum_string": f"{__name__}._checksum",
        "Account": f"{__name__}._store",
        "AccountGreeks": f"{__name__}._store",
        "AlgoAdvance": f"{__name__}._store",
        "BalanceAndPosition": f"{__name__}._store",
        "Candle": f"{__name__}._store",
        "EstimatedPrice": f"{__name__}._store",
        "FundingRate": f"{__name__}._store",
        "IndexCandle": f"{__name__}._store",
        "IndexTickers": f"{__name__}._store",
        "Instruments": f"{__name__}._store",
        "LiquidationWarning": f"{__name__}._store",
        "MarkPrice": f"{__name__}._store",
        "MarkPriceCandle": f"{__name__}._store",
        "OKXDataStore": f"{__name__}._store",
        "OpenInterest": f"{__name__}._store",
        "OptSummary": f"{__name__}._store",
        "Orders": f"{__name__}._store",
        "OrdersAlgo": f"{__name__}._store",
        "Positions": f"{__name__}._store",
        "PriceLimit": f"{__name__}._store",
        "Status": f"{__name__}._store",
        "Tickers": f"{__name__}._store",
        "Trades": f"{__name__}._store",
    },
)
