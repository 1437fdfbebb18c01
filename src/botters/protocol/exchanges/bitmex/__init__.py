"""BitMEX: REST and WebSocket-handshake signer (and, later, DataStores)."""

from __future__ import annotations

from ._auth import (
    EXPIRES_AFTER,
    HOSTS,
    ROUTES,
    TESTNET_HOSTS,
    TESTNET_WS_HOSTS,
    WS_HOSTS,
    sign,
)

__all__ = [
    "EXPIRES_AFTER",
    "HOSTS",
    "ROUTES",
    "TESTNET_HOSTS",
    "TESTNET_WS_HOSTS",
    "WS_HOSTS",
    "sign",
]
