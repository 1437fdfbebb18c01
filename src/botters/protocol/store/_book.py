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

Snapshots are bulk-loaded (:meth:`OrderBookStore._load_book`): the levels are
stored, then each side is sorted once (Timsort, linear for the already-ordered
levels exchanges send), never inserted one sorted position at a time. A
10,000-level side costs a few milliseconds, not the O(n²) pointer moves of
per-level inserts.

Sync state. Each book has a :class:`~._sync.BookState` (theory of operation in
:mod:`botters.protocol.store._sync`). Exchange stores apply a snapshot with
:meth:`OrderBookStore._load_book` and pass every diff through
:meth:`OrderBookStore._accept`, which links it to the previous update with the
exchange's rule (:meth:`OrderBookStore._link`) and, on a gap, drops the book
and asks for a resync (:meth:`OrderBookStore._resync_request`, given to the
connection). :meth:`OrderBookStore.feed_interrupted` (through
``DataStoreCollection.feed_interrupted``) drops every level and marks every
book unsynced, so a bot can tell "empty because we lost the feed" from "empty
book" with :meth:`OrderBookStore.is_synced`, and how old a book is with
:meth:`OrderBookStore.staleness`.
"""

from __future__ import annotations

import heapq
import logging
import math
import operator
import weakref
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import replace
from itertools import islice
from operator import itemgetter
from typing import Any, Final

from botters.protocol._errors import ConfigError

from ._store import _MISSING, DataStore, Item, _matches, _short
from ._stream import Operation
from ._sync import BookState, BookStatus, FetchSnapshot, Link, Resubscribe, ResyncRequest

__all__ = ["BookSync", "OrderBookStore"]

logger = logging.getLogger("botters.store")

_INF = math.inf
_APPLY: Final = Link.APPLY
_STALE: Final = Link.STALE
_SYNCED: Final = BookState.SYNCED
_UNSYNCED: Final = BookState.UNSYNCED
_RESYNCING: Final = BookState.RESYNCING


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


class BookSync:
    """The sync bookkeeping of one book, as exchange stores' :meth:`OrderBookStore._link` sees it.

    Read it in ``_link``; the store updates it. ``seq`` is the exchange's id of
    the last update applied (the snapshot's right after one, with ``fresh``
    set); ``book`` is the book's id in the store.
    """

    __slots__ = (
        "asked_at",
        "attempts",
        "book",
        "buffer",
        "fresh",
        "gaps",
        "last_update",
        "request",
        "resyncs",
        "seq",
        "stale",
        "state",
    )

    def __init__(self, book: Hashable) -> None:
        self.book = book
        self.state = _UNSYNCED
        self.seq: Any = None
        self.fresh = False
        """A snapshot was applied and no diff since (Binance links its first diff differently)."""
        self.last_update: float | None = None
        self.asked_at: float | None = None
        self.attempts = 0
        self.request: ResyncRequest | None = None
        self.buffer: deque[Any] | None = None
        self.gaps = 0
        self.resyncs = 0
        self.stale = 0

    def reset(self) -> None:
        """Back to unsynced (the feed was interrupted); the counters stay."""
        self.state = _UNSYNCED
        self.seq = None
        self.fresh = False
        self.asked_at = None
        self.attempts = 0
        self.request = None
        self.buffer = None


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
        _EXCHANGE: The exchange's name, for log lines and resync requests.
        _BUFFER_DIFFS: Keep the diffs that arrive while a book is not synced
            (up to ``_BUFFER_MAX``) for the snapshot to replay: for exchanges
            whose snapshot comes from REST (Binance). Exchanges that push a
            snapshot on subscribe drop them instead.
        RESYNC_RETRY: Seconds after a resync request before a book still
            without a snapshot asks again (doubling each time, up to
            ``RESYNC_RETRY_MAX``). Needs the clock adapters give the store.

    Sync state per book: :meth:`is_synced`, :meth:`sync_state`,
    :meth:`sync_status`, :meth:`staleness` (see :mod:`._sync`).
    """

    _TRACKED = True
    _BOOK_KEYS: tuple[str, ...] = ("symbol",)
    _SIDE_KEY: str = "side"
    _PRICE_KEY: str = "price"
    _ASKS: str = "asks"
    _BIDS: str = "bids"
    _KEYS = ["symbol", "side", "price"]  # noqa: RUF012 - pybotters' subclassing surface
    _MAXLEN = 1_000_000
    _EXCHANGE: str = ""
    _BUFFER_DIFFS: bool = False
    _BUFFER_MAX: int = 10_000
    RESYNC_RETRY: float = 5.0
    RESYNC_RETRY_MAX: float = 60.0

    def __init__(
        self,
        name: str | None = None,
        keys: list[str] | None = None,
        data: Iterable[Item] | None = None,
    ) -> None:
        self._books: dict[Hashable, _Book] = {}
        self._syncs: dict[Hashable, BookSync] = {}
        self._pending: dict[Hashable, ResyncRequest] = {}
        self._carrier_warned = False
        self._self_ref = weakref.ref(self)
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

        False before the first snapshot, after the feed was interrupted (a
        reconnect) and after a sequence gap, until the next snapshot: an
        empty, unsynced book means "unknown", not "no orders".
        """
        found = self._syncs.get(book)
        return found is not None and found.state is _SYNCED

    def sync_state(self, book: Hashable) -> BookState:
        """``SYNCED``, ``RESYNCING`` (a resync was asked for) or ``UNSYNCED``."""
        found = self._syncs.get(book)
        return _UNSYNCED if found is None else found.state

    def sync_status(self, book: Hashable) -> BookStatus:
        """The sync bookkeeping of ``book``: state, last id, last update time, counters."""
        found = self._syncs.get(book) or BookSync(book)
        return BookStatus(
            state=found.state,
            seq=found.seq if found.state is _SYNCED else None,
            last_update=found.last_update,
            gaps=found.gaps,
            resyncs=found.resyncs,
            stale=found.stale,
        )

    def last_update(self, book: Hashable) -> float | None:
        """The store's clock when ``book`` last changed or was confirmed, or ``None``.

        The clock is the adapter's (``loop.time()`` / ``trio.current_time()``),
        given to the collection when it is used as a handler; without one
        this is ``None``.
        """
        found = self._syncs.get(book)
        return None if found is None else found.last_update

    def staleness(self, book: Hashable, now: float | None = None) -> float | None:
        """Seconds since ``book`` last changed or was confirmed (``None`` if unknown).

        Independent of the connection's liveness: a connection can stay up
        while one book stops updating. ``now`` defaults to the store's clock.
        """
        found = self._syncs.get(book)
        if found is None or found.last_update is None:
            return None
        if now is None:
            clock = self._clock
            if clock is None:
                return None
            now = clock()
        return max(0.0, now - found.last_update)

    def _mark_synced(self, book: Hashable) -> None:
        self._sync_for(book).state = _SYNCED

    def _mark_unsynced(self, book: Hashable) -> None:
        found = self._syncs.get(book)
        if found is not None:
            found.reset()

    def _feed_interrupted(self) -> None:
        """Drop every level and mark every book unsynced until its next snapshot."""
        for found in self._syncs.values():
            found.reset()
        self._pending.clear()
        self._clear()

    # ------------------------------------------------------------------ sync

    def _sync_for(self, book: Hashable) -> BookSync:
        found = self._syncs.get(book)
        if found is None:
            found = self._syncs[book] = BookSync(book)
        return found

    def _link(self, sync: BookSync, ids: Any) -> tuple[Link, Any]:
        """How the diff with exchange ids ``ids`` follows the book's last update.

        Returns the verdict and the book's new last id when it applies.
        ``sync.seq`` is the last id applied (the snapshot's right after one,
        with ``sync.fresh`` set). The default links everything: an exchange
        without sequence numbers (bitFlyer) cannot detect a gap.
        """
        return _APPLY, ids

    def _resync_request(self, book: Hashable, reason: str) -> ResyncRequest | None:
        """What would bring a fresh snapshot of ``book`` (``None``: nothing can)."""
        return None

    def _accept(self, book: Hashable, ids: Any, ws: Any, diff: Any = None) -> bool:
        """Whether the diff with exchange ids ``ids`` must be applied to ``book`` now.

        The gate every diff passes through. For a synced book it links the
        diff (:meth:`_link`): the next one is accepted (and the book's last id
        and update time move on); a stale one is skipped; a gap drops the
        book and asks for a resync on ``ws``. For a book that is not synced
        the diff is buffered (``_BUFFER_DIFFS``, ``diff`` is kept) or
        dropped, and a resync is asked for if none is outstanding (or the
        last one is overdue).
        """
        found = self._syncs.get(book)
        if found is not None and found.state is _SYNCED:
            verdict, seq = self._link(found, ids)
            if verdict is _APPLY:
                found.seq = seq
                found.fresh = False
                clock = self._clock
                if clock is not None:
                    found.last_update = clock()
                return True
            if verdict is _STALE:
                found.stale += 1
                logger.debug(
                    "%s: %r: skipped a stale diff %r (book at %r)", self, book, ids, found.seq
                )
                return False
            self._resync(book, f"sequence gap: {ids!r} does not follow {found.seq!r}", ws, gap=True)
            return False
        if found is None:
            found = self._sync_for(book)
        if self._pending and ws is not None:
            # A request nobody could carry (e.g. made while replaying a buffer)
            # goes to the first connection that brings this book's messages.
            waiting = self._pending.get(book)
            if waiting is not None and getattr(ws, "request_resync", None) is not None:
                del self._pending[book]
                self._give(waiting, ws)
        if self._BUFFER_DIFFS and diff is not None:
            buffer = found.buffer
            if buffer is None:
                buffer = found.buffer = deque(maxlen=self._BUFFER_MAX)
            buffer.append(diff)
        if found.state is _UNSYNCED:
            # Expected at start and after a reconnect: not worth a warning.
            self._resync(
                book, "a diff arrived for a book without a snapshot", ws, gap=False, expected=True
            )
        elif self._retry_due(found):
            self._resync(book, f"no snapshot {self._retry_delay(found):g} s after asking", ws)
        return False

    def _touch(self, book: Hashable) -> None:
        """``book`` was confirmed unchanged (an exchange heartbeat): it is not stale."""
        found = self._syncs.get(book)
        clock = self._clock
        if found is not None and clock is not None:
            found.last_update = clock()

    def _resync(
        self, book: Hashable, reason: str, ws: Any, *, gap: bool = False, expected: bool = False
    ) -> None:
        """Drop ``book``, mark it resyncing and ask for a fresh snapshot (one log line).

        The line is a WARNING, or INFO when the resync is ``expected`` (the first
        snapshot of a book, or the first after a reconnect).
        """
        found = self._sync_for(book)
        dropped = self._drop_book(book)
        found.state = _RESYNCING
        found.seq = None
        found.fresh = False
        if gap:
            found.gaps += 1
        found.resyncs += 1
        found.attempts += 1
        clock = self._clock
        found.asked_at = None if clock is None else clock()
        request = self._resync_request(book, reason)
        if request is not None:
            request = replace(request, _owner=self._self_ref, retry_after=self._retry_delay(found))
        found.request = request
        label = f"{self._EXCHANGE} {self.name}" if self._EXCHANGE else repr(self)
        level = logging.INFO if expected else logging.WARNING
        if request is None:
            logger.log(
                level, "%s %r: %s; book dropped until the next snapshot", label, book, reason
            )
        else:
            logger.log(
                level,
                "%s %r: %s; book dropped, resync requested (%s)",
                label,
                book,
                reason,
                type(request).__name__,
            )
            self._give(request, ws)
        if dropped and self._waiters:
            self._set()

    def _retry(self, request: ResyncRequest, ws: Any) -> None:
        """A carrier's timer found ``request`` unanswered after its ``retry_after``."""
        self._resync(request.book, f"no snapshot {request.retry_after:g} s after asking", ws)

    def _retry_delay(self, found: BookSync) -> float:
        delay = self.RESYNC_RETRY * 2.0 ** max(found.attempts - 1, 0)
        return min(delay, self.RESYNC_RETRY_MAX)

    def _retry_due(self, found: BookSync) -> bool:
        clock = self._clock
        if clock is None or found.asked_at is None:
            return False
        return clock() - found.asked_at >= self._retry_delay(found)

    def _give(self, request: ResyncRequest, ws: Any) -> None:
        # To the connection when it can carry requests; a resubscribe to one
        # that can at least send (a MessageSink of the user's own); else kept
        # for take_resync_requests().
        if ws is None:
            self._pending[request.book] = request
            return
        carrier = getattr(ws, "request_resync", None)
        if carrier is not None:
            try:
                carrier(request)
            except Exception:
                logger.exception("%r: the connection failed to take %r", self, request)
            else:
                return
        elif isinstance(request, Resubscribe):
            send = getattr(ws, "send_json_nowait", None)
            if send is not None:
                try:
                    for message in request.messages:
                        send(message)
                except Exception:
                    logger.exception("%r: the connection failed to send %r", self, request)
                else:
                    return
        self._pending[request.book] = request
        if ws is not None and not self._carrier_warned:
            self._carrier_warned = True
            logger.warning(
                "%r: the ws passed to onmessage cannot carry resync requests "
                "(no request_resync()); they are kept for take_resync_requests()",
                self,
            )

    def _take_requests(self) -> list[ResyncRequest]:
        """The resync requests no connection carried, oldest first (removed from the store)."""
        taken = list(self._pending.values())
        self._pending.clear()
        return taken

    def _fetched(self, request: FetchSnapshot, data: Any) -> None:
        """The answer to a :class:`FetchSnapshot` this store gave out (REST-snapshot exchanges)."""
        logger.warning("%r: cannot apply a fetched snapshot for %r; ignored", self, request.book)

    def _fetch_failed(self, request: FetchSnapshot, reason: str) -> None:
        found = self._syncs.get(request.book)
        if found is None or found.request is not request:
            return  # superseded (a newer request, or the feed was interrupted)
        logger.warning(
            "%s %r: snapshot request failed (%s); asking again in %g s",
            self._EXCHANGE or repr(self),
            request.book,
            reason,
            self._retry_delay(found),
        )

    def _is_current(self, request: ResyncRequest) -> bool:
        """Whether ``request`` is the one ``request.book`` is still waiting for."""
        found = self._syncs.get(request.book)
        return found is not None and found.state is not _SYNCED and found.request is request

    def _take_buffer(self, book: Hashable) -> list[Any]:
        """The diffs buffered while ``book`` was not synced, oldest first (and forget them)."""
        found = self._syncs.get(book)
        if found is None or not found.buffer:
            return []
        buffered = list(found.buffer)
        found.buffer = None
        return buffered

    # ------------------------------------------------------------------ snapshots

    def _load_book(
        self,
        book: Hashable,
        items: Iterable[Item],
        *,
        seq: Any = None,
        operation: Operation = "insert",
    ) -> bool:
        """Replace ``book`` by the levels ``items`` (a snapshot) and mark it synced at ``seq``.

        ``items`` are complete level dicts in the order the exchange store
        wants them stored (first-insert order, what ``find()`` lists). Each
        side is sorted once after all levels are stored: O(n log n) at worst
        and linear for the already-sorted levels exchanges send. A level
        without a usable side or finite price is refused with a log line; a
        price listed twice keeps its first position and its last content.
        Emits the deletes of the old levels and a change per new level
        (``operation``, no source: what pybotters' ``_insert`` or
        ``_update`` of new keys emits); wakes waiters. Returns whether
        anything changed.
        """
        changed = self._drop_book(book) > 0
        found = self._book_for(book)
        if not isinstance(items, list):
            items = list(items)
        filled = self._fill_fast(items, operation)
        if filled is None:
            filled = self._fill_careful(items, operation)
        ask_keys, ask_items, bid_keys, bid_items = filled
        for side_list, keys, levels in (
            (found.asks, ask_keys, ask_items),
            (found.bids, bid_keys, bid_items),
        ):
            if not keys:
                continue
            # Stored ascending, best last; equal prices best-first in insertion
            # order (as _Side.add keeps them). Exchanges send each side best
            # first, so reversing is usually all it takes.
            if all(map(operator.ge, keys, islice(keys, 1, None))):
                keys.reverse()
                levels.reverse()
            else:
                pairs = list(zip(keys, levels, strict=True))
                pairs.reverse()
                pairs.sort(key=itemgetter(0))  # stable: the later of equals first
                keys = [k for k, _ in pairs]
                levels = [v for _, v in pairs]
            side_list.keys = keys
            side_list.items = levels
        if ask_items or bid_items:
            changed = True
            if len(self._data) > self._MAXLEN:
                self._trim()
        sync = self._sync_for(book)
        sync.state = _SYNCED
        sync.seq = seq
        sync.fresh = True
        sync.attempts = 0
        sync.asked_at = None
        sync.request = None
        clock = self._clock
        if clock is not None:
            sync.last_update = clock()
        if self._pending:
            self._pending.pop(book, None)
        if changed and self._waiters:
            self._set()
        return changed

    # ------------------------------------------------------------------ fast primitives

    def _book_for(self, book: Hashable) -> _Book:
        found = self._books.get(book)
        if found is None:
            found = self._books[book] = _Book()
        return found

    def _put_level(
        self,
        side: _Side,
        key: Hashable,
        item: Item,
        sortkey: float,
        operation: Operation = "insert",
    ) -> None:
        """Insert ``item`` (DataStore key ``key``) or replace the level with that key.

        The caller has checked that ``sortkey`` is the finite sort key of
        ``item`` on ``side``. Does not wake waiters. Watchers see what the
        store's pybotters counterpart emits: ``insert`` (as ``_insert``, no
        source) or ``update`` (as ``_update``: the level as source when it
        replaces one, no source when it is new).
        """
        index = self._index
        uid = index.get(key)
        if uid is None:
            uid = self._next_id
            self._next_id = uid + 1
            index[key] = uid
            side.add(sortkey, item)
            self._data[uid] = item
            if self._streams:
                self._emit(operation, None, item)
            if len(self._data) > self._MAXLEN:
                self._trim()
            return
        old = self._data[uid]
        i = side.position(sortkey, old)
        if i >= 0:
            side.items[i] = item
        else:  # the old level sat elsewhere (edited in place): re-link it
            self._track_remove(old)
            side.add(sortkey, item)
        self._data[uid] = item
        if self._streams:
            self._emit(operation, item if operation == "update" else None, item)

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
        count = len(found.asks.items) + len(found.bids.items)
        if count and count == len(data) and not self._streams:
            # The store holds this book only (the usual case): drop it wholesale.
            index.clear()
            data.clear()
            self._head = self._next_id
            found.asks = _Side()
            found.bids = _Side()
            return count
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

    def _fill_fast(
        self, items: list[Item], operation: Operation
    ) -> tuple[list[float], list[Item], list[float], list[Item]] | None:
        """Store a well-formed snapshot's levels with C-speed bulk operations, or return None.

        Well-formed: every level has its side and a finite price, the levels
        of each side are listed together, and no key is listed twice or
        already stored. Checks come first and nothing is stored unless all
        pass; anything else takes :meth:`_fill_careful`.
        """
        n = len(items)
        if not n:
            return [], [], [], []
        try:
            sides = list(map(itemgetter(self._SIDE_KEY), items))
            prices = list(map(float, map(itemgetter(self._PRICE_KEY), items)))
            keys = list(map(self._keyof, items))
        except (KeyError, TypeError, ValueError, IndexError, OverflowError):
            return None
        asks_name = self._ASKS
        first = sides[0]
        if first not in (asks_name, self._BIDS):
            return None
        split = sides.count(first)
        other = self._BIDS if first == asks_name else asks_name
        if sides[:split].count(first) != split or sides[split:].count(other) != n - split:
            return None  # a side's levels are interleaved, or a side is unknown
        if not all(map(math.isfinite, prices)):
            return None
        before = len(self._index)
        index = self._index
        uid = self._next_id
        ids = range(uid, uid + n)
        try:
            if index and not index.keys().isdisjoint(keys):
                return None  # a level of another book has the same key
            index.update(zip(keys, ids, strict=True))
        except TypeError:  # an unhashable key field (nothing was stored)
            return None
        if len(index) != before + n:  # a key listed twice: undo (none existed before)
            for key in keys:
                index.pop(key, None)
            return None
        self._data.update(zip(ids, items, strict=True))
        self._next_id = uid + n
        if self._streams:
            for item in items:
                self._emit(operation, None, item)
        head, tail = prices[:split], prices[split:]
        if first == asks_name:
            return [-p for p in head], items[:split], tail, items[split:]
        return [-p for p in tail], items[split:], head, items[:split]

    def _fill_careful(
        self, items: list[Item], operation: Operation
    ) -> tuple[list[float], list[Item], list[float], list[Item]]:
        """Store a snapshot's levels one by one: log bad levels, let later duplicates win."""
        side_key = self._SIDE_KEY
        price_key = self._PRICE_KEY
        asks_name = self._ASKS
        bids_name = self._BIDS
        keyof = self._keyof
        index = self._index
        data = self._data
        uid = self._next_id
        # Per side, the sort keys and levels in arrival order.
        ask_keys: list[float] = []
        ask_items: list[Item] = []
        bid_keys: list[float] = []
        bid_items: list[Item] = []
        watched = bool(self._streams)
        for item in items:
            try:
                side = item[side_key]
                price = float(item[price_key])
                key = keyof(item)
                old = index.get(key)
            except (KeyError, TypeError, ValueError, IndexError, OverflowError):
                self._bad_snapshot_level(item)
                continue
            if side == bids_name:
                keys, levels, sortkey = bid_keys, bid_items, price
            elif side == asks_name:
                keys, levels, sortkey = ask_keys, ask_items, -price
            else:
                self._bad_snapshot_level(item)
                continue
            if not -_INF < price < _INF:
                self._bad_snapshot_level(item)
                continue
            if old is None:
                index[key] = uid
                data[uid] = item
                uid += 1
                keys.append(sortkey)
                levels.append(item)
            else:  # the same key twice in one snapshot: the later level wins, in place
                stale = data[old]
                data[old] = item
                for i, level in enumerate(levels):
                    if level is stale:
                        levels[i] = item
                        break
                else:  # a level of this key outside the book (edited in place): take it over
                    self._track_remove(stale)
                    keys.append(sortkey)
                    levels.append(item)
            if watched:
                self._emit(operation, None, item)
        self._next_id = uid
        return ask_keys, ask_items, bid_keys, bid_items

    def _bad_snapshot_level(self, item: Any) -> None:
        """A snapshot level :meth:`_load_book` refused (exchange stores word their own line)."""
        self._refuse("_load_book", item)

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
