"""The exchange-neutral engine: the markets, the account, and how orders meet the book.

The dialects turn requests into :class:`~._account.OrderRequest` and the
engine's results into each exchange's messages; the simulator's core calls
:meth:`Engine.tick`. Nothing here does I/O or reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from ._account import Account, Fill, Order, OrderRequest
from ._market import Market, MarketSpec, TickData

__all__ = ["Engine", "TickResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TickResult:
    """One product's part of one tick."""

    market: Market
    data: TickData
    fills: list[Fill]
    """The account's resting orders the tick executed, oldest order first."""


class Engine:
    """Markets and the account (no I/O, no clock)."""

    def __init__(self, specs: Iterable[MarketSpec], seed: int | str, account: Account) -> None:
        self.markets: dict[str, Market] = {s.product_code: Market(s, seed) for s in specs}
        self.account = account

    def market(self, symbol: str) -> Market:
        """The market of ``symbol``.

        Raises:
            KeyError: the simulator does not serve it.
        """
        try:
            return self.markets[symbol]
        except KeyError:
            raise KeyError(f"the simulator does not serve {symbol!r}") from None

    def marks(self) -> dict[str, Decimal]:
        """Every product's mid price (price units): what open positions are valued at."""
        return {code: m.spec.price(m.mid_price) for code, m in self.markets.items()}

    def tick(self, now: float, targets: Mapping[str, int] | None = None) -> list[TickResult]:
        """Move every market once (``targets``: product -> fair price in ticks), then fill."""
        results = []
        for code, market in self.markets.items():
            data = market.step(now, to_ticks=(targets or {}).get(code))
            results.append(TickResult(market=market, data=data, fills=self._fill_resting(market)))
        return results

    def place(self, request: OrderRequest, *, now: float) -> tuple[Order, Fill | None]:
        """Record an order and fill it at once if it is marketable."""
        order = self.account.place(request, now=now)
        return order, self.match(order, now=now)

    def match(self, order: Order, *, now: float) -> Fill | None:
        """Fill a just-recorded order if it is marketable (dialects that report it first)."""
        market = self.markets[order.symbol]
        price = self._marketable(order, market)
        return None if price is None else self._execute(order, market, price, now)

    @staticmethod
    def _marketable(order: Order, market: Market) -> Decimal | None:
        """The price ``order`` executes at on arrival, or ``None`` if it rests."""
        spec = market.spec
        if order.side == "BUY":
            best = spec.price(market.best_ask)
            if order.type == "MARKET" or order.price >= best:
                return best
        else:
            best = spec.price(market.best_bid)
            if order.type == "MARKET" or order.price <= best:
                return best
        return None

    def _execute(self, order: Order, market: Market, price: Decimal, now: float) -> Fill:
        spec = market.spec
        return self.account.execute(
            order, price, margin=spec.margin, base=spec.base, quote=spec.quote, now=now
        )

    def _fill_resting(self, market: Market) -> list[Fill]:
        fills = []
        spec = market.spec
        for order in self.account.active(market.product_code):
            if order.type != "LIMIT":
                continue
            crossed = (
                spec.price(market.best_ask) <= order.price
                if order.side == "BUY"
                else spec.price(market.best_bid) >= order.price
            )
            if crossed:
                fills.append(self._execute(order, market, order.price, market.time))
        return fills
