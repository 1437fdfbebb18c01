"""``OrderBookStore``: a DataStore of price levels kept sorted as they change.

Theory of operation
-------------------

Every exchange's order-book store is a :class:`DataStore` whose items are
price levels (``get``/``find``/``wait``/``watch`` work on them as on any
store) plus a secondary index that keeps each (book, side) sorted:

* a *book* is identified by the values of ``_BOOK_KEYS`` (``product_code``
  for bitFlyer, ``(instType, instId)`` for Bitget v2, ...);
* each side is two parallel lists, ``keys`` (floats) and ``items`` (the
  stored level dicts), sorted **worst price first, best price last**. The
  sort key is ``price`` for bids and ``-price`` for asks, so both sides are
  ascending lists whose last element is the best level.

Keeping the best levels at the *end* matters: almost every change of a live
book happens near the top, and inserting or deleting near the end of a Python
list moves only the few pointers after it. An update therefore costs a
``bisect`` (O(log n)) plus a short ``memmove``; the best bid/ask is
``items[-1]`` (O(1)); and ``sorted(limit=k)`` is one reversed slice of the
last ``k`` items (O(k)), whatever the depth of the book.

Prices may arrive as ints, floats or decimal strings: the sort key is
``float(price)``, so "10" sorts before "9.5" by value, not by text. The stored
item keeps the price exactly as received, and the DataStore key uses that raw
value. Levels whose prices are equal as numbers but distinct as keys (``"1"``
and ``"1.0"``, or integers beyond float precision) are kept apart and listed
in the order they were inserted. A level whose price is not a finite number,
or whose side is not one of the two side names, is refused with a log line.

Exchange stores use the fast primitives (``_put_level``, ``_drop_level``,
``_drop_book``, ``_drop_crossing``) on their hot path; the generic
``_insert``/``_update``/``_delete``/... keep working and keep the index
consistent through the DataStore tracking hooks.

Bounding. An order book is bounded by the exchange's depth, and dropping
levels by insertion age (what a plain store does past ``_MAXLEN``) would
corrupt it. Past ``_MAXLEN`` an order book drops its *deepest* levels (the
worst prices of its longest side) instead, reported as ``delete`` changes.

Sync state. A book is *synced* once its exchange store has applied a
snapshot for it (``_mark_synced``). :meth:`OrderBookStore.feed_interrupted`
(through ``DataStoreCollection.feed_interrupted``) drops every level and
marks every book unsynced, so a bot can tell "empty because we lost the feed"
from "empty book" with :meth:`OrderBookStore.is_synced`.
"""

from __future__ import annotations

import heapq
import logging
import math
from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from itertools import islice
from operator import itemgetter
from typing import Any

from botters.protocol._errors import ConfigError

from ._store import _MISSING, DataStore, Item, _matches, _short

__all__ = ["OrderBookStore"]

logger = logging.getLogger("botters.store")

_INF = math.inf


class _Side:
    """One side of one book: parallel lists sorted by key, best level last."""

    __slots__ = ("items", "keys")

    def __init__(self) -> None:
        self.keys: list[float] = []
        self.items: list[Item] = []

    def __len__(self) -> int:
        return len(self.keys)

    def position(self, key: float, item: Item) -> int:
        """Index of ``item`` (by identity) given its sort key, or -1."""
        keys = self.keys
        items = self.items
        i = bisect_left(keys, key)
        n = len(keys)
        while i < n and keys[i] == key:
            if items[i] is item:
                return i
            i += 1
        # The price of a stored level was edited in place: find it the slow way.
        for j, candidate in enumerate(items):
            if candidate is item:
                return j
        return -1

    def add(self, key: float, item: Item) -> None:
        # bisect_left: among equal keys the newest goes first, so reading from
        # the end (best first) lists equal prices in insertion order.
        i = bisect_left(self.keys, key)
        self.keys.insert(i, key)
        self.items.insert(i, item)

    def best(self, limit: int | None) -> list[Item]:
        if limit is None:
            return self.items[::-1]
        return self.items[: -limit - 1 : -1]

    def iter_best(self) -> Iterator[tuple[float, Item]]:
        return zip(reversed(self.keys), reversed(self.items), strict=True)


class _Book:
    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.asks = _Side()
        self.bids = _Side()


def _book_getter(fields: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Hashable]:
    if not fields:
        return lambda item: None
    return itemgetter(*fields)


class OrderBookStore(DataStore):
    """A DataStore of order-book levels with each (book, side) kept sorted by price.

    Subclasses name their fields with class attributes:

    Attributes:
        _BOOK_KEYS: Fields identifying one book (e.g. ``("product_code",)``).
        _SIDE_KEY: Field holding the side of a level.
        _PRICE_KEY: Field holding the price (int, float or decimal string).
        _ASKS: The side value of asks, also the ask key of :meth:`sorted`.
        _BIDS: The side value of bids, also the bid key of :meth:`sorted`.
        _KEYS: The DataStore key (usually book keys + side + price).
    """

    _TRACKED = True
    _BOOK_KEYS: tuple[str, ...] = ("symbol",)
    _SIDE_KEY: str = "side"
    _PRICE_KEY: str = "price"
    _ASKS: str = "asks"
    _BIDS: str = "bids"
    _KEYS = ["symbol", "side", "price"]  # noqa: RUF012 - pybotters' subclassing surface
    _MAXLEN = 1_000_000

    def __init__(
        self,
        name: str | None = None,
        keys: list[str] | None = None,
        data: Iterable[Item] | None = None,
    ) -> None:
        self._books: dict[Hashable, _Book] = {}
        self._synced: set[Hashable] = set()
        self._bookof = _book_getter(tuple(self._BOOK_KEYS))
        super().__init__(name, keys, data)

    # ------------------------------------------------------------------ reading

    def sorted(
        self, query: Mapping[str, Any] | None = None, limit: int | None = None
    ) -> dict[str, list[Item]]:
        """Return ``{asks: [...], bids: [...]}``, each best price first (pybotters' shape).

        Args:
            query: Keep only levels whose fields equal these. A query naming
                one book (its ``_BOOK_KEYS``) reads that book directly;
                without a query, all books are merged by price, as pybotters
                does.
            limit: At most this many levels per side. Costs O(limit) for one
                book; the whole side when ``None``.
        """
        if limit is not None and limit < 0:
            raise ConfigError(f"sorted() limit must be None or >= 0, got {limit!r}")
        books = self._books
        if not query:
            if len(books) == 1:
                (book,) = books.values()
                return {self._ASKS: book.asks.best(limit), self._BIDS: book.bids.best(limit)}
            selected: list[_Book] = list(books.values())
            extra: dict[str, Any] = {}
        else:
            extra = dict(query)
            book_keys = self._BOOK_KEYS
            if book_keys and all(k in query for k in book_keys):
                try:
                    found = books.get(self._bookof(query))
                except TypeError:
                    found = None
                selected = [found] if found is not None else []
                for k in book_keys:
                    del extra[k]
            else:
                selected = list(books.values())
        want_asks = want_bids = True
        side = extra.pop(self._SIDE_KEY, _MISSING)
        if side is not _MISSING:
            want_asks = side == self._ASKS
            want_bids = side == self._BIDS
        return {
            self._ASKS: _collect([b.asks for b in selected], extra, limit) if want_asks else [],
            self._BIDS: _collect([b.bids for b in selected], extra, limit) if want_bids else [],
        }

    def best_ask(self, book: Hashable) -> Item | None:
        """The lowest ask of ``book`` (e.g. ``"BTC_JPY"``), or ``None``. O(1)."""
        found = self._books.get(book)
        if found is None or not found.asks.items:
            return None
        return found.asks.items[-1]

    def best_bid(self, book: Hashable) -> Item | None:
        """The highest bid of ``book`` (e.g. ``"BTC_JPY"``), or ``None``. O(1)."""
        found = self._books.get(book)
        if found is None or not found.bids.items:
            return None
        return found.bids.items[-1]

    def is_synced(self, book: Hashable) -> bool:
        """Whether ``book`` reflects a snapshot and every diff since.

        False before the first snapshot and after the feed was interrupted
        (a reconnect) until the next snapshot: an empty, unsynced book means
        "unknown", not "no orders".
        """
        return book in self._synced

    def _mark_synced(self, book: Hashable) -> None:
        self._synced.add(book)

    def _mark_unsynced(self, book: Hashable) -> None:
        self._synced.discard(book)

    def _feed_interrupted(self) -> None:
        """Drop every level and mark every book unsynced until its next snapshot."""
        self._synced.clear()
        self._clear()

    # ------------------------------------------------------------------ fast primitives

    def _book_for(self, book: Hashable) -> _Book:
        found = self._books.get(book)
        if found is None:
            found = self._books[book] = _Book()
        return found

    def _put_level(self, side: _Side, key: Hashable, item: Item, sortkey: float) -> None:
        """Insert ``item`` (DataStore key ``key``) or replace the level with that key.

        The caller has checked that ``sortkey`` is the finite sort key of
        ``item`` on ``side``. Emits ``insert``; does not wake waiters.
        """
        index = self._index
        uid = index.get(key)
        if uid is None:
            uid = self._next_id
            self._next_id = uid + 1
            index[key] = uid
            side.add(sortkey, item)
        else:
            old = self._data[uid]
            i = side.position(sortkey, old)
            if i >= 0:
                side.items[i] = item
            else:  # the old level sat elsewhere (edited in place): re-link it
                self._track_remove(old)
                side.add(sortkey, item)
        self._data[uid] = item
        if self._streams:
            self._emit("insert", None, item)

    def _drop_level(self, side: _Side, key: Hashable, sortkey: float, source: Item) -> bool:
        """Remove the level with DataStore key ``key`` if present. Emits ``delete``."""
        uid = self._index.pop(key, None)
        if uid is None:
            return False
        old = self._data.pop(uid)
        i = side.position(sortkey, old)
        if i >= 0:
            del side.keys[i]
            del side.items[i]
        else:
            self._track_remove(old)
        if self._streams:
            self._emit("delete", source, old)
        return True

    def _drop_crossing(
        self,
        side: _Side,
        bound: float,
        inclusive: bool,
        dropped: list[tuple[int, Item]] | None = None,
    ) -> int:
        """Remove best levels whose sort key is above ``bound`` (or equal, if inclusive).

        The removed ``(id, level)`` pairs are appended to ``dropped`` when it
        is given (the caller reports them with :meth:`_emit_deletes`);
        otherwise they are reported right away.
        """
        keys = side.keys
        items = side.items
        index = self._index
        data = self._data
        keyof = self._keyof
        out = dropped if dropped is not None else ([] if self._streams else None)
        count = 0
        while keys and (keys[-1] > bound or (inclusive and keys[-1] == bound)):
            keys.pop()
            item = items.pop()
            uid = index.pop(keyof(item), -1)
            data.pop(uid, None)
            count += 1
            if out is not None:
                out.append((uid, item))
        if dropped is None and out:
            self._emit_deletes(out)
        return count

    def _drop_book(self, book: Hashable) -> int:
        """Remove every level of ``book``. Emits ``delete`` for each (source: the level)."""
        found = self._books.get(book)
        if found is None:
            return 0
        index = self._index
        data = self._data
        keyof = self._keyof
        out: list[tuple[int, Item]] | None = [] if self._streams else None
        count = 0
        for side in (found.asks, found.bids):
            for item in side.items:
                uid = index.pop(keyof(item), -1)
                data.pop(uid, None)
                if out is not None:
                    out.append((uid, item))
            count += len(side.items)
            side.keys.clear()
            side.items.clear()
        if out:
            self._emit_deletes(out)
        return count

    def _emit_deletes(self, dropped: list[tuple[int, Item]]) -> None:
        # Report removed levels in store (first-insert) order, as pybotters'
        # _delete(find(...)) does, so watchers see the same sequence.
        dropped.sort(key=itemgetter(0))
        for _, item in dropped:
            self._emit("delete", item, item)

    def _sort_key(self, item: Mapping[str, Any], create: bool) -> tuple[_Side, float] | None:
        """Where ``item`` belongs: its side list and sort key, or None if it is not a level."""
        try:
            side_name = item[self._SIDE_KEY]
            price = float(item[self._PRICE_KEY])
            book_id = self._bookof(item)
            hash(book_id)
        except (KeyError, TypeError, ValueError, IndexError, OverflowError):
            return None
        is_ask = side_name == self._ASKS
        if not (is_ask or side_name == self._BIDS) or not -_INF < price < _INF:
            return None
        book = self._book_for(book_id) if create else self._books.get(book_id)
        if book is None:
            return None
        return (book.asks, -price) if is_ask else (book.bids, price)

    # ------------------------------------------------------------------ DataStore hooks

    def _refuse(self, operation: str, item: Any) -> None:
        logger.warning(
            "%r: %s refused an item that is not an order-book level "
            "(side must be %r or %r, price a finite number): %s",
            self,
            operation,
            self._ASKS,
            self._BIDS,
            _short.repr(item),
        )

    def _track_add(self, item: Item) -> bool:
        where = self._sort_key(item, True)
        if where is None:
            self._refuse("_insert/_update", item)
            return False
        side, key = where
        side.add(key, item)
        return True

    def _track_replace(self, old: Item, new: Item) -> bool:
        where = self._sort_key(new, True)
        if where is None:
            self._refuse("_insert", new)
            return False
        side, key = where
        i = side.position(key, old)
        if i >= 0:
            side.items[i] = new
        else:
            self._track_remove(old)
            side.add(key, new)
        return True

    def _track_merge(self, stored: Item, changes: Item) -> bool:
        moved = self._PRICE_KEY in changes or self._SIDE_KEY in changes
        if not moved and not any(k in changes for k in self._BOOK_KEYS):
            stored.update(changes)
            return True
        merged = {**stored, **changes}
        where = self._sort_key(merged, True)
        if where is None:
            self._refuse("_update", changes)
            return False
        side, key = where
        if self._sort_key(stored, False) == where:  # same place: keep its rank among equal prices
            stored.update(changes)
            return True
        self._track_remove(stored)
        stored.update(changes)
        side.add(key, stored)
        return True

    def _track_remove(self, item: Item) -> None:
        where = self._sort_key(item, False)
        if where is not None:
            side, key = where
            i = side.position(key, item)
            if i >= 0:
                del side.keys[i]
                del side.items[i]
                return
        # Not where its fields say (they were edited in place): search every side.
        for book in self._books.values():
            for side in (book.asks, book.bids):
                for i, candidate in enumerate(side.items):
                    if candidate is item:
                        del side.keys[i]
                        del side.items[i]
                        return

    def _track_clear(self) -> None:
        self._books.clear()

    def _trim(self) -> None:
        # Past _MAXLEN drop the deepest levels (worst prices) of the longest side.
        excess = len(self._data) - max(self._MAXLEN, 0)
        index = self._index
        data = self._data
        keyof = self._keyof
        while excess > 0:
            longest = max(
                (side for book in self._books.values() for side in (book.asks, book.bids)),
                key=len,
                default=None,
            )
            if longest is None or not longest.items:
                break
            del longest.keys[0]
            item = longest.items.pop(0)
            uid = index.pop(keyof(item), None)
            if uid is not None:
                data.pop(uid, None)
            excess -= 1
            if self._streams:
                self._emit("delete", None, item)


def _collect(sides: list[_Side], extra: Mapping[str, Any], limit: int | None) -> list[Item]:
    # Best-first levels of one or several sides (merged by price), filtered by `extra`.
    if not extra:
        if len(sides) == 1:
            return sides[0].best(limit)
        if not sides:
            return []
        merged = heapq.merge(*(s.iter_best() for s in sides), key=itemgetter(0), reverse=True)
        return [item for _, item in islice(merged, limit)]
    if len(sides) == 1:
        stream: Iterator[tuple[float, Item]] = sides[0].iter_best()
    else:
        stream = heapq.merge(*(s.iter_best() for s in sides), key=itemgetter(0), reverse=True)
    matching = (item for _, item in stream if _matches(item, extra))
    return list(islice(matching, limit))
