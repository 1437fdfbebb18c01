"""Bitget: REST signer (and, later, WebSocket auth and DataStores)."""

from __future__ import annotations

from ._auth import HOSTS, ROUTES, sign

__all__ = ["HOSTS", "ROUTES", "sign"]
