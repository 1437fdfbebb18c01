"""OKJ (OKCoin Japan): REST signer, shared with OKX (and, later, WebSocket pieces)."""

from __future__ import annotations

from ._auth import HOSTS, ROUTES, sign

__all__ = ["HOSTS", "ROUTES", "sign"]
