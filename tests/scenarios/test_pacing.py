"""Scenario 10: send pacing on both adapters, against a server that records arrival times.

The server (aiohttp.web on its own loop, in a thread) notes ``time.monotonic()``
when each handshake request arrives and when each text frame arrives. The
client paces with ``Pacing(messages=5, per=0.2)``.

What is asserted can only fail if the client sends too early; no assertion
depends on how fast anything runs. The machine releases frame ``i`` of a
connection no earlier than ``per`` after frame ``i - 5``, so no earlier than
``(i // 5) * per`` after the first, which itself goes after the handshake
reached the server. A frame arrives after it was sent. Hence, on the server's
clock, frame ``i`` arrives at least ``(i // 5) * per`` after that connection's
handshake arrived. (Comparing two arrivals with each other, "no ``per``
window holds more than 5 frames", would not be safe: a frame that was *read*
late by the server looks closer to the next one than it was sent. That
sliding-window property is proven on the machine itself, in
``tests/protocol/session/test_pacing_properties.py``.)

On the client's clock, an awaited send returns only once its frame was
released, so the same bound holds from a time taken before the connection
existed.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from botters.protocol.session import Pacing
from botters.transports._errors import WebSocketClosedError

from ._adapters import AdapterUnderTest
from ._support import TIMEOUT, Figures, Tls

PACING = Pacing(messages=5, per=0.2)
SUBS = [f'{{"op":"subscribe","n":{i}}}' for i in range(12)]
FAST_BACKOFF = (0.01, 0.05, 2.0, 0.02)


@dataclass
class Peer:
    """The server end of one connection, as recorded."""

    handshake_at: float
    """``time.monotonic()`` when the upgrade request arrived (before the 101 went out)."""
    transport: Any
    frames: list[tuple[float, str]] = field(default_factory=list)
    """``(arrival time, text)`` of every text frame, in order."""
    ended: threading.Event = field(default_factory=threading.Event)

    @property
    def texts(self) -> list[str]:
        return [text for _, text in list(self.frames)]


class RecordingServer:
    """A WebSocket server on 127.0.0.1 in its own thread; one :class:`Peer` per connection."""

    def __init__(self) -> None:
        self.peers: list[Peer] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/feed"

    def __enter__(self) -> RecordingServer:
        ready = threading.Event()

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            app = web.Application()
            app.router.add_get("/feed", self._handler)
            runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=2.0)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.port = int(runner.addresses[0][1])
            ready.set()
            try:
                await self._stop.wait()
            finally:
                await runner.cleanup()

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
        self._thread.start()
        assert ready.wait(10), "the recording server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        loop, stop, thread = self._loop, self._stop, self._thread
        assert loop is not None
        assert stop is not None
        assert thread is not None
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        assert not thread.is_alive(), "the recording server did not stop"

    async def _handler(self, request: web.Request) -> web.WebSocketResponse:
        arrived = time.monotonic()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        peer = Peer(handshake_at=arrived, transport=request.transport)
        self.peers.append(peer)
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    peer.frames.append((time.monotonic(), msg.data))
        finally:
            peer.ended.set()
        return ws

    def drop(self, peer: Peer, *, after: float = 0.0) -> None:
        """Abort ``peer``'s TCP connection (no close frame), ``after`` seconds from now."""
        loop = self._loop
        assert loop is not None
        loop.call_soon_threadsafe(loop.call_later, after, peer.transport.abort)


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as recording:
        yield recording


def assert_paced(peer: Peer, pacing: Pacing = PACING) -> None:
    """Frame ``i`` arrived no earlier than ``(i // messages) * per`` after the handshake."""
    for i, (arrived, text) in enumerate(list(peer.frames)):
        bound = (i // pacing.messages) * pacing.per
        assert arrived - peer.handshake_at >= bound, (
            f"frame {i} ({text}) arrived {arrived - peer.handshake_at:.4f} s after the "
            f"handshake; the pacing allows it no earlier than {bound:.2f} s"
        )


def test_subscriptions_replays_and_awaited_sends_keep_to_the_limit(
    adapter: AdapterUnderTest, tls: Tls, server: RecordingServer, figures: Figures
) -> None:
    async def scenario() -> None:
        async with adapter.client(apis={}, resolve={}, ssl=tls.client) as client:
            before = adapter.clock()
            app = client.ws_connect(
                server.url, send_str=SUBS, pacing=PACING, heartbeat=None, backoff=FAST_BACKOFF
            )
            await adapter.wait_for(app, timeout=TIMEOUT, what="await app")
            first = app.current_ws
            assert first is not None
            # Open: the subscriptions beyond the first five are queued, ahead of these.
            for k in range(3):
                await adapter.wait_for(first.send_str(f"user{k}"), timeout=TIMEOUT)
                index = len(SUBS) + k  # its place on the connection
                assert adapter.clock() - before >= (index // 5) * PACING.per
            await adapter.wait_for(
                lambda: len(server.peers) == 1 and len(server.peers[0].frames) == 15,
                timeout=TIMEOUT,
                what="15 frames on the first connection",
            )
            first_done = adapter.clock() - before

            # An abrupt drop: the session reconnects and replays, paced afresh.
            dropped = adapter.clock()
            server.drop(server.peers[0])
            await adapter.wait_for(
                lambda: app.current_ws is not None and app.current_ws is not first,
                timeout=TIMEOUT,
                what="a new connection",
            )
            second = app.current_ws
            for k in range(2):
                await adapter.wait_for(second.send_str(f"again{k}"), timeout=TIMEOUT)
                assert adapter.clock() - dropped >= ((len(SUBS) + k) // 5) * PACING.per
            await adapter.wait_for(
                lambda: len(server.peers) == 2 and len(server.peers[1].frames) == 14,
                timeout=TIMEOUT,
                what="14 frames on the second connection",
            )
            await app.close()
            figures.add(
                adapter,
                f"pacing {PACING}: 15 frames on the first connection in {first_done:.2f} s "
                f"(3 windows), 14 on the replayed one in {adapter.clock() - dropped:.2f} s",
            )

        first_peer, second_peer = server.peers
        assert first_peer.texts == [*SUBS, "user0", "user1", "user2"]
        assert second_peer.texts == [*SUBS, "again0", "again1"]
        assert_paced(first_peer)
        assert_paced(second_peer)

    adapter.run(scenario)


def test_a_send_cancelled_while_it_waits_is_never_sent(
    adapter: AdapterUnderTest, tls: Tls, server: RecordingServer
) -> None:
    slow = Pacing(messages=1, per=30.0)  # the second frame may go only 30 s after the first

    async def scenario() -> None:
        async with adapter.client(apis={}, resolve={}, ssl=tls.client) as client:
            app = client.ws_connect(server.url, send_str="first", pacing=slow, heartbeat=None)
            await adapter.wait_for(app, timeout=TIMEOUT, what="await app")
            conn = app.current_ws
            with pytest.raises(TimeoutError):
                # Held back by the pacing; the timeout cancels it.
                await adapter.wait_for(conn.send_str("withdrawn"), timeout=0.1)
            assert app.session.queued() == 0  # taken back, not left to go later
            await adapter.wait_for(
                lambda: server.peers and server.peers[0].texts == ["first"],
                timeout=TIMEOUT,
                what="the first frame",
            )
            await app.close()
        await adapter.wait_for(server.peers[0].ended.is_set, timeout=TIMEOUT, what="closed")
        assert server.peers[0].texts == ["first"]

    adapter.run(scenario)


def test_a_waiting_send_fails_when_its_connection_is_lost(
    adapter: AdapterUnderTest, tls: Tls, server: RecordingServer
) -> None:
    slow = Pacing(messages=1, per=30.0)

    async def scenario() -> None:
        async with adapter.client(apis={}, resolve={}, ssl=tls.client) as client:
            app = client.ws_connect(
                server.url, send_str="first", pacing=slow, heartbeat=None, backoff=(1, 2, 2, 1)
            )
            await adapter.wait_for(app, timeout=TIMEOUT, what="await app")
            conn = app.current_ws
            await adapter.wait_for(lambda: len(server.peers) == 1, timeout=TIMEOUT, what="peer")
            server.drop(server.peers[0], after=0.1)
            with pytest.raises(WebSocketClosedError):
                await adapter.wait_for(conn.send_str("never"), timeout=TIMEOUT)
            await app.close()
        await adapter.wait_for(server.peers[0].ended.is_set, timeout=TIMEOUT, what="closed")
        assert server.peers[0].texts == ["first"]

    adapter.run(scenario)
