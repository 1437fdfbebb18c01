"""Bybit v5: REST signer and DataStores (``BybitDataStore`` and its stores)."""

from __future__ import annotations

from ._auth import ROUTES, sign
from ._book import OrderBook
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
