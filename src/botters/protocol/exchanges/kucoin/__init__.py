"""KuCoin: REST signer (and, later, the bullet-token WebSocket flow and DataStores)."""

from __future__ import annotations

from ._auth import DEFAULT_KEY_VERSION, HOSTS, ROUTES, sign, signed_path

__all__ = ["DEFAULT_KEY_VERSION", "HOSTS", "ROUTES", "sign", "signed_path"]
