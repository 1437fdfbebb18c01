"""A deterministic moving market: one order book per product, driven by a seeded RNG.

Theory of operation
-------------------
Everything here is exchange-neutral: prices are whole numbers of *ticks*
(``price_step``), sizes whole numbers of *lots* (``size_step``), and the
dialects (``_bitflyer.py``, ``_bybit.py``, ``_okx.py``) decide how to print
them. Integers keep the book exact: no float ever decides whether two levels
are the same price.

Each product has a hidden *fair price* that takes a random walk: every tick it
moves by a whole number of ticks in ``[-max_move, +max_move]``. The public book
keeps bids strictly below the fair price and asks strictly above it, within
``depth`` ticks of it, so it is never crossed. One tick:

1. moves the fair price (or sets it, for :meth:`Market.step` with ``to_ticks``);
2. removes the levels the move crossed (bids at or above the new fair price,
   asks at or below it), each becoming a public trade;
3. maybe trades part of the best bid or ask (another trade);
4. removes levels that fell out of the ``depth`` band;
5. touches one to ``touches`` levels near the fair price: sets a new size, adds
   a level, or removes one;
6. keeps both sides non-empty.

The tick's changes carry only the levels that changed (size ``0`` removes a
level). The RNG is per product (seeded with ``f"{seed}:{product_code}"``), so a
product's book depends on the seed and the number of ticks only: not on
wall-clock time, on the other products served, on the dialect, or on users'
orders (which never enter the public book). A second RNG per product draws the
*sequence*: a number that grows by a random positive amount every tick, for
the dialects whose messages carry a matching-engine sequence (Bybit's ``seq``,
OKX's ``seqId``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Final

__all__ = [
    "DEFAULT_MARKETS",
    "Changes",
    "Market",
    "MarketSpec",
    "TickData",
    "Trade",
    "compact_date",
    "iso_date",
]

_QUOTES: Final = ("USDT", "USDC", "JPY", "USD", "BTC", "ETH")
"""Quote currencies recognised at the end of a product code without separators."""


def iso_date(now: float) -> str:
    """Format ``now`` as bitFlyer's event times: UTC with 7 fractional digits and ``Z``."""
    micros = round(now * 1_000_000)
    seconds, fraction = divmod(micros, 1_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{fraction:06d}0Z"


def compact_date(now: float) -> str:
    """``YYYYmmdd-HHMMSS`` in UTC, as in bitFlyer's order ids."""
    return datetime.fromtimestamp(int(now), UTC).strftime("%Y%m%d-%H%M%S")


def _decimal(value: int | float | str | Decimal) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _split_code(code: str) -> tuple[str, str]:
    """``(base, quote)`` guessed from a code: ``BTC-USDT-SWAP``, ``FX_BTC_JPY``, ``BTCUSDT``."""
    if "-" in code:
        parts = code.split("-")
        return parts[0], parts[1]
    if "_" in code:
        parts = code.split("_")
        return parts[-2], parts[-1]
    for quote in _QUOTES:
        if code.endswith(quote) and len(code) > len(quote):
            return code[: -len(quote)], quote
    return "", ""


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketSpec:
    """How one simulated product moves, and in which units.

    Attributes:
        product_code: The exchange's name for it: bitFlyer's ``"FX_BTC_JPY"``,
            Bybit's ``"BTCUSDT"``, OKX's ``"BTC-USDT-SWAP"``.
        start_price: The fair price at tick 0, a multiple of ``price_step``
            (an ``int``, or a decimal string such as ``"65000.0"``).
        price_step: The tick size: every level's price is a multiple of it
            (``1`` yen, ``"0.10"`` USDT). Bybit prints prices with as many
            decimals as this is written with.
        size_step: The lot size: every level's size is a multiple of it.
        depth: Levels per side are kept within this many ticks of the fair price.
        max_move: The fair price moves by at most this many ticks per tick.
        touches: At most this many levels near the fair price change per tick.
        margin: Whether executions open and close positions (FX, perpetuals)
            rather than move spot balances. Bybit serves a margin product
            as ``linear`` and any other as ``spot``; OKX as ``SWAP`` or ``SPOT``.
        base: The traded currency (``"BTC"``); guessed from the code if empty.
        quote: The pricing currency (``"JPY"``, ``"USDT"``); guessed if empty.
    """

    product_code: str
    start_price: int | str | Decimal
    price_step: int | str | Decimal = 1
    size_step: int | str | Decimal = "0.01"
    depth: int = 20
    max_move: int = 3
    touches: int = 3
    margin: bool = False
    base: str = ""
    quote: str = ""

    def __post_init__(self) -> None:
        tick, lot = _decimal(self.price_step), _decimal(self.size_step)
        if tick <= 0 or lot <= 0 or self.depth < 2 or self.max_move < 0 or self.touches < 1:
            raise ValueError(f"bad market spec: {self!r}")
        start = _decimal(self.start_price)
        if start % tick:
            raise ValueError(f"start_price must be a multiple of price_step: {self!r}")
        if start <= (self.depth + self.max_move + 1) * tick:
            raise ValueError(f"start_price too low for depth and price_step: {self!r}")
        if not (self.base and self.quote):
            base, quote = _split_code(self.product_code)
            object.__setattr__(self, "base", self.base or base)
            object.__setattr__(self, "quote", self.quote or quote)

    @property
    def tick(self) -> Decimal:
        """The price step as a :class:`~decimal.Decimal`."""
        return _decimal(self.price_step)

    @property
    def lot(self) -> Decimal:
        """The size step as a :class:`~decimal.Decimal`."""
        return _decimal(self.size_step)

    def price(self, ticks: int) -> Decimal:
        """``ticks`` in price units, with the step's number of decimals."""
        return ticks * self.tick

    def size(self, lots: int) -> Decimal:
        """``lots`` in size units, with the step's number of decimals."""
        return lots * self.lot

    def ticks(self, price: int | float | str | Decimal) -> int:
        """The nearest whole number of ticks to ``price`` (halves to even)."""
        exact = _decimal(price) / self.tick
        return int(exact.to_integral_value(rounding=ROUND_HALF_EVEN))


DEFAULT_MARKETS: Mapping[str, MarketSpec] = {
    "FX_BTC_JPY": MarketSpec(product_code="FX_BTC_JPY", start_price=10_000_000, margin=True),
    "BTC_JPY": MarketSpec(product_code="BTC_JPY", start_price=10_000_000),
    "ETH_JPY": MarketSpec(product_code="ETH_JPY", start_price=400_000),
}
"""bitFlyer's products, served when ``Simulator(products=...)`` names them by code."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """One public trade (an execution of the public book)."""

    id: int
    """1, 2, 3... per product."""
    side: str
    """The taker's side: ``"BUY"`` or ``"SELL"``."""
    price: int
    """In ticks."""
    size: int
    """In lots."""
    time: float
    """The market clock."""


Changes = dict[int, int]
"""Changed levels of one side: price (ticks) -> new size (lots), ``0`` if removed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TickData:
    """What one tick did to one product's public market."""

    bids: Changes
    """The bid levels that changed, in the order the tick changed them."""
    asks: Changes
    """The ask levels that changed."""
    trades: list[Trade]
    """The public trades, oldest first."""


class Market:
    """One product's book, last trade and volume (no I/O, no clock)."""

    def __init__(self, spec: MarketSpec, seed: int | str) -> None:
        self.spec = spec
        self._rng = random.Random(f"{seed}:{spec.product_code}")
        self._sequence_rng = random.Random(f"{seed}:{spec.product_code}:sequence")
        start = spec.ticks(spec.start_price)
        self.fair = start
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.tick_id = 0
        self.ltp = start
        self.last_size = 0
        self.high = start
        self.low = start
        self.volume = 0
        self.turnover = Decimal(0)
        self.sequence = self._sequence_rng.randint(10**9, 2 * 10**9)
        self.time = 0.0
        self._trade_id = 0
        for i in range(1, spec.depth + 1):
            if self._rng.random() < 0.8 or i == 1:
                self.bids[self.fair - i] = self._rng.randint(1, 300)
            if self._rng.random() < 0.8 or i == 1:
                self.asks[self.fair + i] = self._rng.randint(1, 300)

    # ----------------------------------------------------------------- reading

    @property
    def product_code(self) -> str:
        """The product code."""
        return self.spec.product_code

    @property
    def best_bid(self) -> int:
        """The highest bid price (ticks)."""
        return max(self.bids)

    @property
    def best_ask(self) -> int:
        """The lowest ask price (ticks)."""
        return min(self.asks)

    @property
    def mid_price(self) -> int:
        """``(best_bid + best_ask) // 2`` (ticks): at or above every bid, below every ask."""
        return (self.best_bid + self.best_ask) // 2

    def levels(
        self, depth: int | None = None
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """``(bids, asks)`` as ``(ticks, lots)`` pairs, best first, at most ``depth`` a side."""
        bids = sorted(self.bids.items(), reverse=True)
        asks = sorted(self.asks.items())
        if depth is not None:
            return bids[:depth], asks[:depth]
        return bids, asks

    # ----------------------------------------------------------------- moving

    def step(self, now: float, *, to_ticks: int | None = None) -> TickData:
        """Advance one tick (see the module docstring); return what changed."""
        spec = self.spec
        rng = self._rng
        self.tick_id += 1
        self.time = now
        self.sequence += self._sequence_rng.randint(1, 64)
        if to_ticks is None:
            fair = self.fair + rng.randint(-spec.max_move, spec.max_move)
        else:
            fair = to_ticks
        fair = max(fair, spec.depth + 1)
        self.fair = fair
        bid_changes: Changes = {}
        ask_changes: Changes = {}
        trades: list[tuple[str, int, int]] = []

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
            size = min(book[best], rng.randint(1, 50))
            left = book[best] - size
            if left > 0:
                book[best] = left
            else:
                del book[best]
            changes[best] = left
            trades.append(("BUY" if buy else "SELL", best, size))

        # 4. out of the band.
        for price in [p for p in self.bids if p < fair - spec.depth]:
            del self.bids[price]
            bid_changes[price] = 0
        for price in [p for p in self.asks if p > fair + spec.depth]:
            del self.asks[price]
            ask_changes[price] = 0

        # 5. a few levels near the fair price change.
        near = min(8, spec.depth)
        for _ in range(rng.randint(1, spec.touches)):
            is_bid = rng.random() < 0.5
            offset = rng.randint(1, near)
            price = fair - offset if is_bid else fair + offset
            book, changes = (self.bids, bid_changes) if is_bid else (self.asks, ask_changes)
            if price in book and rng.random() < 0.35 and len(book) > 1:
                del book[price]
                changes[price] = 0
            else:
                book[price] = changes[price] = rng.randint(1, 300)

        # 6. never an empty side.
        if not self.bids:
            self.bids[fair - 1] = bid_changes[fair - 1] = rng.randint(1, 300)
        if not self.asks:
            self.asks[fair + 1] = ask_changes[fair + 1] = rng.randint(1, 300)

        return TickData(
            bids=bid_changes,
            asks=ask_changes,
            trades=[self._trade(side, price, size, now) for side, price, size in trades],
        )

    def _trade(self, side: str, price: int, size: int, now: float) -> Trade:
        self._trade_id += 1
        self.ltp = price
        self.last_size = size
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.volume += size
        self.turnover += self.spec.price(price) * self.spec.size(size)
        return Trade(id=self._trade_id, side=side, price=price, size=size, time=now)
