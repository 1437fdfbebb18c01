"""A deterministic moving market: one order book per product, driven by a seeded RNG.

Theory of operation
-------------------
Each product has a hidden *fair price* that takes a random walk: every tick it
moves by a whole number of price steps in ``[-max_move, +max_move]``. The
public book keeps bids strictly below the fair price and asks strictly above
it, within ``depth`` steps of it, so it is never crossed. One tick:

1. moves the fair price (or sets it, for :meth:`Market.step` with ``to_price``);
2. removes the levels the move crossed (bids at or above the new fair price,
   asks at or below it), each becoming a public execution;
3. maybe trades part of the best bid or ask (another execution);
4. removes levels that fell out of the ``depth`` band;
5. touches one to ``touches`` levels near the fair price: sets a new size, adds
   a level, or removes one;
6. keeps both sides non-empty.

The tick's board message carries only the levels that changed (size ``0``
removes a level) and ``mid_price = (best_bid + best_ask) // 2``, so the
bitFlyer store's pruning of crossed levels never removes anything. The RNG is
per product (seeded with ``f"{seed}:{product_code}"``), so a product's book
depends on the seed and the number of ticks only: not on wall-clock time, on
the other products served, or on users' orders (which never enter the public
book).

Messages use bitFlyer's Realtime API shapes
(https://bf-lightning-api.readme.io/docs/realtime-board,
https://bf-lightning-api.readme.io/docs/realtime-ticker,
https://bf-lightning-api.readme.io/docs/realtime-executions).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["DEFAULT_MARKETS", "Market", "MarketSpec", "TickData", "iso_date"]


def iso_date(now: float) -> str:
    """Format ``now`` as bitFlyer's event times: UTC with 7 fractional digits and ``Z``."""
    micros = round(now * 1_000_000)
    seconds, fraction = divmod(micros, 1_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{fraction:06d}0Z"


def compact_date(now: float) -> str:
    """``YYYYmmdd-HHMMSS`` in UTC, as in bitFlyer's order ids."""
    return datetime.fromtimestamp(int(now), UTC).strftime("%Y%m%d-%H%M%S")


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketSpec:
    """How one simulated product moves.

    Attributes:
        product_code: bitFlyer's product code, e.g. ``"FX_BTC_JPY"``.
        start_price: The fair price at tick 0 (an integer number of yen).
        price_step: Every level's price is a multiple of this.
        depth: Levels per side are kept within this many steps of the fair price.
        max_move: The fair price moves by at most this many steps per tick.
        touches: At most this many levels near the fair price change per tick.
        margin: Whether executions open and close positions (FX, futures)
            rather than move spot balances.
    """

    product_code: str
    start_price: int
    price_step: int = 1
    depth: int = 20
    max_move: int = 3
    touches: int = 3
    margin: bool = False

    def __post_init__(self) -> None:
        if self.price_step < 1 or self.depth < 2 or self.max_move < 0 or self.touches < 1:
            raise ValueError(f"bad market spec: {self!r}")
        if self.start_price <= (self.depth + self.max_move + 1) * self.price_step:
            raise ValueError(f"start_price too low for depth and price_step: {self!r}")


DEFAULT_MARKETS: Mapping[str, MarketSpec] = {
    "FX_BTC_JPY": MarketSpec(product_code="FX_BTC_JPY", start_price=10_000_000, margin=True),
    "BTC_JPY": MarketSpec(product_code="BTC_JPY", start_price=10_000_000),
    "ETH_JPY": MarketSpec(product_code="ETH_JPY", start_price=400_000),
}
"""The products served when ``Simulator(products=...)`` names them by code."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TickData:
    """The public messages of one tick of one product."""

    board: dict[str, Any]
    ticker: dict[str, Any]
    executions: list[dict[str, Any]]


def _size(rng: random.Random, low: int, high: int) -> float:
    # Sizes in hundredths: exact decimal text in JSON.
    return rng.randint(low, high) / 100


def _rest(a: float, b: float) -> float:
    return round(a - b, 8)


class Market:
    """One product's book, ticker and public executions (no I/O, no clock)."""

    def __init__(self, spec: MarketSpec, seed: int | str) -> None:
        self.spec = spec
        self._rng = random.Random(f"{seed}:{spec.product_code}")
        self.fair = spec.start_price
        self.bids: dict[int, float] = {}
        self.asks: dict[int, float] = {}
        self.tick_id = 0
        self.ltp = spec.start_price
        self.volume = 0.0
        self._exec_id = 0
        step = spec.price_step
        for i in range(1, spec.depth + 1):
            if self._rng.random() < 0.8 or i == 1:
                self.bids[self.fair - i * step] = _size(self._rng, 1, 300)
            if self._rng.random() < 0.8 or i == 1:
                self.asks[self.fair + i * step] = _size(self._rng, 1, 300)

    # ----------------------------------------------------------------- reading

    @property
    def product_code(self) -> str:
        """The product code."""
        return self.spec.product_code

    @property
    def best_bid(self) -> int:
        """The highest bid price."""
        return max(self.bids)

    @property
    def best_ask(self) -> int:
        """The lowest ask price."""
        return min(self.asks)

    @property
    def mid_price(self) -> int:
        """``(best_bid + best_ask) // 2``: at or above every bid, below every ask."""
        return (self.best_bid + self.best_ask) // 2

    def levels(self) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """``(bids, asks)`` as ``(price, size)`` pairs, best first."""
        return (
            sorted(self.bids.items(), reverse=True),
            sorted(self.asks.items()),
        )

    def board_message(self) -> dict[str, Any]:
        """The whole book as a snapshot message (and ``GET /v1/getboard``)."""
        bids, asks = self.levels()
        return {
            "mid_price": self.mid_price,
            "bids": [{"price": p, "size": s} for p, s in bids],
            "asks": [{"price": p, "size": s} for p, s in asks],
        }

    def ticker(self, now: float) -> dict[str, Any]:
        """The ticker message (and ``GET /v1/getticker``)."""
        best_bid, best_ask = self.best_bid, self.best_ask
        return {
            "product_code": self.product_code,
            "state": "RUNNING",
            "timestamp": iso_date(now),
            "tick_id": self.tick_id,
            "best_bid": best_bid,
            "best_ask": best_ask,
            "best_bid_size": self.bids[best_bid],
            "best_ask_size": self.asks[best_ask],
            "total_bid_depth": round(sum(self.bids.values()), 8),
            "total_ask_depth": round(sum(self.asks.values()), 8),
            "market_bid_size": 0.0,
            "market_ask_size": 0.0,
            "ltp": self.ltp,
            "volume": round(self.volume, 8),
            "volume_by_product": round(self.volume, 8),
        }

    # ----------------------------------------------------------------- moving

    def step(self, now: float, *, to_price: int | None = None) -> TickData:
        """Advance one tick (see the module docstring); return its public messages."""
        spec = self.spec
        rng = self._rng
        step = spec.price_step
        self.tick_id += 1
        if to_price is None:
            fair = self.fair + rng.randint(-spec.max_move, spec.max_move) * step
        else:
            fair = round(to_price / step) * step
        fair = max(fair, (spec.depth + 1) * step)
        self.fair = fair
        bid_changes: dict[int, float] = {}
        ask_changes: dict[int, float] = {}
        trades: list[tuple[str, int, float]] = []

        # 2. levels the move crossed trade away.
        for price in sorted((p for p in self.bids if p >= fair), reverse=True):
            trades.append(("SELL", price, self.bids.pop(price)))
            bid_changes[price] = 0
        for price in sorted(p for p in self.asks if p <= fair):
            trades.append(("BUY", price, self.asks.pop(price)))
            ask_changes[price] = 0

        # 3. a partial trade at the touch.
        if self.bids and self.asks and rng.random() < 0.6:
            buy = rng.random() < 0.5
            book, changes = (self.asks, ask_changes) if buy else (self.bids, bid_changes)
            best = min(book) if buy else max(book)
            size = min(book[best], _size(rng, 1, 50))
            left = _rest(book[best], size)
            if left > 0:
                book[best] = left
            else:
                del book[best]
            changes[best] = left if left > 0 else 0
            trades.append(("BUY" if buy else "SELL", best, size))

        # 4. out of the band.
        band = spec.depth * step
        for price in [p for p in self.bids if p < fair - band]:
            del self.bids[price]
            bid_changes[price] = 0
        for price in [p for p in self.asks if p > fair + band]:
            del self.asks[price]
            ask_changes[price] = 0

        # 5. a few levels near the fair price change.
        near = min(8, spec.depth)
        for _ in range(rng.randint(1, spec.touches)):
            is_bid = rng.random() < 0.5
            offset = rng.randint(1, near) * step
            price = fair - offset if is_bid else fair + offset
            book, changes = (self.bids, bid_changes) if is_bid else (self.asks, ask_changes)
            if price in book and rng.random() < 0.35 and len(book) > 1:
                del book[price]
                changes[price] = 0
            else:
                book[price] = changes[price] = _size(rng, 1, 300)

        # 6. never an empty side.
        if not self.bids:
            self.bids[fair - step] = bid_changes[fair - step] = _size(rng, 1, 300)
        if not self.asks:
            self.asks[fair + step] = ask_changes[fair + step] = _size(rng, 1, 300)

        executions = [self._execution(side, price, size, now) for side, price, size in trades]
        board = {
            "mid_price": self.mid_price,
            "bids": [{"price": p, "size": s} for p, s in sorted(bid_changes.items(), reverse=True)],
            "asks": [{"price": p, "size": s} for p, s in sorted(ask_changes.items())],
        }
        return TickData(board=board, ticker=self.ticker(now), executions=executions)

    def _execution(self, side: str, price: int, size: float, now: float) -> dict[str, Any]:
        self._exec_id += 1
        self.ltp = price
        self.volume += size
        n = self._exec_id
        date = compact_date(now)
        return {
            "id": n,
            "side": side,
            "price": price,
            "size": size,
            "exec_date": iso_date(now),
            "buy_child_order_acceptance_id": f"JRF{date}-{2 * n:06d}",
            "sell_child_order_acceptance_id": f"JRF{date}-{2 * n + 1:06d}",
        }
