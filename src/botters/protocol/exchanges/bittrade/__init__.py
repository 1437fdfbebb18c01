"""BitTrade: REST signer (and, later, WebSocket auth and DataStores)."""

from __future__ import annotations

from ._auth import AUTH_PARAMS, HOSTS, ROUTES, sign

__all__ = ["AUTH_PARAMS", "HOSTS", "ROUTES", "sign"]
