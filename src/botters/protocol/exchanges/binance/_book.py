"""Binance order books (``<symbol>@depth``, ``@depth@100ms``) on botters' book-sync core.

Binance streams diffs only; the starting point is a REST snapshot
(``GET depth``), and each diff says which update ids it covers. Rules:

Spot (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams,
"How to manage a local order book correctly"):

* buffer the stream's diffs, GET ``/api/v3/depth`` and drop the buffered
  diffs with ``u <= lastUpdateId``;
* the first diff applied must straddle the snapshot: ``U <= lastUpdateId + 1
  <= u``; if the snapshot is older than that (``lastUpdateId + 1 < U``),
  fetch it again;
* afterwards a diff with ``u <=`` the book's id is old (ignore it), one with
  ``U >`` the book's id + 1 means diffs were missed (drop the book, start
  again); otherwise apply it (normally ``U`` is the last ``u`` + 1);
* each level carries the absolute quantity; quantity 0 removes the level.

USDⓈ-M and COIN-M futures
(https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/How-to-manage-a-local-order-book-correctly,
https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams/How-to-manage-a-local-order-book-correctly):

* drop buffered diffs with ``u < lastUpdateId``; the first diff applied must
  have ``U <= lastUpdateId <= u``. botters also accepts a first diff whose
  ``pu == lastUpdateId`` (it starts exactly where the snapshot ends);
* afterwards each diff's ``pu`` must equal the previous diff's ``u``; a diff
  with ``u <=`` the book's id (and another ``pu``) is old; anything else is
  a gap: re-initialise;
* removing a level the book does not hold "can happen and is normal".

How botters runs it (theory: :mod:`botters.protocol.store._sync`): a book is
unsynced until a snapshot arrives; its diffs are buffered meanwhile (8,000
per symbol, as pybotters; on overflow the oldest go, with one log line, and a
snapshot older than what is left is refused by the straddle check, so nothing
is lost silently). The snapshot comes from ``initialize(GET depth?symbol=...)``
as in pybotters, and also from the store itself: a diff for a book without a
snapshot, or a gap, gives a :class:`~botters.protocol.store.FetchSnapshot`
request (the market's REST depth URL, ``limit=1000``) to the connection, which
GETs it and hands back the body. A snapshot replays the buffered diffs (sorted
by ``u``), linked by the rules above; a snapshot older than the first diff it
needs is not applied and a newer one is asked for (the buffer is kept).

Re-initialising a synced book with a snapshot no newer than the book keeps the
book as it is: it already is that snapshot plus every diff since (pybotters
#566: re-applying an older snapshot must not lose the newer diffs).
"""

from __future__ import annotations

import logging
import math
import reprlib
from collections import deque
from collections.abc import Hashable, Mapping
from typing import Any, ClassVar, Final
from urllib.parse import urlencode, urlsplit

from botters.protocol.exchanges._levels import MalformedError as _MalformedError
from botters.protocol.exchanges._levels import pair_level as _level
from botters.protocol.exchanges._levels import side_entries as _entries
from botters.protocol.store import (
    BookState,
    BookSync,
    FetchSnapshot,
    Item,
    Link,
    OrderBookStore,
    ResyncRequest,
)
from botters.protocol.store._book import _Side

__all__ = ["COINMOrderBook", "FuturesOrderBook", "OrderBook", "SpotOrderBook"]

logger = logging.getLogger("botters.store.binance")

_short = reprlib.Repr()
_short.maxstring = 120
_short.maxother = 120
_short.maxlist = 6
_short.maxdict = 8

_APPLY: Final = Link.APPLY
_STALE: Final = Link.STALE
_GAP: Final = Link.GAP
_SYNCED: Final = BookState.SYNCED
_INF = math.inf

# (side, DataStore key, sort key, level item, delete?)
_Change = tuple[_Side, tuple[str, str, Any], float, Item, bool]
# (U, u, pu): the update ids of one diff (pu is None on spot)
_Ids = tuple[int, int, int | None]


def _is_int(value: Any) -> bool:
    return type(value) is int


class OrderBook(OrderBookStore):
    """Order book levels ``{"s": symbol, "S": "a"|"b", "p": price, "q": qty}`` (pybotters' shape).

    ``sorted()`` returns ``{"a": [...], "b": [...]}``, best price first;
    ``sorted({"s": "BTCUSDT"}, limit=10)`` reads one book in O(limit).
    ``is_synced(symbol)`` tells whether a book reflects a snapshot and every
    diff since; a book that is not synced holds no levels ("unknown", not
    "empty").

    Attributes:
        snapshot_url: The REST depth endpoint the store fetches snapshots
            from (no query). Defaults to the market's mainnet URL and is
            taken from the URL of the last depth response given to
            ``initialize`` (so a testnet store fetches from the testnet).
        snapshot_limit: The ``limit`` of the snapshots the store fetches
            (1000, or the ``limit`` of the last depth response given to
            ``initialize``).

    Differences from pybotters, on purpose (Binance documents the id chain;
    pybotters checks only ``u`` against the snapshot):

    * the first diff after a snapshot must straddle it and each later diff
      must follow the previous one (spot ``U``, futures ``pu``); a gap drops
      the book and the store fetches a new snapshot itself (pybotters applies
      whatever comes, and never re-fetches);
    * a snapshot older than the buffered diffs it needs is not applied (a
      newer one is fetched); one no newer than a synced book is ignored;
    * a quantity that is zero as a number removes the level and a snapshot
      level of quantity zero is not stored (pybotters stores those);
    * a malformed diff (levels that are not ``[price, qty]``, ids that are
      not integers) is logged and not applied: for a synced book it means a
      lost change, so the book is dropped and resynced;
    * ``feed_interrupted()`` (a reconnect) drops every book until its next
      snapshot;
    * the size bound drops the deepest levels (not the oldest 9,999).
    """

    _KEYS = ["s", "S", "p"]  # noqa: RUF012 - pybotters' surface
    _BOOK_KEYS = ("s",)
    _SIDE_KEY = "S"
    _PRICE_KEY = "p"
    _ASKS = "a"
    _BIDS = "b"
    _EXCHANGE = "binance"
    _BUFFER_DIFFS = True
    _BUFFER_MAX = 8000
    _FUTURES: ClassVar[bool] = False
    SNAPSHOT_URL: ClassVar[str] = "https://api.binance.com/api/v3/depth"
    SNAPSHOT_LIMIT: ClassVar[int] = 1000

    snapshot_url: str
    snapshot_limit: int
    _overflowed: set[Hashable]

    def _init(self) -> None:
        self.snapshot_url = self.SNAPSHOT_URL
        self.snapshot_limit = self.SNAPSHOT_LIMIT
        self._overflowed = set()

    # ------------------------------------------------------------------ diffs

    def _ondiff(self, data: Mapping[str, Any], ws: Any) -> None:
        """Apply (or buffer, or skip) one ``depthUpdate`` event."""
        symbol = data.get("s")
        if type(symbol) is not str:
            logger.warning(
                "Binance depthUpdate: no symbol (s); message skipped: %s", _short.repr(data)
            )
            return
        book = self._book_for(symbol)
        try:
            ids = self._ids(data)
            changes = _diff_changes(symbol, data, book.asks, book.bids)
        except _MalformedError as exc:
            if self.is_synced(symbol):
                self._resync(symbol, f"malformed depthUpdate ({exc})", ws, gap=True)
            else:
                logger.warning("Binance depthUpdate %s: malformed, skipped (%s)", symbol, exc)
            return
        self._diff(symbol, ids, changes, data, ws)

    def _diff(self, symbol: str, ids: _Ids, changes: list[_Change], data: Any, ws: Any) -> None:
        sync = self._syncs.get(symbol)
        was_synced = sync is not None and sync.state is _SYNCED
        if not was_synced and sync is not None:
            buffer = sync.buffer
            if buffer is not None and len(buffer) >= self._BUFFER_MAX:
                self._overflow(symbol)
        if not self._accept(symbol, ids, ws, data):
            sync = self._syncs[symbol]
            if was_synced and sync.state is not _SYNCED:
                # A gap: this diff is the first of what the next snapshot
                # must be linked to, so it waits with the others.
                sync.buffer = deque([data], maxlen=self._BUFFER_MAX)
            return
        changed = False
        drop = self._drop_level
        put = self._put_level
        for side, key, sortkey, item, delete in changes:
            if delete:
                if drop(side, key, sortkey, item):
                    changed = True
            else:
                put(side, key, item, sortkey, "update")  # pybotters' _update changes
                changed = True
        if changed and self._waiters:
            self._set()

    def _overflow(self, symbol: str) -> None:
        if symbol in self._overflowed:
            return
        self._overflowed.add(symbol)
        logger.warning(
            "Binance orderbook %s: %d diffs buffered and still no snapshot; the oldest are "
            "dropped from now on (a snapshot older than the diffs kept is refused and "
            "fetched again)",
            symbol,
            self._BUFFER_MAX,
        )

    def _ids(self, data: Mapping[str, Any]) -> _Ids:
        first = data.get("U")
        last = data.get("u")
        if type(first) is not int or type(last) is not int:
            raise _MalformedError(
                f"U and u must be integers, got {_short.repr(first)}, {_short.repr(last)}"
            )
        return first, last, None

    # ------------------------------------------------------------------ snapshots

    def _onsnapshot(
        self,
        symbol: str,
        data: Any,
        *,
        url: str | None = None,
        limit: str | None = None,
        answered: FetchSnapshot | None = None,
    ) -> None:
        """Apply a REST depth body (from ``initialize``, or the answer to our FetchSnapshot).

        ``url`` and ``limit`` (from ``initialize``) become the endpoint and
        depth of the snapshots the store fetches itself from then on.
        """
        if url is not None:
            parts = urlsplit(url)
            self.snapshot_url = f"{parts.scheme}://{parts.netloc}{parts.path}"
        if limit is not None and limit.isdigit() and int(limit) > 0:
            self.snapshot_limit = int(limit)
        if not isinstance(data, dict):
            logger.warning(
                "Binance depth %s: the body is not an object; skipped: %s",
                symbol,
                _short.repr(data),
            )
            return
        last = data.get("lastUpdateId")
        try:
            if type(last) is not int:
                raise _MalformedError(f"lastUpdateId must be an integer, got {_short.repr(last)}")
            levels = _snapshot_levels(symbol, data)
        except _MalformedError as exc:
            logger.warning("Binance depth %s: malformed snapshot, skipped (%s)", symbol, exc)
            return
        self._apply_snapshot(symbol, last, levels, answered)

    def _apply_snapshot(
        self, symbol: str, last: int, levels: list[Item], answered: FetchSnapshot | None
    ) -> None:
        sync = self._syncs.get(symbol)
        if sync is not None and sync.state is _SYNCED and _is_int(sync.seq) and last <= sync.seq:
            logger.info(
                "Binance orderbook %s: snapshot %d is no newer than the book (%d); book kept",
                symbol,
                last,
                sync.seq,
            )
            return
        buffered = self._take_buffer(symbol)
        pending: list[tuple[_Ids, Any]] = []
        for diff in buffered:
            try:
                pending.append((self._ids(diff), diff))
            except _MalformedError:  # (diffs are checked before they are buffered)
                continue
        pending.sort(key=lambda entry: entry[0][1])  # by u, stable
        probe = BookSync(symbol)
        probe.seq = last
        probe.fresh = True
        for ids, _ in pending:
            verdict, _seq = self._link(probe, ids)
            if verdict is _STALE:
                continue
            if verdict is _GAP:
                self._too_old(symbol, last, ids, pending, answered)
                return
            break
        self._overflowed.discard(symbol)
        self._load_book(symbol, levels, seq=last)
        for _, diff in pending:
            self._ondiff(diff, None)

    def _too_old(
        self,
        symbol: str,
        last: int,
        ids: _Ids,
        pending: list[tuple[_Ids, Any]],
        answered: FetchSnapshot | None,
    ) -> None:
        """The snapshot is older than the first buffered diff it must link to: not applied."""
        sync = self._sync_for(symbol)
        sync.buffer = deque((diff for _, diff in pending), maxlen=self._BUFFER_MAX)
        reason = f"snapshot {last} is older than the buffered diff {ids!r}"
        if answered is None and sync.request is not None and sync.state is not _SYNCED:
            # A snapshot of the user's; the one the store asked for is on its way.
            logger.warning(
                "Binance orderbook %s: %s; not applied, waiting for the snapshot requested",
                symbol,
                reason,
            )
            return
        self._resync(symbol, reason, None, gap=False)

    # ------------------------------------------------------------------ sync hooks

    def _link(self, sync: BookSync, ids: Any) -> tuple[Link, Any]:
        """Spot: ``u <=`` last is stale, ``U > last + 1`` is a gap, anything else applies.

        The same test links the first diff to the snapshot (``U <=
        lastUpdateId + 1 <= u`` once the stale ones are dropped) and every
        later diff to the one before (normally ``U == last + 1``).
        """
        first, final, _ = ids
        last = sync.seq
        if not _is_int(last):
            return _GAP, last
        if final <= last:
            return _STALE, last
        if first <= last + 1:
            return _APPLY, final
        return _GAP, last

    def _resync_request(self, book: Hashable, reason: str) -> ResyncRequest | None:
        """GET the market's REST depth for ``book`` (public, no credentials)."""
        if not isinstance(book, str):
            return None
        query = urlencode({"symbol": book, "limit": self.snapshot_limit})
        return FetchSnapshot.for_store(
            self,
            exchange="binance",
            book=book,
            reason=reason,
            url=f"{self.snapshot_url}?{query}",
        )

    def _fetched(self, request: FetchSnapshot, data: Any) -> None:
        """The answer to our FetchSnapshot: applied unless it was superseded."""
        if not self._is_current(request):
            logger.debug(
                "Binance orderbook %s: a fetched snapshot came after the book was synced "
                "(or the feed was interrupted); ignored",
                request.book,
            )
            return
        if isinstance(request.book, str):
            self._onsnapshot(request.book, data, answered=request)

    def _feed_interrupted(self) -> None:
        super()._feed_interrupted()
        self._overflowed.clear()

    def _bad_snapshot_level(self, item: Any) -> None:
        logger.warning(
            "Binance orderbook %s: skipped a snapshot level that is not [price, qty] with a "
            "finite price: %s",
            item.get("s"),
            _short.repr(item),
        )


class SpotOrderBook(OrderBook):
    """Spot order book: ``U``/``u`` linked (see :class:`OrderBook`)."""


class FuturesOrderBook(OrderBook):
    """USDⓈ-M futures order book: ``pu`` linked (see :class:`OrderBook`)."""

    _FUTURES = True
    SNAPSHOT_URL = "https://fapi.binance.com/fapi/v1/depth"

    def _ids(self, data: Mapping[str, Any]) -> _Ids:
        first, last, _ = super()._ids(data)
        prev = data.get("pu")
        if type(prev) is not int:
            raise _MalformedError(f"pu must be an integer, got {_short.repr(prev)}")
        return first, last, prev

    def _link(self, sync: BookSync, ids: Any) -> tuple[Link, Any]:
        """Futures: first ``U <= lastUpdateId <= u`` or ``pu == lastUpdateId``; then ``pu == u``."""
        first, final, prev = ids
        last = sync.seq
        if not _is_int(last):
            return _GAP, last
        if sync.fresh:
            if final < last:
                return _STALE, last
            if first <= last or prev == last:
                return _APPLY, final
            return _GAP, last
        if prev == last:
            return _APPLY, final
        if final <= last:
            return _STALE, last
        return _GAP, last


class COINMOrderBook(FuturesOrderBook):
    """COIN-M futures order book: ``pu`` linked (see :class:`OrderBook`)."""

    SNAPSHOT_URL = "https://dapi.binance.com/dapi/v1/depth"


def _snapshot_levels(symbol: str, data: Mapping[str, Any]) -> list[Item]:
    """The REST snapshot's levels as stored items, asks first (pybotters' insertion order)."""
    items: list[Item] = []
    for field, side in (("asks", "a"), ("bids", "b")):
        for level in _entries(data, field):
            price, qty, _, fqty = _level(level)
            if fqty:
                items.append({"s": symbol, "S": side, "p": price, "q": qty})
    return items


def _diff_changes(symbol: str, data: Mapping[str, Any], asks: _Side, bids: _Side) -> list[_Change]:
    """The diff's changes in pybotters' order: asks then bids, each in message order.

    (The hot path: :func:`_level` is inlined.)
    """
    changes: list[_Change] = []
    append = changes.append
    level: Any = None
    try:
        for side_name, side, sign in (("a", asks, -1.0), ("b", bids, 1.0)):
            for level in _entries(data, side_name):
                if type(level) is not list and type(level) is not tuple:
                    raise TypeError
                price = level[0]
                qty = level[1]
                if type(price) is bool or type(qty) is bool:
                    raise TypeError
                fprice = float(price)
                fqty = float(qty)
                if not (-_INF < fprice < _INF and 0.0 <= fqty < _INF):
                    raise ValueError
                if fqty:
                    item: Item = {"s": symbol, "S": side_name, "p": price, "q": qty}
                    append((side, (symbol, side_name, price), sign * fprice, item, False))
                else:
                    # pybotters deletes with the level's key as the change's source.
                    key_item: Item = {"s": symbol, "S": side_name, "p": price}
                    append((side, (symbol, side_name, price), sign * fprice, key_item, True))
    except (TypeError, ValueError, IndexError, KeyError, OverflowError):
        raise _MalformedError(f"bad level {_short.repr(level)}") from None
    return changes
