"""bitFlyer Lightning: REST signer and DataStores (and, later, WebSocket auth)."""

from __future__ import annotations

from ._auth import ROUTES, sign
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
