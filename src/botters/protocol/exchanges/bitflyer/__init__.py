"""bitFlyer Lightning: REST signer (eager: the signing registry reads ``ROUTES``) and DataStores.

The stores are imported on first use, so signing a request never loads them.
"""

from __future__ import annotations

from botters.protocol._lazy import lazy_exports

from ._auth import ROUTES, sign

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._store import (
        Balance,
        Board,
        ChildOrderEvents,
        ChildOrders,
        Collateral,
        Executions,
        ParentOrderEvents,
        ParentOrders,
        Positions,
        Ticker,
        bitFlyerDataStore,
    )

__all__ = [
    "ROUTES",
    "Balance",
    "Board",
    "ChildOrderEvents",
    "ChildOrders",
    "Collateral",
    "Executions",
    "ParentOrderEvents",
    "ParentOrders",
    "Positions",
    "Ticker",
    "bitFlyerDataStore",
    "sign",
]

__getattr__, __dir__ = lazy_exports(
    __name__, dict.fromkeys(set(__all__) - {"ROUTES", "sign"}, f"{__name__}._store")
)
