"""``DataStore``: an in-memory table of dict items, keyed, ordered and watchable.

Theory of operation
-------------------

Items are plain dicts, stored **by reference** (the dict given to ``_insert``
is the dict ``get``/``find`` return; do not mutate what you read). Each item
gets an integer id from a per-store counter when it is first stored:

* ``_data`` maps id -> item. Python dicts keep insertion order, so iterating
  ``_data`` is iterating the store in first-insert order, as pybotters does.
* ``_index`` maps the **tuple of key values** (the bare value for a one-key
  store) -> id. Looking items up by the key values themselves, never by
  ``hash()`` of them, means two distinct keys can never alias: in pybotters
  ``hash(-1) == hash(-2)`` made two items share one slot. Keys that compare
  equal are the same key, exactly as for dict keys: ``1``, ``1.0`` and
  ``True`` address one item.

Trimming past ``_MAXLEN`` removes the oldest items by first insert, which are
the lowest ids. ``_head`` is the lowest id that may still be live; it only
moves forward, so trimming costs O(1) per removed item however long the store
has been running (a plain ``next(iter(dict))`` would rescan every hole left by
earlier removals). Trimmed items are reported to watchers as ``delete``
changes, so a mirror built from :meth:`DataStore.watch` never keeps an item
the store has dropped.

Waiters and watchers are only touched when they exist: with nobody waiting or
watching, a mutation is dict operations and nothing else.

Differences from pybotters, on purpose:

* ``wait()`` resolves after a mutation call that changed at least one item.
  pybotters also wakes on calls that changed nothing (deleting a missing
  key, an empty update); botters does not, so a bot looping on ``wait()``
  only wakes for news.
* Trimming emits ``delete`` changes (pybotters emits nothing).
* ``_pop`` emits a ``delete`` change and wakes waiters (pybotters does
  neither), so every removal is visible to watchers.
* Items without all key fields are skipped with a log line on
  ``botters.store`` (pybotters skips silently).
* Item ids are integers from a counter, not ``uuid4()``: the core takes no
  randomness (DESIGN.md). They are opaque: use them only with ``_remove``.
"""

from __future__ import annotations

import logging
import reprlib
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from operator import itemgetter
from typing import Any

from ._async import Waiter, new_waiter
from ._stream import DEFAULT_STREAM_MAXSIZE, Operation, StoreChange, StoreStream

__all__ = ["DataStore", "Item", "logger"]

Item = dict[str, Any]
"""A stored item: a JSON-like dict."""

logger = logging.getLogger("botters.store")

_short = reprlib.Repr()
_short.maxstring = 80
_short.maxother = 80
_short.maxdict = 8
_short.maxlist = 8

_MISSING: Any = object()


def _key_getter(keys: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Hashable]:
    # itemgetter returns the bare value for one key and a tuple for several;
    # both are exact (no hashing into a smaller space), and every key of one
    # store is built the same way.
    if not keys:
        return lambda item: None
    return itemgetter(*keys)


class DataStore:
    """A table of dict items with optional key fields, pybotters-compatible.

    Read with :meth:`get`, :meth:`find`, ``len()`` and iteration (first-insert
    order); wait for news with :meth:`wait`; follow every change with
    :meth:`watch`. Exchange stores subclass it and mutate it from their
    ``_onmessage`` with ``_insert``/``_update``/``_delete``.

    Args:
        name: A label (used in logs and ``repr``).
        keys: Key field names; defaults to the class attribute ``_KEYS``.
            Without keys the store is append-only: ``get`` returns ``None``
            and ``_delete`` does nothing (use ``_remove`` or ``_clear``).
        data: Items to insert right away.

    A store is not thread-safe: mutate it (``onmessage``) and wait on it from
    the thread running the event loop.

    Attributes:
        _KEYS: Default key fields.
        _MAXLEN: Size bound; past it the oldest items (by first insert) are
            dropped and reported as ``delete`` changes. Assign it on an
            instance to change one store.

    Example:
        >>> ds = DataStore(keys=["id"], data=[{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])
        >>> ds.get({"id": 2})
        {'id': 2, 'v': 'b'}
        >>> ds.find({"v": "a"})
        [{'id': 1, 'v': 'a'}]
    """

    _KEYS: list[str] = []  # noqa: RUF012 - pybotters' subclassing surface is a list
    _MAXLEN: int = 9999
    # True in subclasses that keep a secondary index (order books); plain
    # stores skip the hook calls entirely.
    _TRACKED: bool = False
    # The adapter's monotonic clock (DataStoreCollection.set_clock): how order
    # books time their updates and resync retries. The core never reads a clock.
    _clock: Callable[[], float] | None = None
    # Set by the DataStoreCollection that created the store: wakes its wait()
    # when the store changes outside onmessage (a fetched snapshot).
    _wake_owner: Callable[[], None] | None = None

    def __init__(
        self,
        name: str | None = None,
        keys: list[str] | None = None,
        data: Iterable[Item] | None = None,
    ) -> None:
        self.name = name
        self._keys: tuple[str, ...] = tuple(self._KEYS if keys is None else keys)
        self._keyof = _key_getter(self._keys)
        self._data: dict[int, Item] = {}
        self._index: dict[Hashable, int] = {}
        self._next_id = 0
        self._head = 0
        self._waiters: list[Waiter] = []
        self._streams: list[weakref.ref[StoreStream]] = []
        if data:
            self._insert(data)
        self._init()

    def _init(self) -> None:
        """Hook run at the end of ``__init__``; subclasses set up their state here."""

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[Item]:
        return iter(self._data.values())

    def __reversed__(self) -> Iterator[Item]:
        return reversed(self._data.values())

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<{type(self).__name__}{label} keys={list(self._keys)} items={len(self._data)}>"

    def get(self, item: Mapping[str, Any]) -> Item | None:
        """Return the item whose key fields equal those of ``item``, or ``None``.

        ``None`` too when the store has no keys or ``item`` lacks a key field.
        This is a dict lookup, whatever the store's size.
        """
        if not self._keys:
            return None
        try:
            uid = self._index.get(self._keyof(item))
        except (KeyError, TypeError, IndexError):
            return None
        if uid is None:
            return None
        return self._data[uid]

    def find(self, query: Mapping[str, Any] | None = None) -> list[Item]:
        """Return the items whose fields equal every field of ``query``, in store order.

        No query (or an empty one) returns every item. A query that gives a
        value for every key field is answered by a dict lookup; any other
        query scans the store. An item lacking a queried field never matches.
        """
        if not query:
            return list(self._data.values())
        if self._keys:
            try:
                uid = self._index.get(self._keyof(query))
            except (KeyError, TypeError, IndexError):
                pass  # not every key field given (or unhashable): compare every item
            else:
                if uid is None:
                    return []
                found = self._data[uid]
                if len(query) == len(self._keys) or _matches(found, query):
                    return [found]
                return []
        return [item for item in self._data.values() if _matches(item, query)]

    def _find_with_uuid(self, query: Mapping[str, Any] | None = None) -> dict[int, Item]:
        """Like :meth:`find` but return ``{id: item}``; the ids feed :meth:`_remove`."""
        if not query:
            return dict(self._data)
        return {uid: item for uid, item in self._data.items() if _matches(item, query)}

    def _sorted(
        self,
        item_key: str,
        item_asc_key: str,
        item_desc_key: str,
        sort_key: str,
        query: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> dict[str, list[Item]]:
        """Pybotters' generic order-book view, for custom stores written against it.

        Items matching ``query`` are split by their ``item_key`` field: those
        equal to ``item_asc_key`` (asks) sorted by ``float(item[sort_key])``
        ascending, those equal to ``item_desc_key`` (bids) descending (stable:
        equal prices keep store order), each side cut to ``limit`` (``0`` or
        ``None``: no cut, as in pybotters). Returns
        ``{item_asc_key: [...], item_desc_key: [...]}``. This sorts on every
        call; :class:`~botters.protocol.store.OrderBookStore` keeps its sides
        sorted instead. An item with another side or a price that is not a
        number is skipped with a log line (pybotters raises).
        """
        asks: list[tuple[float, Item]] = []
        bids: list[tuple[float, Item]] = []
        skipped = 0
        for item in self.find(query):
            side = item.get(item_key, _MISSING)
            if side == item_asc_key:
                out = asks
            elif side == item_desc_key:
                out = bids
            else:
                skipped += 1
                continue
            try:
                out.append((float(item[sort_key]), item))
            except (KeyError, TypeError, ValueError):
                skipped += 1
        if skipped:
            logger.warning(
                "%r: _sorted skipped %d item(s) without a %r of %r/%r and a numeric %r",
                self,
                skipped,
                item_key,
                item_asc_key,
                item_desc_key,
                sort_key,
            )
        asks.sort(key=itemgetter(0))
        bids.sort(key=itemgetter(0), reverse=True)
        cut = limit or None  # as pybotters: a limit of 0 means no limit
        return {
            item_asc_key: [item for _, item in asks[:cut]],
            item_desc_key: [item for _, item in bids[:cut]],
        }

    # ------------------------------------------------------------------ mutation

    def _insert(self, data: Iterable[Item]) -> None:
        """Store items. An item whose key already exists replaces the stored dict in place.

        Emits ``insert`` (source ``None``). Items missing a key field are
        skipped and logged.
        """
        store = self._data
        watched = bool(self._streams)
        changed = added = False
        if self._keys:
            keyof = self._keyof
            index = self._index
            tracked = self._TRACKED
            for item in data:
                try:
                    key = keyof(item)
                    uid = index.get(key)
                except (KeyError, TypeError, IndexError):
                    self._reject("_insert", item)
                    continue
                if uid is None:
                    if tracked and not self._track_add(item):
                        continue
                    uid = self._next_id
                    self._next_id = uid + 1
                    index[key] = uid
                    added = True
                elif tracked and not self._track_replace(store[uid], item):
                    continue
                store[uid] = item
                changed = True
                if watched:
                    self._emit("insert", None, item)
        else:
            for item in data:
                uid = self._next_id
                self._next_id = uid + 1
                store[uid] = item
                changed = added = True
                if watched:
                    self._emit("insert", None, item)
        if changed:
            if added and len(store) > self._MAXLEN:
                self._trim()
            if self._waiters:
                self._set()

    def _update(self, data: Iterable[Item]) -> None:
        """Merge items into the stored items with the same key (``dict.update``), or add them.

        Emits ``update``: with the partial item as ``source`` when merged,
        with ``source=None`` when the key was new. A key-less store appends.
        """
        store = self._data
        watched = bool(self._streams)
        changed = added = False
        if self._keys:
            keyof = self._keyof
            index = self._index
            tracked = self._TRACKED
            for item in data:
                try:
                    key = keyof(item)
                    uid = index.get(key)
                except (KeyError, TypeError, IndexError):
                    self._reject("_update", item)
                    continue
                if uid is not None:
                    stored = store[uid]
                    if not tracked:
                        stored.update(item)
                    elif not self._track_merge(stored, item):
                        continue
                    changed = True
                    if watched:
                        self._emit("update", item, stored)
                    continue
                if tracked and not self._track_add(item):
                    continue
                uid = self._next_id
                self._next_id = uid + 1
                index[key] = uid
                store[uid] = item
                changed = added = True
                if watched:
                    self._emit("update", None, item)
        else:
            for item in data:
                uid = self._next_id
                self._next_id = uid + 1
                store[uid] = item
                changed = added = True
                if watched:
                    self._emit("update", None, item)
        if changed:
            if added and len(store) > self._MAXLEN:
                self._trim()
            if self._waiters:
                self._set()

    def _delete(self, data: Iterable[Item]) -> None:
        """Remove the stored items with the same keys as ``data`` (missing keys are ignored).

        Emits ``delete`` with the given item as ``source`` and the removed
        item as ``data``. Does nothing in a key-less store.
        """
        if not self._keys:
            return
        store = self._data
        keyof = self._keyof
        index = self._index
        watched = bool(self._streams)
        tracked = self._TRACKED
        changed = False
        for item in data:
            try:
                uid = index.pop(keyof(item), None)
            except (KeyError, TypeError, IndexError):
                self._reject("_delete", item)
                continue
            if uid is None:
                continue
            stored = store.pop(uid)
            if tracked:
                self._track_remove(stored)
            changed = True
            if watched:
                self._emit("delete", item, stored)
        if changed and self._waiters:
            self._set()

    def _remove(self, uuids: Iterable[int]) -> None:
        """Remove items by id (from :meth:`_find_with_uuid`). Emits ``delete`` with no source."""
        self._remove_ids(uuids, False)

    def _remove_ids(self, uids: Iterable[int], source_is_item: bool) -> list[Item]:
        store = self._data
        watched = bool(self._streams)
        removed: list[Item] = []
        for uid in uids:
            stored = store.pop(uid, _MISSING)
            if stored is _MISSING:
                continue
            self._unindex(uid, stored)
            removed.append(stored)
            if watched:
                self._emit("delete", stored if source_is_item else None, stored)
        if removed and self._waiters:
            self._set()
        return removed

    def _unindex(self, uid: int, stored: Item) -> None:
        if self._keys:
            try:
                key = self._keyof(stored)
            except (KeyError, TypeError, IndexError):
                key = _MISSING
            if key is not _MISSING and self._index.get(key) == uid:
                del self._index[key]
            else:  # the stored item's key fields were edited in place: find it the slow way
                for k, v in self._index.items():
                    if v == uid:
                        del self._index[k]
                        break
        if self._TRACKED:
            self._track_remove(stored)

    def _clear(self) -> None:
        """Remove every item. Emits a ``delete`` (no source) for each."""
        if not self._data:
            return
        items = list(self._data.values())
        self._data.clear()
        self._index.clear()
        self._head = self._next_id
        if self._TRACKED:
            self._track_clear()
        if self._streams:
            for item in items:
                self._emit("delete", None, item)
        if self._waiters:
            self._set()

    def _pop(self, item: Mapping[str, Any]) -> Item | None:
        """Remove and return the item with the same key as ``item``, or ``None``.

        Emits ``delete`` (``source`` = ``item``) like :meth:`_delete`.
        """
        if not self._keys:
            return None
        try:
            uid = self._index.pop(self._keyof(item), None)
        except (KeyError, TypeError, IndexError):
            return None
        if uid is None:
            return None
        stored = self._data.pop(uid)
        if self._TRACKED:
            self._track_remove(stored)
        if self._streams:
            self._emit("delete", dict(item), stored)
        if self._waiters:
            self._set()
        return stored

    def _find_and_delete(self, query: Mapping[str, Any] | None = None) -> list[Item]:
        """Remove and return the items :meth:`find` would return (all of them for no query)."""
        if not query:
            items = list(self._data.values())
            self._clear()
            return items
        found = self._find_with_uuid(query)
        return self._remove_ids(list(found), True)

    def _trim(self) -> None:
        # Drop the oldest items (lowest ids) until the store fits _MAXLEN.
        store = self._data
        excess = len(store) - max(self._MAXLEN, 0)
        head = self._head
        watched = bool(self._streams)
        while excess > 0:
            stored = store.pop(head, _MISSING)
            if stored is not _MISSING:
                self._unindex(head, stored)
                excess -= 1
                if watched:
                    self._emit("delete", None, stored)
            head += 1
        self._head = head

    def _reject(self, operation: str, item: Any) -> None:
        logger.warning(
            "%r: %s skipped an item without the key fields %s: %s",
            self,
            operation,
            list(self._keys),
            _short.repr(item),
        )

    # ------------------------------------------------------------------ hooks

    def _track_add(self, item: Item) -> bool:
        """Secondary-index hook: ``item`` is about to be stored; return False to refuse it."""
        return True

    def _track_replace(self, old: Item, new: Item) -> bool:
        """Secondary-index hook: ``new`` is about to replace ``old``; return False to refuse."""
        return True

    def _track_merge(self, stored: Item, changes: Item) -> bool:
        """Secondary-index hook: merge ``changes`` into ``stored``; return False to refuse."""
        stored.update(changes)
        return True

    def _track_remove(self, item: Item) -> None:
        """Secondary-index hook: ``item`` was removed."""

    def _track_clear(self) -> None:
        """Secondary-index hook: every item was removed."""

    def _feed_interrupted(self) -> None:
        """Hook: the feed behind this store lost messages (a reconnect).

        Plain stores keep their items: tickers and trades are simply stale
        until the next message. Order books override this to drop their
        levels until a fresh snapshot arrives.
        """

    # ------------------------------------------------------------------ notification

    def _emit(self, operation: Operation, source: Item | None, data: Item) -> None:
        # One change object for every watcher; insert/update data is a shallow
        # snapshot so later in-place updates of the live item do not show.
        snapshot = data if operation == "delete" else data.copy()
        change = StoreChange(self, operation, source, snapshot)
        for ref in self._streams:
            stream = ref()
            if stream is not None:
                stream._push(change)

    def _put(self, operation: Operation, source: Item | None, item: Item) -> None:
        """Send a change to the watchers without touching the data (pybotters' manual ``_put``)."""
        if self._streams:
            self._emit(operation, source, item)

    def _set(self) -> None:
        """Wake every task blocked in :meth:`wait`."""
        waiters = self._waiters
        if waiters:
            self._waiters = []
            for waiter in waiters:
                waiter.set()

    def _attach_stream(self, stream: StoreStream) -> None:
        # The callback holds the store weakly too, so a store and its dropped
        # streams form no reference cycle and are freed without the GC.
        store_ref = weakref.ref(self)

        def forget(dead: weakref.ref[StoreStream]) -> None:
            # May run in the middle of _emit's loop: rebinding (not mutating)
            # the list keeps that loop safe.
            store = store_ref()
            if store is not None:
                store._streams = [ref for ref in store._streams if ref is not dead]

        self._streams.append(weakref.ref(stream, forget))

    def _detach_stream(self, stream: StoreStream) -> None:
        self._streams = [ref for ref in self._streams if ref() is not stream and ref() is not None]

    # ------------------------------------------------------------------ async

    async def wait(self) -> None:
        """Wait until a mutation changes this store (asyncio or trio).

        Resolves after the next ``_insert``/``_update``/``_delete``/... call
        that changed at least one item, trimming included. Calls that change
        nothing do not wake waiters (pybotters wakes them; see the module
        documentation).
        """
        waiter = new_waiter()
        self._waiters.append(waiter)
        try:
            await waiter.wait()
        finally:
            if not waiter.is_set():
                self._waiters.remove(waiter)

    def watch(self, *, maxsize: int = DEFAULT_STREAM_MAXSIZE) -> StoreStream:
        """Open a bounded stream of every change to this store from now on.

        Args:
            maxsize: Unread changes kept before the stream overflows (see
                :class:`StoreStream`).
        """
        return StoreStream(self, maxsize=maxsize)


def _matches(item: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
    for k, v in query.items():
        value = item.get(k, _MISSING)
        if value is _MISSING or value != v:
            return False
    return True
