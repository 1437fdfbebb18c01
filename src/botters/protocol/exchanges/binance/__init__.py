"""Binance (spot, USDⓈ-M, COIN-M, portfolio margin, options): REST signer and endpoint table.

See :mod:`botters.protocol.exchanges.binance._auth` for the signing rules and
:mod:`botters.protocol.exchanges.binance._endpoints` for which endpoints are
public, API-key-only or signed.
"""

from __future__ import annotations

from ._auth import ROUTES, sign, sign_payload
from ._endpoints import EndpointSecurity, endpoint_security

__all__ = ["ROUTES", "EndpointSecurity", "endpoint_security", "sign", "sign_payload"]
