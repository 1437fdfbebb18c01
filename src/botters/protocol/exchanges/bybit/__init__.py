"""Bybit v5: REST signer (and, later, WebSocket auth and DataStores)."""

from __future__ import annotations

from ._auth import ROUTES, sign

__all__ = ["ROUTES", "sign"]
