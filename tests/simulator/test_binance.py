"""The Binance Spot dialect over real local connections: streams, book sync, listenKeys, orders.

Signatures are made here by hand from Binance's documented rule (hex HMAC of
the query string followed by the body), and separately by botters' signer.
The book client is the plainest version of Binance's documented algorithm.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import ssl
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import yarl
from hypothesis import given, settings
from hypothesis import strategies as st

import botters
from botters.simulator import (
    DEMO_APIS_BY_EXCHANGE,
    Fault,
    RestFault,
    Simulator,
    make_tls_contexts,
)

KEY, SECRET = DEMO_APIS_BY_EXCHANGE["binance"]["binance"]
SYMBOL = "BTCUSDT"
DEPTH = "btcusdt@depth@100ms"
Levels = list[tuple[str, str]]
Main = Callable[[Simulator, aiohttp.ClientSession], Awaitable[None]]


def run(main: Main, **options: Any) -> None:
    async def go() -> None:
        options.setdefault("tick_interval", None)
        async with Simulator(exchange="binance", **options) as sim, aiohttp.ClientSession() as s:
            await main(sim, s)

    asyncio.run(go())


def sign(params: dict[str, Any], *, secret: str = SECRET, body: str = "") -> str:
    """A signed query string: ``params`` (a timestamp added) and ``signature`` last."""
    params = {"timestamp": int(time.time() * 1000), **params}
    query = urlencode(params)
    digest = hmac.new(secret.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
    return f"{query}&signature={digest}"


async def call(
    s: aiohttp.ClientSession,
    sim: Simulator,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    key: str = KEY,
    query: str | None = None,
    body: str = "",
) -> tuple[int, Any]:
    """A SIGNED request by hand (``query`` as given, or signed from ``params``)."""
    text = query if query is not None else sign(params or {}, body=body)
    url = yarl.URL(f"{sim.rest_url}{path}?{text}", encoded=True)
    headers = {"X-MBX-APIKEY": key}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    async with s.request(method, url, data=body.encode(), headers=headers) as r:
        return r.status, await r.json()


async def user_stream(
    s: aiohttp.ClientSession, sim: Simulator, method: str, listen_key: str = "", key: str = KEY
) -> tuple[int, Any]:
    query = f"?listenKey={listen_key}" if listen_key else ""
    url = f"{sim.rest_url}/api/v3/userDataStream{query}"
    async with s.request(method, url, headers={"X-MBX-APIKEY": key}) as r:
        return r.status, await r.json()


async def depth(
    s: aiohttp.ClientSession, sim: Simulator, limit: int = 1000, age: int | None = None
) -> dict[str, Any]:
    if age is not None:
        sim.inject_rest(RestFault(book_age=age), path="/api/v3/depth")
    async with s.get(f"{sim.rest_url}/api/v3/depth?symbol={SYMBOL}&limit={limit}") as r:
        assert r.status == 200
        return await r.json()  # type: ignore[no-any-return]


class Stream:
    """JSON frames from a plain aiohttp WebSocket to the simulator."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    async def next(self, timeout: float = 10.0) -> Any:
        msg = await self.ws.receive(timeout=timeout)
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        return json.loads(msg.data)

    async def request(self, method: str, params: Any = None) -> Any:
        """Send a request with a fresh id; return its reply (no data may come before it)."""
        request_id = next(self._ids)
        message: dict[str, Any] = {"method": method, "id": request_id}
        if params is not None:
            message["params"] = params
        await self.ws.send_json(message)
        reply = await self.next()
        assert reply.get("id") == request_id, reply
        return reply

    async def flush(self) -> list[Any]:
        """Every frame queued before now: ``LIST_SUBSCRIPTIONS`` and read up to its reply."""
        request_id = f"flush-{next(self._ids)}"
        await self.ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": request_id})
        out = []
        while (frame := await self.next()).get("id") != request_id:
            out.append(frame)
        return out


class Gap(Exception):
    """The diff stream skipped updates: the book must be fetched again."""


class LocalBook:
    """Binance's documented local order book, strict about both readings of its step 5."""

    def __init__(self, snapshot: dict[str, Any], buffered: list[dict[str, Any]]) -> None:
        last = snapshot["lastUpdateId"]
        if buffered and last < buffered[0]["U"]:
            raise Gap("the snapshot is older than the first buffered event")  # step 4
        kept = [e for e in buffered if e["u"] > last]  # step 5 (spot: drop u <= lastUpdateId)
        if kept:
            first = kept[0]
            # Spot step 5: lastUpdateId within [U; u]; USDⓈ-M: U <= lastUpdateId <= u.
            assert first["U"] <= last <= first["u"], (first["U"], last, first["u"])
        self.bids: dict[str, str] = dict(snapshot["bids"])
        self.asks: dict[str, str] = dict(snapshot["asks"])
        self.update_id = last
        self.applied = 0
        for event in kept:
            self.apply(event)

    def apply(self, event: dict[str, Any]) -> None:
        """The update procedure."""
        if event["u"] < self.update_id:
            return
        if event["U"] > self.update_id + 1:
            raise Gap(f"U {event['U']} after {self.update_id}")
        for side, levels in ((self.bids, event["b"]), (self.asks, event["a"])):
            for price, qty in levels:
                if Decimal(qty) == 0:
                    side.pop(price, None)  # removing a level not held is normal
                else:
                    side[price] = qty
        self.update_id = event["u"]
        self.applied += 1

    def levels(self) -> tuple[Levels, Levels]:
        bids = sorted(self.bids.items(), key=lambda kv: Decimal(kv[0]), reverse=True)
        asks = sorted(self.asks.items(), key=lambda kv: Decimal(kv[0]))
        return bids, asks


# ------------------------------------------------------------------ market data


def test_addresses_products_and_printing() -> None:
    sim = Simulator(exchange="binance")
    assert sim.products == (SYMBOL,)
    assert sim.hosts == ("api.binance.com", "stream.binance.com")
    assert sim.apis == {"binance": (KEY, SECRET)}
    with Simulator(exchange="binance", tick_interval=None) as sim:
        assert sim.ws_url == f"ws://127.0.0.1:{sim.port}/ws"
        assert sim.ws_url_for(f"/ws/{DEPTH}") == f"ws://127.0.0.1:{sim.port}/ws/{DEPTH}"
        assert sim.ws_url_for("/stream").endswith("/stream")
        for bad in ("/nope", "/ws/a/b", "/ws/"):
            with pytest.raises(ValueError, match="no WebSocket"):
                sim.ws_url_for(bad)
        bids, asks = sim.book_levels(SYMBOL)
        assert all(len(p.split(".")[1]) == 8 and len(q.split(".")[1]) == 8 for p, q in bids + asks)
        assert sim.positions() == []
    with pytest.raises(RuntimeError, match="no listenKey"):
        Simulator(exchange="bybit").user_stream_requests()


def test_raw_stream_diffs_link_and_follow_the_book() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.ws_connect(sim.ws_url_for(f"/ws/{DEPTH}")) as ws:
            stream = Stream(ws)
            conn = await sim.wait_for_subscription(DEPTH)
            assert conn.subscriptions == {DEPTH}
            snapshot = await depth(s, sim)
            assert set(snapshot) == {"lastUpdateId", "bids", "asks"}
            book = LocalBook(snapshot, [])
            assert book.levels() == sim.book_levels(SYMBOL)
            sim.advance(30)
            events = await stream.flush()
            assert len(events) >= 25
            previous = None
            for event in events:
                assert list(event) == ["e", "E", "s", "U", "u", "b", "a"]
                assert event["e"] == "depthUpdate"
                assert event["s"] == SYMBOL
                assert event["U"] <= event["u"]
                assert previous is None or event["U"] == previous + 1
                previous = event["u"]
                book.apply(event)
            assert book.applied == len(events)
            assert book.levels() == sim.book_levels(SYMBOL)

    run(main, seed=2)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    early=st.integers(0, 4),
    before=st.integers(1, 12),
    after=st.integers(0, 12),
    age=st.integers(0, 14),
)
def test_the_documented_algorithm_rebuilds_the_book_from_any_snapshot(
    seed: int, early: int, before: int, after: int, age: int
) -> None:
    """Buffer, fetch a snapshot (maybe ``age`` events old), replay: the book is the truth."""

    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        sim.advance(early)  # events the client never sees
        async with s.ws_connect(sim.ws_url_for("/ws")) as ws:
            stream = Stream(ws)
            assert await stream.request("SUBSCRIBE", [DEPTH]) == {"result": None, "id": 1}
            sim.advance(before)
            buffered = await stream.flush()
            snapshot = await depth(s, sim, age=age)
            try:
                book = LocalBook(snapshot, buffered)
            except Gap:
                assert age > len(buffered)  # older than anything buffered: fetch again
                book = LocalBook(await depth(s, sim), buffered)
            else:
                assert book.applied == min(age, len(buffered))
            sim.advance(after)
            for event in await stream.flush():
                book.apply(event)
            assert book.levels() == sim.book_levels(SYMBOL)

    run(main, seed=seed)


def test_snapshot_before_subscribing_lies_in_the_first_event() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        sim.advance(3)
        snapshot = await depth(s, sim, limit=5)
        assert len(snapshot["bids"]) == len(snapshot["asks"]) == 5
        snapshot = await depth(s, sim)
        async with s.ws_connect(sim.ws_url_for(f"/ws/{DEPTH}")) as ws:
            stream = Stream(ws)
            await sim.wait_for_subscription(DEPTH)
            sim.advance(1)
            (first,) = await stream.flush()
            assert first["U"] <= snapshot["lastUpdateId"] < first["u"]
            book = LocalBook(snapshot, [first])
            assert book.levels() == sim.book_levels(SYMBOL)

    run(main, seed=9)


def test_a_skipped_diff_is_a_gap_and_a_new_snapshot_resyncs() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.ws_connect(sim.ws_url_for(f"/ws/{DEPTH}")) as ws:
            stream = Stream(ws)
            conn = await sim.wait_for_subscription(DEPTH)
            book = LocalBook(await depth(s, sim), [])
            conn.inject(Fault(skip_diff_after=3))
            sim.advance(8)
            events = await stream.flush()
            assert len(events) == 7
            assert sim.stats.diffs_skipped == 1
            for event in events[:3]:
                book.apply(event)
            with pytest.raises(Gap):
                book.apply(events[3])
            assert events[3]["U"] > events[2]["u"] + 1
            # Restart: buffer from now, fetch a snapshot, replay.
            sim.advance(2)
            buffered = await stream.flush()
            book = LocalBook(await depth(s, sim, age=1), buffered)
            assert book.applied == 1
            assert book.levels() == sim.book_levels(SYMBOL)

    run(main, seed=4)


def test_combined_streams_trades_book_ticker_and_partial_books() -> None:
    names = [
        "btcusdt@trade",
        "btcusdt@aggTrade",
        "btcusdt@bookTicker",
        "btcusdt@depth5",
        "btcusdt@ticker",
    ]

    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        url = f"{sim.ws_url_for('/stream')}?streams={'/'.join(names)}"
        async with s.ws_connect(url) as ws:
            stream = Stream(ws)
            conn = await sim.wait_for_subscription("btcusdt@bookTicker")
            assert conn.subscriptions == set(names)
            sim.advance(20)
            frames = await stream.flush()
            seen = {f["stream"] for f in frames}
            assert seen == set(names)
            for frame in frames:
                assert set(frame) == {"stream", "data"}
                data = frame["data"]
                if frame["stream"] == "btcusdt@trade":
                    assert set(data) == {"e", "E", "s", "t", "p", "q", "T", "m", "M"}
                    assert data["e"] == "trade"
                elif frame["stream"] == "btcusdt@aggTrade":
                    assert data["e"] == "aggTrade"
                    assert data["f"] == data["l"] == data["a"]
                elif frame["stream"] == "btcusdt@bookTicker":
                    assert set(data) == {"u", "s", "b", "B", "a", "A"}
                elif frame["stream"] == "btcusdt@ticker":
                    assert data["e"] == "24hrTicker"
                    assert Decimal(data["l"]) <= Decimal(data["c"]) <= Decimal(data["h"])
                else:
                    assert set(data) == {"lastUpdateId", "bids", "asks"}
                    assert len(data["bids"]) == len(data["asks"]) == 5
            trades = [f["data"] for f in frames if f["stream"] == "btcusdt@trade"]
            day = [f["data"] for f in frames if f["stream"] == "btcusdt@ticker"][-1]
            assert (day["c"], day["Q"], day["n"]) == (trades[-1]["p"], trades[-1]["q"], len(trades))
            last_ticker = [f["data"] for f in frames if f["stream"] == "btcusdt@bookTicker"][-1]
            ticker = sim.ticker(SYMBOL)
            assert last_ticker["s"] == ticker["symbol"] == SYMBOL
            assert (last_ticker["b"], last_ticker["a"]) == (ticker["bidPrice"], ticker["askPrice"])
            bids, asks = sim.book_levels(SYMBOL, 1)
            assert (last_ticker["b"], last_ticker["B"]) == bids[0]
            assert (last_ticker["a"], last_ticker["A"]) == asks[0]
            last_partial = [f["data"] for f in frames if f["stream"] == "btcusdt@depth5"][-1]
            five = sim.book_levels(SYMBOL, 5)
            assert [tuple(lv) for lv in last_partial["bids"]] == five[0]
            assert [tuple(lv) for lv in last_partial["asks"]] == five[1]
            async with s.get(f"{sim.rest_url}/api/v3/ticker/bookTicker?symbol={SYMBOL}") as r:
                assert await r.json() == sim.ticker(SYMBOL)

    run(main, seed=6)


def test_requests_on_a_stream_connection() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.ws_connect(sim.ws_url) as ws:
            stream = Stream(ws)
            assert await stream.request("SUBSCRIBE", [DEPTH, "btcusdt@trade"]) == {
                "result": None,
                "id": 1,
            }
            reply = await stream.request("LIST_SUBSCRIPTIONS")
            assert reply == {"result": ["btcusdt@depth@100ms", "btcusdt@trade"], "id": 2}
            assert (await stream.request("UNSUBSCRIBE", ["btcusdt@trade"]))["result"] is None
            assert (await stream.request("GET_PROPERTY", ["combined"]))["result"] is False
            assert (await stream.request("SET_PROPERTY", ["combined", True]))["result"] is None
            sim.advance(1)
            (frame,) = await stream.flush()
            assert frame["stream"] == DEPTH
            assert frame["data"]["e"] == "depthUpdate"
            refused = await stream.request("SUBSCRIBE", ["nosuch@trade"])
            assert refused["code"] == 2
            assert (await stream.request("SUBSCRIBE", "btcusdt@trade"))["code"] == 1
            assert (await stream.request("NOPE"))["code"] == 2
            await ws.send_str("not json")
            assert (await stream.next())["code"] == 3
            await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": -1})
            assert (await stream.next())["code"] == 1
            await ws.ping(b"hi")
            reply = await stream.request("LIST_SUBSCRIPTIONS")
            assert reply["result"] == [DEPTH]
            assert sim.open_connections[0].open

    run(main, seed=1)


def test_server_pings_and_drops_a_peer_that_never_pongs() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with (
            s.ws_connect(sim.ws_url_for(f"/ws/{DEPTH}")) as answering,
            s.ws_connect(sim.ws_url_for(f"/ws/{DEPTH}"), autoping=False) as mute,
        ):
            first, second = await sim.wait_for_connections(1), await sim.wait_for_connections(2)
            # The mute client reads (so it sees the PINGs) but never answers them.
            pings = 0

            async def read_mute() -> None:
                nonlocal pings
                while True:
                    msg = await mute.receive()
                    if msg.type is aiohttp.WSMsgType.PING:
                        pings += 1
                    elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        return

            async def read_answering() -> None:
                while True:
                    msg = await answering.receive()
                    if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        return

            readers = [asyncio.create_task(read_mute()), asyncio.create_task(read_answering())]
            await sim.wait_until(lambda _: not second.open)
            assert second.pings_sent == 3
            assert second.pongs_received == 0
            assert first.open
            await sim.wait_until(lambda _: first.pongs_received >= second.pings_sent)
            assert first.pings_sent >= 3
            await readers[0]
            assert pings == 3
            await answering.close()
            await readers[1]

    run(main, ws_ping_interval=0.02)
    with pytest.raises(ValueError, match="ws_ping_interval"):
        Simulator(exchange="binance", ws_ping_interval=-1)


def test_public_rest() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.get(f"{sim.rest_url}/api/v3/time") as r:
            server_time = (await r.json())["serverTime"]
            assert abs(server_time - time.time() * 1000) < 60_000
        async with s.get(f"{sim.rest_url}/api/v3/exchangeInfo?symbol={SYMBOL}") as r:
            info = await r.json()
        (symbol,) = info["symbols"]
        assert symbol["symbol"] == SYMBOL
        assert (symbol["baseAsset"], symbol["quoteAsset"]) == ("BTC", "USDT")
        filters = {f["filterType"]: f for f in symbol["filters"]}
        assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
        assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
        async with s.get(f"{sim.rest_url}/api/v3/depth?symbol=NOPE") as r:
            assert (r.status, await r.json()) == (400, {"code": -1121, "msg": "Invalid symbol."})
        async with s.get(f"{sim.rest_url}/api/v3/depth") as r:
            assert (await r.json())["code"] == -1102
        sim.inject_rest(RestFault(status=503))
        async with s.get(f"{sim.rest_url}/api/v3/depth?symbol={SYMBOL}") as r:
            assert (r.status, (await r.json())["code"]) == (503, -1001)
        with pytest.raises(ValueError, match="book_age"):
            Simulator(exchange="okx").inject_rest(RestFault(book_age=1))
        with pytest.raises(ValueError, match="book_age"):
            RestFault(book_age=-1)

    run(main, seed=1)


# ------------------------------------------------------------------ signed REST


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("good", 200, None),
        ("signature in the body", 200, None),
        ("wrong secret", 400, -1022),
        ("tampered", 400, -1022),
        ("no signature", 400, -1102),
        ("no timestamp", 400, -1102),
        ("stale", 400, -1021),
        ("ahead", 400, -1021),
        ("unknown key", 401, -2015),
        ("no key", 401, -2014),
        ("recvWindow too big", 400, -1131),
    ],
)
def test_rest_signatures(case: str, status: int, code: int | None) -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        key, query, body = KEY, sign({}), ""
        now = int(time.time() * 1000)
        if case == "signature in the body":
            query = f"timestamp={now}"
            digest = hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
            body = f"signature={digest}"
        elif case == "wrong secret":
            query = sign({}, secret="not-the-secret")
        elif case == "tampered":
            query = sign({"recvWindow": 5000}).replace("recvWindow=5000", "recvWindow=6000")
        elif case == "no signature":
            query = f"timestamp={now}"
        elif case == "no timestamp":
            digest = hmac.new(SECRET.encode(), b"recvWindow=5000", hashlib.sha256).hexdigest()
            query = f"recvWindow=5000&signature={digest}"
        elif case == "stale":
            query = sign({"timestamp": now - 10_000})
        elif case == "ahead":
            query = sign({"timestamp": now + 5_000})
        elif case == "unknown key":
            key = "someone-else"
        elif case == "no key":
            key = ""
        elif case == "recvWindow too big":
            query = sign({"recvWindow": 70_000})
        got_status, got = await call(
            s, sim, "GET", "/api/v3/account", key=key, query=query, body=body
        )
        assert got_status == status, got
        if code is None:
            assert got["accountType"] == "SPOT"
        else:
            assert got["code"] == code
            assert SECRET not in json.dumps(got)

    run(main)


def test_orders_push_execution_reports_on_the_user_data_stream() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        status, created = await user_stream(s, sim, "POST")
        assert status == 200
        listen_key = created["listenKey"]
        async with s.ws_connect(sim.ws_url_for(f"/ws/{listen_key}")) as ws:
            stream = Stream(ws)
            await sim.wait_for_subscription(listen_key)
            bids, _ = sim.book_levels(SYMBOL)
            below = Decimal(bids[0][0]) - 50
            body = urlencode(
                {
                    "symbol": SYMBOL,
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": "0.01",
                    "price": f"{below:.2f}",
                    "newClientOrderId": "my-order-1",
                }
            )
            status, placed = await call(s, sim, "POST", "/api/v3/order", body=body)
            assert status == 200, placed
            assert placed["status"] == "NEW"
            assert placed["fills"] == []
            assert placed["clientOrderId"] == "my-order-1"
            order_id = placed["orderId"]
            (new,) = await stream.flush()
            assert new["e"] == "executionReport"
            assert (new["x"], new["X"], new["i"], new["c"]) == (
                "NEW",
                "NEW",
                order_id,
                "my-order-1",
            )
            assert new["p"] == f"{below:.8f}"
            assert new["q"] == "0.01000000"
            status, open_orders = await call(
                s, sim, "GET", "/api/v3/openOrders", {"symbol": SYMBOL}
            )
            assert [o["orderId"] for o in open_orders] == [order_id]
            status, account = await call(s, sim, "GET", "/api/v3/account")
            usdt = next(b for b in account["balances"] if b["asset"] == "USDT")
            assert Decimal(usdt["locked"]) == below * Decimal("0.01")
            # The market falls through the order: it fills at its price, as a maker.
            sim.move_price(SYMBOL, below - 10)
            frames = await stream.flush()
            assert [f["e"] for f in frames] == ["executionReport", "outboundAccountPosition"]
            trade, position = frames
            assert (trade["x"], trade["X"], trade["l"], trade["z"]) == (
                "TRADE",
                "FILLED",
                "0.01000000",
                "0.01000000",
            )
            assert trade["L"] == f"{below:.8f}"
            assert trade["m"] is True
            balances = {b["a"]: b for b in position["B"]}
            assert Decimal(balances["BTC"]["f"]) == Decimal("1.01")
            assert Decimal(balances["USDT"]["l"]) == 0
            status, open_orders = await call(s, sim, "GET", "/api/v3/openOrders")
            assert open_orders == []
            status, queried = await call(
                s, sim, "GET", "/api/v3/order", {"symbol": SYMBOL, "orderId": order_id}
            )
            assert queried["status"] == "FILLED"
            # A market SELL fills at once (a taker); a resting SELL is cancelled.
            status, sold = await call(
                s,
                sim,
                "POST",
                "/api/v3/order",
                {"symbol": SYMBOL, "side": "SELL", "type": "MARKET", "quantity": "0.002"},
            )
            assert sold["status"] == "FILLED"
            assert sold["fills"][0]["price"] == sim.book_levels(SYMBOL, 1)[0][0][0]
            status, resting = await call(
                s,
                sim,
                "POST",
                "/api/v3/order",
                {
                    "symbol": SYMBOL,
                    "side": "SELL",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": "0.5",
                    "price": "99999.00",
                    "newOrderRespType": "ACK",
                },
            )
            assert set(resting) == {
                "symbol",
                "orderId",
                "orderListId",
                "clientOrderId",
                "transactTime",
            }
            status, canceled = await call(
                s,
                sim,
                "DELETE",
                "/api/v3/order",
                {"symbol": SYMBOL, "orderId": resting["orderId"]},
            )
            assert canceled["status"] == "CANCELED"
            frames = await stream.flush()
            kinds = [(f["e"], f.get("x")) for f in frames]
            assert kinds == [
                ("executionReport", "NEW"),
                ("executionReport", "TRADE"),
                ("outboundAccountPosition", None),
                ("executionReport", "NEW"),
                ("executionReport", "CANCELED"),
                ("outboundAccountPosition", None),
            ]
            assert frames[-2]["C"] == resting["clientOrderId"]
            status, again = await call(
                s,
                sim,
                "DELETE",
                "/api/v3/order",
                {"symbol": SYMBOL, "orderId": resting["orderId"]},
            )
            assert (status, again["code"]) == (400, -2011)
            assert [o["status"] for o in sim.child_orders()] == ["CANCELED", "FILLED", "FILLED"]

    run(main, seed=3)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"symbol": "NOPE"}, -1121),
        ({"side": "HOLD"}, -1100),
        ({"type": "STOP"}, -1116),
        ({"timeInForce": None}, -1102),
        ({"timeInForce": "GTX"}, -1115),
        ({"quantity": "0.000001"}, -1013),
        ({"price": "65000.001"}, -1013),
        ({"price": None}, -1102),
        ({"quantity": "abc"}, -1100),
        ({"quantity": "1000"}, -2010),
        ({"side": "SELL", "price": "99999.00", "quantity": "2"}, -2010),
    ],
)
def test_bad_orders(change: dict[str, Any], code: int) -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        params: dict[str, Any] = {
            "symbol": SYMBOL,
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.01",
            "price": "60000.00",
        }
        params.update(change)
        params = {k: v for k, v in params.items() if v is not None}
        status, body = await call(s, sim, "POST", "/api/v3/order", params)
        assert (status, body["code"]) == (400, code), body
        assert sim.child_orders() == []

    run(main)


ORDER_KEYS = (
    *("symbol", "side", "type", "timeInForce", "quantity", "price", "newClientOrderId"),
    *("orderId", "origClientOrderId", "newOrderRespType", "quoteOrderQty"),
)
ORDER_VALUES = st.one_of(
    st.text(max_size=8),
    st.sampled_from(
        ["BTCUSDT", "BUY", "SELL", "LIMIT", "MARKET", "GTC", "IOC", "0.01", "65000.00", "1e3"]
    ),
)


@settings(max_examples=60, deadline=None)
@given(
    params=st.dictionaries(
        st.sampled_from(ORDER_KEYS),
        ORDER_VALUES,
    ),
    method=st.sampled_from(["POST", "DELETE", "GET"]),
    in_body=st.booleans(),
)
def test_any_signed_order_request_gets_a_binance_answer(
    params: dict[str, str], method: str, in_body: bool
) -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        if in_body and method != "GET":
            body = urlencode({"timestamp": int(time.time() * 1000), **params})
            digest = hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
            status, answer = await call(
                s, sim, method, "/api/v3/order", query=f"signature={digest}", body=body
            )
        else:
            status, answer = await call(s, sim, method, "/api/v3/order", params)
        assert status in (200, 400), (status, answer)
        if status == 400:
            assert set(answer) == {"code", "msg"}
            assert answer["code"] not in (-1022, -1021, -2014, -2015)  # signed right
        else:
            assert answer["symbol"] == SYMBOL

    run(main)


# ------------------------------------------------------------------ listenKeys


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_listen_key_lifecycle_and_keepalive_record() -> None:
    clock = FakeClock()

    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        status, body = await user_stream(s, sim, "POST")
        listen_key = body["listenKey"]
        assert len(listen_key) == 64
        assert sim.active_listen_keys() == (listen_key,)
        # POST again: the same key, extended.
        clock.now += 600
        assert (await user_stream(s, sim, "POST"))[1] == {"listenKey": listen_key}
        for _ in range(3):
            clock.now += 1800
            assert await user_stream(s, sim, "PUT", listen_key) == (200, {})
        puts = [r for r in sim.user_stream_requests() if r.method == "PUT"]
        assert [r.accepted for r in puts] == [True, True, True]
        assert [round(b.time - a.time) for a, b in itertools.pairwise(puts)] == [1800, 1800]
        assert {r.listen_key for r in sim.user_stream_requests()} == {listen_key}
        assert (await user_stream(s, sim, "PUT", key="someone-else"))[0] == 401
        assert (await user_stream(s, sim, "PUT"))[1]["code"] == -1102
        # 60 minutes without a keep-alive: expired, and its stream is told.
        async with s.ws_connect(sim.ws_url_for(f"/ws/{listen_key}")) as ws:
            stream = Stream(ws)
            await sim.wait_for_subscription(listen_key)
            clock.now += 3601
            sim.advance(1)
            (expired,) = await stream.flush()
            assert expired["e"] == "listenKeyExpired"
            assert expired["listenKey"] == listen_key
        assert sim.active_listen_keys() == ()
        status, body = await user_stream(s, sim, "PUT", listen_key)
        assert (status, body["code"]) == (400, -1125)
        assert sim.user_stream_requests()[-1].accepted is False
        # A new key; DELETE closes it.
        status, body = await user_stream(s, sim, "POST")
        second = body["listenKey"]
        assert second != listen_key
        assert await user_stream(s, sim, "DELETE", second) == (200, {})
        assert (await user_stream(s, sim, "DELETE", second))[1]["code"] == -1125
        assert sim.active_listen_keys() == ()
        third = (await user_stream(s, sim, "POST"))[1]["listenKey"]
        sim.expire_listen_key(third)
        assert sim.active_listen_keys() == ()
        with pytest.raises(KeyError):
            sim.expire_listen_key("never-made")
        # The refused PUT without a key is not recorded (its key was refused first).
        methods = [r.method for r in sim.user_stream_requests()]
        assert methods == [
            *("POST", "POST", "PUT", "PUT", "PUT", "PUT", "PUT"),
            *("POST", "DELETE", "DELETE", "POST"),
        ]

    run(main, clock=clock)


# ------------------------------------------------------------- through botters


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return make_tls_contexts()


def test_botters_signs_and_streams_at_the_production_urls(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_ctx, client_ctx = tls

    async def main() -> None:
        async with (
            Simulator(
                exchange="binance",
                seed=5,
                tick_interval=None,
                ssl=server_ctx,
                ws_ping_interval=0.05,
            ) as sim,
            botters.Client(
                apis=DEMO_APIS_BY_EXCHANGE["binance"], resolve=sim.resolve, ssl=client_ctx
            ) as client,
        ):
            r = await client.fetch("POST", "https://api.binance.com/api/v3/userDataStream")
            assert r.response.status == 200, r.data
            listen_key = r.data["listenKey"]
            reports: list[Any] = []
            filled = asyncio.Event()

            def on_message(msg: Any, ws: Any) -> None:
                if msg.get("e") == "executionReport":
                    reports.append(msg)
                    if msg["X"] == "FILLED":
                        filled.set()

            app = client.ws_connect(
                f"wss://stream.binance.com:9443/ws/{listen_key}", hdlr_json=on_message
            )
            await app
            await sim.wait_for_subscription(listen_key)
            r = await client.fetch(
                "POST",
                "https://api.binance.com/api/v3/order",
                data={"symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "0.001"},
            )
            assert r.response.status == 200, r.data
            assert r.data["status"] == "FILLED"
            async with asyncio.timeout(10):
                await filled.wait()
            assert [m["x"] for m in reports] == ["NEW", "TRADE"]
            assert {m["i"] for m in reports} == {r.data["orderId"]}
            r = await client.fetch(
                "GET", "https://api.binance.com/api/v3/openOrders", params={"symbol": SYMBOL}
            )
            assert (r.response.status, r.data) == (200, [])
            r = await client.fetch("GET", "https://api.binance.com/api/v3/account")
            btc = next(b for b in r.data["balances"] if b["asset"] == "BTC")
            assert Decimal(btc["free"]) == Decimal("1.001")
            r = await client.fetch(
                "PUT",
                "https://api.binance.com/api/v3/userDataStream",
                params={"listenKey": listen_key},
            )
            assert (r.response.status, r.data) == (200, {})
            assert [q.method for q in sim.user_stream_requests()] == ["POST", "PUT"]
            r = await client.fetch(
                "GET", "https://api.binance.com/api/v3/depth", params={"symbol": SYMBOL}
            )
            assert r.response.status == 200
            assert {"lastUpdateId", "bids", "asks"} == set(r.data)
            # botters answers the server's PINGs (Binance's keep-alive).
            conn = sim.open_connections[0]
            await sim.wait_until(lambda _: conn.pongs_received >= 2)
            assert conn.open
            await app.close()

        wrong = {"binance": [DEMO_APIS_BY_EXCHANGE["binance"]["binance"][0], "wrong-secret"]}
        async with (
            Simulator(exchange="binance", tick_interval=None, ssl=server_ctx) as sim,
            botters.Client(apis=wrong, resolve=sim.resolve, ssl=client_ctx) as client,
        ):
            r = await client.fetch("GET", "https://api.binance.com/api/v3/account")
            assert r.response.status == 400
            assert r.data["code"] == -1022
            assert sim.stats.rest_rejected == 1

    asyncio.run(main())


def test_botters_reconnects_to_the_stream_its_url_names(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_ctx, client_ctx = tls

    async def main() -> None:
        async with (
            Simulator(exchange="binance", seed=8, tick_interval=0.01, ssl=server_ctx) as sim,
            botters.Client(resolve=sim.resolve, ssl=client_ctx) as client,
        ):
            events: list[Any] = []
            app = client.ws_connect(
                f"wss://stream.binance.com:9443/stream?streams={DEPTH}/btcusdt@trade",
                hdlr_json=lambda msg, ws: events.append(msg),
                backoff=(0.01, 0.05, 2.0, 0.0),
            )
            await app
            first = await sim.wait_for_subscription(DEPTH)
            await sim.wait_until(lambda _: first.diffs_offered >= 3)
            first.drop()
            second = await sim.wait_for_connections(2)
            await sim.wait_for_subscription(DEPTH, connection=second)
            assert second.subscriptions == {DEPTH, "btcusdt@trade"}
            await sim.wait_until(lambda _: second.diffs_offered >= 3)
            await app.close()
            assert {e["stream"] for e in events} >= {DEPTH}

    asyncio.run(main())


def test_botters_trio_signs_streams_and_answers_pings(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    import trio

    from botters.trio import Client as TrioClient

    server_ctx, client_ctx = tls

    async def main() -> None:
        async with (
            Simulator(
                exchange="binance",
                seed=2,
                tick_interval=0.01,
                ssl=server_ctx,
                ws_ping_interval=0.05,
            ) as sim,
            TrioClient(
                apis=dict(DEMO_APIS_BY_EXCHANGE["binance"]), resolve=sim.resolve, ssl=client_ctx
            ) as client,
        ):
            r = await client.fetch("POST", "https://api.binance.com/api/v3/userDataStream")
            listen_key = r.data["listenKey"]
            reports: list[Any] = []
            three = trio.Event()

            def on_message(msg: Any, ws: Any) -> None:
                reports.append(msg)
                if len(reports) == 3:
                    three.set()

            app = client.ws_connect(
                f"wss://stream.binance.com:9443/ws/{listen_key}", hdlr_json=on_message
            )
            await app
            conn = await sim.wait_for_subscription(listen_key)
            r = await client.fetch(
                "POST",
                "https://api.binance.com/api/v3/order",
                data={"symbol": SYMBOL, "side": "SELL", "type": "MARKET", "quantity": "0.001"},
            )
            assert r.data["status"] == "FILLED", r.data
            await sim.wait_until(lambda _: conn.pongs_received >= 3 and conn.messages_sent >= 3)
            with trio.fail_after(10):
                await three.wait()
            assert [m["e"] for m in reports] == [
                "executionReport",
                "executionReport",
                "outboundAccountPosition",
            ]
            assert conn.open
            await app.close()

    trio.run(main)
