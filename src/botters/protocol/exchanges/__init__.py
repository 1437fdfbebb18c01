"""Exchange knowledge, one package per exchange.

Each package holds everything botters knows about one exchange: its REST signer
and the hosts it signs for (``ROUTES``), and, as later parts land, its WebSocket
pieces and DataStores. Adding an exchange means adding one package here and its
name to :data:`EXCHANGES`.
"""

from __future__ import annotations

from typing import Final

__all__ = ["EXCHANGES"]

EXCHANGES: Final = (
    "binance",
    "bitbank",
    "bitflyer",
    "bitget",
    "bitmex",
    "bittrade",
    "bybit",
    "coincheck",
    "gmocoin",
    "kucoin",
    "mexc",
    "okj",
    "okx",
    "phemex",
)
"""Packages under :mod:`botters.protocol.exchanges` that declare ``ROUTES``."""
