"""Book sync: the states of one order book and the resync requests a store gives out.

Theory of operation
-------------------
Every exchange that streams order-book diffs says how to tell that a diff
belongs right after the previous one (peers.md §5): Bybit's ``u`` counts up by
one, OKX's ``prevSeqId`` names the previous message's ``seqId``, Binance's
``U``/``u``/``pu`` straddle the REST snapshot's ``lastUpdateId``... What to do
when that link breaks is the same everywhere, and is written once in
:class:`~botters.protocol.store.OrderBookStore`:

* a book is :attr:`BookState.UNSYNCED` until it has a snapshot (at start, and
  after every feed interruption);
* a snapshot makes it :attr:`BookState.SYNCED`;
* while synced, each diff is *linked* to the last one applied
  (:class:`Link`): ``APPLY`` it, skip it as ``STALE`` (a duplicate, or older
  than the book), or call it a ``GAP``;
* on a gap (or a bad checksum, or a diff for a book that has no snapshot and
  will get none by itself) the store drops the book, marks it
  :attr:`BookState.RESYNCING` and asks for a resync.

A resync request is a plain value the store gives out; the store itself never
does I/O, never spawns a task and never sleeps (DESIGN.md). It is handed to
the connection the book's messages came on, through its
:meth:`ResyncSink.request_resync` (both botters adapters implement it), or,
when that connection cannot carry it (``ws=None`` in a replay, or a foreign
``ws``), kept until someone takes it with
:meth:`~botters.protocol.store.DataStoreCollection.take_resync_requests`.
There are two kinds:

* :class:`Resubscribe`: send these messages (unsubscribe, then subscribe) on
  that connection; the exchange answers with a fresh snapshot.
* :class:`FetchSnapshot`: GET this public REST URL and give the parsed body to
  :meth:`FetchSnapshot.deliver` (or the reason it failed to
  :meth:`FetchSnapshot.fail`).

If no snapshot follows (the reply was lost, the subscription was refused, the
fetch failed), the request is asked again ``retry_after`` seconds later, the
delay doubling up to a cap: by the adapter that carried it (it checks
:attr:`ResyncRequest.pending` then and calls :meth:`ResyncRequest.retry`),
and by the store itself on the book's next diff once the delay has passed on
the clock the adapter gave it (a feed without an adapter still retries).
"""

from __future__ import annotations

import enum
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ._book import OrderBookStore

__all__ = [
    "BookState",
    "BookStatus",
    "FetchSnapshot",
    "Link",
    "Resubscribe",
    "ResyncRequest",
    "ResyncSink",
]


class BookState(enum.Enum):
    """Where one order book stands against the exchange's."""

    UNSYNCED = "unsynced"
    """No snapshot yet (or none since the feed was interrupted); nothing asked for."""
    RESYNCING = "resyncing"
    """Dropped after a gap (or never synced) and a resync was asked for; waiting for it."""
    SYNCED = "synced"
    """A snapshot and every diff since, each linked to the one before."""


class Link(enum.Enum):
    """How a diff relates to the last update applied to its book."""

    APPLY = "apply"
    """It is the next one: apply it."""
    STALE = "stale"
    """The book already has it (a duplicate, or a message older than the snapshot): skip it."""
    GAP = "gap"
    """Something between the two was missed: the book can no longer be trusted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BookStatus:
    """A snapshot of one book's sync bookkeeping (:meth:`OrderBookStore.sync_status`).

    Attributes:
        state: Synced, resyncing or unsynced.
        seq: The exchange's id of the last update applied (``u``, ``seqId``...),
            ``None`` while not synced or when the exchange has none.
        last_update: The adapter's clock when the book last changed (a snapshot,
            an applied diff or an exchange heartbeat for the book); ``None``
            before the first one or when the store has no clock.
        gaps: Sequence gaps and bad checksums detected so far.
        resyncs: Resyncs asked for so far (gaps, missing snapshots and retries).
        stale: Diffs skipped as duplicates or older than the book.
    """

    state: BookState
    seq: Any
    last_update: float | None
    gaps: int
    resyncs: int
    stale: int


def _no_owner() -> OrderBookStore | None:
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResyncRequest:
    """What a store needs done so that one of its books can be synced again.

    Attributes:
        exchange: The exchange, e.g. ``"bybit"`` (for logs).
        store: The name of the store that holds the book, e.g. ``"orderbook"``.
        book: The book's id in that store (``"BTCUSDT"``, ``"BTC-USDT"``...).
        reason: Why the book is out of sync, for a log line.
        retry_after: Seconds after which a carrier should check :attr:`pending`
            and :meth:`retry` if no snapshot came (set by the store).
    """

    exchange: str
    store: str
    book: Hashable
    reason: str
    retry_after: float | None = field(default=None, compare=False)
    _owner: Callable[[], OrderBookStore | None] = field(
        default=_no_owner, repr=False, compare=False
    )

    @property
    def key(self) -> tuple[str, Hashable]:
        """``(store, book)``: at most one request per key is outstanding."""
        return (self.store, self.book)

    @property
    def pending(self) -> bool:
        """Whether the store still waits for this request's snapshot (not superseded)."""
        store = self._owner()
        return store is not None and store._is_current(self)

    def retry(self, ws: Any) -> None:
        """Ask again, on ``ws`` (the connection that carried this request): no snapshot came.

        The store makes a new request (with a longer ``retry_after``) and
        gives it to ``ws``. Does nothing if the request is no longer pending.
        """
        store = self._owner()
        if store is not None and store._is_current(self):
            store._retry(self, ws)


@dataclass(frozen=True, slots=True, kw_only=True)
class Resubscribe(ResyncRequest):
    """Send ``messages`` in order on the connection the book came on (a fresh snapshot follows).

    Attributes:
        messages: JSON objects (dicts) or text frames, e.g. Bybit's
            ``{"op": "unsubscribe", ...}`` then ``{"op": "subscribe", ...}``.
    """

    messages: tuple[Any, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchSnapshot(ResyncRequest):
    """GET ``url`` (a public REST endpoint) and hand the parsed JSON body to :meth:`deliver`.

    Attributes:
        url: The full URL, query included. The request needs no credentials.
    """

    url: str

    @classmethod
    def for_store(
        cls, store: OrderBookStore, *, exchange: str, book: Hashable, reason: str, url: str
    ) -> FetchSnapshot:
        """A request whose answer goes back to ``store`` (held weakly)."""
        return cls(
            exchange=exchange,
            store=store.name or type(store).__name__,
            book=book,
            reason=reason,
            url=url,
            _owner=weakref.ref(store),
        )

    def deliver(self, data: Any) -> None:
        """Give the store the parsed JSON body of a successful response."""
        store = self._owner()
        if store is not None:
            try:
                store._fetched(self, data)
            finally:
                if store._wake_owner is not None:
                    store._wake_owner()

    def fail(self, reason: str) -> None:
        """Tell the store the request failed (it asks again later, with backoff)."""
        store = self._owner()
        if store is not None:
            store._fetch_failed(self, reason)


@runtime_checkable
class ResyncSink(Protocol):
    """A connection that can carry out resync requests (both botters adapters' ``ws``).

    Implementations must not block and must not raise for a closed connection:
    queue the work (a lost connection resyncs every book anyway).
    """

    def request_resync(self, request: ResyncRequest) -> None:
        """Carry out ``request`` (see :class:`Resubscribe` and :class:`FetchSnapshot`)."""
