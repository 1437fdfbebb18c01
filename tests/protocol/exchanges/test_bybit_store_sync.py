"""Model-based test of the Bybit order book's sync against a plain exchange model.

The model is the exchange: one dict book per symbol, its ``u`` counter and the
book after every ``u`` of the current era (a service restart, ``u = 1``,
starts a new era). Rules deliver what a Bybit connection can deliver
(https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook): a
snapshot (on subscribe, Bybit's own re-send, level 1's 3-second re-push), the
next delta, a delta lost on the way (a gap), a duplicated delta, an older one,
a reordered pair, a restart snapshot with ``u = 1``, a feed interruption (a
reconnect), messages of a second depth for the same symbol, and the answer to
the resync requests the store gave out.

After every step, for every symbol: the store is either synced and equal to the
exchange's book as of the newest message it was given, or not synced, holding
no levels, with a resync requested (unless nothing has arrived for that
symbol since the last interruption). Never synced and wrong. The machine runs
twice: with a recording connection that carries requests (``request_resync``),
and with ``ws=None``, where requests wait in ``take_resync_requests()``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from botters.protocol.exchanges.bybit import BybitDataStore
from botters.protocol.store import BookState, Resubscribe, ResyncRequest

SYMBOLS = ("BTCUSDT", "ETHUSDT")
SYMBOL = st.sampled_from(SYMBOLS)
PRICES = ["97", "98.5", "99", "99.5", "100", "100.5", "101", "102"]
SIZES = ["0.001", "1", "2.5", "10"]
CHANGES = st.dictionaries(
    st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(PRICES)),
    st.sampled_from(["0", *SIZES]),
    max_size=5,
)
LEVELS = st.dictionaries(
    st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(PRICES)),
    st.sampled_from(SIZES),
    max_size=8,
)

Book = dict[tuple[str, str], str]


def topic(symbol: str) -> str:
    return f"orderbook.50.{symbol}"


def message(symbol: str, kind: str, u: int, levels: Book, depth_topic: str | None = None) -> dict:
    return {
        "topic": depth_topic or topic(symbol),
        "type": kind,
        "ts": 1,
        "data": {
            "s": symbol,
            "b": [[p, v] for (side, p), v in levels.items() if side == "b"],
            "a": [[p, v] for (side, p), v in levels.items() if side == "a"],
            "u": u,
            "seq": 1,
        },
        "cts": 1,
    }


class Recorder:
    """The part of a connection the store uses to ask for a resync."""

    def __init__(self) -> None:
        self.requests: list[ResyncRequest] = []

    def request_resync(self, request: ResyncRequest) -> None:
        self.requests.append(request)


class Venue:
    """One symbol on the exchange: its book, ``u`` and history for the current era."""

    def __init__(self) -> None:
        self.book: Book = {}
        self.u = 1000
        self.history: dict[int, Book] = {1000: {}}
        self.deltas: list[dict[str, Any]] = []

    def change(self, symbol: str, changes: Book) -> dict[str, Any]:
        for key, size in changes.items():
            if size == "0":
                self.book.pop(key, None)
            else:
                self.book[key] = size
        self.u += 1
        self.history[self.u] = dict(self.book)
        msg = message(symbol, "delta", self.u, changes)
        self.deltas.append(msg)
        return msg

    def restart(self, levels: Book) -> None:
        self.book = dict(levels)
        self.u = 1
        self.history = {1: dict(levels)}
        self.deltas = []


class BookSync(RuleBasedStateMachine):
    USE_CONN = True

    def __init__(self) -> None:
        super().__init__()
        self.store = BybitDataStore()
        self.conn = Recorder() if self.USE_CONN else None
        self.taken = 0
        self.venues = {s: Venue() for s in SYMBOLS}
        self.newest: dict[str, int] = {}  # the newest u the store was given, this era
        self.outstanding: set[str] = set()  # books a resync was asked for, not yet served
        self.untouched: set[str] = set(SYMBOLS)  # nothing delivered since start/interruption

    # ------------------------------------------------------------ delivery

    def deliver(self, symbol: str, msg: dict[str, Any]) -> None:
        self.store.onmessage(msg, self.conn)
        self.untouched.discard(symbol)
        u = msg["data"]["u"]
        if msg["type"] == "snapshot":
            self.newest[symbol] = u
        else:
            self.newest[symbol] = max(self.newest.get(symbol, u), u)
        self.collect()

    def collect(self) -> None:
        if self.conn is not None:
            assert self.store.take_resync_requests() == []
            fresh = self.conn.requests[self.taken :]
            self.taken = len(self.conn.requests)
        else:
            fresh = self.store.take_resync_requests()
        for request in fresh:
            assert isinstance(request, Resubscribe)
            assert request.exchange == "bybit"
            assert request.store == "orderbook"
            assert request.book in SYMBOLS
            t = topic(request.book)  # type: ignore[arg-type]
            assert request.messages == (
                {"op": "unsubscribe", "args": [t]},
                {"op": "subscribe", "args": [t]},
            )
            self.outstanding.add(request.book)  # type: ignore[arg-type]

    def snapshot_of(self, symbol: str) -> dict[str, Any]:
        venue = self.venues[symbol]
        return message(symbol, "snapshot", venue.u, venue.book)

    # ------------------------------------------------------------ rules

    @rule(symbol=SYMBOL)
    def snapshot(self, symbol: str) -> None:
        """A snapshot (subscribe, Bybit's re-send, level 1's re-push with the same u)."""
        self.outstanding.discard(symbol)
        self.deliver(symbol, self.snapshot_of(symbol))

    @rule(symbol=SYMBOL, changes=CHANGES)
    def delta(self, symbol: str, changes: Book) -> None:
        self.deliver(symbol, self.venues[symbol].change(symbol, changes))

    @rule(symbol=SYMBOL, changes=CHANGES)
    def lost_delta(self, symbol: str, changes: Book) -> None:
        self.venues[symbol].change(symbol, changes)

    @precondition(lambda self: any(v.deltas for v in self.venues.values()))
    @rule(symbol=SYMBOL, back=st.integers(0, 5))
    def old_delta(self, symbol: str, back: int) -> None:
        """The last delta again (a duplicate) or an older one of this era."""
        deltas = self.venues[symbol].deltas
        if deltas:
            msg = deltas[max(0, len(deltas) - 1 - back)]
            if msg["data"]["u"] <= self.newest.get(symbol, 0):
                self.deliver(symbol, msg)

    @rule(symbol=SYMBOL, first=CHANGES, second=CHANGES)
    def reordered_pair(self, symbol: str, first: Book, second: Book) -> None:
        venue = self.venues[symbol]
        one = venue.change(symbol, first)
        two = venue.change(symbol, second)
        self.deliver(symbol, two)
        self.deliver(symbol, one)

    @rule(symbol=SYMBOL, levels=LEVELS)
    def restart(self, symbol: str, levels: Book) -> None:
        """The service restarted: a snapshot with u = 1 (overwrite the book)."""
        self.venues[symbol].restart(levels)
        self.outstanding.discard(symbol)
        self.deliver(symbol, self.snapshot_of(symbol))

    @rule()
    def feed_interrupted(self) -> None:
        self.store.feed_interrupted()
        self.outstanding.clear()
        self.untouched = set(SYMBOLS)
        self.newest.clear()

    @precondition(lambda self: bool(self.outstanding))
    @rule()
    def serve_resync_requests(self) -> None:
        """Carry out the requests: the resubscription brings a snapshot."""
        for symbol in sorted(self.outstanding):
            self.outstanding.discard(symbol)
            self.deliver(symbol, self.snapshot_of(symbol))

    @rule(symbol=SYMBOL, kind=st.sampled_from(["snapshot", "delta"]), levels=CHANGES)
    def other_depth(self, symbol: str, kind: str, levels: Book) -> None:
        """orderbook.1.{symbol} is subscribed too: its messages must not touch the book."""
        if self.store.orderbook.owner(symbol) != topic(symbol):
            return
        before = (
            self.store.orderbook.find({"s": symbol}),
            self.store.orderbook.sync_state(symbol),
        )
        u = self.venues[symbol].u + 1
        msg = message(symbol, kind, u, levels, depth_topic=f"orderbook.1.{symbol}")
        self.store.onmessage(msg, self.conn)
        self.collect()
        after = (
            self.store.orderbook.find({"s": symbol}),
            self.store.orderbook.sync_state(symbol),
        )
        assert after == before

    # ------------------------------------------------------------ invariants

    @invariant()
    def synced_means_right_and_unsynced_means_asked(self) -> None:
        ob = self.store.orderbook
        for symbol in SYMBOLS:
            levels = ob.find({"s": symbol})
            state = ob.sync_state(symbol)
            if state is BookState.SYNCED:
                venue = self.venues[symbol]
                newest = self.newest[symbol]
                expected = venue.history[newest]
                assert ob.sync_status(symbol).seq == newest
                assert {(lv["S"], lv["p"]): lv["v"] for lv in levels} == expected
                assert len(levels) == len(expected)
                want_asks = sorted(
                    ((p, v) for (s, p), v in expected.items() if s == "a"),
                    key=lambda pv: float(pv[0]),
                )
                want_bids = sorted(
                    ((p, v) for (s, p), v in expected.items() if s == "b"),
                    key=lambda pv: -float(pv[0]),
                )
                book = ob.sorted({"s": symbol})
                assert [(lv["p"], lv["v"]) for lv in book["a"]] == want_asks
                assert [(lv["p"], lv["v"]) for lv in book["b"]] == want_bids
                assert ob.sorted({"s": symbol}, limit=2) == {
                    "a": book["a"][:2],
                    "b": book["b"][:2],
                }
                assert symbol not in self.outstanding
            else:
                assert levels == []
                if state is BookState.RESYNCING:
                    assert symbol in self.outstanding
                else:
                    assert symbol in self.untouched


class BookSyncWithConn(BookSync):
    USE_CONN = True


class BookSyncWithoutConn(BookSync):
    USE_CONN = False


_SETTINGS = settings(max_examples=200, stateful_step_count=40, deadline=None)
TestBookSyncWithConn = BookSyncWithConn.TestCase
TestBookSyncWithConn.settings = _SETTINGS
TestBookSyncWithoutConn = BookSyncWithoutConn.TestCase
TestBookSyncWithoutConn.settings = _SETTINGS
