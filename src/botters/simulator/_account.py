"""The simulated account: child orders, their executions, positions and collateral.

Theory of operation
-------------------
Orders never enter the public book. A MARKET order, or a LIMIT order that is
marketable when it arrives (a BUY at or above the best ask, a SELL at or below
the best bid), executes at once in full at the best opposite price. Any other
LIMIT order rests; after every tick, a resting BUY executes in full at its own
price once the best ask is at or below it, a SELL once the best bid is at or
above it.

On margin products (FX_BTC_JPY and the like) executions open and close
position lots first-in first-out, as bitFlyer reports them in
``GET /v1/me/getpositions``. Closing a lot books its profit or loss into the
collateral in whole yen: rounded down when a SELL closes a long, up when a BUY
closes a short. Commission and swap points are zero.

Shapes follow bitFlyer's documentation:
https://lightning.bitflyer.com/docs#send-a-new-order,
https://lightning.bitflyer.com/docs#list-orders,
https://lightning.bitflyer.com/docs#get-open-interest-summary,
https://lightning.bitflyer.com/docs#get-margin-status,
https://bf-lightning-api.readme.io/docs/realtime-child-order-events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._market import compact_date, iso_date

__all__ = ["LEVERAGE", "Account", "Order", "OrderError"]

LEVERAGE = 2
"""The leverage used for ``require_collateral``."""


class OrderError(ValueError):
    """An order the simulator refuses (the message is the REST error text)."""


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def _num(value: Decimal) -> int | float:
    # JSON numbers as bitFlyer prints them: integers stay integers.
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass(slots=True, kw_only=True)
class Order:
    """One child order."""

    id: int
    child_order_id: str
    child_order_acceptance_id: str
    product_code: str
    side: str
    child_order_type: str
    price: int | float
    size: Decimal
    executed_size: Decimal
    average_price: Decimal
    state: str
    child_order_date: float
    expire_date: float
    time_in_force: str

    @property
    def outstanding_size(self) -> Decimal:
        """What is left to execute (0 once completed or canceled)."""
        return Decimal(0) if self.state != "ACTIVE" else self.size - self.executed_size

    def row(self) -> dict[str, Any]:
        """The ``GET /v1/me/getchildorders`` row."""
        canceled = self.size - self.executed_size if self.state == "CANCELED" else Decimal(0)
        return {
            "id": self.id,
            "child_order_id": self.child_order_id,
            "product_code": self.product_code,
            "side": self.side,
            "child_order_type": self.child_order_type,
            "price": self.price,
            "average_price": _num(self.average_price),
            "size": _num(self.size),
            "child_order_state": self.state,
            "expire_date": iso_date(self.expire_date)[:19],
            "child_order_date": iso_date(self.child_order_date)[:19],
            "child_order_acceptance_id": self.child_order_acceptance_id,
            "outstanding_size": _num(self.outstanding_size),
            "cancel_size": _num(canceled),
            "executed_size": _num(self.executed_size),
            "total_commission": 0,
            "time_in_force": self.time_in_force,
        }

    def event(self, event_type: str, now: float) -> dict[str, Any]:
        """The common fields of a ``child_order_events`` event."""
        return {
            "product_code": self.product_code,
            "child_order_id": self.child_order_id,
            "child_order_acceptance_id": self.child_order_acceptance_id,
            "event_date": iso_date(now),
            "event_type": event_type,
        }


@dataclass(slots=True, kw_only=True)
class _Lot:
    product_code: str
    side: str
    price: Decimal
    size: Decimal
    open_date: float


def _positive_number(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise OrderError(f"{name} must be a number")
    try:
        number = _dec(value)
    except ArithmeticError:
        raise OrderError(f"{name} must be a number") from None
    if not number.is_finite() or number <= 0:
        raise OrderError(f"{name} must be a positive number")
    return number


class Account:
    """Orders, lots and collateral of the one simulated account (no I/O, no clock)."""

    def __init__(self, collateral: int | float) -> None:
        self.collateral = _dec(collateral)
        self.orders: dict[str, Order] = {}
        self._lots: list[_Lot] = []
        self._order_seq = 0
        self._exec_seq = 0

    # ----------------------------------------------------------------- orders

    def place(self, body: Any, *, products: set[str], now: float) -> Order:
        """Validate a ``sendchildorder`` body and record the ACTIVE order.

        Raises:
            OrderError: the body is not a valid order.
        """
        if not isinstance(body, dict):
            raise OrderError("the body must be a JSON object")
        product_code = body.get("product_code")
        if product_code not in products:
            raise OrderError(f"unknown product_code {product_code!r}")
        side = body.get("side")
        if side not in ("BUY", "SELL"):
            raise OrderError("side must be BUY or SELL")
        order_type = body.get("child_order_type")
        if order_type not in ("LIMIT", "MARKET"):
            raise OrderError("child_order_type must be LIMIT or MARKET")
        size = _positive_number(body.get("size"), "size")
        price: int | float = 0
        if order_type == "LIMIT":
            price = _num(_positive_number(body.get("price"), "price"))
        minutes = body.get("minute_to_expire", 43200)
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
            raise OrderError("minute_to_expire must be a positive integer")
        time_in_force = body.get("time_in_force", "GTC")
        if time_in_force not in ("GTC", "IOC", "FOK"):
            raise OrderError("time_in_force must be GTC, IOC or FOK")
        self._order_seq += 1
        n = self._order_seq
        date = compact_date(now)
        order = Order(
            id=n,
            child_order_id=f"JOR{date}-{n:06d}",
            child_order_acceptance_id=f"JRF{date}-{n:06d}",
            product_code=product_code,
            side=side,
            child_order_type=order_type,
            price=price,
            size=size,
            executed_size=Decimal(0),
            average_price=Decimal(0),
            state="ACTIVE",
            child_order_date=now,
            expire_date=now + 60 * minutes,
            time_in_force=time_in_force,
        )
        self.orders[order.child_order_acceptance_id] = order
        return order

    def find(self, body: Any) -> Order:
        """The order a ``cancelchildorder`` body names.

        Raises:
            OrderError: no such order, or it is not ACTIVE.
        """
        if not isinstance(body, dict):
            raise OrderError("the body must be a JSON object")
        acceptance_id = body.get("child_order_acceptance_id")
        order_id = body.get("child_order_id")
        order: Order | None = None
        if isinstance(acceptance_id, str):
            order = self.orders.get(acceptance_id)
        elif isinstance(order_id, str):
            order = next((o for o in self.orders.values() if o.child_order_id == order_id), None)
        else:
            raise OrderError("child_order_acceptance_id or child_order_id is required")
        if order is None or order.product_code != body.get("product_code"):
            raise OrderError("order not found")
        if order.state != "ACTIVE":
            raise OrderError(f"order is {order.state}")
        return order

    def active(self, product_code: str) -> list[Order]:
        """ACTIVE orders of a product, oldest first."""
        return [
            o
            for o in self.orders.values()
            if o.state == "ACTIVE" and o.product_code == product_code
        ]

    def order_event(self, order: Order, now: float) -> dict[str, Any]:
        """The ``ORDER`` event for a new order."""
        return {
            **order.event("ORDER", now),
            "child_order_type": order.child_order_type,
            "side": order.side,
            "price": order.price,
            "size": _num(order.size),
            "expire_date": iso_date(order.expire_date)[:19],
        }

    def cancel(self, order: Order, now: float) -> dict[str, Any]:
        """Cancel an ACTIVE order; return its ``CANCEL`` event."""
        order.state = "CANCELED"
        return {
            **order.event("CANCEL", now),
            "price": order.price,
            "size": _num(order.size - order.executed_size),
        }

    def execute(
        self, order: Order, price: int | float, *, margin: bool, now: float
    ) -> dict[str, Any]:
        """Execute all that is left of ``order`` at ``price``; return the ``EXECUTION`` event."""
        size = order.size - order.executed_size
        order.average_price = (
            order.average_price * order.executed_size + _dec(price) * size
        ) / order.size
        order.executed_size = order.size
        order.state = "COMPLETED"
        self._exec_seq += 1
        if margin:
            self._book(order.product_code, order.side, _dec(price), size, now)
        return {
            **order.event("EXECUTION", now),
            "exec_id": self._exec_seq,
            "side": order.side,
            "price": price,
            "size": _num(size),
            "commission": 0,
            "sfd": 0,
            "outstanding_size": 0,
        }

    def rows(
        self,
        *,
        product_code: str | None,
        state: str | None,
        acceptance_id: str | None,
        order_id: str | None,
        count: int,
    ) -> list[dict[str, Any]]:
        """``GET /v1/me/getchildorders`` rows, newest first."""
        rows = []
        for order in reversed(self.orders.values()):
            if product_code is not None and order.product_code != product_code:
                continue
            if state is not None and order.state != state:
                continue
            if acceptance_id is not None and order.child_order_acceptance_id != acceptance_id:
                continue
            if order_id is not None and order.child_order_id != order_id:
                continue
            rows.append(order.row())
            if len(rows) >= count:
                break
        return rows

    # -------------------------------------------------------------- positions

    def _book(
        self, product_code: str, side: str, price: Decimal, size: Decimal, now: float
    ) -> None:
        lots = [lot for lot in self._lots if lot.product_code == product_code]
        if lots and lots[0].side != side:
            for lot in lots:
                if size <= 0:
                    break
                closed = min(lot.size, size)
                if side == "SELL":  # closes a long
                    self.collateral += math.floor((price - lot.price) * closed)
                else:  # closes a short
                    self.collateral += math.ceil((lot.price - price) * closed)
                lot.size -= closed
                size -= closed
            self._lots = [lot for lot in self._lots if lot.size > 0]
        if size > 0:
            self._lots.append(
                _Lot(product_code=product_code, side=side, price=price, size=size, open_date=now)
            )

    def positions(self, product_code: str | None, marks: dict[str, int]) -> list[dict[str, Any]]:
        """``GET /v1/me/getpositions`` rows (``marks``: product -> mark price for ``pnl``)."""
        rows = []
        for lot in self._lots:
            if product_code is not None and lot.product_code != product_code:
                continue
            rows.append(
                {
                    "product_code": lot.product_code,
                    "side": lot.side,
                    "price": _num(lot.price),
                    "size": _num(lot.size),
                    "commission": 0,
                    "swap_point_accumulate": 0,
                    "require_collateral": _num(lot.price * lot.size / LEVERAGE),
                    "open_date": iso_date(lot.open_date)[:23],
                    "leverage": LEVERAGE,
                    "pnl": _num(self._pnl(lot, marks)),
                    "sfd": 0,
                }
            )
        return rows

    def _pnl(self, lot: _Lot, marks: dict[str, int]) -> Decimal:
        mark = marks.get(lot.product_code)
        if mark is None:
            return Decimal(0)
        sign = 1 if lot.side == "BUY" else -1
        return sign * (_dec(mark) - lot.price) * lot.size

    def collateral_summary(self, marks: dict[str, int]) -> dict[str, Any]:
        """``GET /v1/me/getcollateral``."""
        open_pnl = sum((self._pnl(lot, marks) for lot in self._lots), Decimal(0))
        required = sum((lot.price * lot.size / LEVERAGE for lot in self._lots), Decimal(0))
        keep_rate = (self.collateral + open_pnl) / required if required else Decimal(0)
        return {
            "collateral": _num(self.collateral),
            "open_position_pnl": _num(open_pnl.quantize(Decimal(1))),
            "require_collateral": _num(required.quantize(Decimal(1))),
            "keep_rate": float(round(keep_rate, 6)),
            "margin_call_amount": 0,
            "margin_call_due_date": None,
        }
