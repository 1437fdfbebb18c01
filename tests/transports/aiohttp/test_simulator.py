"""End to end: botters.Client against the bitFlyer simulator (TLS, real host names)."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

import botters
from botters.simulator import DEMO_APIS, SIMULATED_HOSTS, Simulator
from botters.transports.aiohttp import Client, MessageStream

pytestmark = pytest.mark.anyio

FX = "FX_BTC_JPY"
URL = "wss://ws.lightstream.bitflyer.com/json-rpc"
FAST = (0.01, 0.05, 1.5, 0.0)
CHANNELS = (
    f"lightning_board_snapshot_{FX}",
    f"lightning_board_{FX}",
    f"lightning_ticker_{FX}",
    "child_order_events",
)


async def until_tick(ticker: MessageStream, tick: int) -> None:
    while (await ticker.get())["params"]["message"]["tick_id"] < tick:
        pass


async def test_board_stays_in_sync_through_drops(
    server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    async with Simulator(seed=7, tick_interval=None, ssl=server_ssl) as sim:
        pins = dict.fromkeys(SIMULATED_HOSTS, ("127.0.0.1", sim.port))
        store = botters.bitFlyerDataStore()
        async with Client(apis=dict(DEMO_APIS), resolve=pins, ssl=client_ssl) as client:
            sends: list[Any] = [
                {"method": "subscribe", "params": {"channel": c}, "id": i}
                for i, c in enumerate(CHANNELS)
            ]
            app = client.ws_connect(URL, send_json=sends, hdlr_json=store.onmessage, backoff=FAST)
            ticker = app.stream({"params": {"channel": f"lightning_ticker_{FX}"}})
            await app
            # A private channel: only granted after the login the session sent.
            conn = await sim.wait_for_subscription("child_order_events")
            assert conn.authenticated
            tick = 0
            for _ in range(30):
                tick += 1
                sim.advance()
                await until_tick(ticker, tick)
            # The store unsubscribed from the snapshot channel through current_ws.
            await sim.wait_until(lambda _: CHANNELS[0] not in conn.subscriptions)
            assert store.board.is_synced(FX)
            assert store.board.sorted({"product_code": FX}) == sim.board_snapshot(FX)

            for attempt in (2, 3):
                conn.drop()
                conn = await sim.wait_for_connections(attempt)
                await sim.wait_for_subscription(f"lightning_ticker_{FX}", connection=conn)
                assert conn.authenticated
                for _ in range(30):
                    tick += 1
                    sim.advance()
                    await until_tick(ticker, tick)
                assert store.board.is_synced(FX)
                assert store.board.sorted({"product_code": FX}) == sim.board_snapshot(FX)


async def test_rest_requests_are_signed_for_the_simulator(
    server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    async with Simulator(seed=1, tick_interval=None, ssl=server_ssl) as sim:
        pins = dict.fromkeys(SIMULATED_HOSTS, ("127.0.0.1", sim.port))
        async with Client(
            apis=dict(DEMO_APIS),
            base_url="https://api.bitflyer.com",
            resolve=pins,
            ssl=client_ssl,
        ) as client:
            r = await client.fetch("GET", "/v1/me/getcollateral")
            assert r.response.status == 200, r.text
            assert r.data["collateral"] == sim.collateral()["collateral"]
            unsigned = await client.fetch("GET", "/v1/me/getcollateral", auth=None)
            assert unsigned.response.status != 200
