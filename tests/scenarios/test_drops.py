"""Scenario 2: 50 abrupt drops, 50 recoveries, and the book right after each one."""

from __future__ import annotations

from botters.protocol.session import State

from ._adapters import AdapterUnderTest
from ._support import (
    TICKER,
    TIMEOUT,
    Figures,
    Tls,
    assert_board_in_sync,
    client_for,
    open_feed,
    simulator,
    span,
)

DROPS = 50
# Small delays so that 50 reconnects take about a second: the first retry
# after a loss within [0, 10 ms], then 5 ms growing to a 20 ms cap.
BACKOFF = (0.005, 0.02, 2.0, 0.01)


def test_fifty_abrupt_drops_fifty_recoveries(
    adapter: AdapterUnderTest, tls: Tls, figures: Figures
) -> None:
    async def scenario() -> None:
        async with client_for(adapter, sim, tls) as client:
            feed = open_feed(adapter, client, backoff=BACKOFF)
            await adapter.wait_for(feed.app, timeout=TIMEOUT, what="await app")
            conn = await sim.wait_for_subscription(TICKER, timeout=TIMEOUT)
            await assert_board_in_sync(feed, sim)

            started = adapter.clock()
            reconnects: list[float] = []
            recoveries: list[float] = []
            for drop in range(1, DROPS + 1):
                told = len(feed.probe.interruptions)
                dropped_at = adapter.clock()
                conn.drop()  # TCP abort: no close frame
                # The store is told at once that it may have missed messages...
                await feed.until(
                    lambda told=told: len(feed.probe.interruptions) > told,
                    f"feed_interrupted() after drop {drop}",
                )
                assert not feed.probe.interruptions[-1].board_synced
                # ...the session reconnects, logs in again and resubscribes...
                conn = await sim.wait_for_connections(drop + 1, timeout=TIMEOUT)
                reconnects.append(adapter.clock() - dropped_at)
                await sim.wait_for_subscription(TICKER, connection=conn, timeout=TIMEOUT)
                assert conn.authenticated  # a fresh login (the simulator rejects reused nonces)
                # ...and the book is the simulator's again.
                await assert_board_in_sync(feed, sim)
                recoveries.append(adapter.clock() - dropped_at)
                assert feed.app.state is State.OPEN
            elapsed = adapter.clock() - started

            assert len(feed.probe.interruptions) == DROPS  # one per drop, none spurious
            stats = sim.stats
            assert stats.connections_accepted == DROPS + 1
            assert stats.logins_accepted == DROPS + 1
            assert stats.logins_rejected == 0
            figures.add(
                adapter,
                f"{DROPS} abrupt drops recovered in {elapsed:.2f} s total (backoff={BACKOFF}); "
                f"drop -> new connection accepted {span(reconnects)}; "
                f"drop -> book equal again {span(recoveries)}",
            )

    with simulator(tls) as sim:
        adapter.run(scenario)
