"""Scenario 1: subscribe and receive (ticker + board; ``await app`` then data; the store fills)."""

from __future__ import annotations

from botters.protocol.session import State

from ._adapters import AdapterUnderTest
from ._support import (
    FX,
    PRIVATE,
    SNAPSHOT,
    TICKER,
    TIMEOUT,
    Tls,
    assert_board_in_sync,
    client_for,
    open_feed,
    simulator,
)


def test_subscribe_and_receive(adapter: AdapterUnderTest, tls: Tls) -> None:
    async def scenario() -> None:
        async with client_for(adapter, sim, tls) as client:
            feed = open_feed(adapter, client)
            app = await adapter.wait_for(feed.app, timeout=TIMEOUT, what="await app")
            assert app is feed.app
            # Open means logged in and subscribed: the private channel was granted.
            assert app.state is State.OPEN
            assert app.current_ws is not None
            conn = await sim.wait_for_subscription(PRIVATE, timeout=TIMEOUT)
            assert conn.authenticated

            # Data arrives and fills the store.
            start = feed.probe.tick
            await feed.until_tick(start + 20)
            assert feed.store.ticker.get({"product_code": FX}) is not None
            assert feed.store.board.is_synced(FX)
            await assert_board_in_sync(feed, sim)
            # The store asked, through the connection, to leave the snapshot channel.
            await sim.wait_until(lambda _: SNAPSHOT not in conn.subscriptions, timeout=TIMEOUT)
            assert TICKER in conn.subscriptions
            # Still one connection: nothing was interrupted.
            assert feed.probe.interruptions == []
            assert sim.stats.connections_accepted == 1

    with simulator(tls) as sim:
        adapter.run(scenario)
