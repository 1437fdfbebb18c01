"""Scenarios 4 and 5: refused handshakes and rejected logins back off, within bounds."""

from __future__ import annotations

import itertools
import logging

import pytest

from botters.simulator import Fault

from ._adapters import AdapterUnderTest
from ._support import (
    PRIVATE,
    TIMEOUT,
    Figures,
    Tls,
    backoff_bounds,
    client_for,
    ms,
    open_feed,
    record_times,
    simulator,
)

MIN, MAX, FACTOR, INITIAL = 0.02, 0.08, 2.0, 0.02
BACKOFF = (MIN, MAX, FACTOR, INITIAL)  # pybotters' tuple; jitter is botters' default
JITTER = 0.1
MARGIN = 0.3
"""What a gap between attempts may exceed its delay by: the TLS handshake, the login
round trip and scheduling. A behaviour bound (no hammering, no stall), not a benchmark."""


def bounds(attempt: int) -> tuple[float, float]:
    return backoff_bounds(
        attempt, min_delay=MIN, max_delay=MAX, factor=FACTOR, initial=INITIAL, jitter=JITTER
    )


REFUSALS = 8


def test_refused_handshakes_back_off_within_bounds(
    adapter: AdapterUnderTest, tls: Tls, figures: Figures
) -> None:
    async def scenario() -> None:
        sim.inject(Fault(refuse=503), count=REFUSALS)
        async with client_for(adapter, sim, tls) as client:
            feed = open_feed(adapter, client, backoff=BACKOFF)
            attempts = await record_times(sim, lambda s: s.stats.handshakes, REFUSALS + 1)
            await adapter.wait_for(feed.app, timeout=TIMEOUT, what="await app after the storm")
            await sim.wait_for_subscription(PRIVATE, timeout=TIMEOUT)

            gaps = [b - a for a, b in itertools.pairwise(attempts)]
            for failure, gap in enumerate(gaps, 1):
                lo, hi = bounds(failure)
                assert lo <= gap < hi + MARGIN, (failure, gap, (lo, hi))
            stats = sim.stats
            assert stats.handshakes == REFUSALS + 1
            assert stats.handshakes_refused == REFUSALS
            assert stats.connections_accepted == 1
            assert feed.probe.interruptions == []  # never open, so nothing to resync
            figures.add(
                adapter,
                f"503 storm: {REFUSALS} refused handshakes then success, {len(attempts)} attempts "
                f"in {ms(attempts[-1] - attempts[0])}; gaps "
                + ", ".join(ms(g) for g in gaps)
                + f" (backoff={BACKOFF}, jitter {JITTER})",
            )

    with simulator(tls, tick_interval=None) as sim:
        adapter.run(scenario)


REJECTIONS = 5


def test_rejected_login_is_reported_and_backs_off(
    adapter: AdapterUnderTest, tls: Tls, figures: Figures, caplog: pytest.LogCaptureFixture
) -> None:
    def logins(s: object) -> int:
        stats = sim.stats
        return stats.logins_rejected + stats.logins_accepted

    async def scenario() -> None:
        sim.inject(Fault(reject_login=True), count=REJECTIONS)
        async with client_for(adapter, sim, tls) as client:
            feed = open_feed(adapter, client, backoff=BACKOFF)
            attempts = await record_times(sim, logins, REJECTIONS + 1)
            await adapter.wait_for(feed.app, timeout=TIMEOUT, what="await app after rejections")
            conn = await sim.wait_for_subscription(PRIVATE, timeout=TIMEOUT)
            assert conn.authenticated
            assert conn.number == REJECTIONS + 1

            # Backs off after each rejection: at least min_delay every time (a
            # rejected login is not a network blip to retry at once).
            gaps = [b - a for a, b in itertools.pairwise(attempts)]
            for failure, gap in enumerate(gaps, 1):
                lo, hi = bounds(max(failure, 2))
                assert MIN <= lo <= gap < hi + MARGIN, (failure, gap, (lo, hi))
            # Not hammered: over the rejection window, no more attempts than min_delay allows.
            window = attempts[REJECTIONS - 1] - attempts[0]
            allowed = 1 + window / MIN
            assert allowed >= REJECTIONS
            # Nothing but the login went out on a rejected connection.
            for rejected in sim.connections[:REJECTIONS]:
                assert not rejected.authenticated
                assert rejected.subscriptions == frozenset()
                assert rejected.messages_received == 1
            stats = sim.stats
            assert stats.logins_rejected == REJECTIONS
            assert stats.logins_accepted == 1
            figures.add(
                adapter,
                f"login rejected {REJECTIONS}x: {REJECTIONS + 1} logins in "
                f"{ms(attempts[-1] - attempts[0])}; gaps "
                + ", ".join(ms(g) for g in gaps)
                + f" (each >= min_delay {ms(MIN)})",
            )

    with simulator(tls, tick_interval=None) as sim:
        adapter.run(scenario)

    # Reported: each rejection is logged once at WARNING, with the exchange (the
    # origin), the connection, the exchange's reason and the next attempt; the
    # connection given up because of it follows at DEBUG. Nothing else about
    # these connections is a warning (no flood).
    ours = [
        r
        for r in caplog.records
        if r.name.startswith("botters.") and not r.name.startswith("botters.simulator")
    ]
    warnings = [r.getMessage() for r in ours if r.levelno >= logging.WARNING]
    reported = [line for line in warnings if "authentication rejected" in line]
    assert len(reported) == REJECTIONS, warnings
    for number, line in enumerate(reported, 1):
        assert line.startswith("wss://ws.lightstream.bitflyer.com: "), line
        assert f"login failed on connection {number}: " in line, line
        assert "reconnecting in" in line, line
    assert not [line for line in warnings if " lost: " in line], warnings
    follow_ups = [
        r.getMessage()
        for r in ours
        if r.levelno == logging.DEBUG and "lost: login rejected" in r.getMessage()
    ]
    assert len(follow_ups) == REJECTIONS, follow_ups
