"""Every fault control does what it says, armed for the next connection or live."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import pytest

from botters.simulator import GARBAGE_FRAME, Fault, Simulator

from .conftest import Rpc

FX = "FX_BTC_JPY"
TICKER = f"lightning_ticker_{FX}"


def fault_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "botters.simulator" and r.getMessage().startswith("fault:")
    ]


async def texts_until_closed(ws: aiohttp.ClientWebSocketResponse) -> list[str]:
    """Every text frame until the connection ends (by any means)."""
    out = []
    while True:
        msg = await ws.receive(timeout=10)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            return out
        out.append(msg.data)


def test_drop_after_n_frames(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            sim.inject(Fault(drop_after=3))
            async with s.ws_connect(sim.ws_url) as ws:
                await Rpc(ws).subscribe(TICKER)  # frame 1: the reply; frame 2: a ticker
                conn = await sim.wait_for_connections(1)
                sim.advance(5)  # frame 3, then the drop
                frames = await texts_until_closed(ws)
                assert len(frames) == 2  # the reply was read by subscribe()
                assert ws.close_code == 1006  # no close frame: abnormal closure
                await sim.wait_until(lambda _: not conn.open)
                assert conn.messages_sent == 3
            # Only the next connection was affected.
            async with s.ws_connect(sim.ws_url) as ws:
                await Rpc(ws).subscribe(TICKER)
                sim.advance(5)
                conn2 = await sim.wait_for_connections(2)
                await sim.wait_until(lambda _: conn2.messages_sent == 7)
                assert conn2.open

    with caplog.at_level(logging.INFO, logger="botters.simulator"):
        asyncio.run(main())
    assert fault_lines(caplog) == ["fault: connection #1: dropping TCP after 3 frames"]


def test_silent_stops_data_and_pongs(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            sim.inject(Fault(silent_after=2))
            async with s.ws_connect(sim.ws_url, autoping=False) as ws:
                rpc = Rpc(ws)
                await rpc.subscribe(TICKER)
                await rpc.channel(TICKER)  # frames 1 and 2
                conn = await sim.wait_for_connections(1)
                await sim.wait_until(lambda _: conn.silent)
                sim.advance(3)
                await ws.ping(b"anyone?")
                await ws.send_json({"method": "subscribe", "params": {}, "id": 9})
                # Nothing comes back: not the ticks, not the pong, not the error reply.
                with pytest.raises(asyncio.TimeoutError):
                    await ws.receive(timeout=0.3)
                assert conn.messages_sent == 2
                assert conn.open

    with caplog.at_level(logging.INFO, logger="botters.simulator"):
        asyncio.run(main())
    assert fault_lines(caplog) == [
        "fault: connection #1: going silent after 2 frames (no data, no pongs)"
    ]


def test_silent_peer_trips_client_heartbeat() -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            async with s.ws_connect(sim.ws_url, heartbeat=0.2) as ws:
                conn = await sim.wait_for_connections(1)
                conn.go_silent()
                msg = await ws.receive(timeout=10)
                assert msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSED)
                assert isinstance(ws.exception(), asyncio.TimeoutError)
            # The client dropped the TCP connection; the simulator noticed.
            await sim.wait_until(lambda _: not conn.open)

    asyncio.run(main())


def test_silent_peer_does_not_answer_close() -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            ws = await s.ws_connect(sim.ws_url, timeout=aiohttp.ClientWSTimeout(ws_close=0.3))
            conn = await sim.wait_for_connections(1)
            conn.go_silent()
            await ws.close()  # waits ws_close for a reply that never comes
            assert ws.close_code == 1006
            await sim.wait_until(lambda _: not conn.open)

    asyncio.run(main())


def test_garbage_frame(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            sim.inject(Fault(garbage_after=1))
            async with s.ws_connect(sim.ws_url) as ws:
                await ws.send_json({"method": "subscribe", "params": {"channel": TICKER}, "id": 1})
                frames = [(await ws.receive(timeout=10)).data for _ in range(3)]
                assert json.loads(frames[0])["result"] is True
                assert frames[1] == GARBAGE_FRAME
                with pytest.raises(json.JSONDecodeError):
                    json.loads(frames[1])
                assert json.loads(frames[2])["params"]["channel"] == TICKER
                # Then it carries on normally.
                sim.advance()
                msg = json.loads((await ws.receive(timeout=10)).data)
                assert msg["params"]["message"]["tick_id"] == 1
                conn = sim.connections[0]
                conn.send_garbage()  # the live shortcut
                assert (await ws.receive(timeout=10)).data == GARBAGE_FRAME
                assert conn.messages_sent == 5

    with caplog.at_level(logging.INFO, logger="botters.simulator"):
        asyncio.run(main())
    assert fault_lines(caplog) == [
        "fault: connection #1: sending a non-JSON frame after 1 frames",
        "fault: connection #1: sending a non-JSON frame after 4 frames",
    ]


@pytest.mark.parametrize(("code", "reason"), [(4000, "bye"), (1011, ""), (1001, "maintenance")])
def test_close_with_code(code: int, reason: str, caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            sim.inject(Fault(close_after=1, close_code=code, close_reason=reason))
            async with s.ws_connect(sim.ws_url) as ws:
                assert (await Rpc(ws).subscribe(TICKER))["result"] is True
                msg = await ws.receive(timeout=10)
                assert msg.type is aiohttp.WSMsgType.CLOSE
                assert msg.data == code
                assert msg.extra == reason
                conn = sim.connections[0]
                await sim.wait_until(lambda _: not conn.open)
                assert conn.messages_sent == 1

    with caplog.at_level(logging.INFO, logger="botters.simulator"):
        asyncio.run(main())
    assert fault_lines(caplog) == [
        f"fault: connection #1: closing with code {code} ({reason!r}) after 1 frames"
    ]


def test_live_close_shortcut() -> None:
    async def main() -> None:
        async with (
            Simulator(tick_interval=None) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.ws_url) as ws,
        ):
            conn = await sim.wait_for_connections(1)
            conn.close(4321, "go away")
            msg = await ws.receive(timeout=10)
            assert (msg.type, msg.data, msg.extra) == (aiohttp.WSMsgType.CLOSE, 4321, "go away")

    asyncio.run(main())


def test_refuse_handshake(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            sim.inject(Fault(refuse=503), count=2)
            for _ in range(2):
                with pytest.raises(aiohttp.WSServerHandshakeError) as info:
                    await s.ws_connect(sim.ws_url)
                assert info.value.status == 503
            async with s.ws_connect(sim.ws_url) as ws:
                assert (await Rpc(ws).subscribe(TICKER))["result"] is True
            stats = sim.stats
            assert (stats.handshakes, stats.handshakes_refused) == (3, 2)
            assert stats.connections_accepted == 1
            # The refusal body is bitFlyer-shaped JSON.
            sim.inject(Fault(refuse=429))
            async with s.get(sim.ws_url.replace("ws://", "http://")) as r:
                assert r.status == 429
                assert (await r.json())["status"] == -429

    with caplog.at_level(logging.INFO, logger="botters.simulator"):
        asyncio.run(main())
    assert fault_lines(caplog) == [
        "fault: refused WebSocket handshake #1 with HTTP 503",
        "fault: refused WebSocket handshake #2 with HTTP 503",
        "fault: refused WebSocket handshake #4 with HTTP 429",
    ]


def test_reject_login(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            sim.inject(Fault(reject_login=True))
            async with s.ws_connect(sim.ws_url) as ws:
                reply = await Rpc(ws).login()  # a good signature, rejected anyway
                assert reply["error"]["code"] == -32000
                assert reply["id"] == 1
                assert not sim.connections[0].authenticated
            async with s.ws_connect(sim.ws_url) as ws:
                rpc = Rpc(ws)
                assert (await rpc.login())["result"] is True
                sim.connections[1].inject(Fault(reject_login=True))  # live: from now on
                assert "error" in await rpc.login()
            assert (sim.stats.logins_accepted, sim.stats.logins_rejected) == (1, 2)

    with caplog.at_level(logging.INFO, logger="botters.simulator"):
        asyncio.run(main())
    assert fault_lines(caplog) == [
        "fault: connection #1: login rejected on purpose",
        "fault: connection #2: login rejected on purpose",
    ]


def test_reply_delay() -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            sim.inject(Fault(reply_delay=0.25))
            async with s.ws_connect(sim.ws_url) as ws:
                loop = asyncio.get_running_loop()
                started = loop.time()
                await ws.send_json({"method": "subscribe", "params": {"channel": TICKER}, "id": 7})
                # The data sent on subscribing overtakes the held-back reply.
                first = json.loads((await ws.receive(timeout=10)).data)
                assert first["method"] == "channelMessage"
                reply = json.loads((await ws.receive(timeout=10)).data)
                assert reply == {"jsonrpc": "2.0", "id": 7, "result": True}
                assert loop.time() - started >= 0.25

    asyncio.run(main())


def test_live_drop_and_drop_all() -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            clients = [await s.ws_connect(sim.ws_url) for _ in range(3)]
            await sim.wait_for_connections(3)
            sim.connections[0].drop()
            assert await texts_until_closed(clients[0]) == []
            assert clients[0].close_code == 1006
            first = sim.connections[0]
            await sim.wait_until(lambda _: not first.open)
            assert [c.open for c in sim.connections] == [False, True, True]
            sim.drop_all()
            for ws in clients[1:]:
                assert await texts_until_closed(ws) == []
                assert ws.close_code == 1006
            await sim.wait_until(lambda s_: s_.stats.connections_open == 0)
            assert sim.open_connections == ()
            for ws in clients:
                await ws.close()

    asyncio.run(main())


def test_faults_combine_and_count_from_now() -> None:
    async def main() -> None:
        async with (
            Simulator(tick_interval=None) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.ws_url) as ws,
        ):
            await Rpc(ws).subscribe(TICKER)
            await ws.receive(timeout=10)  # the first ticker
            conn = sim.connections[0]
            assert conn.messages_sent == 2
            conn.inject(Fault(garbage_after=1, drop_after=3))
            sim.advance(10)
            frames = await texts_until_closed(ws)
            # 2 more ticks, the garbage in between, then the drop.
            assert len(frames) == 3
            assert frames[1] == GARBAGE_FRAME
            assert conn.messages_sent == 5

    asyncio.run(main())


def test_armed_faults_are_taken_in_order() -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            sim.inject(Fault(drop_after=0), count=2)
            sim.inject(Fault(close_after=0, close_code=4002))
            ends: list[Any] = []
            for _ in range(3):
                async with s.ws_connect(sim.ws_url) as ws:
                    msg = await ws.receive(timeout=10)
                    ends.append((msg.type, ws.close_code if msg.data is None else msg.data))
            assert ends == [
                (aiohttp.WSMsgType.CLOSED, 1006),
                (aiohttp.WSMsgType.CLOSED, 1006),
                (aiohttp.WSMsgType.CLOSE, 4002),
            ]
            async with s.ws_connect(sim.ws_url) as ws:  # nothing armed any more
                assert (await Rpc(ws).subscribe(TICKER))["result"] is True

    asyncio.run(main())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"refuse": 200}, "refuse"),
        ({"reply_delay": -1}, "reply_delay"),
        ({"drop_after": -1}, "drop_after"),
        ({"silent_after": 1.5}, "silent_after"),
        ({"close_after": 0, "close_code": 1005}, "close_code"),
        ({"close_after": 0, "close_reason": "x" * 124}, "123"),
    ],
)
def test_fault_validation(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Fault(**kwargs)


def test_live_connection_cannot_be_refused() -> None:
    async def main() -> None:
        async with (
            Simulator(tick_interval=None) as sim,
            aiohttp.ClientSession() as s,
            s.ws_connect(sim.ws_url),
        ):
            conn = await sim.wait_for_connections(1)
            with pytest.raises(ValueError, match="handshake"):
                conn.inject(Fault(refuse=503))
            with pytest.raises(ValueError, match="count"):
                sim.inject(Fault(), count=0)

    asyncio.run(main())


def test_stop_with_a_parked_silent_connection() -> None:
    # The client sent its close frame to a silent peer and keeps the TCP
    # connection open: stopping the simulator still ends it promptly.
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            async with Simulator(tick_interval=None) as sim:
                ws = await s.ws_connect(sim.ws_url, timeout=aiohttp.ClientWSTimeout(ws_close=30))
                conn = await sim.wait_for_connections(1)
                conn.go_silent()
                closing = asyncio.create_task(ws.close())
                await sim.wait_until(lambda _: conn.client_close_code == 1000)
                assert conn.open  # parked: the simulator did not answer
            await closing
            assert ws.close_code == 1006
            assert not conn.open

    asyncio.run(main())
