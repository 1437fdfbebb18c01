"""The simulated account: orders, their fills, positions and balances (exchange-neutral).

Theory of operation
-------------------
Orders never enter the public book. A MARKET order, or a LIMIT order that is
marketable when it arrives (a BUY at or above the best ask, a SELL at or below
the best bid), fills at once in full at the best opposite price. Any other
LIMIT order rests; after every tick, a resting BUY fills in full at its own
price once the best ask is at or below it, a SELL once the best bid is at or
above it (see ``_engine.py``). Time in force is recorded, not enforced; nothing
checks margin or balances.

On margin products fills open and close position *lots* first-in first-out
(bitFlyer reports the lots; Bybit and OKX report their net sum). Closing a lot
books its profit or loss into the collateral: exactly, or with
``whole_units=True`` (bitFlyer's yen) rounded down when a SELL closes a long
and up when a BUY closes a short. Fees are zero.

Spot fills move the ``base`` and ``quote`` balances. With ``unified=True``
(Bybit's unified account, OKX's trading account) the collateral *is* the
balance of the account currency; otherwise (bitFlyer) the margin collateral is
a wallet of its own, apart from the spot balances.

The dialects parse their own request bodies into :class:`OrderRequest`, name
the orders (:attr:`Order.order_id`, :attr:`Order.client_id`) and print
everything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

__all__ = ["LEVERAGE", "Account", "Fill", "Lot", "Order", "OrderError", "OrderRequest"]

LEVERAGE: Final = 2
"""The leverage positions are reported with (required collateral = value / leverage)."""


class OrderError(ValueError):
    """An order the simulator refuses (the message is the REST error text)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """A validated new order, whichever exchange's body it came from."""

    symbol: str
    side: str
    """``"BUY"`` or ``"SELL"``."""
    type: str
    """``"MARKET"`` or ``"LIMIT"``."""
    size: Decimal
    price: Decimal
    """The limit price; ``0`` for a MARKET order."""
    time_in_force: str
    expire: float
    """When the order would expire (recorded, never enforced)."""
    order_id: str
    client_id: str


@dataclass(slots=True, kw_only=True)
class Order:
    """One order and what became of it."""

    number: int
    """1 for the account's first order, then 2, 3..."""
    order_id: str
    client_id: str
    symbol: str
    side: str
    type: str
    price: Decimal
    size: Decimal
    executed_size: Decimal
    average_price: Decimal
    state: str
    """``"ACTIVE"``, ``"COMPLETED"`` or ``"CANCELED"``."""
    created: float
    updated: float
    expire: float
    time_in_force: str

    @property
    def outstanding_size(self) -> Decimal:
        """What is left to execute (0 once completed or canceled)."""
        return Decimal(0) if self.state != "ACTIVE" else self.size - self.executed_size


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """One execution of one of the account's orders."""

    number: int
    """1 for the account's first fill, then 2, 3..."""
    order: Order
    price: Decimal
    size: Decimal
    time: float
    realized: Decimal
    """The profit or loss this fill booked by closing lots (0 if it closed none)."""
    closed: Decimal
    """How much of an open position this fill closed (0 on spot)."""


@dataclass(slots=True, kw_only=True)
class Lot:
    """One open position lot of a margin product."""

    symbol: str
    side: str
    price: Decimal
    size: Decimal
    open_date: float


class Account:
    """Orders, lots and balances of the one simulated account (no I/O, no clock)."""

    def __init__(
        self,
        collateral: int | float | Decimal,
        *,
        currency: str = "JPY",
        unified: bool = False,
        whole_units: bool = True,
    ) -> None:
        self.currency = currency
        self._unified = unified
        self._whole_units = whole_units
        self._collateral = Decimal(str(collateral))
        self.balances: dict[str, Decimal] = {currency: self._collateral} if unified else {}
        self.orders: dict[str, Order] = {}
        self.realized: dict[str, Decimal] = {}
        self.lots: list[Lot] = []
        self._fills = 0

    @property
    def collateral(self) -> Decimal:
        """The margin collateral (the account currency's balance when unified)."""
        return self.balances[self.currency] if self._unified else self._collateral

    def _add_collateral(self, amount: Decimal) -> None:
        if self._unified:
            self.balances[self.currency] += amount
        else:
            self._collateral += amount

    # ----------------------------------------------------------------- orders

    @property
    def next_number(self) -> int:
        """The number the next order gets (dialects build its ids from it)."""
        return len(self.orders) + 1

    def place(self, request: OrderRequest, *, now: float) -> Order:
        """Record a new ACTIVE order.

        Raises:
            OrderError: an order with the same ``order_id`` exists.
        """
        if request.order_id in self.orders:
            raise OrderError(f"duplicate order id {request.order_id!r}")
        order = Order(
            number=self.next_number,
            order_id=request.order_id,
            client_id=request.client_id,
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            price=request.price,
            size=request.size,
            executed_size=Decimal(0),
            average_price=Decimal(0),
            state="ACTIVE",
            created=now,
            updated=now,
            expire=request.expire,
            time_in_force=request.time_in_force,
        )
        self.orders[order.order_id] = order
        return order

    def find(self, *, order_id: str | None = None, client_id: str | None = None) -> Order | None:
        """The order with this ``order_id`` (or, failing that, ``client_id``), if any."""
        if order_id is not None:
            return self.orders.get(order_id)
        if client_id:
            return next((o for o in self.orders.values() if o.client_id == client_id), None)
        return None

    def newest_first(self) -> list[Order]:
        """Every order, newest first."""
        return list(reversed(self.orders.values()))

    def active(self, symbol: str) -> list[Order]:
        """ACTIVE orders of a product, oldest first."""
        return [o for o in self.orders.values() if o.state == "ACTIVE" and o.symbol == symbol]

    def cancel(self, order: Order, now: float) -> None:
        """Cancel an ACTIVE order.

        Raises:
            OrderError: the order is not ACTIVE any more.
        """
        if order.state != "ACTIVE":
            raise OrderError(f"order is {order.state}")
        order.state = "CANCELED"
        order.updated = now

    def execute(
        self,
        order: Order,
        price: Decimal,
        *,
        margin: bool,
        base: str = "",
        quote: str = "",
        now: float,
    ) -> Fill:
        """Execute all that is left of ``order`` at ``price``."""
        size = order.size - order.executed_size
        order.average_price = (
            order.average_price * order.executed_size + price * size
        ) / order.size
        order.executed_size = order.size
        order.state = "COMPLETED"
        order.updated = now
        self._fills += 1
        realized = closed = Decimal(0)
        if margin:
            realized, closed = self._book(order.symbol, order.side, price, size, now)
            self.realized[order.symbol] = self.realized.get(order.symbol, Decimal(0)) + realized
        elif base and quote:
            sign = 1 if order.side == "BUY" else -1
            for currency, amount in ((base, sign * size), (quote, -sign * size * price)):
                self.balances[currency] = self.balances.get(currency, Decimal(0)) + amount
        return Fill(
            number=self._fills,
            order=order,
            price=price,
            size=size,
            time=now,
            realized=realized,
            closed=closed,
        )

    # -------------------------------------------------------------- positions

    def _book(
        self, symbol: str, side: str, price: Decimal, size: Decimal, now: float
    ) -> tuple[Decimal, Decimal]:
        realized = Decimal(0)
        wanted = size
        lots = [lot for lot in self.lots if lot.symbol == symbol]
        if lots and lots[0].side != side:
            for lot in lots:
                if size <= 0:
                    break
                closed = min(lot.size, size)
                if side == "SELL":  # closes a long
                    pnl = (price - lot.price) * closed
                    booked = Decimal(math.floor(pnl)) if self._whole_units else pnl
                else:  # closes a short
                    pnl = (lot.price - price) * closed
                    booked = Decimal(math.ceil(pnl)) if self._whole_units else pnl
                self._add_collateral(booked)
                realized += booked
                lot.size -= closed
                size -= closed
            self.lots = [lot for lot in self.lots if lot.size > 0]
        if size > 0:
            self.lots.append(Lot(symbol=symbol, side=side, price=price, size=size, open_date=now))
        return realized, wanted - size

    def symbol_lots(self, symbol: str | None) -> list[Lot]:
        """The open lots of ``symbol`` (of every product if ``None``), oldest first."""
        return [lot for lot in self.lots if symbol is None or lot.symbol == symbol]

    def net(self, symbol: str) -> tuple[str, Decimal, Decimal]:
        """``(side, size, average price)`` of the net position; ``("", 0, 0)`` when flat."""
        lots = self.symbol_lots(symbol)
        size = sum((lot.size for lot in lots), Decimal(0))
        if not size:
            return "", Decimal(0), Decimal(0)
        value = sum((lot.price * lot.size for lot in lots), Decimal(0))
        return lots[0].side, size, value / size

    @staticmethod
    def pnl(lot: Lot, mark: Decimal | None) -> Decimal:
        """The open profit of ``lot`` at ``mark`` (0 without a mark)."""
        if mark is None:
            return Decimal(0)
        sign = 1 if lot.side == "BUY" else -1
        return sign * (mark - lot.price) * lot.size

    def open_pnl(self, marks: dict[str, Decimal], symbol: str | None = None) -> Decimal:
        """The open profit of every lot (of ``symbol``) at ``marks``."""
        return sum(
            (self.pnl(lot, marks.get(lot.symbol)) for lot in self.symbol_lots(symbol)), Decimal(0)
        )

    def required(self, symbol: str | None = None) -> Decimal:
        """The collateral the open lots (of ``symbol``) require at :data:`LEVERAGE`."""
        return sum(
            (lot.price * lot.size / LEVERAGE for lot in self.symbol_lots(symbol)), Decimal(0)
        )
