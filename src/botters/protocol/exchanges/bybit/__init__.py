"""Bybit v5: REST signer and DataStores (``BybitDataStore`` and its stores).

DataStores are imported on first use: signing a request never loads them.
"""

from __future__ import annotations

from botters.protocol._lazy import lazy_exports

from ._auth import ROUTES, sign

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._book import (
        OrderBook,
    )
    from ._store import (
        AllLiquidation,
        BybitDataStore,
        Execution,
        Greek,
        Kline,
        Liquidation,
        LTKline,
        LTNav,
        LTTicker,
        Order,
        Position,
        Ticker,
        Trade,
        Wallet,
    )

__all__ = [
    "ROUTES",
    "AllLiquidation",
    "BybitDataStore",
    "Execution",
    "Greek",
    "Kline",
    "LTKline",
    "LTNav",
    "LTTicker",
    "Liquidation",
    "Order",
    "OrderBook",
    "Position",
    "Ticker",
    "Trade",
    "Wallet",
    "sign",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "OrderBook": f"{__name__}._book",
        "AllLiquidation": f"{__name__}._store",
        "BybitDataStore": f"{__name__}._store",
        "Execution": f"{__name__}._store",
        "Greek": f"{__name__}._store",
        "Kline": f"{__name__}._store",
        "Liquidation": f"{__name__}._store",
        "LTKline": f"{__name__}._store",
        "LTNav": f"{__name__}._store",
        "LTTicker": f"{__name__}._store",
        "Order": f"{__name__}._store",
        "Position": f"{__name__}._store",
        "Ticker": f"{__name__}._store",
        "Trade": f"{__name__}._store",
        "Wallet": f"{__name__}._store",
    },
)
