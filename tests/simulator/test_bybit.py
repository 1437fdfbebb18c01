"""The Bybit v5 dialect over real local connections: streams, login, REST, private events."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
import yarl

import botters
from botters.simulator import (
    DEMO_APIS_BY_EXCHANGE,
    Fault,
    MarketSpec,
    Simulator,
    make_tls_contexts,
)

from ._venues import BYBIT_SECRET, Book, Feed, bybit_auth, bybit_headers

SYMBOL = "BTCUSDT"
DEEP = MarketSpec(
    product_code=SYMBOL,
    start_price="65000.00",
    price_step="0.10",
    size_step="0.001",
    depth=80,
    margin=True,
)
"""About 64 levels a side: more than ``orderbook.50`` may show."""

Main = Callable[[Simulator, aiohttp.ClientSession], Awaitable[None]]


def run(main: Main, **options: Any) -> None:
    async def go() -> None:
        options.setdefault("tick_interval", None)
        async with Simulator(exchange="bybit", **options) as sim, aiohttp.ClientSession() as s:
            await main(sim, s)

    asyncio.run(go())


async def rest(
    s: aiohttp.ClientSession, sim: Simulator, method: str, path: str, body: Any = None, **kw: Any
) -> tuple[int, Any]:
    """A signed request (by hand); ``path`` may carry a query."""
    text = "" if body is None else json.dumps(body)
    payload = text if method == "POST" else yarl.URL(path).raw_query_string
    headers = kw.pop("headers", None) or bybit_headers(payload, **kw)
    url = yarl.URL(sim.rest_url + path, encoded=True)
    async with s.request(method, url, data=text.encode(), headers=headers) as r:
        return r.status, await r.json()


async def private_feed(s: aiohttp.ClientSession, sim: Simulator) -> Feed:
    ws = await s.ws_connect(sim.ws_url_for("/v5/private"))
    feed = Feed(ws)
    reply = await feed.request(bybit_auth())
    assert reply["success"] is True, reply
    reply = await feed.request(
        {"op": "subscribe", "args": ["order", "execution", "position", "wallet"]}
    )
    assert reply["success"] is True, reply
    return feed


def test_orderbook_snapshot_then_linked_deltas_never_deeper_than_subscribed() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.ws_connect(sim.ws_url) as ws:
            feed = Feed(ws)
            topic = f"orderbook.50.{SYMBOL}"
            reply = await feed.request({"op": "subscribe", "args": [topic], "req_id": "r1"})
            conn = await sim.wait_for_subscription(topic)
            assert reply == {
                "success": True,
                "ret_msg": "",
                "conn_id": conn.conn_id,
                "op": "subscribe",
                "req_id": "r1",
            }
            assert conn.subscriptions == {topic}
            snapshot = await feed.next()
            assert snapshot["topic"] == topic
            assert snapshot["type"] == "snapshot"
            assert {"ts", "cts"} <= set(snapshot)
            data = snapshot["data"]
            assert data["s"] == SYMBOL
            assert len(data["b"]) == len(data["a"]) == 50  # the market has more
            book = Book()
            book.reset(data["b"], data["a"])
            assert book.levels() == sim.book_levels(SYMBOL, 50)
            u, seq = data["u"], data["seq"]
            sim.advance(40)
            frames = await feed.flush_bybit()
            assert frames
            for frame in frames:
                assert frame["topic"] == topic
                assert frame["type"] == "delta"
                assert frame["data"]["u"] == u + 1
                assert frame["data"]["seq"] > seq
                u, seq = frame["data"]["u"], frame["data"]["seq"]
                book.apply(frame["data"]["b"], frame["data"]["a"])
                assert len(book.bids) <= 50
                assert len(book.asks) <= 50
            assert book.levels() == sim.book_levels(SYMBOL, 50)
            assert len(sim.book_levels(SYMBOL)[0]) > 50
            assert all(len(price.split(".")[1]) == 2 for price in [*book.bids, *book.asks])

    run(main, seed=3, products=[DEEP])


def test_level_one_is_snapshot_only_and_prices_print_with_the_tick() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.ws_connect(sim.ws_url) as ws:
            feed = Feed(ws)
            await feed.request({"op": "subscribe", "args": [f"orderbook.1.{SYMBOL}"]})
            first = await feed.next()
            sim.advance(20)
            frames = [first, *await feed.flush_bybit()]
            assert len(frames) > 1
            for frame in frames:
                assert frame["type"] == "snapshot"
                bids, asks = frame["data"]["b"], frame["data"]["a"]
                assert len(bids) == len(asks) == 1
                assert len(bids[0][0].split(".")[1]) == 2  # price_step "0.10"
                assert len(bids[0][1].split(".")[1]) == 3  # size_step "0.001"
            us = [f["data"]["u"] for f in frames]
            assert us == list(range(us[0], us[0] + len(us)))
            last = frames[-1]["data"]
            assert ([tuple(x) for x in last["b"]], [tuple(x) for x in last["a"]]) == (
                sim.book_levels(SYMBOL, 1)
            )

    run(main, seed=1)


def test_pings_and_refused_requests(caplog: pytest.LogCaptureFixture) -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.ws_connect(sim.ws_url) as ws:
            feed = Feed(ws)
            conn = await sim.wait_for_connections(1)
            assert await feed.request({"op": "ping"}) == {
                "success": True,
                "ret_msg": "pong",
                "conn_id": conn.conn_id,
                "op": "ping",
            }
            assert (await feed.request({"op": "ping", "req_id": "7"}))["req_id"] == "7"
            bad = [
                {"op": "subscribe", "args": ["orderbook.40.BTCUSDT"]},  # no such depth
                {"op": "subscribe", "args": ["orderbook.50.BTCUSDC"]},  # spot, on linear
                {"op": "subscribe", "args": ["order"]},  # private, on public
                {"op": "subscribe", "args": []},
                {"op": "unsubscribe", "args": ["tickers.BTCUSDT"]},
                {"op": "subscribe", "args": ["tickers.BTCUSDT", "tickers.BTCUSDT"]},
                {"op": "auth", "args": []},  # no login on public streams
                {"op": "dance"},
                [1, 2],
            ]
            for request in bad:
                reply = await feed.request(request)
                assert reply["success"] is False, (request, reply)
                assert reply["conn_id"] == conn.conn_id
            await ws.send_str("{not json")
            assert (await feed.next())["success"] is False
            ok = await feed.request({"op": "subscribe", "args": ["tickers.BTCUSDT"]})
            assert ok["success"] is True
            await feed.next()  # its snapshot
            again = await feed.request({"op": "subscribe", "args": ["tickers.BTCUSDT"]})
            assert again["success"] is False
            assert "already subscribed" in again["ret_msg"]
            gone = await feed.request({"op": "unsubscribe", "args": ["tickers.BTCUSDT"]})
            assert gone["success"] is True
            sim.advance(5)
            assert await feed.flush_bybit() == []
        async with s.ws_connect(sim.ws_url_for("/v5/private")) as ws:
            feed = Feed(ws)
            pong = await feed.request({"op": "ping", "req_id": "p"})
            assert pong["op"] == "pong"
            assert pong["req_id"] == "p"
            assert int(pong["args"][0]) > 0
            refused = await feed.request({"op": "subscribe", "args": ["order"]})
            assert refused == {
                "success": False,
                "ret_msg": "Request not authorized",
                "conn_id": sim.connections[-1].conn_id,
                "op": "subscribe",
            }

    with caplog.at_level(logging.WARNING, logger="botters.simulator"):
        run(main)
    assert len([r for r in caplog.records if "rejected request" in r.getMessage()]) == 12


def test_tickers_snapshot_then_deltas_and_public_trades() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.ws_connect(sim.ws_url) as ws:
            feed = Feed(ws)
            await feed.request(
                {"op": "subscribe", "args": [f"tickers.{SYMBOL}", f"publicTrade.{SYMBOL}"]}
            )
            snapshot = await feed.next()
            assert snapshot["type"] == "snapshot"
            ticker = dict(snapshot["data"])
            sim.advance(30)
            trades = []
            for frame in await feed.flush_bybit():
                if frame["topic"].startswith("tickers."):
                    assert frame["type"] == "delta"
                    assert frame["data"]["symbol"] == SYMBOL
                    ticker.update(frame["data"])
                else:
                    assert frame["type"] == "snapshot"
                    trades += frame["data"]
            assert ticker == sim.ticker(SYMBOL)
            assert trades
            assert {t["S"] for t in trades} <= {"Buy", "Sell"}
            assert trades[-1]["p"] == ticker["lastPrice"]
            volume = sum(Decimal(t["v"]) for t in trades)
            assert volume == Decimal(ticker["volume24h"])
            assert len({t["i"] for t in trades}) == len(trades)
        async with s.ws_connect(sim.ws_url_for("/v5/public/spot")) as ws:
            feed = Feed(ws)
            await feed.request({"op": "subscribe", "args": ["tickers.BTCUSDC"]})
            sim.advance(3)
            frames = [await feed.next(), *await feed.flush_bybit()]
            assert {f["type"] for f in frames} == {"snapshot"}
            assert frames[-1]["data"] == sim.ticker("BTCUSDC")
            assert "usdIndexPrice" in frames[-1]["data"]

    run(main, seed=2, products=("BTCUSDT", "BTCUSDC"))


@pytest.mark.parametrize(
    ("case", "ret_msg"),
    [
        ("good", ""),
        ("wrong secret", "Request not authorized"),
        ("unknown key", "Request not authorized"),
        ("expired", "Params Error"),
        ("malformed", "Params Error"),
        ("fault", "Request not authorized"),
    ],
)
def test_private_login(case: str, ret_msg: str) -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        if case == "fault":
            sim.inject(Fault(reject_login=True))
        message = {
            "good": bybit_auth(),
            "wrong secret": bybit_auth(secret="not-" + BYBIT_SECRET),
            "unknown key": bybit_auth(key="someone-else"),
            "expired": bybit_auth(expires=int(time.time() * 1000) - 1),
            "malformed": {"op": "auth", "args": ["k"]},
            "fault": bybit_auth(),
        }[case]
        async with s.ws_connect(sim.ws_url_for("/v5/private")) as ws:
            reply = await Feed(ws).request(message)
            conn = sim.connections[0]
            assert reply == {
                "success": case == "good",
                "ret_msg": ret_msg,
                "conn_id": conn.conn_id,
                "op": "auth",
            }
            assert conn.authenticated is (case == "good")
            assert sim.stats.logins_accepted == (case == "good")
            assert sim.stats.logins_rejected == (case != "good")

    run(main)


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("good", 200, 0),
        ("no recv window", 200, 0),
        ("unknown key", 401, 10003),
        ("wrong secret", 200, 10004),
        ("tampered query", 200, 10004),
        ("stale", 200, 10002),
        ("future", 200, 10002),
        ("not hex", 200, 10004),
    ],
)
def test_rest_signatures(case: str, status: int, code: int) -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        query = "accountType=UNIFIED"
        now = int(time.time() * 1000)
        kwargs: dict[str, Any] = {
            "no recv window": {"recv_window": None},
            "unknown key": {"key": "someone-else"},
            "wrong secret": {"secret": "nope"},
            "stale": {"timestamp": now - 6000},
            "future": {"timestamp": now + 3000},
        }.get(case, {})
        headers = bybit_headers(query, **kwargs)
        if case == "tampered query":
            query = "accountType=UNIFIED&coin=BTC"
        if case == "not hex":
            headers["X-BAPI-SIGN"] = "é" * 64
        got_status, body = await rest(
            s, sim, "GET", f"/v5/account/wallet-balance?{query}", headers=headers
        )
        assert (got_status, body["retCode"]) == (status, code), body
        assert set(body) == {"retCode", "retMsg", "result", "retExtInfo", "time"}
        if code:
            assert body["result"] == {}
            assert BYBIT_SECRET not in json.dumps(body)
            assert sim.stats.rest_rejected == 1
        else:
            assert body["retMsg"] == "OK"
            assert body["result"]["list"] == [sim.collateral()]

    run(main)


def test_rest_window_is_configurable() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        now = 1_800_000_000_000
        for offset, expected in ((-9_000, 0), (9_000, 0), (11_000, 10002)):
            headers = bybit_headers("accountType=UNIFIED", timestamp=now + offset)
            _, body = await rest(
                s, sim, "GET", "/v5/account/wallet-balance?accountType=UNIFIED", headers=headers
            )
            assert body["retCode"] == expected, (offset, body)

    run(main, timestamp_window=10, clock=lambda: 1_800_000_000.0)


def test_orders_make_private_events_and_rest_rows() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        feed = await private_feed(s, sim)
        best_ask = sim.book_levels(SYMBOL, 1)[1][0][0]
        buy = {
            "category": "linear",
            "symbol": SYMBOL,
            "side": "Buy",
            "orderType": "Market",
            "qty": "0.050",
            "orderLinkId": "b1",
        }
        status, body = await rest(s, sim, "POST", "/v5/order/create", buy)
        assert (status, body["retCode"], body["retMsg"]) == (200, 0, "OK")
        order_id = body["result"]["orderId"]
        assert body["result"]["orderLinkId"] == "b1"
        frames = await feed.flush_bybit()
        assert [f["topic"] for f in frames] == ["order", "execution", "order", "position", "wallet"]
        for frame in frames:
            assert set(frame) == {"id", "topic", "creationTime", "data"}
        new, execution, filled = frames[0]["data"][0], frames[1]["data"][0], frames[2]["data"][0]
        assert (new["orderStatus"], new["category"], new["orderId"]) == ("New", "linear", order_id)
        assert filled["orderStatus"] == "Filled"
        assert filled["avgPrice"] == best_ask
        assert (execution["execPrice"], execution["execQty"]) == (best_ask, "0.050")
        assert execution["isMaker"] is False
        position = frames[3]["data"][0]
        assert (position["side"], position["size"], position["entryPrice"]) == (
            "Buy",
            "0.050",
            best_ask,
        )
        assert frames[4]["data"][0]["accountType"] == "UNIFIED"
        # A resting limit SELL fills once the market crosses it.
        price = str(Decimal(best_ask) + 5)
        sell = {**buy, "side": "Sell", "orderType": "Limit", "price": price, "orderLinkId": "s1"}
        status, body = await rest(s, sim, "POST", "/v5/order/create", sell)
        assert body["retCode"] == 0
        assert [f["data"][0]["orderStatus"] for f in await feed.flush_bybit()] == ["New"]
        _, open_orders = await rest(s, sim, "GET", "/v5/order/realtime?category=linear")
        assert [o["orderLinkId"] for o in open_orders["result"]["list"]] == ["s1"]
        assert open_orders["result"]["category"] == "linear"
        sim.move_price(SYMBOL, Decimal(price) + 10)
        frames = [f for f in await feed.flush_bybit() if f["topic"] != "wallet"]
        assert [f["topic"] for f in frames] == ["execution", "order", "position"]
        assert frames[0]["data"][0]["isMaker"] is True
        assert frames[0]["data"][0]["closedSize"] == "0.050"
        assert frames[2]["data"][0]["size"] == "0"
        assert frames[2]["data"][0]["side"] == ""
        pnl = (Decimal(price) - Decimal(best_ask)) * Decimal("0.05")
        assert Decimal(frames[2]["data"][0]["cumRealisedPnl"]) == pnl
        _, closed = await rest(s, sim, "GET", "/v5/order/realtime?category=linear&openOnly=1")
        assert [o["orderLinkId"] for o in closed["result"]["list"]] == ["s1", "b1"]
        _, wallet = await rest(s, sim, "GET", "/v5/account/wallet-balance?accountType=UNIFIED")
        usdt = wallet["result"]["list"][0]["coin"][0]
        assert Decimal(usdt["walletBalance"]) == 1_000_000 + pnl
        _, positions = await rest(
            s, sim, "GET", f"/v5/position/list?category=linear&symbol={SYMBOL}"
        )
        assert positions["result"]["list"][0]["size"] == "0"
        assert sim.positions() == []
        # Cancel a resting order; cancelling twice is refused.
        rest_buy = {**buy, "orderType": "Limit", "price": "1000.00", "orderLinkId": "c1"}
        await rest(s, sim, "POST", "/v5/order/create", rest_buy)
        cancel = {"category": "linear", "symbol": SYMBOL, "orderLinkId": "c1"}
        _, body = await rest(s, sim, "POST", "/v5/order/cancel", cancel)
        assert body["retCode"] == 0
        frames = await feed.flush_bybit()
        assert [f["data"][0]["orderStatus"] for f in frames] == ["New", "Cancelled"]
        _, body = await rest(s, sim, "POST", "/v5/order/cancel", cancel)
        assert body["retCode"] == 110001
        _, body = await rest(s, sim, "POST", "/v5/order/create", rest_buy)
        assert body["retCode"] == 110072  # orderLinkId reused
        assert sim.stats.orders == 3
        assert [o["orderLinkId"] for o in sim.child_orders()] == ["c1", "s1", "b1"]
        await feed.ws.close()

    run(main, seed=6)


@pytest.mark.parametrize(
    "change",
    [
        {"category": "inverse"},
        {"symbol": "DOGEUSDT"},
        {"category": "spot"},
        {"side": "buy"},
        {"orderType": "Stop"},
        {"qty": "0.0005"},
        {"qty": 1},
        {"price": "abc"},
        {"timeInForce": "DAY"},
    ],
)
def test_bad_orders_are_params_errors(change: dict[str, Any]) -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        order = {
            "category": "linear",
            "symbol": SYMBOL,
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.001",
            "price": "60000.00",
            **change,
        }
        status, body = await rest(s, sim, "POST", "/v5/order/create", order)
        assert (status, body["retCode"]) == (200, 10001), body
        assert body["retMsg"].startswith("params error")
        assert sim.stats.orders == 0

    run(main)


def test_spot_fills_move_coin_balances() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        ask = Decimal(sim.book_levels("BTCUSDC", 1)[1][0][0])
        order = {
            "category": "spot",
            "symbol": "BTCUSDC",
            "side": "Buy",
            "orderType": "Market",
            "qty": "0.010000",
        }
        _, body = await rest(s, sim, "POST", "/v5/order/create", order)
        assert body["retCode"] == 0
        coins = {c["coin"]: c for c in sim.collateral()["coin"]}
        assert Decimal(coins["BTC"]["walletBalance"]) == Decimal("0.01")
        assert Decimal(coins["USDC"]["walletBalance"]) == -ask * Decimal("0.01")
        assert sim.positions() == []
        _, body = await rest(s, sim, "GET", "/v5/position/list?category=spot")
        assert body["retCode"] == 10001

    run(main, products=("BTCUSDT", "BTCUSDC"))


def test_public_rest() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.ws_connect(sim.ws_url) as ws:
            feed = Feed(ws)
            await feed.request({"op": "subscribe", "args": [f"orderbook.1000.{SYMBOL}"]})
            sim.advance(5)
            frames = [await feed.next(), *await feed.flush_bybit()]
            async with s.get(
                f"{sim.rest_url}/v5/market/orderbook?category=linear&symbol={SYMBOL}&limit=3"
            ) as r:
                body = await r.json()
            result = body["result"]
            assert result["u"] == frames[-1]["data"]["u"]
            assert result["seq"] == frames[-1]["data"]["seq"]
            bids, asks = sim.book_levels(SYMBOL, 3)
            assert [tuple(x) for x in result["b"]] == bids
            assert [tuple(x) for x in result["a"]] == asks
            async with s.get(
                f"{sim.rest_url}/v5/market/orderbook?category=linear&symbol={SYMBOL}"
            ) as r:
                assert len((await r.json())["result"]["b"]) == min(
                    25, len(sim.book_levels(SYMBOL)[0])
                )
            async with s.get(f"{sim.rest_url}/v5/market/tickers?category=linear") as r:
                body = await r.json()
            assert body["result"] == {"category": "linear", "list": [sim.ticker(SYMBOL)]}
            async with s.get(f"{sim.rest_url}/v5/market/tickers?category=option") as r:
                assert (await r.json())["retCode"] == 10001

    run(main, seed=8)


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return make_tls_contexts()


def test_botters_signs_and_logs_in_at_the_production_urls(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_ctx, client_ctx = tls

    async def main() -> None:
        async with (
            Simulator(exchange="bybit", seed=4, tick_interval=None, ssl=server_ctx) as sim,
            botters.Client(
                apis=DEMO_APIS_BY_EXCHANGE["bybit"], resolve=sim.resolve, ssl=client_ctx
            ) as client,
        ):
            assert sim.resolve == dict.fromkeys(("api.bybit.com", "stream.bybit.com"), sim.address)
            orders: list[Any] = []
            two_orders = asyncio.Event()

            def on_message(msg: Any, ws: Any) -> None:
                if msg.get("topic") == "order":
                    orders.append(msg["data"][0])
                    if len(orders) == 2:
                        two_orders.set()

            app = client.ws_connect(
                "wss://stream.bybit.com/v5/private",
                send_json={"op": "subscribe", "args": ["order"]},
                hdlr_json=on_message,
            )
            await app
            await sim.wait_for_subscription("order")
            r = await client.fetch(
                "POST",
                "https://api.bybit.com/v5/order/create",
                data={
                    "category": "linear",
                    "symbol": SYMBOL,
                    "side": "Sell",
                    "orderType": "Market",
                    "qty": "0.001",
                },
            )
            assert r.data["retCode"] == 0, r.data
            order_id = r.data["result"]["orderId"]
            async with asyncio.timeout(10):
                await two_orders.wait()
            assert [o["orderStatus"] for o in orders] == ["New", "Filled"]
            assert {o["orderId"] for o in orders} == {order_id}
            r = await client.fetch("GET", "https://api.bybit.com/v5/position/list?category=linear")
            assert r.data["result"]["list"][0]["side"] == "Sell"
            assert sim.stats.logins_accepted == 1
            await app.close()

    asyncio.run(main())
