"""Differential tests: botters' OKXDataStore against installed pybotters 1.11.2.

Random but valid OKX v5 streams (every channel pybotters has a store for) are fed to both
libraries, each its own deep copy; every store must then hold equal items (``find()``), the
order book the same ``sorted()`` views and ``checksum``/``ts`` attributes.

What is excluded, and why (each is a deliberate difference, tested in ``test_okx_store*.py``):

* Book streams always start with a snapshot and link their ``seqId``s: pybotters applies
  diffs before a snapshot and across gaps, botters does not. Each instId has one book
  channel: pybotters mixes two channels' levels into one book.
* ``orders-algo`` states are limited to those both keep or drop alike (``live`` kept;
  ``effective``, ``canceled``, ``partially_failed`` dropped): botters also keeps ``pause``
  and ``partially_effective`` and drops ``order_failed``. ``algo-advance`` likewise leaves
  out ``pause`` and ``partially_effective``.
* ``balance_and_position`` pushes always carry ``balData`` and ``posData`` (pybotters
  raises without them), and its raw store is compared with the pushes as sent: pybotters'
  nested stores update the dicts inside earlier raw pushes.
* Unknown channels, malformed messages and ``initialize`` ``chase`` rows are not generated
  (pybotters raises or drops them).
"""

from __future__ import annotations

import asyncio
import binascii
import copy
import struct
from typing import Any

import pybotters
import pytest
import yarl
from hypothesis import given, settings
from hypothesis import strategies as st

from botters.protocol.exchanges.okx import OKXDataStore
from botters.protocol.store import RestResponse

assert pybotters.__version__ == "1.11.2"  # the reference these tests are written against


def reference_checksum(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """The docs' checksum, written plainly (as in test_okx_store_book.py)."""
    fields: list[str] = []
    for i in range(25):
        if i < len(bids):
            fields += [bids[i][0], bids[i][1]]
        if i < len(asks):
            fields += [asks[i][0], asks[i][1]]
    (signed,) = struct.unpack("<i", struct.pack("<I", binascii.crc32(":".join(fields).encode())))
    return int(signed)


S = st.sampled_from(["0", "1", "2.5", "abc", ""])


def fields(*names: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(names), S, max_size=3)


def keyed(
    key: str, values: list[str], extra: tuple[str, ...] = ("a", "b", "c")
) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda k, f: {key: k, **f}, st.sampled_from(values), fields(*extra))


def push(channel: str, data: Any, **arg: Any) -> dict[str, Any]:
    return {"arg": {"channel": channel, **arg}, "data": data}


INSTRUMENTS = ["BTC-USDT", "ETH-USDT", "BTC-USDT-SWAP"]

KEYED_CHANNELS = [
    "instruments",
    "tickers",
    "open-interest",
    "estimated-price",
    "mark-price",
    "price-limit",
    "opt-summary",
    "funding-rate",
    "index-tickers",
    "liquidation-warning",
]

keyed_push = st.builds(
    lambda channel, data: push(channel, data, instType="SWAP"),
    st.sampled_from(KEYED_CHANNELS),
    st.lists(keyed("instId", INSTRUMENTS), max_size=3),
)
greeks_push = st.builds(
    lambda data: push("account-greeks", data),
    st.lists(keyed("ccy", ["BTC", "USDT"]), max_size=3),
)
row = st.lists(st.sampled_from(["1", "2", "3.5", "0"]), min_size=1, max_size=9)
candle_row = st.builds(lambda ts, rest: [ts, *rest], st.sampled_from(["1000", "2000"]), row)
candle_push = st.builds(
    lambda channel, inst, rows: push(channel, rows, instId=inst),
    st.sampled_from(["candle1m", "candle1D", "mark-price-candle1m", "index-candle30m"]),
    st.sampled_from(INSTRUMENTS),
    st.lists(candle_row, max_size=3),
)
trades_push = st.builds(
    lambda data: push("trades", data, instId="BTC-USDT"),
    st.lists(keyed("tradeId", ["1", "2"], ("px", "sz", "side")), max_size=3),
)
status_push = st.builds(lambda data: push("status", data), st.lists(fields("title", "state")))
account_push = st.builds(
    lambda data: push("account", data, uid="1"),
    st.lists(fields("uTime", "totalEq", "imr"), max_size=2),
)
position = st.builds(
    lambda inst, mode, side, f: {"instId": inst, "mgnMode": mode, "posSide": side, **f},
    st.sampled_from(INSTRUMENTS),
    st.sampled_from(["cross", "isolated"]),
    st.sampled_from(["long", "short", "net"]),
    fields("pos", "upl", "avgPx"),
)
positions_push = st.builds(
    lambda data: push("positions", data, instType="ANY"), st.lists(position, max_size=3)
)
bp_push = st.builds(
    lambda bal, pos, f: push("balance_and_position", [{"balData": bal, "posData": pos, **f}]),
    st.lists(keyed("ccy", ["BTC", "USDT"], ("cashBal", "uTime")), max_size=2),
    st.lists(position, max_size=2),
    fields("pTime", "eventType"),
)


def with_state(key: str, states: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda k, state, f: {key: k, "state": state, **f},
        st.sampled_from(["1", "2", "3"]),
        st.sampled_from(states),
        fields("px", "sz", "fillSz"),
    )


orders_push = st.builds(
    lambda data: push("orders", data, instType="ANY"),
    st.lists(
        with_state("ordId", ["live", "partially_filled", "filled", "canceled", "mmp_canceled"]),
        max_size=3,
    ),
)
algo_push = st.builds(
    lambda data: push("orders-algo", data, instType="ANY"),
    st.lists(with_state("algoId", ["live", "effective", "canceled", "partially_failed"])),
)
advance_push = st.builds(
    lambda data: push("algo-advance", data, instType="ANY"),
    st.lists(
        with_state("algoId", ["live", "partially_filled", "effective", "canceled", "order_failed"])
    ),
)

OTHER = st.one_of(
    keyed_push,
    greeks_push,
    candle_push,
    trades_push,
    status_push,
    account_push,
    positions_push,
    bp_push,
    orders_push,
    algo_push,
    advance_push,
)

# ------------------------------------------------------------------ order books

BTC_ASKS = ["100.5", "101", "101.5", "102", "103"]
BTC_BIDS = ["99.5", "99", "98", "97.25", "96"]
SIZES = ["0", "1", "2.5", "10"]
change = st.one_of(
    st.tuples(st.just("asks"), st.sampled_from(BTC_ASKS), st.sampled_from(SIZES)),
    st.tuples(st.just("bids"), st.sampled_from(BTC_BIDS), st.sampled_from(SIZES)),
)
book_op = st.one_of(
    st.tuples(st.just("update"), st.lists(change, max_size=4), st.integers(1, 9)),
    st.tuples(st.just("heartbeat"), st.just([]), st.just(0)),
    st.tuples(st.just("reset"), st.lists(change, max_size=2), st.just(0)),
    st.tuples(st.just("snapshot"), st.just([]), st.just(0)),
)


def book_stream(
    channel: str, ops: list[tuple[str, list[Any], int]], checksums: bool
) -> list[dict[str, Any]]:
    """A valid books/books-l2-tbt stream: a snapshot, then linked diffs (as OKX sends)."""
    book: dict[str, dict[str, str]] = {"asks": {}, "bids": {}}
    seq = 10_000_000
    base = seq
    arg = {"channel": channel, "instId": "BTC-USDT"}

    def cs() -> int:
        if not checksums:
            return 0
        asks = sorted(book["asks"].items(), key=lambda kv: float(kv[0]))
        bids = sorted(book["bids"].items(), key=lambda kv: -float(kv[0]))
        return reference_checksum(bids, asks)

    def snapshot(ts: int) -> dict[str, Any]:
        levels = {side: [[p, s, "0", "1"] for p, s in book[side].items()] for side in book}
        element = {**levels, "ts": str(ts), "checksum": cs(), "prevSeqId": -1, "seqId": seq}
        return {"arg": dict(arg), "action": "snapshot", "data": [element]}

    out = [snapshot(0)]
    for n, (kind, changes, step) in enumerate(ops, 1):
        if kind == "snapshot":
            out.append(snapshot(n))
            continue
        prev = seq
        if kind == "reset":
            base -= 100_000
            seq = base
        else:
            seq += step
        levels: dict[str, list[list[str]]] = {"asks": [], "bids": []}
        for side, px, sz in changes:
            levels[side].append([px, sz, "0", "1"])
            if sz == "0":
                book[side].pop(px, None)
            else:
                book[side][px] = sz
        element = {**levels, "ts": str(n), "checksum": cs(), "prevSeqId": prev, "seqId": seq}
        out.append({"arg": dict(arg), "action": "update", "data": [element]})
    return out


def books5_push(levels: list[tuple[str, str]], ts: int) -> dict[str, Any]:
    asks = [[p, s, "0", "1"] for p, s in levels if float(p) > 205]
    bids = [[p, s, "0", "1"] for p, s in levels if float(p) <= 205]
    element = {"asks": asks, "bids": bids, "instId": "ETH-USDT", "ts": str(ts), "seqId": ts}
    return push("books5", [element], instId="ETH-USDT")


books5 = st.lists(
    st.lists(
        st.tuples(
            st.sampled_from(["201", "202.5", "204", "206", "207.5", "209"]),
            st.sampled_from(["1", "3"]),
        ),
        max_size=6,
        unique_by=lambda level: level[0],
    ),
    max_size=4,
).map(lambda pushes: [books5_push(levels, 100 + i) for i, levels in enumerate(pushes)])


@st.composite
def streams(draw: st.DrawFn) -> list[dict[str, Any]]:
    channel = draw(st.sampled_from(["books", "books-l2-tbt", "books50-l2-tbt"]))
    ops = draw(st.lists(book_op, max_size=12))
    checksums = draw(st.booleans())
    parts = [
        book_stream(channel, ops, checksums) if draw(st.booleans()) else [],
        draw(books5),
        draw(st.lists(OTHER, max_size=25)),
    ]
    # interleave the three streams, keeping each in order
    merged: list[dict[str, Any]] = []
    while any(parts):
        live = [p for p in parts if p]
        merged.append(draw(st.sampled_from(live)).pop(0))
    return merged


def feed(messages: list[dict[str, Any]]) -> tuple[OKXDataStore, pybotters.OKXDataStore]:
    ours = OKXDataStore()
    theirs = pybotters.OKXDataStore()
    for msg in messages:
        ours.onmessage(copy.deepcopy(msg))
        theirs.onmessage(copy.deepcopy(msg))
    return ours, theirs


COMPARED = [name for name in OKXDataStore() if name not in ("books", "balance_and_position")]


@settings(max_examples=400, deadline=None)
@given(messages=streams())
def test_every_store_equals_pybotters(messages: list[dict[str, Any]]) -> None:
    ours, theirs = feed(messages)
    for name in COMPARED:
        assert ours[name].find() == theirs[name].find(), name

    bp_ours, bp_theirs = ours.balance_and_position, theirs.balance_and_position
    assert bp_ours.balance.find() == bp_theirs.balance.find()
    assert bp_ours.position.find() == bp_theirs.position.find()
    sent = [m["data"][0] for m in messages if m["arg"]["channel"] == "balance_and_position"]
    assert bp_ours.find() == sent  # as received; pybotters' raw pushes get rewritten
    assert len(bp_ours) == len(bp_theirs)

    books, reference = ours.books, theirs.books
    assert books.find() == reference.find()
    assert books.sorted() == reference.sorted()
    assert books.sorted(limit=2) == reference.sorted(limit=2)
    for inst in ("BTC-USDT", "ETH-USDT"):
        query = {"instId": inst}
        assert books.sorted(query) == reference.sorted(query)
        assert books.sorted(query, limit=3) == reference.sorted(query, limit=3)
        assert books.find(query) == reference.find(query)
    assert books.checksum == reference.checksum
    assert books.ts == reference.ts
    for inst in {m["arg"].get("instId") for m in messages if m["arg"]["channel"][:5] == "books"}:
        assert books.is_synced(inst)
    assert ours.take_resync_requests() == []


# ------------------------------------------------------------------ initialize


class _Response:
    """The two things pybotters' initialize reads from an aiohttp response."""

    def __init__(self, url: str, body: Any) -> None:
        self.url = yarl.URL(url)
        self._body = body

    async def json(self) -> Any:
        return self._body


async def _awaitable(response: _Response) -> _Response:
    return response


algo_row = st.builds(
    lambda n, kind, f: {"algoId": n, "ordType": kind, "state": "live", **f},
    st.sampled_from(["1", "2", "3", "4"]),
    st.sampled_from(["conditional", "oco", "trigger", "iceberg", "twap", "move_order_stop"]),
    fields("sz", "px"),
)
order_row = keyed("ordId", ["1", "2", "3"], ("state", "px", "sz"))
responses = st.lists(
    st.one_of(
        st.builds(
            lambda rows, code: ("/api/v5/trade/orders-pending", {"code": code, "data": rows}),
            st.lists(order_row, max_size=3),
            st.sampled_from(["0", "50001"]),
        ),
        st.builds(
            lambda rows: ("/api/v5/trade/orders-algo-pending", {"code": "0", "data": rows}),
            st.lists(algo_row, max_size=4),
        ),
    ),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(stream=st.lists(st.one_of(orders_push, algo_push, advance_push), max_size=4), rs=responses)
def test_initialize_equals_pybotters(stream: list[dict[str, Any]], rs: list[Any]) -> None:
    ours, theirs = feed(stream)
    base = "https://www.okx.com"

    async def initialize_theirs() -> None:
        for path, body in rs:  # one at a time: pybotters applies them as they complete
            await theirs.initialize(_awaitable(_Response(base + path, copy.deepcopy(body))))

    asyncio.run(initialize_theirs())
    ours.initialize_nowait(*(RestResponse(base + path, copy.deepcopy(body)) for path, body in rs))
    for name in ("orders", "orders-algo", "algo-advance"):
        assert ours[name].find() == theirs[name].find(), name


@pytest.mark.parametrize(
    "channel", ["candle", "mark-price-candle", "index-candle", "books", "bookswhatever"]
)
def test_prefix_routing_equals_pybotters(channel: str) -> None:
    data: Any = [["1", "2"]]
    if channel.startswith("books"):
        data = [{"asks": [["1", "2", "0", "1"]], "bids": [], "ts": "1"}]
    ours, theirs = feed([push(channel, data, instId="X")])
    for name in ours:
        if name != "balance_and_position":
            assert ours[name].find() == theirs[name].find(), name


# ------------------------------------------------------------------ watch()


def _drain_pybotters(stream: Any) -> list[tuple[str, Any, Any]]:
    # pybotters' StoreStream wraps an unbounded asyncio.Queue (inventory §1.8).
    out = []
    while not stream._queue.empty():
        change = stream._queue.get_nowait()
        out.append((change.operation, change.source, change.data))
    return out


@settings(max_examples=200, deadline=None)
@given(
    channel=st.sampled_from(["books", "books-l2-tbt", "books50-l2-tbt"]),
    ops=st.lists(book_op, max_size=10),
    pushes=books5,
)
def test_book_changes_equal_pybotters(
    channel: str, ops: list[Any], pushes: list[dict[str, Any]]
) -> None:
    # A snapshot replaces the instrument's levels; pybotters deletes them, then
    # _update()s the new ones, as botters' watchers see too (deletes, then updates).
    ours, theirs = OKXDataStore(), pybotters.OKXDataStore()
    our_changes: list[Any] = []
    their_changes: list[Any] = []

    async def main() -> None:
        with ours.books.watch(maxsize=1_000_000) as mine:
            their_stream = theirs.books.watch()
            for msg in [*book_stream(channel, ops, False), *pushes]:
                ours.onmessage(copy.deepcopy(msg))
                theirs.onmessage(copy.deepcopy(msg))
                our_changes.extend(
                    (c.operation, c.source, c.data) for c in iter(mine.get_nowait, None)
                )
                their_changes.extend(_drain_pybotters(their_stream))

    asyncio.run(main())
    assert our_changes == their_changes
