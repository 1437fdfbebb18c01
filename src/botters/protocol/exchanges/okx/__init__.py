"""OKX v5: REST signer (and, later, WebSocket auth and DataStores)."""

from __future__ import annotations

from ._auth import HOSTS, ROUTES, api_name_for, sign

__all__ = ["HOSTS", "ROUTES", "api_name_for", "sign"]
