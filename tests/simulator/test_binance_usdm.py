"""The Binance USDⓈ-M dialect: ``pu``-linked diffs, the futures sync rule, listenKeys, orders."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
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

from .test_binance import Stream

KEY, SECRET = DEMO_APIS_BY_EXCHANGE["binanceusdsm"]["binance"]
SYMBOL = "BTCUSDT"
DEPTH = "btcusdt@depth@100ms"
Levels = list[tuple[str, str]]
Main = Callable[[Simulator, aiohttp.ClientSession], Awaitable[None]]


def run(main: Main, **options: Any) -> None:
    async def go() -> None:
        options.setdefault("tick_interval", None)
        async with (
            Simulator(exchange="binanceusdsm", **options) as sim,
            aiohttp.ClientSession() as s,
        ):
            await main(sim, s)

    asyncio.run(go())


async def call(
    s: aiohttp.ClientSession, sim: Simulator, method: str, path: str, params: dict[str, Any]
) -> tuple[int, Any]:
    query = urlencode({"timestamp": int(time.time() * 1000), **params})
    digest = hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
    url = yarl.URL(f"{sim.rest_url}{path}?{query}&signature={digest}", encoded=True)
    async with s.request(method, url, headers={"X-MBX-APIKEY": KEY}) as r:
        return r.status, await r.json()


async def depth(s: aiohttp.ClientSession, sim: Simulator, age: int | None = None) -> dict[str, Any]:
    if age is not None:
        sim.inject_rest(RestFault(book_age=age), path="/fapi/v1/depth")
    async with s.get(f"{sim.rest_url}/fapi/v1/depth?symbol={SYMBOL}&limit=1000") as r:
        assert r.status == 200
        return await r.json()  # type: ignore[no-any-return]


class Resync(Exception):
    """The book must be initialised again (Binance's futures rule)."""


class FuturesBook:
    """Binance's documented USDⓈ-M local book: drop ``u < id``, first ``U <= id <= u``, ``pu``."""

    def __init__(self, snapshot: dict[str, Any], buffered: list[dict[str, Any]]) -> None:
        self.update_id = snapshot["lastUpdateId"]
        self.bids: dict[str, str] = dict(snapshot["bids"])
        self.asks: dict[str, str] = dict(snapshot["asks"])
        self.last_u: int | None = None
        self.applied = 0
        for event in buffered:
            self.apply(event)

    def apply(self, event: dict[str, Any]) -> None:
        if event["u"] < self.update_id:
            return  # step 2: older than the snapshot
        if self.last_u is None:
            if not event["U"] <= self.update_id <= event["u"]:
                raise Resync(f"first event [{event['U']}, {event['u']}] misses {self.update_id}")
        elif event["pu"] != self.last_u:
            raise Resync(f"pu {event['pu']} after u {self.last_u}")
        for side, levels in ((self.bids, event["b"]), (self.asks, event["a"])):
            for price, qty in levels:
                if Decimal(qty) == 0:
                    side.pop(price, None)
                else:
                    side[price] = qty
        self.last_u = event["u"]
        self.applied += 1

    def levels(self) -> tuple[Levels, Levels]:
        bids = sorted(self.bids.items(), key=lambda kv: Decimal(kv[0]), reverse=True)
        asks = sorted(self.asks.items(), key=lambda kv: Decimal(kv[0]))
        return bids, asks


def test_addresses_and_printing() -> None:
    sim = Simulator(exchange="binanceusdsm")
    assert sim.hosts == ("fapi.binance.com", "fstream.binance.com")
    assert sim.apis == {"binance": (KEY, SECRET)}
    bids, asks = sim.book_levels(SYMBOL)
    assert all(len(p.split(".")[1]) == 2 and len(q.split(".")[1]) == 3 for p, q in bids + asks)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    early=st.integers(0, 3),
    before=st.integers(1, 10),
    after=st.integers(0, 10),
    age=st.integers(0, 12),
)
def test_the_futures_rule_rebuilds_the_book(
    seed: int, early: int, before: int, after: int, age: int
) -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        sim.advance(early)
        async with s.ws_connect(sim.ws_url_for(f"/ws/{DEPTH}")) as ws:
            stream = Stream(ws)
            await sim.wait_for_subscription(DEPTH)
            sim.advance(before)
            buffered = await stream.flush()
            for a, b in itertools.pairwise(buffered):
                assert b["pu"] == a["u"]
                assert b["U"] == a["u"] + 1
            for event in buffered:
                assert list(event) == ["e", "E", "T", "s", "U", "u", "pu", "b", "a"]
            snapshot = await depth(s, sim, age=age)
            assert list(snapshot) == ["lastUpdateId", "E", "T", "bids", "asks"]
            try:
                book = FuturesBook(snapshot, buffered)
            except Resync:
                assert age > len(buffered)
                book = FuturesBook(await depth(s, sim), buffered)
            else:
                assert book.applied == min(age, len(buffered))
            sim.advance(after)
            for event in await stream.flush():
                book.apply(event)
            assert book.levels() == sim.book_levels(SYMBOL)

    run(main, seed=seed)


def test_a_skipped_diff_breaks_the_pu_link() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.ws_connect(sim.ws_url_for("/stream")) as ws:
            stream = Stream(ws)
            assert (await stream.request("SUBSCRIBE", [DEPTH]))["result"] is None
            book = FuturesBook(await depth(s, sim), [])
            sim.open_connections[0].inject(Fault(skip_diff_after=2))
            sim.advance(6)
            frames = await stream.flush()
            events = [f["data"] for f in frames]
            assert {f["stream"] for f in frames} == {DEPTH}
            assert len(events) == 5
            book.apply(events[0])
            book.apply(events[1])
            with pytest.raises(Resync, match="pu"):
                book.apply(events[2])
            book = FuturesBook(await depth(s, sim, age=1), events[-1:])
            assert book.applied == 1
            assert book.levels() == sim.book_levels(SYMBOL)

    run(main, seed=7)


def test_streams_and_public_rest() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.ws_connect(sim.ws_url) as ws:
            stream = Stream(ws)
            assert (await stream.request("SUBSCRIBE", ["btcusdt@trade"]))["code"] == 2
            assert (await stream.request("SUBSCRIBE", ["btcusdt@depth5"]))["code"] == 2
            names = ["btcusdt@aggTrade", "btcusdt@bookTicker", "btcusdt@depth@500ms"]
            names += ["btcusdt@markPrice@1s", "btcusdt@ticker"]
            assert (await stream.request("SUBSCRIBE", names))["result"] is None
            sim.advance(15)
            frames = await stream.flush()
            kinds = {f["e"] for f in frames}
            assert kinds == {
                "aggTrade",
                "bookTicker",
                "depthUpdate",
                "markPriceUpdate",
                "24hrTicker",
            }
            mark = [f for f in frames if f["e"] == "markPriceUpdate"][-1]
            bids, asks = sim.book_levels(SYMBOL, 1)
            assert Decimal(bids[0][0]) <= Decimal(mark["p"]) < Decimal(asks[0][0])
            assert mark["T"] % (8 * 3600 * 1000) == 0
            day = [f for f in frames if f["e"] == "24hrTicker"][-1]
            assert "b" not in day
            assert day["c"] == [f for f in frames if f["e"] == "aggTrade"][-1]["p"]
            ticker = [f for f in frames if f["e"] == "bookTicker"][-1]
            assert set(ticker) == {"e", "u", "E", "T", "s", "b", "B", "a", "A"}
            row = sim.ticker(SYMBOL)
            assert (ticker["b"], ticker["a"]) == (row["bidPrice"], row["askPrice"])
        async with s.get(f"{sim.rest_url}/fapi/v1/ticker/bookTicker?symbol={SYMBOL}") as r:
            assert (await r.json())["bidPrice"] == sim.ticker(SYMBOL)["bidPrice"]
        async with s.get(f"{sim.rest_url}/fapi/v1/exchangeInfo") as r:
            (info,) = (await r.json())["symbols"]
            assert (info["contractType"], info["pricePrecision"]) == ("PERPETUAL", 2)
            assert info["filters"][0]["tickSize"] == "0.10"
        async with s.get(f"{sim.rest_url}/fapi/v1/time") as r:
            assert "serverTime" in await r.json()
        async with s.get(f"{sim.rest_url}/fapi/v1/depth?symbol={SYMBOL}") as r:
            body = await r.json()
            assert len(body["bids"]) == len(sim.book_levels(SYMBOL)[0])

    run(main, seed=2)


def test_listen_key_keepalive_needs_no_parameter() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        headers = {"X-MBX-APIKEY": KEY}
        url = f"{sim.rest_url}/fapi/v1/listenKey"
        async with s.put(url, headers=headers) as r:
            assert (r.status, (await r.json())["code"]) == (400, -1125)
        async with s.post(url, headers=headers) as r:
            listen_key = (await r.json())["listenKey"]
        for _ in range(2):
            async with s.put(url, headers=headers) as r:
                assert await r.json() == {"listenKey": listen_key}
        async with s.delete(url, headers=headers) as r:
            assert await r.json() == {}
        assert sim.active_listen_keys() == ()
        requests = sim.user_stream_requests()
        assert [(q.method, q.accepted) for q in requests] == [
            ("PUT", False),
            ("POST", True),
            ("PUT", True),
            ("PUT", True),
            ("DELETE", True),
        ]
        assert requests[0].listen_key == ""
        assert {q.listen_key for q in requests[1:]} == {listen_key}

    run(main)


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return make_tls_contexts()


def test_botters_trades_futures_at_the_production_urls(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_ctx, client_ctx = tls

    async def main() -> None:
        async with (
            Simulator(exchange="binanceusdsm", seed=5, tick_interval=None, ssl=server_ctx) as sim,
            botters.Client(
                apis=DEMO_APIS_BY_EXCHANGE["binanceusdsm"], resolve=sim.resolve, ssl=client_ctx
            ) as client,
        ):
            r = await client.fetch("POST", "https://fapi.binance.com/fapi/v1/listenKey")
            listen_key = r.data["listenKey"]
            events: list[Any] = []
            account_updates = asyncio.Event()

            def on_message(msg: Any, ws: Any) -> None:
                events.append(msg)
                if sum(m.get("e") == "ACCOUNT_UPDATE" for m in events) == 2:
                    account_updates.set()

            app = client.ws_connect(
                f"wss://fstream.binance.com/ws/{listen_key}", hdlr_json=on_message
            )
            await app
            await sim.wait_for_subscription(listen_key)
            r = await client.fetch(
                "POST",
                "https://fapi.binance.com/fapi/v1/order",
                data={"symbol": SYMBOL, "side": "SELL", "type": "MARKET", "quantity": "0.002"},
            )
            assert r.response.status == 200, r.data
            assert (r.data["status"], r.data["executedQty"]) == ("NEW", "0.000")  # ACK
            sold = r.data["orderId"]
            best_bid = Decimal(sim.book_levels(SYMBOL, 1)[0][0][0])
            below = best_bid - 100
            r = await client.fetch(
                "POST",
                "https://fapi.binance.com/fapi/v1/order",
                data={
                    "symbol": SYMBOL,
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": "0.001",
                    "price": f"{below:.2f}",
                    "newOrderRespType": "RESULT",
                },
            )
            assert r.data["status"] == "NEW"
            resting = r.data["orderId"]
            r = await client.fetch(
                "GET", "https://fapi.binance.com/fapi/v1/openOrders", params={"symbol": SYMBOL}
            )
            assert [o["orderId"] for o in r.data] == [resting]
            sim.move_price(SYMBOL, below - 5)
            async with asyncio.timeout(10):
                await account_updates.wait()
            updates = [
                (m["o"]["i"], m["o"]["x"], m["o"]["X"])
                for m in events
                if m["e"] == "ORDER_TRADE_UPDATE"
            ]
            assert updates == [
                (sold, "NEW", "NEW"),
                (sold, "TRADE", "FILLED"),
                (resting, "NEW", "NEW"),
                (resting, "TRADE", "FILLED"),
            ]
            last = [m for m in events if m["e"] == "ACCOUNT_UPDATE"][-1]
            assert last["a"]["m"] == "ORDER"
            (position,) = last["a"]["P"]
            assert (position["s"], position["pa"], position["ps"]) == (SYMBOL, "-0.001", "BOTH")
            r = await client.fetch(
                "GET", "https://fapi.binance.com/fapi/v2/positionRisk", params={"symbol": SYMBOL}
            )
            assert [p["positionAmt"] for p in r.data] == ["-0.001"]
            assert sim.positions()[0]["positionAmt"] == "-0.001"
            r = await client.fetch("GET", "https://fapi.binance.com/fapi/v2/account")
            assert r.data["assets"][0]["asset"] == "USDT"
            assert Decimal(r.data["totalWalletBalance"]) > 1_000_000  # the short closed at a profit
            r = await client.fetch("GET", "https://fapi.binance.com/fapi/v2/balance")
            assert r.data[0]["balance"] == sim.collateral()["totalWalletBalance"]
            r = await client.fetch("PUT", "https://fapi.binance.com/fapi/v1/listenKey")
            assert r.data == {"listenKey": listen_key}
            await app.close()

    asyncio.run(main())
