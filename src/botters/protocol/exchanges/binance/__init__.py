"""Binance (spot, USDⓈ-M, COIN-M, portfolio margin, options): REST signer, endpoints, stores.

See :mod:`botters.protocol.exchanges.binance._auth` for the signing rules,
:mod:`botters.protocol.exchanges.binance._endpoints` for which endpoints are
public, API-key-only or signed, and :mod:`botters.protocol.exchanges.binance._store`
for the DataStores (imported on first use: signing a request never loads them).
"""

from __future__ import annotations

from botters.protocol._lazy import lazy_exports

from ._auth import ROUTES, sign, sign_payload
from ._endpoints import EndpointSecurity, endpoint_security

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._store import BinanceCOINMDataStore, BinanceSpotDataStore, BinanceUSDSMDataStore

__all__ = [
    "ROUTES",
    "BinanceCOINMDataStore",
    "BinanceSpotDataStore",
    "BinanceUSDSMDataStore",
    "EndpointSecurity",
    "endpoint_security",
    "sign",
    "sign_payload",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "BinanceCOINMDataStore": f"{__name__}._store",
        "BinanceSpotDataStore": f"{__name__}._store",
        "BinanceUSDSMDataStore": f"{__name__}._store",
    },
)
