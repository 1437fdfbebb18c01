"""Model-based test of the Binance order books' sync against a plain exchange model.

The model is the exchange: per symbol, the list of its diff events with their
ids (spot: ``U`` = the previous ``u`` + 1; futures: ids with numbering gaps,
linked by ``pu``) and the book after each. Rules deliver what a Binance
connection and REST can deliver (peers.md §5 and the "How to manage a local
order book correctly" pages): the next diff, a diff lost on the way, an
earlier diff again, a reordered pair, a user's ``initialize`` with a snapshot
of any past moment (older or newer than the stream, mid-event), the answer to
the store's FetchSnapshot (the current book, or an older one: a slow REST
reply), a failed fetch, and a feed interruption.

After every step, for every symbol: a synced book equals the exchange's book as
of the book's last update id, level for level and in ``sorted()`` order. A
book that is not synced holds no levels; if it is resyncing, a FetchSnapshot
for it is pending and held by someone (the connection or
``take_resync_requests()``); if it is unsynced, no diff for it arrived since
the start or the last interruption. Never synced and wrong, never stuck.
"""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from botters.protocol.exchanges.binance import (
    BinanceCOINMDataStore,
    BinanceSpotDataStore,
    BinanceUSDSMDataStore,
)
from botters.protocol.store import BookState, FetchSnapshot, RestResponse, ResyncRequest

SYMBOLS = ("BTCUSDT", "ETHUSDT")
SYMBOL = st.sampled_from(SYMBOLS)
PRICES = ["97", "98.5", "99", "99.5", "100", "100.5", "101", "102"]
SIZES = ["0.001", "1", "2.5", "10"]
CHANGES = st.dictionaries(
    st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(PRICES)),
    st.sampled_from(["0", *SIZES]),
    max_size=5,
)
DEPTH_URLS = {
    BinanceSpotDataStore: "https://api.binance.com/api/v3/depth",
    BinanceUSDSMDataStore: "https://fapi.binance.com/fapi/v1/depth",
    BinanceCOINMDataStore: "https://dapi.binance.com/dapi/v1/depth",
}

Book = dict[tuple[str, str], str]


class Recorder:
    """The part of a connection the store uses to ask for a resync."""

    def __init__(self) -> None:
        self.requests: list[ResyncRequest] = []

    def request_resync(self, request: ResyncRequest) -> None:
        self.requests.append(request)


class Venue:
    """One symbol on the exchange: its events (ids, message) and the book after each."""

    def __init__(self, symbol: str, futures: bool) -> None:
        self.symbol = symbol
        self.futures = futures
        self.book: Book = {}
        self.ids: list[tuple[int, int]] = [(1000, 1000)]  # (U, u); index 0: the start
        self.states: list[Book] = [{}]
        self.events: list[dict[str, Any]] = [{}]

    @property
    def last(self) -> int:
        return self.ids[-1][1]

    def change(self, changes: Book, skip: int, width: int) -> dict[str, Any]:
        for key, qty in changes.items():
            if qty == "0":
                self.book.pop(key, None)
            else:
                self.book[key] = qty
        prev = self.last
        first = prev + 1 + (skip if self.futures else 0)
        final = first + width
        msg: dict[str, Any] = {"e": "depthUpdate", "E": 1, "s": self.symbol, "U": first}
        msg["u"] = final
        if self.futures:
            msg["pu"] = prev
        msg["b"] = [[p, q] for (side, p), q in changes.items() if side == "b"]
        msg["a"] = [[p, q] for (side, p), q in changes.items() if side == "a"]
        self.ids.append((first, final))
        self.states.append(dict(self.book))
        self.events.append(msg)
        return msg

    def state_at(self, last: int) -> Book:
        index = max(i for i, (_, u) in enumerate(self.ids) if u <= last)
        return self.states[index]

    def snapshot(self, last: int) -> dict[str, Any]:
        state = self.state_at(last)
        return {
            "lastUpdateId": last,
            "bids": [[p, q] for (side, p), q in state.items() if side == "b"],
            "asks": [[p, q] for (side, p), q in state.items() if side == "a"],
        }

    def past_id(self, pick: int) -> int:
        """A snapshot id of some past moment: an event's ``u``, or mid-event."""
        if not self.futures:
            return 1000 + pick % (self.last - 999)
        candidates = sorted({u for _, u in self.ids} | {first for first, _ in self.ids[1:]})
        return candidates[pick % len(candidates)]


class BookSync(RuleBasedStateMachine):
    CLS: Any = BinanceSpotDataStore
    USE_CONN = True

    def __init__(self) -> None:
        super().__init__()
        self.store = self.CLS()
        futures = self.CLS is not BinanceSpotDataStore
        self.conn = Recorder() if self.USE_CONN else None
        self.taken = 0
        self.venues = {s: Venue(s, futures) for s in SYMBOLS}
        self.delivered: dict[str, list[dict[str, Any]]] = {s: [] for s in SYMBOLS}
        self.requests: dict[str, FetchSnapshot] = {}  # the newest request seen per symbol
        self.touched: set[str] = set()  # a diff arrived since the start / interruption

    # ------------------------------------------------------------ plumbing

    def deliver(self, symbol: str, msg: dict[str, Any]) -> None:
        self.store.onmessage(msg, self.conn)
        self.delivered[symbol].append(msg)
        self.touched.add(symbol)
        self.collect()

    def collect(self) -> None:
        fresh = list(self.store.take_resync_requests())
        if self.conn is not None:
            fresh += self.conn.requests[self.taken :]
            self.taken = len(self.conn.requests)
        for request in fresh:
            assert isinstance(request, FetchSnapshot)
            assert request.exchange == "binance"
            assert request.store == "orderbook"
            assert request.book in SYMBOLS
            base = DEPTH_URLS[self.CLS]
            assert request.url == f"{base}?symbol={request.book}&limit=1000"
            self.requests[request.book] = request  # type: ignore[index]

    def initialize(self, symbol: str, last: int) -> None:
        url = f"{DEPTH_URLS[self.CLS]}?symbol={symbol}&limit=1000"
        self.store.initialize_nowait(RestResponse(url, self.venues[symbol].snapshot(last)))
        self.collect()

    # ------------------------------------------------------------ rules

    @rule(symbol=SYMBOL, changes=CHANGES, skip=st.integers(0, 3), width=st.integers(0, 3))
    def diff(self, symbol: str, changes: Book, skip: int, width: int) -> None:
        self.deliver(symbol, self.venues[symbol].change(changes, skip, width))

    @rule(symbol=SYMBOL, changes=CHANGES, skip=st.integers(0, 3), width=st.integers(0, 3))
    def lost_diff(self, symbol: str, changes: Book, skip: int, width: int) -> None:
        self.venues[symbol].change(changes, skip, width)

    @rule(symbol=SYMBOL, back=st.integers(0, 6))
    def earlier_diff_again(self, symbol: str, back: int) -> None:
        delivered = self.delivered[symbol]
        if delivered:
            self.deliver(symbol, delivered[max(0, len(delivered) - 1 - back)])

    @rule(symbol=SYMBOL, first=CHANGES, second=CHANGES)
    def reordered_pair(self, symbol: str, first: Book, second: Book) -> None:
        venue = self.venues[symbol]
        one = venue.change(first, 1, 0)
        two = venue.change(second, 0, 1)
        self.deliver(symbol, two)
        self.deliver(symbol, one)

    @rule(symbol=SYMBOL, pick=st.integers(0, 10_000))
    def user_initialize(self, symbol: str, pick: int) -> None:
        """``initialize(GET depth)`` with a snapshot of any past moment."""
        self.initialize(symbol, self.venues[symbol].past_id(pick))

    @rule(symbol=SYMBOL)
    def user_initialize_now(self, symbol: str) -> None:
        self.initialize(symbol, self.venues[symbol].last)

    @precondition(lambda self: bool(self.requests))
    @rule(data=st.data(), old=st.booleans(), pick=st.integers(0, 10_000))
    def answer_fetch(self, data: st.DataObject, old: bool, pick: int) -> None:
        """The adapter's GET returns: the current book, or (slow REST) an older one."""
        symbol = data.draw(st.sampled_from(sorted(self.requests)))
        request = self.requests[symbol]
        venue = self.venues[symbol]
        last = venue.past_id(pick) if old else venue.last
        request.deliver(venue.snapshot(last))
        self.collect()

    @precondition(lambda self: bool(self.requests))
    @rule(data=st.data())
    def fetch_fails(self, data: st.DataObject) -> None:
        symbol = data.draw(st.sampled_from(sorted(self.requests)))
        self.requests[symbol].fail("HTTP 503")
        self.collect()

    @rule()
    def feed_interrupted(self) -> None:
        self.store.feed_interrupted()
        self.touched.clear()
        self.collect()

    # ------------------------------------------------------------ invariants

    @invariant()
    def synced_means_right_and_unsynced_means_asked(self) -> None:
        ob = self.store.orderbook
        for symbol in SYMBOLS:
            levels = ob.find({"s": symbol})
            state = ob.sync_state(symbol)
            if state is BookState.SYNCED:
                expected = self.venues[symbol].state_at(ob.sync_status(symbol).seq)
                assert {(lv["S"], lv["p"]): lv["q"] for lv in levels} == expected
                assert len(levels) == len(expected)
                book = ob.sorted({"s": symbol})
                want_asks = sorted(
                    ((p, q) for (s, p), q in expected.items() if s == "a"),
                    key=lambda pq: float(pq[0]),
                )
                want_bids = sorted(
                    ((p, q) for (s, p), q in expected.items() if s == "b"),
                    key=lambda pq: -float(pq[0]),
                )
                assert [(lv["p"], lv["q"]) for lv in book["a"]] == want_asks
                assert [(lv["p"], lv["q"]) for lv in book["b"]] == want_bids
            else:
                assert levels == []
                if state is BookState.RESYNCING:
                    request = self.requests.get(symbol)
                    assert request is not None, symbol
                    assert request.pending, symbol
                else:
                    assert symbol not in self.touched


class SpotWithConn(BookSync):
    CLS = BinanceSpotDataStore
    USE_CONN = True


class SpotWithoutConn(BookSync):
    CLS = BinanceSpotDataStore
    USE_CONN = False


class USDSMWithConn(BookSync):
    CLS = BinanceUSDSMDataStore
    USE_CONN = True


class COINMWithoutConn(BookSync):
    CLS = BinanceCOINMDataStore
    USE_CONN = False


_SETTINGS = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestSpotWithConn = SpotWithConn.TestCase
TestSpotWithConn.settings = _SETTINGS
TestSpotWithoutConn = SpotWithoutConn.TestCase
TestSpotWithoutConn.settings = _SETTINGS
TestUSDSMWithConn = USDSMWithConn.TestCase
TestUSDSMWithConn.settings = _SETTINGS
TestCOINMWithoutConn = COINMWithoutConn.TestCase
TestCOINMWithoutConn.settings = _SETTINGS
