"""Bybit v5 order book (``orderbook.{depth}.{symbol}``) on botters' book-sync core.

Rules (https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook,
paraphrased):

* After a subscribe the first message is a ``snapshot``; ``delta`` messages
  follow. A snapshot means "reset your local book", and Bybit re-sends one
  (guaranteed current) when it has a problem: every snapshot replaces the
  symbol's book, whatever its ``u``.
* ``u`` is the update id, in general continuous: a delta applies when its
  ``u`` is the book's last ``u`` plus one. A ``u`` the book already has (a
  duplicate, or older) is skipped; any other ``u`` means messages were lost,
  so the book is dropped and a resync is asked for (unsubscribe, subscribe:
  Bybit answers with a fresh snapshot).
* A ``u`` of 1 comes with a full snapshot after a service restart, and the
  docs say to overwrite the local book: a snapshot with ``u == 1`` resets the
  book like any snapshot; a *delta* with ``u == 1`` cannot follow a book
  built on the old sequence and is a gap.
* Level 1 (linear, inverse, spot) is snapshot-only, and when it has not
  changed for 3 seconds its snapshot is pushed again with the same ``u``:
  also a reset (a confirmation).
* In a delta, a size of 0 removes the price level; any other size inserts or
  replaces it. ``seq`` (the cross sequence across depths) is not needed to
  link one topic's messages and is ignored.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import Any, Final

from botters.protocol.exchanges._levels import MalformedError as _MalformedError
from botters.protocol.exchanges._levels import pair_level as _price
from botters.protocol.exchanges._levels import side_entries as _entries
from botters.protocol.store import BookSync, Link, OrderBookStore, Resubscribe, ResyncRequest
from botters.protocol.store._book import _Side

from ._common import Once, logger
from ._common import short as _short

__all__ = ["OrderBook"]

_APPLY: Final = Link.APPLY
_STALE: Final = Link.STALE
_GAP: Final = Link.GAP
_INF = math.inf

# (side, DataStore key, sort key, level dict)
_Change = tuple[_Side, tuple[str, str, Any], float, dict[str, Any]]


class OrderBook(OrderBookStore):
    """Order book levels ``{"s": symbol, "S": "a"|"b", "p": price, "v": size}`` (pybotters' shape).

    ``sorted()`` returns ``{"a": [...], "b": [...]}``, best price first
    (``sorted({"s": "BTCUSDT"}, limit=10)`` reads one book in O(limit)).
    ``is_synced(symbol)`` tells whether the book reflects a snapshot and every
    delta since; a book that is not synced has no levels: empty means
    "unknown", not "no orders".

    One topic per symbol. ``orderbook.1.BTCUSDT`` and ``orderbook.50.BTCUSDT``
    both carry ``"s": "BTCUSDT"`` and fill the same levels, but each has its
    own ``u`` sequence: mixing them (as pybotters does) corrupts the book and
    breaks the ``u`` chain. The first topic that delivers a well-formed message
    for a symbol owns that symbol's book (:meth:`owner`); messages of any other
    topic for that symbol are ignored, with one warning per topic. Ownership
    lasts until the feed is interrupted (``feed_interrupted()``, called by the
    WebSocket client after a reconnect): then the first topic to deliver a
    message again owns the book. Subscribe to one depth per symbol; to change
    depth on a live connection, reconnect (or call ``feed_interrupted()``).
    Use one ``BybitDataStore`` per category connection too: spot and linear
    both have a ``BTCUSDT`` with the same topic names.

    Differences from pybotters, on purpose (Bybit documents the ``u`` chain;
    pybotters ignores it):

    * deltas are linked by ``u``: duplicates and older deltas are skipped, a
      gap drops the book and asks for a resync (pybotters applies every delta
      in arrival order);
    * deltas for a book without a snapshot are not applied to an empty book
      (a resync is asked for instead);
    * a size that is zero as a number (``"0.000"``) removes the level, as
      ``"0"`` does; a snapshot level of size zero is not stored;
    * a malformed message (a level that is not ``[price, size]`` with a
      finite price and a non-negative size, a missing ``u``) is logged and not
      applied: a malformed snapshot leaves the book unsynced, a malformed delta
      for a synced book drops it and asks for a resync;
    * the size bound is the order-book core's (it drops the deepest levels
      past it), not pybotters' 9,999 levels by age, which cuts a deep book.
    """

    _KEYS = ["s", "S", "p"]  # noqa: RUF012 - pybotters' surface
    _BOOK_KEYS = ("s",)
    _SIDE_KEY = "S"
    _PRICE_KEY = "p"
    _ASKS = "a"
    _BIDS = "b"
    _EXCHANGE = "bybit"

    _owners: dict[str, str]
    _ignored: Once

    def _init(self) -> None:
        self._owners = {}
        self._ignored = Once()

    def owner(self, symbol: str) -> str | None:
        """The topic that feeds ``symbol``'s book (e.g. ``"orderbook.50.BTCUSDT"``), or ``None``."""
        return self._owners.get(symbol)

    # ------------------------------------------------------------------ messages

    def _onmessage(self, topic: str, msg: Mapping[str, Any], ws: Any) -> None:
        """Apply one ``orderbook.*`` message (a snapshot or a delta) for its symbol."""
        data = msg.get("data")
        if not isinstance(data, dict) or not isinstance(symbol := data.get("s"), str):
            logger.warning(
                "Bybit %s: no data.s (symbol); message skipped: %s", topic, _short.repr(msg)
            )
            return
        owner = self._owners.get(symbol)
        if owner is not None and owner != topic:
            if self._ignored.first(topic):
                logger.warning(
                    "Bybit %s: the %s book is fed by %s; messages of this topic are ignored "
                    "(subscribe to one depth per symbol)",
                    topic,
                    symbol,
                    owner,
                )
            return
        kind = msg.get("type")
        if kind == "delta":
            self._ondelta(topic, symbol, data, owner, ws)
        elif kind == "snapshot":
            self._onsnapshot(topic, symbol, data, owner)
        else:
            self._malformed(topic, symbol, owner, f"unknown type {_short.repr(kind)}", ws)

    def _onsnapshot(
        self, topic: str, symbol: str, data: Mapping[str, Any], owner: str | None
    ) -> None:
        try:
            u = _update_id(data)
            levels = _snapshot_levels(symbol, data)
        except _MalformedError as exc:
            self._malformed(topic, symbol, owner, str(exc), None, snapshot=True)
            return
        if owner is None:  # a well-formed message claims the book for its topic
            self._owners[symbol] = topic
        self._load_book(symbol, levels, seq=u)

    def _ondelta(
        self, topic: str, symbol: str, data: Mapping[str, Any], owner: str | None, ws: Any
    ) -> None:
        book = self._book_for(symbol)
        try:
            u = _update_id(data)
            deletes, puts = _delta_changes(symbol, data, book.asks, book.bids)
        except _MalformedError as exc:
            self._malformed(topic, symbol, owner, str(exc), ws)
            return
        if owner is None:
            self._owners[symbol] = topic
        if not self._accept(symbol, u, ws):
            return
        changed = False
        drop = self._drop_level
        for side, key, sortkey, item in deletes:
            if drop(side, key, sortkey, item):
                changed = True
        if puts:
            changed = True
            put = self._put_level
            for side, key, sortkey, item in puts:
                put(side, key, item, sortkey, "update")  # pybotters' _update changes
        if changed and self._waiters:
            self._set()

    def _malformed(
        self,
        topic: str,
        symbol: str,
        owner: str | None,
        reason: str,
        ws: Any,
        *,
        snapshot: bool = False,
    ) -> None:
        """A message that cannot be applied: what it means depends on whose it is.

        From a topic that does not own the book yet: skipped (it claims
        nothing). A snapshot of the owner: the book is dropped and unsynced
        until the next one (the next delta asks for it). Any other message of
        the owner while the book is synced: the change it carried is lost, so
        the book is dropped and a resync asked for.
        """
        if owner is None:
            logger.warning("Bybit %s: malformed message skipped (%s)", topic, reason)
        elif snapshot:
            dropped = self._drop_book(symbol)
            self._mark_unsynced(symbol)
            logger.warning(
                "Bybit %s: malformed snapshot (%s); the %s book is dropped until the next one",
                topic,
                reason,
                symbol,
            )
            if dropped and self._waiters:
                self._set()
        elif self.is_synced(symbol):
            self._resync(symbol, f"malformed delta on {topic} ({reason})", ws, gap=True)
        else:
            logger.warning("Bybit %s: malformed message skipped (%s)", topic, reason)

    # ------------------------------------------------------------------ sync

    def _link(self, sync: BookSync, ids: Any) -> tuple[Link, Any]:
        """Bybit's rule: ``u == last + 1`` applies; ``u <= last`` is stale; else a gap.

        A delta with ``u == 1`` after a later ``u`` means the service
        restarted (its snapshot is ``u == 1`` too): a gap, not a stale message.
        """
        last = sync.seq
        if not isinstance(last, int):
            return _GAP, last
        if ids == last + 1:
            return _APPLY, ids
        if ids <= last and ids != 1:
            return _STALE, last
        return _GAP, last

    def _resync_request(self, book: Hashable, reason: str) -> ResyncRequest | None:
        """Unsubscribe and subscribe the book's topic again: Bybit answers with a snapshot.

        https://bybit-exchange.github.io/docs/v5/ws/connect (subscribe/unsubscribe).
        """
        topic = self._owners.get(book) if isinstance(book, str) else None
        if topic is None:
            return None
        return Resubscribe(
            exchange="bybit",
            store=self.name or "orderbook",
            book=book,
            reason=reason,
            messages=(
                {"op": "unsubscribe", "args": [topic]},
                {"op": "subscribe", "args": [topic]},
            ),
        )

    def _feed_interrupted(self) -> None:
        """Drop every book and forget which topic owned each (the next message picks again)."""
        super()._feed_interrupted()
        self._owners.clear()
        self._ignored.clear()


def _update_id(data: Mapping[str, Any]) -> int:
    u = data.get("u")
    if type(u) is not int:
        raise _MalformedError(f"u must be an integer, got {_short.repr(u)}")
    return u


def _snapshot_levels(symbol: str, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The snapshot's levels as stored items, asks first (pybotters' insertion order)."""
    items = []
    for side in ("a", "b"):
        for level in _entries(data, side):
            price, size, _, fsize = _price(level)
            if fsize:
                items.append({"s": symbol, "S": side, "p": price, "v": size})
    return items


def _delta_changes(
    symbol: str, data: Mapping[str, Any], asks: _Side, bids: _Side
) -> tuple[list[_Change], list[_Change]]:
    """The delta's removals and upserts, in the order pybotters applies them.

    pybotters removes every size-0 level first (asks, then bids) and then
    updates the others (asks, then bids); the same order gives the same
    ``find()`` order and the same ``watch()`` changes, even when a delta lists
    a price twice. (The hot path: :func:`_price` is inlined.)
    """
    deletes: list[_Change] = []
    puts: list[_Change] = []
    level: Any = None
    try:
        for side_name, side, sign in (("a", asks, -1.0), ("b", bids, 1.0)):
            for level in _entries(data, side_name):
                if type(level) is not list and type(level) is not tuple:
                    raise TypeError
                price = level[0]
                size = level[1]
                if type(price) is bool or type(size) is bool:
                    raise TypeError
                fprice = float(price)
                fsize = float(size)
                if not (-_INF < fprice < _INF and 0.0 <= fsize < _INF):
                    raise ValueError
                item = {"s": symbol, "S": side_name, "p": price, "v": size}
                change = (side, (symbol, side_name, price), sign * fprice, item)
                if fsize:
                    puts.append(change)
                else:
                    deletes.append(change)
    except (TypeError, ValueError, IndexError, KeyError, OverflowError):
        raise _MalformedError(f"bad level {_short.repr(level)}") from None
    return deletes, puts
