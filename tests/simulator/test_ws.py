"""The JSON-RPC WebSocket: requests and replies, login, channels, orders, board sync."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from botters import bitFlyerDataStore
from botters.simulator import DEMO_APIS, Simulator

from .conftest import Rpc

KEY, SECRET = DEMO_APIS["bitflyer"]
FX = "FX_BTC_JPY"


class Sink:
    """The ``ws`` the store unsubscribes through: queue now, send after the message."""

    def __init__(self) -> None:
        self.out: list[Any] = []

    def send_json_nowait(self, data: Any) -> None:
        self.out.append(data)

    async def flush(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while self.out:
            await ws.send_json(self.out.pop(0))


async def feed_until(
    rpc: Rpc, store: bitFlyerDataStore, sink: Sink, done: Callable[[dict[str, Any]], bool]
) -> None:
    """Feed every message to the store until ``done(message)``."""
    while True:
        msg = await rpc.recv()
        store.onmessage(msg, sink)
        await sink.flush(rpc.ws)
        if done(msg):
            return


async def feed_until_closed(
    ws: aiohttp.ClientWebSocketResponse, store: bitFlyerDataStore, sink: Sink
) -> None:
    """Feed every text frame to the store until the connection ends."""
    while (msg := await ws.receive(timeout=10)).type is aiohttp.WSMsgType.TEXT:
        store.onmessage(json.loads(msg.data), sink)


def is_ticker(tick: int) -> Callable[[dict[str, Any]], bool]:
    def check(msg: dict[str, Any]) -> bool:
        params = msg.get("params") or {}
        return (
            params.get("channel") == f"lightning_ticker_{FX}"
            and params["message"]["tick_id"] == tick
        )

    return check


def book(store: bitFlyerDataStore) -> dict[str, Any]:
    return store.board.sorted({"product_code": FX})


def test_subscribe_unsubscribe_replies() -> None:
    async def main() -> None:
        async with (
            Simulator(tick_interval=None) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.ws_url) as ws,
        ):
            rpc = Rpc(ws)
            reply = await rpc.subscribe(f"lightning_ticker_{FX}")
            assert reply == {"jsonrpc": "2.0", "id": 1, "result": True}
            conn = await sim.wait_for_subscription(f"lightning_ticker_{FX}")
            assert conn.subscriptions == {f"lightning_ticker_{FX}"}
            first = await rpc.channel(f"lightning_ticker_{FX}")  # sent on subscribing
            assert first["tick_id"] == 0
            sim.advance()
            assert (await rpc.channel(f"lightning_ticker_{FX}"))["tick_id"] == 1
            reply = await rpc.call("unsubscribe", {"channel": f"lightning_ticker_{FX}"})
            assert reply["result"] is True
            assert conn.subscriptions == frozenset()
            sim.advance()  # a tick nobody is subscribed to
            await rpc.subscribe(f"lightning_executions_{FX}")
            assert rpc.backlog == []  # nothing arrived between the two replies
            assert sim.stats.ticks == 2

    asyncio.run(main())


def test_notifications_get_no_reply_and_errors_are_json_rpc(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        async with (
            Simulator(tick_interval=None) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.ws_url) as ws,
        ):
            rpc = Rpc(ws)
            # JSON-RPC notifications (no id) get no response, as pybotters sends them.
            await ws.send_json(
                {"method": "subscribe", "params": {"channel": f"lightning_board_{FX}"}}
            )
            await ws.send_json({"method": "subscribe", "params": {"channel": "nope"}})
            reply = await rpc.call("subscribe", {"channel": "lightning_board_NOPE"})
            assert reply["error"]["code"] == -32602
            assert "lightning_board_NOPE" in reply["error"]["message"]
            assert rpc.backlog == []
            conn = sim.connections[0]
            assert conn.subscriptions == {f"lightning_board_{FX}"}
            assert (await rpc.call("order", {}))["error"]["code"] == -32601
            assert (await rpc.call("subscribe", {"chan": 1}))["error"]["code"] == -32602
            reply = await rpc.call("subscribe", {"channel": "child_order_events"})
            assert reply["error"]["code"] == -32001  # private channel before auth
            await ws.send_str("{not json")
            assert await rpc.recv() == {
                "jsonrpc": "2.0",
                "id": None,
                "error": {"code": -32700, "message": "Parse error"},
            }
            await ws.send_str("[1, 2]")
            assert (await rpc.recv())["error"]["code"] == -32600
            await ws.send_bytes(b"{}")
            assert (await rpc.recv())["error"]["code"] == -32700
            assert conn.messages_received == 9

    with caplog.at_level(logging.WARNING, logger="botters.simulator"):
        asyncio.run(main())
    rejected = [r for r in caplog.records if "rejected request" in r.getMessage()]
    assert len(rejected) == 8  # one line per rejected request, notifications included


def test_login(auth: Callable[..., dict[str, Any]], caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with (
            Simulator(tick_interval=None) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.ws_url) as ws,
        ):
            rpc = Rpc(ws)
            conn = await sim.wait_for_connections(1)
            now_ms = int(time.time() * 1000)
            bad = [
                (auth(secret="wrong-secret"), "invalid signature"),
                (auth(key="nobody"), "unknown api_key"),
                (auth(timestamp=now_ms - 300_000), "window"),
                (auth(timestamp=now_ms // 10), "10 or 13 digits"),
                (auth(nonce="short"), "16 to 255"),
                ({**auth(), "timestamp": str(now_ms)}, "integer"),
                ({**auth(), "signature": "x"}, "64 hex"),
                ("not an object", "object"),
            ]
            for params, reason in bad:
                reply = await rpc.call("auth", params)
                assert reply["error"]["code"] == -32000
                assert reason in reply["error"]["message"]
            assert not conn.authenticated
            good = auth(nonce="n" * 16)
            assert (await rpc.call("auth", good))["result"] is True
            assert conn.authenticated
            # Seconds work too; a nonce is good once.
            assert (await rpc.login(timestamp=int(time.time())))["result"] is True
            reply = await rpc.call("auth", auth(nonce="n" * 16))
            assert "nonce already used" in reply["error"]["message"]
            assert (await rpc.subscribe("child_order_events"))["result"] is True
            assert sim.stats.logins_accepted == 2
            assert sim.stats.logins_rejected == len(bad) + 1

    with caplog.at_level(logging.DEBUG, logger="botters.simulator"):
        asyncio.run(main())
    assert SECRET not in caplog.text
    assert "wrong-secret" not in caplog.text


async def place(
    s: aiohttp.ClientSession, sim: Simulator, sign: Callable[..., dict[str, str]], **order: Any
) -> dict[str, Any]:
    body = json.dumps({"product_code": FX, "size": 0.01, **order})
    path = "/v1/me/sendchildorder"
    async with s.post(sim.rest_url + path, data=body, headers=sign("POST", path, body)) as r:
        assert r.status == 200, await r.text()
        return await r.json()  # type: ignore[no-any-return]


async def cancel(
    s: aiohttp.ClientSession, sim: Simulator, sign: Callable[..., dict[str, str]], acceptance: str
) -> None:
    body = json.dumps({"product_code": FX, "child_order_acceptance_id": acceptance})
    path = "/v1/me/cancelchildorder"
    async with s.post(sim.rest_url + path, data=body, headers=sign("POST", path, body)) as r:
        assert r.status == 200, await r.text()


def test_child_order_events(sign: Callable[..., dict[str, str]]) -> None:
    async def main() -> None:
        async with (
            Simulator(seed=9, tick_interval=None) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.ws_url) as ws,
            s.ws_connect(sim.ws_url) as other,
        ):
            rpc = Rpc(ws)
            assert (await rpc.login())["result"] is True
            assert (await rpc.subscribe("child_order_events"))["result"] is True
            store = bitFlyerDataStore()
            await store.initialize(
                ("https://api.bitflyer.com/v1/me/getcollateral", sim.collateral())
            )

            async def events() -> list[dict[str, Any]]:
                message = await rpc.channel("child_order_events")
                store.onmessage(
                    {
                        "jsonrpc": "2.0",
                        "method": "channelMessage",
                        "params": {"channel": "child_order_events", "message": message},
                    }
                )
                return message  # type: ignore[no-any-return]

            # MARKET: ORDER, then EXECUTION at the best ask.
            best_ask = sim.ticker(FX)["best_ask"]
            placed = await place(s, sim, sign, side="BUY", child_order_type="MARKET", size=0.03)
            (ordered,) = await events()
            assert ordered["event_type"] == "ORDER"
            assert ordered["child_order_acceptance_id"] == placed["child_order_acceptance_id"]
            assert ordered["child_order_type"] == "MARKET"
            (executed,) = await events()
            assert executed["event_type"] == "EXECUTION"
            assert executed["price"] == best_ask
            assert executed["size"] == 0.03
            assert executed["outstanding_size"] == 0

            # LIMIT below the market rests until the market falls to it.
            price = sim.ticker(FX)["best_bid"] - 50
            placed = await place(s, sim, sign, side="BUY", child_order_type="LIMIT", price=price)
            (ordered,) = await events()
            assert ordered["event_type"] == "ORDER"
            assert ordered["price"] == price
            assert [o["price"] for o in store.childorders.find()] == [price]
            sim.advance(2)  # the market does not reach it
            assert sim.child_orders()[0]["child_order_state"] == "ACTIVE"
            sim.move_price(FX, price - 10)
            (executed,) = await events()
            assert executed["event_type"] == "EXECUTION"
            assert executed["price"] == price
            assert store.childorders.find() == []
            assert sim.child_orders()[0]["child_order_state"] == "COMPLETED"

            # LIMIT above the market, then canceled.
            price = sim.ticker(FX)["best_ask"] + 500
            placed = await place(s, sim, sign, side="SELL", child_order_type="LIMIT", price=price)
            assert (await events())[0]["event_type"] == "ORDER"
            await cancel(s, sim, sign, placed["child_order_acceptance_id"])
            (canceled,) = await events()
            assert canceled["event_type"] == "CANCEL"
            assert store.childorders.find() == []

            # A marketable LIMIT executes at once, at the best price.
            best_bid = sim.ticker(FX)["best_bid"]
            await place(s, sim, sign, side="SELL", child_order_type="LIMIT", price=best_bid - 1000)
            assert [e["event_type"] for e in await events()] == ["ORDER"]
            (executed,) = await events()
            assert executed["price"] == best_bid

            # The store's positions follow the simulator's.
            ours = [(p["side"], p["price"], p["size"]) for p in sim.positions()]
            theirs = [(p["side"], p["price"], p["size"]) for p in store.positions.find()]
            assert ours == theirs
            assert store.collateral.find()[0]["collateral"] == sim.collateral()["collateral"]

            # The unauthenticated connection got none of it.
            assert sim.connections[1].messages_sent == 0
            assert not sim.connections[1].authenticated
            del other

    asyncio.run(main())


@pytest.mark.parametrize("snapshot_first", [True, False])
def test_board_sync_matches_simulator(snapshot_first: bool) -> None:
    async def main() -> None:
        async with (
            Simulator(seed=3, tick_interval=None) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.ws_url) as ws,
        ):
            rpc = Rpc(ws)
            store = bitFlyerDataStore()
            sink = Sink()
            channels = [f"lightning_board_snapshot_{FX}", f"lightning_board_{FX}"]
            if not snapshot_first:
                channels.reverse()
            for channel in [f"lightning_ticker_{FX}", *channels]:
                await ws.send_json({"method": "subscribe", "params": {"channel": channel}})
            await sim.wait_for_subscription(f"lightning_board_{FX}")
            await sim.wait_for_subscription(f"lightning_board_snapshot_{FX}")
            for n in range(1, 200):
                sim.advance()
                await feed_until(rpc, store, sink, is_ticker(n))
            # The store unsubscribed from the snapshot channel itself.
            conn = sim.connections[0]
            await sim.wait_until(
                lambda _: f"lightning_board_snapshot_{FX}" not in conn.subscriptions
            )
            assert store.board.is_synced(FX)
            assert book(store) == sim.board_snapshot(FX)
            assert store.board.mid_price[FX] == sim.mid_price(FX)

    asyncio.run(main())


def test_board_sync_with_automatic_ticks_and_reconnects() -> None:
    async def main() -> None:
        async with (
            Simulator(seed=12, tick_interval=0.005) as sim,
            aiohttp.ClientSession() as s,
        ):
            store = bitFlyerDataStore()
            for attempt in range(1, 4):
                async with s.ws_connect(sim.ws_url) as ws:
                    rpc = Rpc(ws)
                    sink = Sink()
                    for channel in (
                        f"lightning_board_snapshot_{FX}",
                        f"lightning_board_{FX}",
                        f"lightning_ticker_{FX}",
                    ):
                        await ws.send_json({"method": "subscribe", "params": {"channel": channel}})
                    conn = await sim.wait_for_connections(attempt)
                    start = sim.stats.ticks
                    await sim.wait_for_ticks(start + 20)
                    sim.pause()
                    last = sim.stats.ticks
                    await feed_until(rpc, store, sink, is_ticker(last))
                    assert book(store) == sim.board_snapshot(FX)
                    sim.resume()
                    await sim.wait_for_ticks(last + 5)
                    conn.drop()  # the market moves on while we are away
                    await feed_until_closed(ws, store, sink)
                    store.feed_interrupted()
                    await sim.wait_until(lambda _, c=conn: not c.open)
                await sim.wait_for_ticks(sim.stats.ticks + 5)
            assert sim.stats.connections_accepted == 3

    asyncio.run(main())


def test_messages_are_deterministic_for_a_seed() -> None:
    async def record(seed: int) -> list[Any]:
        async with (
            Simulator(seed=seed, tick_interval=None, start_time=1_700_000_000.0) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.ws_url) as ws,
        ):
            rpc = Rpc(ws)
            for channel in ("board_snapshot", "board", "ticker", "executions"):
                await rpc.subscribe(f"lightning_{channel}_{FX}")
            sim.advance(40)
            await rpc.subscribe(f"lightning_board_snapshot_{FX}")  # a final snapshot
            seen = [m["params"] for m in rpc.backlog]
            rpc.backlog.clear()
            final = await rpc.channel(f"lightning_board_snapshot_{FX}")
            assert final["bids"][0]["price"] == sim.board_snapshot(FX)["bids"][0]["price"]
            return [*seen, final]

    async def main() -> None:
        a = await record(21)
        b = await record(21)
        c = await record(22)
        assert a == b
        assert a != c
        assert len(a) > 100

    asyncio.run(main())


def test_periodic_snapshots() -> None:
    async def main() -> None:
        async with (
            Simulator(seed=1, tick_interval=None, snapshot_every=3) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.ws_url) as ws,
        ):
            rpc = Rpc(ws)
            await rpc.subscribe(f"lightning_board_snapshot_{FX}")
            await rpc.channel(f"lightning_board_snapshot_{FX}")
            sim.advance(6)
            await rpc.call("unsubscribe", {"channel": f"lightning_board_snapshot_{FX}"})
            assert len(rpc.backlog) == 2
            assert (
                rpc.backlog[-1]["params"]["message"]["bids"][0]["price"]
                == (sim.board_snapshot(FX)["bids"][0]["price"])
            )

    asyncio.run(main())


def test_pings_are_answered() -> None:
    async def main() -> None:
        async with (
            Simulator(tick_interval=None) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.ws_url, autoping=False) as ws,
        ):
            await ws.ping(b"hello")
            msg = await ws.receive(timeout=10)
            assert msg.type is aiohttp.WSMsgType.PONG
            assert msg.data == b"hello"

    asyncio.run(main())


def test_client_close_is_answered() -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            ws = await s.ws_connect(sim.ws_url)
            conn = await sim.wait_for_connections(1)
            assert await ws.close(code=4001) is True
            assert ws.close_code == 4001  # echoed by the simulator
            await sim.wait_until(lambda _: not conn.open)
            assert conn.client_close_code == 4001
            assert sim.stats.connections_open == 0

    asyncio.run(main())
