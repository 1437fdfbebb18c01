"""Properties of the book streams: for any seed, the messages rebuild the simulator's book."""

from __future__ import annotations

import asyncio
import json
import zlib
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botters.simulator import MarketSpec, Simulator
from botters.simulator._books import BookView
from botters.simulator._market import Market
from botters.simulator._okx_shapes import checksum, checksum_text

from ._venues import Book, Feed, bybit_headers, okx_checksum, okx_headers
from .conftest import rest_headers

DEEP_LINEAR = MarketSpec(
    product_code="BTCUSDT",
    start_price="65000.00",
    price_step="0.10",
    size_step="0.001",
    depth=80,
    margin=True,
)
DEEP_SWAP = MarketSpec(
    product_code="BTC-USDT-SWAP",
    start_price="65000.0",
    price_step="0.1",
    size_step="0.01",
    depth=40,
    margin=True,
)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    ticks=st.integers(0, 80),
    depth=st.sampled_from([1, 5, 20, 50, None]),
)
def test_view_diffs_rebuild_the_top_levels(seed: int, ticks: int, depth: int | None) -> None:
    market = Market(DEEP_LINEAR, seed)
    view = BookView(market, depth)
    bids, asks = (dict(side) for side in view.levels())
    for i in range(ticks):
        market.step(1_700_000_000.0 + i, to_ticks=market.fair + 30 if i == ticks // 2 else None)
        diff = view.advance()
        if diff is None:
            continue
        for book, changes in ((bids, diff.bids), (asks, diff.asks)):
            for price, size in changes:
                if size:
                    book[price] = size
                else:
                    assert price in book  # only levels the client holds are removed
                    del book[price]
    top_bids, top_asks = market.levels(depth)
    assert sorted(bids.items(), reverse=True) == top_bids
    assert sorted(asks.items()) == top_asks


def run(exchange: str, spec: MarketSpec, seed: int, main: Any) -> None:
    async def go() -> None:
        async with (
            Simulator(exchange=exchange, seed=seed, tick_interval=None, products=[spec]) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.ws_url) as ws,
        ):
            await main(sim, Feed(ws))

    asyncio.run(go())


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), ticks=st.integers(1, 60), depth=st.sampled_from([1, 50, 200]))
def test_bybit_messages_rebuild_the_book(seed: int, ticks: int, depth: int) -> None:
    topic = f"orderbook.{depth}.BTCUSDT"

    async def main(sim: Simulator, feed: Feed) -> None:
        await feed.request({"op": "subscribe", "args": [topic]})
        book = Book()
        u = None
        sim.advance(ticks)
        for frame in [await feed.next(), *await feed.flush_bybit()]:
            data = frame["data"]
            if frame["type"] == "snapshot":
                book.reset(data["b"], data["a"])
            else:
                book.apply(data["b"], data["a"])
            assert u is None or data["u"] == u + 1
            u = data["u"]
            assert len(book.bids) <= depth
            assert len(book.asks) <= depth
        assert book.levels() == sim.book_levels("BTCUSDT", depth)

    run("bybit", DEEP_LINEAR, seed, main)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), ticks=st.integers(1, 60))
def test_okx_messages_rebuild_the_book_and_every_checksum_holds(seed: int, ticks: int) -> None:
    async def main(sim: Simulator, feed: Feed) -> None:
        await feed.request(
            {"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT-SWAP"}]}
        )
        book = Book()
        seq_id = None
        sim.advance(ticks)
        for frame in [await feed.next(), *await feed.flush_okx()]:
            (data,) = frame["data"]
            if frame["action"] == "snapshot":
                assert data["prevSeqId"] == -1
                book.reset(data["bids"], data["asks"])
            else:
                assert data["prevSeqId"] == seq_id
                assert data["seqId"] >= data["prevSeqId"]
                book.apply(data["bids"], data["asks"])
            seq_id = data["seqId"]
            assert data["checksum"] == okx_checksum(*book.top())
        assert book.levels() == sim.book_levels("BTC-USDT-SWAP")

    run("okx", DEEP_SWAP, seed, main)


price = st.decimals(min_value=1, max_value=10**6, places=2).map(
    lambda d: format(d.normalize(), "f")
)
size = st.decimals(min_value="0.01", max_value=1000, places=2).map(
    lambda d: format(d.normalize(), "f")
)
side = st.lists(st.tuples(price, size).map(lambda t: [t[0], t[1], "0", "1"]), max_size=40)


@given(bids=side, asks=side)
def test_checksum_interleaves_the_top_25_and_reads_as_signed(
    bids: list[list[str]], asks: list[list[str]]
) -> None:
    text = checksum_text(bids, asks)
    expected: list[str] = []
    for i in range(max(len(bids), len(asks), 0)):
        for levels in (bids, asks):
            if i < min(len(levels), 25):
                expected += levels[i][:2]
    assert text == ":".join(expected)
    value = checksum(bids, asks)
    assert -(2**31) <= value < 2**31
    assert value % 2**32 == zlib.crc32(text.encode())
    assert value == okx_checksum(bids, asks)


def test_checksum_of_the_documented_uneven_book() -> None:
    # OKX's example: three bids, two asks; the third bid follows the last ask.
    bids = [["3366.1", "7", "0", "3"], ["3366", "6", "3", "4"], ["3365", "5", "0", "1"]]
    asks = [["3366.8", "9", "10", "3"], ["3368", "8", "3", "4"]]
    assert checksum_text(bids, asks) == "3366.1:7:3366.8:9:3366:6:3368:8:3365:5"


# ------------------------------------------------- any input, a live connection

WORDS = st.sampled_from(
    [
        "subscribe",
        "unsubscribe",
        "auth",
        "login",
        "ping",
        "books",
        "orders",
        "BTCUSDT",
        "BTC-USDT-SWAP",
        "FX_BTC_JPY",
        "orderbook.50.BTCUSDT",
        "btcusdt@depth@100ms",
        "btcusdt@trade",
        "combined",
        "lightning_board_FX_BTC_JPY",
        "ANY",
    ]
)
OPS = st.sampled_from(["subscribe", "subscribe", "unsubscribe", "auth", "login", "ping"])
METHODS = st.sampled_from(
    ["SUBSCRIBE", "SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY"]
)
OP = st.one_of(OPS, OPS, OPS, st.none(), st.text(max_size=6))
"""Mostly a real op: that is where the request handling is."""
LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.text(max_size=8), WORDS
)
JSON = st.recursive(
    LEAF,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.one_of(WORDS, st.sampled_from(["channel", "instId", "instType"])), inner, max_size=3
        )
    ),
    max_leaves=10,
)
REQUESTS = {
    "bitflyer": st.fixed_dictionaries(
        {
            "jsonrpc": st.just("2.0"),
            "id": LEAF,
            "method": OP,
            "params": st.fixed_dictionaries({"channel": st.one_of(WORDS, JSON)}) | JSON,
        }
    ),
    "bybit": st.fixed_dictionaries(
        {
            "op": OP,
            "args": st.lists(st.one_of(WORDS, JSON), min_size=1, max_size=3) | JSON,
            "req_id": LEAF,
        }
    ),
    "okx": st.fixed_dictionaries(
        {
            "op": OP,
            "args": st.lists(
                st.fixed_dictionaries(
                    {"channel": st.one_of(WORDS, LEAF)},
                    optional={"instId": st.one_of(WORDS, JSON), "instType": st.one_of(WORDS, JSON)},
                )
                | JSON,
                max_size=3,
            ),
        }
    ),
    "binance": st.fixed_dictionaries(
        {
            "method": st.one_of(METHODS, METHODS, st.none(), st.text(max_size=6)),
            "params": st.lists(st.one_of(WORDS, LEAF), max_size=3) | JSON,
            "id": LEAF,
        }
    ),
}
REQUESTS["binanceusdsm"] = REQUESTS["binance"]
PATHS = {
    "bitflyer": ["/json-rpc"],
    "bybit": ["/v5/public/linear", "/v5/public/spot", "/v5/private"],
    "okx": ["/ws/v5/public", "/ws/v5/private"],
    "binance": ["/ws", "/stream?streams=btcusdt@depth@100ms", "/ws/btcusdt@trade"],
    "binanceusdsm": ["/ws", "/stream?streams=btcusdt@depth@500ms", "/ws/btcusdt@aggTrade"],
}
SENTINEL = {
    "bitflyer": '{"jsonrpc":"2.0","id":"end","method":"unsubscribe","params":{"channel":"x"}}',
    "bybit": '{"op":"ping","req_id":"end"}',
    "okx": "ping",
    "binance": '{"method":"LIST_SUBSCRIPTIONS","id":"end"}',
    "binanceusdsm": '{"method":"LIST_SUBSCRIPTIONS","id":"end"}',
}


@pytest.mark.parametrize("exchange", list(PATHS))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_any_frames_get_answers_and_never_break_the_connection(
    exchange: str, data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(PATHS[exchange]))
    frames = data.draw(
        st.lists(
            REQUESTS[exchange].map(json.dumps) | JSON.map(json.dumps) | st.text(max_size=12),
            max_size=6,
        )
    )

    base, sep, query = path.partition("?")

    async def main() -> None:
        async with (
            Simulator(exchange=exchange, tick_interval=None) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.ws_url_for(base) + sep + query) as ws,
        ):
            for frame in frames:
                await ws.send_str(frame)
            sim.advance(2)
            await ws.send_str(SENTINEL[exchange])
            while True:
                msg = await ws.receive(timeout=10)
                assert msg.type is aiohttp.WSMsgType.TEXT, (msg, frames)
                if msg.data == "pong" or '"end"' in msg.data:
                    break
            assert sim.connections[0].open

    asyncio.run(main())


VALUE = st.one_of(
    st.lists(LEAF, max_size=2),
    st.dictionaries(st.text(max_size=3), LEAF, max_size=2),
    LEAF,
    st.sampled_from(
        ["BUY", "Buy", "buy", "LIMIT", "Limit", "limit", "linear", "cross", "0.01", "1"]
    ),
)
ORDER_KEYS = {
    "bitflyer": [
        "product_code",
        "side",
        "child_order_type",
        "size",
        "price",
        "child_order_acceptance_id",
        "child_order_id",
        "minute_to_expire",
        "time_in_force",
    ],
    "bybit": [
        "category",
        "symbol",
        "side",
        "orderType",
        "qty",
        "price",
        "timeInForce",
        "orderLinkId",
        "orderId",
    ],
    "okx": ["instId", "tdMode", "side", "ordType", "sz", "px", "clOrdId", "ordId"],
}
BODIES = {
    exchange: st.fixed_dictionaries({}, optional=dict.fromkeys(keys, VALUE)) | JSON
    for exchange, keys in ORDER_KEYS.items()
}
ORDER_PATHS = {
    "bitflyer": ["/v1/me/sendchildorder", "/v1/me/cancelchildorder"],
    "bybit": ["/v5/order/create", "/v5/order/cancel"],
    "okx": ["/api/v5/trade/order", "/api/v5/trade/cancel-order"],
}


def signed(exchange: str, path: str, body: str) -> dict[str, str]:
    if exchange == "bitflyer":
        return rest_headers("POST", path, body)
    if exchange == "bybit":
        return bybit_headers(body)
    return okx_headers("POST", path, body)


@pytest.mark.parametrize("exchange", list(ORDER_PATHS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_signed_order_body_gets_the_exchanges_answer(
    exchange: str, data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(ORDER_PATHS[exchange]))
    body = json.dumps(data.draw(BODIES[exchange]))

    async def main() -> None:
        async with (
            Simulator(exchange=exchange, tick_interval=None) as sim,
            aiohttp.ClientSession() as s,
            s.post(
                sim.rest_url + path, data=body.encode(), headers=signed(exchange, path, body)
            ) as r,
        ):
            assert r.status in (200, 400), (r.status, await r.text())
            text = await r.text()
            if text:
                json.loads(text)

    asyncio.run(main())
