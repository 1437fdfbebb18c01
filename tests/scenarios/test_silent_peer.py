"""Scenario 3: a peer that goes silent is detected within the configured timeout, then replaced."""

from __future__ import annotations

from ._adapters import AdapterUnderTest
from ._support import (
    TICKER,
    TIMEOUT,
    Figures,
    Tls,
    assert_board_in_sync,
    client_for,
    ms,
    open_feed,
    simulator,
)

HEARTBEAT = 0.1  # PING after 100 ms without receiving anything
DEAD_PEER_TIMEOUT = 0.3  # give up after 300 ms without receiving anything
MARGIN = 0.5
"""Allowed lateness of the detection: a behaviour bound (the session does not wait for a
timeout twice, nor forever), generous for loaded CI machines; not a performance figure."""
BACKOFF = (0.005, 0.02, 2.0, 0.01)


def test_silent_peer_is_detected_within_the_timeout_and_replaced(
    adapter: AdapterUnderTest, tls: Tls, figures: Figures
) -> None:
    async def scenario() -> None:
        async with client_for(adapter, sim, tls) as client:
            feed = open_feed(
                adapter,
                client,
                heartbeat=HEARTBEAT,
                dead_peer_timeout=DEAD_PEER_TIMEOUT,
                close_timeout=0.2,  # the silent peer never answers our close frame either
                backoff=BACKOFF,
            )
            await adapter.wait_for(feed.app, timeout=TIMEOUT, what="await app")
            silent = await sim.wait_for_subscription(TICKER, timeout=TIMEOUT)
            await assert_board_in_sync(feed, sim)
            # Data flows every 10 ms: far more often than the heartbeat, so no
            # PING is ever needed while the peer is alive.
            await feed.until_tick(feed.probe.tick + 10)
            assert feed.probe.interruptions == []

            silenced_at = adapter.clock()
            silent.go_silent()  # no data, no pongs, no close frame; the TCP stays up
            await feed.until(lambda: bool(feed.probe.interruptions), "dead peer detected")
            detected = feed.probe.interruptions[0]
            assert not detected.board_synced
            assert detected.last_data_at is not None
            # Measured on the loop's clock, from the last frame the client received.
            quiet = detected.at - detected.last_data_at
            assert DEAD_PEER_TIMEOUT <= quiet < DEAD_PEER_TIMEOUT + MARGIN

            # The session reconnects and resubscribes; the book is right again.
            fresh = await sim.wait_for_connections(2, timeout=TIMEOUT)
            await sim.wait_for_subscription(TICKER, connection=fresh, timeout=TIMEOUT)
            await assert_board_in_sync(feed, sim)
            # The client let the silent connection go (it closed the TCP connection).
            await sim.wait_until(lambda _: not silent.open, timeout=TIMEOUT)
            assert len(feed.probe.interruptions) == 1
            figures.add(
                adapter,
                f"silent peer: detected {ms(quiet)} after the last frame received "
                f"(dead_peer_timeout {ms(DEAD_PEER_TIMEOUT)}, heartbeat {ms(HEARTBEAT)}); "
                f"{ms(detected.at - silenced_at)} after go_silent()",
            )

    with simulator(tls) as sim:
        adapter.run(scenario)
