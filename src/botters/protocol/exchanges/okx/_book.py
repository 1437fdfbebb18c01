"""OKX v5 order books (``books``, ``books5``, ``books-l2-tbt``, ``books50-l2-tbt``...).

Every channel whose name starts with ``books`` feeds :class:`Books`, as in
pybotters. A push is ``{"arg": {"channel", "instId"}, "action": "snapshot" |
"update", "data": [{"asks", "bids", "ts", "checksum", "prevSeqId", "seqId"}]}``
(https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel);
each level is ``[px, sz, "0", ordCount]`` and is stored as ``{"instId", "side",
"px", "sz", "liqSz", "ordSz"}`` (pybotters' names: the fields are zipped in
that order, so a shorter array gives fewer fields).

Rules, from that page:

* ``action: "snapshot"`` replaces the book. ``books5`` (and any push without
  an ``action``) is a full book every time and is treated as a snapshot.
* ``action: "update"`` (pybotters: any action other than ``snapshot``) is a
  diff: for each level, ``sz == "0"`` deletes the price, anything else sets
  it. Asks are applied before bids.
* Sequence ("Sequence ID"): "The ``prevSeqId`` in the new message matches
  with ``seqId`` of the previous message", and a snapshot has ``prevSeqId =
  -1``. Two documented exceptions both still satisfy ``prevSeqId ==`` the
  last ``seqId``: a no-change message after ~60 s without updates (empty
  ``asks``/``bids``, ``seqId == prevSeqId``), and a sequence reset after
  maintenance (``seqId < prevSeqId``). So a diff applies when its
  ``prevSeqId`` equals the book's last ``seqId``; a message this book already
  applied (``seqId <=`` last, ``prevSeqId <`` last, and that very pair seen
  since the snapshot) is skipped as stale; anything else is a gap, and the
  book is dropped and resubscribed. Ids below the book's that it never applied
  are a gap too: after a missed sequence reset every new diff looks older.
* Pushes without ``prevSeqId``/``seqId`` (recordings from before OKX sent
  them) are applied unlinked; ids that are not integers are a gap.
* Checksum ("Calculate Checksum", :mod:`._checksum`): a non-zero ``checksum``
  is compared with the CRC32 of the updated book's top 25 levels; a mismatch
  resubscribes. ``0`` means "not provided" (OKX sends 0 since 2026-06-23).

One channel per book. ``books`` and ``books5`` (or ``books-l2-tbt``) for the
same instId would overwrite each other's levels (pybotters mixes them), so the
first channel that pushes an instId *owns* its book and the other channels'
pushes for it are ignored, with one warning per (channel, instId). Ownership
is released when the feed is interrupted (the next push picks again) and when
OKX confirms that the owner channel was unsubscribed (the book is then
dropped: nothing would update it any more).
"""

from __future__ import annotations

import logging
import math
import reprlib
from collections import deque
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any, Final

from botters.protocol.store import Item, Link, OrderBookStore, Resubscribe, ResyncRequest

from ._checksum import DEPTH, checksum, levels

if TYPE_CHECKING:
    from botters.protocol.store import BookSync

__all__ = ["Books"]

logger = logging.getLogger("botters.store.okx")

_short = reprlib.Repr()
_short.maxstring = 120
_short.maxother = 120
_short.maxlist = 6
_short.maxdict = 8

_INF = math.inf
_FIELDS: Final = ("px", "sz", "liqSz", "ordSz")
_APPLY: Final = Link.APPLY
_STALE: Final = Link.STALE
_GAP: Final = Link.GAP
_HISTORY: Final = 256
"""Applied diffs remembered per book to tell a duplicate from a gap."""
_FULL_BOOK_CHANNELS: Final = frozenset({"books5"})
"""Channels that push the whole (shallow) book every time: nothing to resync."""


def _is_int(value: Any) -> bool:
    return type(value) is int


def _level_item(inst_id: str, side: str, level: Any) -> Item | None:
    """The stored dict of one ``[px, sz, liqSz, ordSz]`` level, or None if it is not one."""
    if type(level) is list and len(level) == 4:
        return {
            "instId": inst_id,
            "side": side,
            "px": level[0],
            "sz": level[1],
            "liqSz": level[2],
            "ordSz": level[3],
        }
    if not isinstance(level, (list, tuple)) or len(level) < 2:
        return None
    item: Item = {"instId": inst_id, "side": side}
    item.update(zip(_FIELDS, level, strict=False))
    return item


class _History:
    """The last ``(prevSeqId, seqId)`` pairs applied to one book, to recognise a duplicate."""

    __slots__ = ("order", "pairs")

    def __init__(self) -> None:
        self.order: deque[tuple[Any, Any]] = deque()
        self.pairs: set[tuple[Any, Any]] = set()

    def add(self, prev: Any, seq: Any) -> None:
        pair = (prev, seq)
        if pair in self.pairs:
            return
        self.order.append(pair)
        self.pairs.add(pair)
        if len(self.order) > _HISTORY:
            self.pairs.discard(self.order.popleft())

    def seen(self, prev: Any, seq: Any) -> bool:
        return (prev, seq) in self.pairs


class Books(OrderBookStore):
    """Order-book levels ``{instId, side: "asks"|"bids", px, sz, liqSz, ordSz}``.

    ``sorted({"instId": ...})`` returns ``{"asks": [...], "bids": [...]}``,
    best first. ``is_synced(instId)`` says whether the book reflects a
    snapshot and every diff since; a book with a sequence gap or a bad
    checksum is dropped and resubscribed (the :class:`Resubscribe` goes to the
    connection, or waits in ``take_resync_requests()``). The rules are OKX's
    (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel),
    detailed in this module's documentation.

    Attributes:
        checksum: ``{instId: checksum}``, the ``checksum`` of the last push
            applied to each book that carried one (pybotters' attribute; 0
            since OKX deprecated it).
        ts: The ``ts`` of the last push applied to any book, as received
            (pybotters' attribute: one value, not one per book).
    """

    _KEYS = ["instId", "side", "px"]  # noqa: RUF012 - pybotters' surface
    _BOOK_KEYS = ("instId",)
    _SIDE_KEY = "side"
    _PRICE_KEY = "px"
    _ASKS = "asks"
    _BIDS = "bids"
    _EXCHANGE = "okx"

    checksum: dict[str, Any]
    ts: Any

    def _init(self) -> None:
        self.checksum = {}
        self.ts = None
        self._owners: dict[str, str] = {}
        self._args: dict[str, dict[str, Any]] = {}
        self._conflicts: set[tuple[str, str]] = set()
        self._history: dict[Hashable, _History] = {}

    # ------------------------------------------------------------------ routing

    def _onmessage(self, arg: Mapping[str, Any], action: Any, data: list[Item], ws: Any) -> None:
        """Apply one push of a ``books*`` channel (``data`` holds dicts only)."""
        channel = arg["channel"]
        arg_inst = arg.get("instId")
        for element in data:
            inst_id = arg_inst if arg_inst is not None else element.get("instId")
            if not isinstance(inst_id, str):
                logger.warning(
                    "OKX %s: push without an instId, skipped: %s", channel, _short.repr(element)
                )
                continue
            if not self._owns(channel, inst_id, arg):
                continue
            if action is None or action == "snapshot" or channel in _FULL_BOOK_CHANNELS:
                self._onsnapshot(inst_id, element, ws)
            else:
                self._onupdate(inst_id, element, ws)

    def _owns(self, channel: str, inst_id: str, arg: Mapping[str, Any]) -> bool:
        owner = self._owners.get(inst_id)
        if owner is None:
            self._owners[inst_id] = channel
            self._args[inst_id] = dict(arg)
            return True
        if owner == channel:
            return True
        if (channel, inst_id) not in self._conflicts:
            self._conflicts.add((channel, inst_id))
            logger.warning(
                "OKX %s %s: the book is kept from %s; pushes of %s for it are ignored "
                "(two channels would overwrite each other's levels; subscribe to one)",
                channel,
                inst_id,
                owner,
                channel,
            )
        return False

    def _onunsubscribed(self, arg: Mapping[str, Any]) -> None:
        """OKX confirmed an unsubscribe: release the book if its owner channel was unsubscribed."""
        inst_id = arg.get("instId")
        channel = arg.get("channel")
        if not isinstance(inst_id, str) or self._owners.get(inst_id) != channel:
            return
        del self._owners[inst_id]
        if self.is_synced(inst_id):
            # Nothing will update it any more: an unsynced empty book, not a stale one.
            dropped = self._drop_book(inst_id)
            self._mark_unsynced(inst_id)
            self.checksum.pop(inst_id, None)
            if dropped and self._waiters:
                self._set()
        # While resyncing (our own unsubscribe), the subscribe's snapshot takes it back.

    # ------------------------------------------------------------------ snapshots

    def _onsnapshot(self, inst_id: str, element: Mapping[str, Any], ws: Any) -> None:
        # Read as pybotters does: the levels one by one onto an empty book (a
        # price listed twice keeps its first position, its later fields merged
        # in; "0" removes it), then loaded in bulk.
        merged: dict[tuple[str, Any], Item] = {}
        for side in ("asks", "bids"):
            for item in self._side_items(inst_id, side, element):
                key = (side, item["px"])
                try:
                    hash(key)
                except TypeError:  # an unhashable price
                    self._bad_level(inst_id, side, item)
                    continue
                if item["sz"] == "0":
                    merged.pop(key, None)
                    continue
                old = merged.get(key)
                if old is None:
                    merged[key] = item
                else:
                    old.update(item)
        seq = element.get("seqId")
        self._load_book(
            inst_id, merged.values(), seq=seq if _is_int(seq) else None, operation="update"
        )
        self._record(inst_id, element)
        self._verify(inst_id, element, ws)

    # ------------------------------------------------------------------ diffs

    def _onupdate(self, inst_id: str, element: Mapping[str, Any], ws: Any) -> None:
        prev = element.get("prevSeqId")
        seq = element.get("seqId")
        ids = None if prev is None and seq is None else (prev, seq)
        if not self._accept(inst_id, ids, ws):
            return
        changed = self._apply(inst_id, element)
        self._record(inst_id, element)
        if changed and self._waiters:
            self._set()
        self._verify(inst_id, element, ws)

    def _apply(self, inst_id: str, element: Mapping[str, Any]) -> bool:
        book = self._book_for(inst_id)
        changed = False
        for side_name, side, sign in (("asks", book.asks, -1.0), ("bids", book.bids, 1.0)):
            for item in self._side_items(inst_id, side_name, element):
                price = item["px"]
                try:
                    sortkey = sign * float(price)  # (a price float() takes is hashable)
                except (TypeError, ValueError, OverflowError):
                    self._bad_level(inst_id, side_name, item)
                    continue
                if not -_INF < sortkey < _INF:
                    self._bad_level(inst_id, side_name, item)
                    continue
                key = (inst_id, side_name, price)
                if item["sz"] == "0":
                    if self._drop_level(side, key, sortkey, item):
                        changed = True
                    continue
                if len(item) < 6:  # a short level: merged into the stored one, as pybotters does
                    uid = self._index.get(key)
                    if uid is not None:
                        item = {**self._data[uid], **item}
                self._put_level(side, key, item, sortkey, "update")  # pybotters' _update
                changed = True
        return changed

    def _side_items(self, inst_id: str, side: str, element: Mapping[str, Any]) -> list[Item]:
        entries = element.get(side)
        if not entries:
            return []
        if not isinstance(entries, list):
            self._bad_level(inst_id, side, entries)
            return []
        items: list[Item] = []
        for level in entries:
            item = _level_item(inst_id, side, level)
            if item is None:
                self._bad_level(inst_id, side, level)
            else:
                items.append(item)
        return items

    def _record(self, inst_id: str, element: Mapping[str, Any]) -> None:
        # pybotters' attributes, from the pushes that were applied.
        if "checksum" in element:
            self.checksum[inst_id] = element["checksum"]
        if "ts" in element:
            self.ts = element["ts"]

    def _verify(self, inst_id: str, element: Mapping[str, Any], ws: Any) -> None:
        """Compare a non-zero pushed checksum with the book's; resubscribe on a mismatch."""
        expected = element.get("checksum")
        if not _is_int(expected) or expected == 0 or not self.is_synced(inst_id):
            return
        top = self.sorted({"instId": inst_id}, limit=DEPTH)
        try:
            computed = checksum(levels(top["bids"]), levels(top["asks"]))
        except KeyError:  # a stored level without a size: it cannot be checked
            computed = None
        if computed != expected:
            self._resync(
                inst_id,
                f"checksum mismatch (pushed {expected}, book gives {computed})",
                ws,
                gap=True,
            )

    # ------------------------------------------------------------------ sync hooks

    def _link(self, sync: BookSync, ids: Any) -> tuple[Link, Any]:
        """OKX's rule: a diff follows the book when its ``prevSeqId`` is the last ``seqId``.

        https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
        ("Sequence ID"). The no-change heartbeat (``prevSeqId == seqId ==``
        last) and the post-maintenance reset (``prevSeqId ==`` last, ``seqId
        < prevSeqId``) both link this way.

        A diff that does not link is *stale* (skipped, the book kept) only if
        it is one this book already applied since its snapshot (the same
        ``(prevSeqId, seqId)``, among the last ``_HISTORY``), which is what a
        duplicate or a late copy from a second connection looks like. Any
        other diff is a gap, even one whose ids are below the book's: after
        a missed sequence reset every new diff looks "older" than the book,
        and skipping them as stale would leave a synced, wrong book.

        Pushes without ids (recordings from before OKX had them) cannot be
        linked and are applied.
        """
        last = sync.seq
        if ids is None:
            return _APPLY, last
        prev, seq = ids
        if not (_is_int(prev) and _is_int(seq)):
            return _GAP, last  # ids that cannot be linked: the book cannot be trusted
        history = self._history.get(sync.book)
        if history is None or sync.fresh:
            history = self._history[sync.book] = _History()
        if last is None or prev == last:  # (a snapshot without seqId cannot be linked to)
            history.add(prev, seq)
            return _APPLY, seq
        if seq <= last and prev < last and history.seen(prev, seq):
            return _STALE, last
        return _GAP, last

    def _resync_request(self, book: Hashable, reason: str) -> ResyncRequest | None:
        """Unsubscribe and subscribe the owner channel again: OKX answers with a snapshot."""
        arg = self._args.get(book)  # type: ignore[call-overload]
        if arg is None or arg.get("channel") in _FULL_BOOK_CHANNELS:
            return None
        return Resubscribe(
            exchange="okx",
            store=self.name or "books",
            book=book,
            reason=reason,
            messages=(
                {"op": "unsubscribe", "args": [dict(arg)]},
                {"op": "subscribe", "args": [dict(arg)]},
            ),
        )

    def _feed_interrupted(self) -> None:
        super()._feed_interrupted()
        # The next push of each instId picks its channel again (the session
        # replays the subscriptions after a reconnect).
        self._owners.clear()
        self._args.clear()
        self.checksum.clear()

    # ------------------------------------------------------------------ logging

    def _bad_snapshot_level(self, item: Any) -> None:
        self._bad_level(item.get("instId"), item.get("side"), item)

    def _bad_level(self, inst_id: Any, side: Any, level: Any) -> None:
        logger.warning(
            "OKX books %s %s: skipped a level that is not [px, sz, ...] with a finite price: %s",
            inst_id,
            side,
            _short.repr(level),
        )
