"""Phemex: REST signer (and, later, WebSocket auth and DataStores)."""

from __future__ import annotations

from ._auth import EXPIRY_SECONDS, HOSTS, ROUTES, TESTNET_HOSTS, sign

__all__ = ["EXPIRY_SECONDS", "HOSTS", "ROUTES", "TESTNET_HOSTS", "sign"]
