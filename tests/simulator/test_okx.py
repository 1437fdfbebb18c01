"""The OKX v5 dialect over real local connections: books, checksums, login, REST, private events."""

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
from botters.simulator import DEMO_APIS_BY_EXCHANGE, Fault, Simulator, make_tls_contexts

from ._venues import (
    OKX_PASSPHRASE,
    OKX_SECRET,
    Book,
    Feed,
    okx_checksum,
    okx_headers,
    okx_login,
    okx_timestamp,
)

SWAP = "BTC-USDT-SWAP"
BOOKS = {"channel": "books", "instId": SWAP}

Main = Callable[[Simulator, aiohttp.ClientSession], Awaitable[None]]


def run(main: Main, **options: Any) -> None:
    async def go() -> None:
        options.setdefault("tick_interval", None)
        async with Simulator(exchange="okx", **options) as sim, aiohttp.ClientSession() as s:
            await main(sim, s)

    asyncio.run(go())


async def rest(
    s: aiohttp.ClientSession, sim: Simulator, method: str, path: str, body: Any = None, **kw: Any
) -> tuple[int, Any]:
    """A signed request (by hand); ``path`` may carry a query."""
    text = "" if body is None else json.dumps(body)
    headers = kw.pop("headers", None) or okx_headers(method, path, text, **kw)
    url = yarl.URL(sim.rest_url + path, encoded=True)
    async with s.request(method, url, data=text.encode(), headers=headers) as r:
        return r.status, await r.json()


async def private_feed(s: aiohttp.ClientSession, sim: Simulator, *args: dict[str, Any]) -> Feed:
    ws = await s.ws_connect(sim.ws_url_for("/ws/v5/private"))
    feed = Feed(ws)
    reply = await feed.request(okx_login())
    assert reply["event"] == "login", reply
    await feed.send({"op": "subscribe", "args": list(args)})
    return feed


def check_books_stream(
    frames: list[Any], book: Book, seq_id: int, *, checksums: bool = True
) -> tuple[int, int]:
    """Apply ``books`` updates: each links to the last, each checksum holds; (last seqId, idle)."""
    idle = 0
    for frame in frames:
        assert frame["arg"] == BOOKS
        assert frame["action"] == "update"
        (data,) = frame["data"]
        assert data["prevSeqId"] == seq_id
        if not data["asks"] and not data["bids"]:
            assert data["seqId"] == data["prevSeqId"]  # nothing changed
            idle += 1
        else:
            assert data["seqId"] > data["prevSeqId"]
        seq_id = data["seqId"]
        book.apply(data["bids"], data["asks"])
        expected = okx_checksum(*book.top()) if checksums else 0
        assert data["checksum"] == expected
    return seq_id, idle


def test_books_snapshot_then_linked_updates_with_checksums() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.ws_connect(sim.ws_url) as ws:
            feed = Feed(ws)
            reply = await feed.request({"op": "subscribe", "args": [BOOKS]})
            conn = await sim.wait_for_subscription(f"books:{SWAP}")
            assert reply == {"event": "subscribe", "arg": BOOKS, "connId": conn.conn_id}
            snapshot = await feed.next()
            assert snapshot["action"] == "snapshot"
            (data,) = snapshot["data"]
            assert data["prevSeqId"] == -1
            assert set(data) == {"asks", "bids", "ts", "checksum", "prevSeqId", "seqId"}
            assert all(len(level) == 4 and level[2] == "0" for level in data["asks"])
            book = Book()
            book.reset(data["bids"], data["asks"])
            assert data["checksum"] == okx_checksum(*book.top())
            sim.advance(120)
            frames = await feed.flush_okx()
            _, idle = check_books_stream(frames, book, data["seqId"])
            assert idle  # seed 1 has a few no-change updates in 120 ticks
            assert book.levels() == sim.book_levels(SWAP)
            assert all(p == p.rstrip("0") or "." not in p for p, _ in book.bids.items())

    run(main, seed=1)


def test_checksum_off_sends_zero() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.ws_connect(sim.ws_url) as ws:
            feed = Feed(ws)
            await feed.request({"op": "subscribe", "args": [BOOKS]})
            (data,) = (await feed.next())["data"]
            assert data["checksum"] == 0
            book = Book()
            book.reset(data["bids"], data["asks"])
            sim.advance(10)
            check_books_stream(await feed.flush_okx(), book, data["seqId"], checksums=False)
            with pytest.raises(ValueError, match="okx_checksum=False"):
                sim.connections[0].inject(Fault(corrupt_checksum_after=0))

    run(main, okx_checksum=False)


def test_books5_trades_and_tickers() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.ws_connect(sim.ws_url) as ws:
            feed = Feed(ws)
            args = [{"channel": c, "instId": SWAP} for c in ("books5", "trades", "tickers")]
            await feed.send({"op": "subscribe", "args": args})
            frames = await feed.flush_okx()  # the replies, books5's and tickers' first pushes
            assert [f["event"] for f in frames if "event" in f] == ["subscribe"] * 3
            sim.advance(15)
            frames += await feed.flush_okx()
            pushes = [f for f in frames if "event" not in f]
            by_channel: dict[str, list[Any]] = {}
            for push in pushes:
                by_channel.setdefault(push["arg"]["channel"], []).append(push)
            last5 = by_channel["books5"][-1]
            assert "action" not in last5
            (data,) = last5["data"]
            assert set(data) == {"asks", "bids", "instId", "ts", "seqId"}
            bids, asks = sim.book_levels(SWAP, 5)
            assert [tuple(x[:2]) for x in data["bids"]] == bids
            assert [tuple(x[:2]) for x in data["asks"]] == asks
            assert by_channel["tickers"][-1]["data"] == [sim.ticker(SWAP)]
            trades = [t for push in by_channel["trades"] for t in push["data"]]
            assert trades
            assert {t["side"] for t in trades} <= {"buy", "sell"}
            assert trades[-1]["px"] == sim.ticker(SWAP)["last"]
            volume = sum(Decimal(t["sz"]) for t in trades)
            assert volume == Decimal(sim.ticker(SWAP)["vol24h"])

    run(main, seed=5)


def test_ping_and_refused_requests(caplog: pytest.LogCaptureFixture) -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.ws_connect(sim.ws_url) as ws:
            feed = Feed(ws)
            assert await feed.request("ping") == "pong"
            conn = await sim.wait_for_connections(1)
            cases = [
                ({"op": "subscribe", "args": [{"channel": "books", "instId": "NOPE"}]}, "60018"),
                ({"op": "subscribe", "args": [{"channel": "candle1m", "instId": SWAP}]}, "60018"),
                ({"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]}, "60018"),
                ({"op": "subscribe", "args": [{"instId": SWAP}]}, "60012"),
                ({"op": "unsubscribe", "args": [BOOKS]}, "60012"),
                ({"op": "subscribe", "argz": [BOOKS]}, "60012"),
                ({"op": "dance", "args": []}, "60012"),
            ]
            for request, code in cases:
                reply = await feed.request(request)
                assert reply["event"] == "error", reply
                assert (reply["code"], reply["connId"]) == (code, conn.conn_id)
            await ws.send_str("{nope")
            assert (await feed.next())["code"] == "60012"
            reply = await feed.request({"id": "42", "op": "subscribe", "args": [BOOKS]})
            assert reply == {"event": "subscribe", "arg": BOOKS, "connId": conn.conn_id, "id": "42"}
            await feed.next()  # the snapshot
            assert (await feed.request({"op": "unsubscribe", "args": [BOOKS]}))["event"] == (
                "unsubscribe"
            )
            sim.advance(5)
            assert await feed.flush_okx() == []
        async with s.ws_connect(sim.ws_url_for("/ws/v5/private")) as ws:
            feed = Feed(ws)
            orders = {"channel": "orders", "instType": "ANY"}
            reply = await feed.request({"op": "subscribe", "args": [orders]})
            assert (reply["event"], reply["code"]) == ("error", "60011")  # log in first
            await feed.request(okx_login())
            reply = await feed.request({"op": "subscribe", "args": [{"channel": "orders"}]})
            assert reply["code"] == "60013"  # instType is required
            assert (await feed.request({"op": "subscribe", "args": [BOOKS]}))["code"] == "60018"

    with caplog.at_level(logging.WARNING, logger="botters.simulator"):
        run(main)
    assert len([r for r in caplog.records if "rejected request" in r.getMessage()]) == 11


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("good", "0"),
        ("wrong secret", "60007"),
        ("unknown key", "60005"),
        ("wrong passphrase", "60024"),
        ("expired", "60006"),
        ("not a time", "60004"),
        ("malformed", "60009"),
        ("fault", "60009"),
    ],
)
def test_login(case: str, code: str) -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        if case == "fault":
            sim.inject(Fault(reject_login=True))
        message = {
            "good": okx_login(),
            "wrong secret": okx_login(secret="x" + OKX_SECRET),
            "unknown key": okx_login(key="someone-else"),
            "wrong passphrase": okx_login(passphrase="x" + OKX_PASSPHRASE),
            "expired": okx_login(timestamp=str(int(time.time()) - 31)),
            "not a time": okx_login(timestamp="yesterday"),
            "malformed": {"op": "login", "args": [{"apiKey": "k"}]},
            "fault": okx_login(),
        }[case]
        async with s.ws_connect(sim.ws_url_for("/ws/v5/private")) as ws:
            reply = await Feed(ws).request(message)
            conn = sim.connections[0]
            assert reply["code"] == code
            assert reply["event"] == ("login" if case == "good" else "error")
            assert reply["connId"] == conn.conn_id
            if case == "fault":
                assert reply["msg"] == "Login failed."
            assert conn.authenticated is (case == "good")
            assert sim.stats.logins_rejected == (case != "good")
            assert OKX_SECRET not in json.dumps(reply)

    run(main)


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("good", 200, "0"),
        ("no key", 401, "50103"),
        ("unknown key", 401, "50111"),
        ("wrong passphrase", 401, "50105"),
        ("wrong secret", 401, "50113"),
        ("tampered query", 401, "50113"),
        ("stale", 401, "50102"),
        ("not iso", 401, "50112"),
    ],
)
def test_rest_signatures(case: str, status: int, code: str) -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        path = "/api/v5/account/balance?ccy=USDT"
        kwargs: dict[str, Any] = {
            "unknown key": {"key": "someone-else"},
            "wrong passphrase": {"passphrase": "nope"},
            "wrong secret": {"secret": "nope"},
            "stale": {"timestamp": okx_timestamp(time.time() - 31)},
            "not iso": {"timestamp": "2020-12-08 09:08:57"},
        }.get(case, {})
        headers = okx_headers("GET", path, **kwargs)
        if case == "no key":
            del headers["OK-ACCESS-KEY"]
        if case == "tampered query":
            path = "/api/v5/account/balance?ccy=BTC"
        got_status, body = await rest(s, sim, "GET", path, headers=headers)
        assert (got_status, body["code"]) == (status, code), body
        if code == "0":
            assert body == {"code": "0", "msg": "", "data": [sim.collateral()]}
        else:
            assert set(body) == {"code", "msg"}
            assert sim.stats.rest_rejected == 1

    run(main)


def test_orders_make_private_events_and_rest_rows() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        channels = [
            {"channel": "orders", "instType": "SWAP"},
            {"channel": "positions", "instType": "ANY"},
            {"channel": "account"},
            {"channel": "balance_and_position"},
        ]
        feed = await private_feed(s, sim, *channels)
        frames = await feed.flush_okx()
        assert [f.get("event") for f in frames if "event" in f] == ["subscribe"] * 4
        initial = {f["arg"]["channel"]: f["data"] for f in frames if "event" not in f}
        assert initial["positions"] == []
        assert initial["account"] == [sim.collateral()]
        assert initial["balance_and_position"][0]["eventType"] == "snapshot"
        assert all(f["arg"]["uid"] for f in frames if "event" not in f)
        ask = sim.book_levels(SWAP, 1)[1][0][0]
        buy = {
            "instId": SWAP,
            "tdMode": "cross",
            "side": "buy",
            "ordType": "market",
            "sz": "0.5",
            "clOrdId": "b1",
        }
        status, body = await rest(s, sim, "POST", "/api/v5/trade/order", buy)
        assert (status, body["code"]) == (200, "0")
        (placed,) = body["data"]
        assert (placed["sCode"], placed["clOrdId"]) == ("0", "b1")
        frames = await feed.flush_okx()
        assert [f["arg"]["channel"] for f in frames] == [
            "orders",
            "orders",
            "positions",
            "account",
            "balance_and_position",
        ]
        live, filled = frames[0]["data"][0], frames[1]["data"][0]
        assert (live["state"], live["ordId"]) == ("live", placed["ordId"])
        assert (filled["state"], filled["fillPx"], filled["fillSz"]) == ("filled", ask, "0.5")
        assert filled["execType"] == "T"
        position = frames[2]["data"][0]
        assert (position["pos"], position["avgPx"], position["posSide"]) == ("0.5", ask, "net")
        assert frames[4]["data"][0]["eventType"] == "filled"
        assert frames[4]["data"][0]["trades"] == [{"instId": SWAP, "tradeId": filled["tradeId"]}]
        # A resting limit SELL: pending, then filled as a maker when the price crosses it.
        price = str(Decimal(ask) + 3)
        sell = {**buy, "side": "sell", "ordType": "limit", "px": price, "clOrdId": "s1"}
        _, body = await rest(s, sim, "POST", "/api/v5/trade/order", sell)
        assert body["code"] == "0"
        _, pending = await rest(s, sim, "GET", "/api/v5/trade/orders-pending?instType=SWAP")
        assert [o["clOrdId"] for o in pending["data"]] == ["s1"]
        assert pending["data"][0]["ordType"] == "limit"
        assert (await feed.flush_okx())[0]["data"][0]["state"] == "live"
        sim.move_price(SWAP, Decimal(price) + 5)
        frames = await feed.flush_okx()
        assert frames[0]["data"][0]["execType"] == "M"
        closed = next(f for f in frames if f["arg"]["channel"] == "positions")["data"][0]
        pnl = (Decimal(price) - Decimal(ask)) * Decimal("0.5")
        assert closed["pos"] == "0"
        assert Decimal(closed["realizedPnl"]) == pnl
        _, positions = await rest(s, sim, "GET", "/api/v5/account/positions")
        assert positions["data"] == [] == sim.positions()
        _, balance = await rest(s, sim, "GET", "/api/v5/account/balance")
        assert Decimal(balance["data"][0]["details"][0]["cashBal"]) == 1_000_000 + pnl
        # Cancel; cancelling twice fails per order; duplicates and bad orders fail likewise.
        limit = {**buy, "ordType": "post_only", "px": "1000", "clOrdId": "c1"}
        await rest(s, sim, "POST", "/api/v5/trade/order", limit)
        cancel = {"instId": SWAP, "clOrdId": "c1"}
        _, body = await rest(s, sim, "POST", "/api/v5/trade/cancel-order", cancel)
        assert (body["code"], body["data"][0]["sCode"]) == ("0", "0")
        states = [f["data"][0]["state"] for f in await feed.flush_okx()]
        assert states == ["live", "canceled"]
        _, body = await rest(s, sim, "POST", "/api/v5/trade/cancel-order", cancel)
        assert (body["code"], body["data"][0]["sCode"]) == ("1", "51400")
        _, body = await rest(s, sim, "POST", "/api/v5/trade/order", limit)
        assert body["data"][0]["sCode"] == "51016"
        assert [o["clOrdId"] for o in sim.child_orders()] == ["c1", "s1", "b1"]
        assert sim.child_orders()[0]["ordType"] == "post_only"
        assert sim.stats.orders == 3
        await feed.ws.close()

    run(main, seed=6)


@pytest.mark.parametrize(
    ("change", "status", "code", "s_code"),
    [
        ({"instId": "DOGE-USDT"}, 200, "1", "51001"),
        ({"tdMode": "cash"}, 200, "1", "51000"),
        ({"side": "BUY"}, 200, "1", "51000"),
        ({"ordType": "stop"}, 200, "1", "51000"),
        ({"sz": "0.005"}, 200, "1", "51000"),
        ({"sz": 1}, 200, "1", "51000"),
        ({"px": "1.05"}, 200, "1", "51000"),
        ({"sz": ""}, 400, "50014", None),
    ],
)
def test_bad_orders(change: dict[str, Any], status: int, code: str, s_code: str | None) -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        order = {
            "instId": SWAP,
            "tdMode": "cross",
            "side": "buy",
            "ordType": "limit",
            "sz": "1",
            "px": "1000",
            **change,
        }
        got_status, body = await rest(s, sim, "POST", "/api/v5/trade/order", order)
        assert (got_status, body["code"]) == (status, code), body
        if s_code is not None:
            assert body["data"][0]["sCode"] == s_code
        assert sim.stats.orders == 0

    run(main)


def test_public_rest() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        sim.advance(3)
        async with s.get(f"{sim.rest_url}/api/v5/market/books?instId={SWAP}&sz=4") as r:
            body = await r.json()
        (data,) = body["data"]
        bids, asks = sim.book_levels(SWAP, 4)
        assert [tuple(x[:2]) for x in data["bids"]] == bids
        assert [tuple(x[:2]) for x in data["asks"]] == asks
        async with s.get(f"{sim.rest_url}/api/v5/market/books?instId={SWAP}") as r:
            assert len((await r.json())["data"][0]["bids"]) == 1
        async with s.get(f"{sim.rest_url}/api/v5/market/ticker?instId={SWAP}") as r:
            assert (await r.json())["data"] == [sim.ticker(SWAP)]
        async with s.get(f"{sim.rest_url}/api/v5/market/books?instId=NOPE") as r:
            assert (r.status, (await r.json())["code"]) == (400, "51001")

    run(main)


def test_spot_fills_move_balances() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        ask = Decimal(sim.book_levels("BTC-USDT", 1)[1][0][0])
        order = {
            "instId": "BTC-USDT",
            "tdMode": "cash",
            "side": "buy",
            "ordType": "market",
            "sz": "0.1",
        }
        _, body = await rest(s, sim, "POST", "/api/v5/trade/order", order)
        assert body["code"] == "0"
        details = {d["ccy"]: d for d in sim.collateral()["details"]}
        assert Decimal(details["BTC"]["cashBal"]) == Decimal("0.1")
        assert Decimal(details["USDT"]["cashBal"]) == 1_000_000 - ask * Decimal("0.1")
        assert sim.positions() == []

    run(main, products=(SWAP, "BTC-USDT"))


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return make_tls_contexts()


def test_botters_signs_and_logs_in_at_the_production_urls(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_ctx, client_ctx = tls

    async def main() -> None:
        async with (
            Simulator(exchange="okx", seed=4, tick_interval=None, ssl=server_ctx) as sim,
            botters.Client(
                apis=DEMO_APIS_BY_EXCHANGE["okx"], resolve=sim.resolve, ssl=client_ctx
            ) as client,
        ):
            assert sim.resolve == dict.fromkeys(("www.okx.com", "ws.okx.com"), sim.address)
            orders: list[Any] = []
            two_orders = asyncio.Event()

            def on_message(msg: Any, ws: Any) -> None:
                if msg.get("arg", {}).get("channel") == "orders" and "data" in msg:
                    orders.append(msg["data"][0])
                    if len(orders) == 2:
                        two_orders.set()

            # The production URL keeps its port: resolve= sends it to the simulator's.
            app = client.ws_connect(
                "wss://ws.okx.com:8443/ws/v5/private",
                send_json={"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]},
                hdlr_json=on_message,
            )
            await app
            await sim.wait_for_subscription("orders")
            r = await client.fetch(
                "POST",
                "https://www.okx.com/api/v5/trade/order",
                data={
                    "instId": SWAP,
                    "tdMode": "cross",
                    "side": "sell",
                    "ordType": "market",
                    "sz": "0.01",
                },
            )
            assert r.data["code"] == "0", r.data
            async with asyncio.timeout(10):
                await two_orders.wait()
            assert [o["state"] for o in orders] == ["live", "filled"]
            r = await client.fetch(
                "GET", "https://www.okx.com/api/v5/account/positions?instId=" + SWAP
            )
            assert r.data["data"][0]["pos"] == "-0.01"
            assert sim.stats.logins_accepted == 1
            await app.close()

    asyncio.run(main())
