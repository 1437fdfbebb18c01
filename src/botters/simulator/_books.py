"""A published view of a market's book: the top ``depth`` levels, diffed tick by tick.

An exchange serves the same book at several depths (Bybit's
``orderbook.1/50/200/1000``, OKX's ``books`` and ``books5``). A client of a
depth-``N`` stream holds the top ``N`` levels and nothing more, so each push
must carry exactly what turns the previous top ``N`` into the new one: levels
that changed, levels that entered the top (as inserts) and levels pushed out
of it (as deletions). :class:`BookView` keeps the last published top ``N`` and
computes that diff; the dialect numbers and prints it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._market import Market

__all__ = ["BookView", "Diff"]

Levels = list[tuple[int, int]]
"""``(ticks, lots)`` pairs, best first."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Diff:
    """What changed in a view: ``(ticks, lots)``, best first, ``0`` lots removes."""

    bids: Levels
    asks: Levels


def _changes(old: dict[int, int], new: dict[int, int]) -> dict[int, int]:
    out = {price: 0 for price in old if price not in new}
    out.update((price, size) for price, size in new.items() if old.get(price) != size)
    return out


class BookView:
    """The top ``depth`` levels a side of ``market`` as last published (all if ``None``)."""

    def __init__(self, market: Market, depth: int | None) -> None:
        self.market = market
        self.depth = depth
        self.bids, self.asks = self._top()

    def _top(self) -> tuple[dict[int, int], dict[int, int]]:
        bids, asks = self.market.levels(self.depth)
        return dict(bids), dict(asks)

    def levels(self) -> tuple[Levels, Levels]:
        """The published levels, ``(bids, asks)``, best first."""
        return sorted(self.bids.items(), reverse=True), sorted(self.asks.items())

    def advance(self) -> Diff | None:
        """Catch up with the market; the diff from the last published levels, if any."""
        bids, asks = self._top()
        bid_changes, ask_changes = _changes(self.bids, bids), _changes(self.asks, asks)
        self.bids, self.asks = bids, asks
        if not bid_changes and not ask_changes:
            return None
        return Diff(
            bids=sorted(bid_changes.items(), reverse=True), asks=sorted(ask_changes.items())
        )
