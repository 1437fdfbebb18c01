"""Running the simulator: asyncio, a background thread, trio; waiting; TLS; clean stops."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable

import aiohttp
import pytest
import requests
import trio
import trustme
from aiohttp.abc import AbstractResolver, ResolveResult

import botters
from botters.protocol import build_login
from botters.simulator import DEMO_APIS, SIMULATED_HOSTS, Simulator, make_tls_contexts

from .conftest import Rpc

FX = "FX_BTC_JPY"


def simulator_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "botters-simulator"]


def assert_port_closed(address: tuple[str, int]) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=5).close()


def test_async_context_manager_cleans_up() -> None:
    async def main() -> tuple[str, int]:
        before = asyncio.all_tasks()
        async with aiohttp.ClientSession() as s:
            async with Simulator(tick_interval=0.01) as sim:
                ws = await s.ws_connect(sim.ws_url)
                await Rpc(ws).subscribe(f"lightning_ticker_{FX}")
                await sim.wait_for_ticks(3)
                address = sim.address
                assert sim.rest_url == f"http://127.0.0.1:{address[1]}"
                assert sim.ws_url == f"ws://127.0.0.1:{address[1]}/json-rpc"
                async with s.get(sim.rest_url + "/v1/getticker") as r:  # a keep-alive connection
                    assert r.status == 200
            # Stopping closed the client's connection with 1001 Going Away.
            msg = await ws.receive(timeout=10)
            while msg.type is aiohttp.WSMsgType.TEXT:
                msg = await ws.receive(timeout=10)
            assert (msg.type, msg.data, msg.extra) == (
                aiohttp.WSMsgType.CLOSE,
                1001,
                "simulator stopping",
            )
            await ws.close()
        assert asyncio.all_tasks() == before
        return address

    assert_port_closed(asyncio.run(main()))


def test_stop_drops_a_silent_connection() -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            async with Simulator(tick_interval=None) as sim:
                ws = await s.ws_connect(sim.ws_url)
                conn = await sim.wait_for_connections(1)
                conn.go_silent()
                await sim.wait_until(lambda _: conn.silent)
            msg = await ws.receive(timeout=10)
            assert msg.type is aiohttp.WSMsgType.CLOSED
            assert ws.close_code == 1006

    asyncio.run(main())


def test_start_in_thread_from_sync_code(sign: Callable[..., dict[str, str]]) -> None:
    threads_before = set(threading.enumerate())
    with Simulator(seed=1, tick_interval=0.01) as sim:
        assert len(simulator_threads()) == 1
        # Plain synchronous HTTP.
        ticker = requests.get(sim.rest_url + "/v1/getticker", timeout=10).json()
        assert ticker["product_code"] == FX
        path = "/v1/me/getcollateral"
        r = requests.get(sim.rest_url + path, headers=sign("GET", path), timeout=10)
        assert r.status_code == 200
        sim.wait_until_blocking(lambda s: s.stats.ticks >= 5)
        sim.pause()
        ticks = sim.stats.ticks
        sim.advance(2)
        assert sim.stats.ticks == ticks + 2
        sim.resume()

        # An asyncio client on this thread, waiting on the simulator's thread.
        async def client() -> None:
            async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_url) as ws:
                await Rpc(ws).subscribe(f"lightning_ticker_{FX}")
                conn = await sim.wait_for_subscription(f"lightning_ticker_{FX}")
                assert conn is sim.connections[0]
                conn.drop()  # a fault from another thread
                msg = await ws.receive(timeout=10)
                while msg.type is aiohttp.WSMsgType.TEXT:
                    msg = await ws.receive(timeout=10)
                assert ws.close_code == 1006
                await sim.wait_until(lambda _: not conn.open)

        asyncio.run(client())
        address = sim.address
    assert simulator_threads() == []
    assert set(threading.enumerate()) == threads_before
    assert_port_closed(address)
    with pytest.raises(TimeoutError):
        Simulator().wait_until_blocking(lambda _: False, timeout=0.01)


def test_blocking_wait_from_another_thread_is_woken() -> None:
    with Simulator(tick_interval=None) as sim:
        done = threading.Event()
        errors: list[BaseException] = []

        def waiter() -> None:
            try:
                sim.wait_until_blocking(lambda s: s.stats.ticks >= 3)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            done.set()

        thread = threading.Thread(target=waiter)
        thread.start()
        sim.advance(3)
        assert done.wait(10)
        thread.join()
        assert errors == []


def test_trio() -> None:
    async def main() -> None:
        async with Simulator(seed=2, tick_interval=None) as sim:
            assert len(simulator_threads()) == 1
            await trio.to_thread.run_sync(
                lambda: requests.get(sim.rest_url + "/v1/getboard", timeout=10)
            )
            await sim.wait_until(lambda s: s.stats.rest_requests >= 1)
            sim.advance(3)
            await sim.wait_for_ticks(3)
            with pytest.raises(TimeoutError):
                await sim.wait_until(lambda _: False, timeout=0.05)
            async with trio.open_nursery() as nursery:

                async def wait_for_tick_5() -> None:
                    await sim.wait_for_ticks(5)

                nursery.start_soon(wait_for_tick_5)
                await trio.to_thread.run_sync(sim.advance, 2)
            address = sim.address
        assert simulator_threads() == []
        assert_port_closed(address)

    trio.run(main)


def test_waiting() -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim:
            with pytest.raises(TimeoutError):
                await sim.wait_until(lambda _: False, timeout=0.05)

            def broken(_: Simulator) -> bool:
                raise ZeroDivisionError

            with pytest.raises(ZeroDivisionError):
                await sim.wait_until(broken)
            with pytest.raises(RuntimeError, match="deadlock"):
                sim.wait_until_blocking(lambda _: True)
            pending = asyncio.create_task(sim.wait_until(lambda _: False, timeout=None))
            await asyncio.sleep(0)  # let it register
            await sim.stop()
            with pytest.raises(RuntimeError, match="stopped"):
                await pending
            with pytest.raises(RuntimeError, match="stopped"):
                await sim.wait_until(lambda _: True)

    asyncio.run(main())


def test_single_use_and_misuse() -> None:
    sim = Simulator(tick_interval=None)
    with pytest.raises(RuntimeError, match="not been started"):
        _ = sim.rest_url
    assert "new" in repr(sim)

    async def main() -> None:
        await sim.start()
        try:
            with pytest.raises(RuntimeError, match="only be started once"):
                await sim.start()
            with pytest.raises(RuntimeError, match="only be started once"):
                sim.start_in_thread()
            assert "running" in repr(sim)
        finally:
            await sim.stop()
        await sim.stop()  # idempotent

    asyncio.run(main())
    assert "stopped" in repr(sim)
    with pytest.raises(ValueError, match="unknown product"):
        Simulator(products=("DOGE_JPY",))
    with pytest.raises(ValueError, match="at least one"):
        Simulator(products=())
    with pytest.raises(ValueError, match="tick_interval"):
        Simulator(tick_interval=0)
    with pytest.raises(KeyError, match="ETH_JPY"):
        Simulator().board_snapshot("ETH_JPY")


def test_port_in_use_is_reported() -> None:
    with Simulator(tick_interval=None) as first:
        second = Simulator(port=first.port)
        with pytest.raises(OSError, match="address already in use"):
            second.start_in_thread()
    assert simulator_threads() == []


class MapResolver(AbstractResolver):
    """Resolve the production hosts to the simulator: what a client's ``resolve=`` does."""

    def __init__(self, pins: dict[str, tuple[str, int]]) -> None:
        self.pins = pins

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        ip, sim_port = self.pins[host]  # nothing else may be resolved
        return [
            {
                "hostname": host,
                "host": ip,
                "port": sim_port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return make_tls_contexts()


def test_tls_by_hand_with_trustme() -> None:
    # What Simulator's docstring shows, for users who build their own contexts.
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*SIMULATED_HOSTS, "127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    async def main() -> None:
        async with (
            Simulator(tick_interval=None, ssl=server_ctx) as sim,
            aiohttp.ClientSession() as s,
            s.get(sim.rest_url + "/v1/getticker", ssl=client_ctx) as r,
        ):
            assert r.status == 200

    asyncio.run(main())


def test_tls_and_production_urls_signed_by_botters(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_ctx, client_ctx = tls
    apis = botters.load_apis(DEMO_APIS)

    async def main() -> None:
        async with Simulator(seed=5, tick_interval=None, ssl=server_ctx) as sim:
            assert sim.scheme == "https"
            assert sim.rest_url.startswith("https://127.0.0.1:")
            assert sim.ws_url.startswith("wss://127.0.0.1:")
            assert sim.resolve == {
                "api.bitflyer.com": sim.address,
                "ws.lightstream.bitflyer.com": sim.address,
            }
            connector = aiohttp.TCPConnector(resolver=MapResolver(sim.resolve), ssl=client_ctx)
            async with aiohttp.ClientSession(connector=connector) as s:
                # REST to the production URL, signed by botters, served by the simulator.
                signed = botters.sign_request(
                    botters.Request.build(
                        "POST",
                        "https://api.bitflyer.com/v1/me/sendchildorder",
                        data={
                            "product_code": FX,
                            "child_order_type": "MARKET",
                            "side": "SELL",
                            "size": 0.01,
                        },
                    ),
                    apis,
                )
                async with s.post(signed.url, data=signed.body, headers=dict(signed.headers)) as r:
                    assert r.status == 200, await r.text()
                # The WebSocket at its production URL, logged in by botters' builder.
                url = "wss://ws.lightstream.bitflyer.com/json-rpc"
                async with s.ws_connect(url) as ws:
                    login = build_login(
                        url, apis["bitflyer"], now=time.time(), nonce=secrets.token_hex(16)
                    )
                    assert login is not None
                    await ws.send_str(login.text)
                    reply = json.loads((await ws.receive(timeout=10)).data)
                    assert reply["result"] is True, reply
                    assert sim.connections[0].authenticated
            # A client that does not trust the test CA is refused by TLS.
            async with aiohttp.ClientSession() as s:
                with pytest.raises(aiohttp.ClientConnectorCertificateError):
                    await s.get(sim.rest_url + "/v1/getticker")
            # The simulator's own URLs work with the CA trusted (the cert names 127.0.0.1).
            async with (
                aiohttp.ClientSession() as s,
                s.get(sim.rest_url + "/v1/getticker", ssl=client_ctx) as r,
            ):
                assert r.status == 200
            assert sim.stats.orders == 1

    asyncio.run(main())


def test_many_threads_calling_controls_at_once() -> None:
    with Simulator(tick_interval=0.001) as sim:
        errors: list[BaseException] = []

        def hammer() -> None:
            try:
                for _ in range(50):
                    sim.board_snapshot(FX)
                    _ = sim.stats
                    sim.advance()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        workers = [threading.Thread(target=hammer) for _ in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert errors == []
        assert sim.stats.ticks >= 200
        snap = sim.board_snapshot(FX)
        assert snap["bids"][0]["price"] < snap["asks"][0]["price"]


def test_botters_client_recipe(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    # The recipe of Simulator's docstring, with botters' own client: production
    # URLs, pinned to the simulator, signed, over TLS.
    server_ctx, client_ctx = tls

    async def main() -> None:
        async with (
            Simulator(tick_interval=None, ssl=server_ctx) as sim,
            botters.Client(apis=DEMO_APIS, resolve=sim.resolve, ssl=client_ctx) as client,
        ):
            r = await client.fetch("GET", "https://api.bitflyer.com/v1/me/getcollateral")
            assert r.response.status == 200, r.text
            assert r.data["collateral"] == 1_000_000
            r = await client.fetch(
                "POST",
                "https://api.bitflyer.com/v1/me/sendchildorder",
                data={
                    "product_code": FX,
                    "child_order_type": "MARKET",
                    "side": "BUY",
                    "size": 0.01,
                },
            )
            assert r.response.status == 200, r.text
            assert sim.stats.rest_rejected == 0
            assert sim.stats.orders == 1

    asyncio.run(main())
