"""Scenario 8: ``close()`` leaves no task and no socket behind, whatever the session was doing."""

from __future__ import annotations

import gc
import logging
import warnings

import pytest

from botters.protocol.session import State
from botters.simulator import Fault

from ._adapters import AdapterUnderTest
from ._support import TICKER, TIMEOUT, Tls, client_for, open_feed, simulator


@pytest.mark.parametrize("phase", ["open", "logging in", "backing off"])
def test_close_leaves_no_task_or_socket_behind(
    adapter: AdapterUnderTest, tls: Tls, phase: str, caplog: pytest.LogCaptureFixture
) -> None:
    closing_from = 0

    async def scenario() -> None:
        before = adapter.live_tasks()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if phase == "logging in":
                sim.inject(Fault(reply_delay=TIMEOUT))  # the login reply never comes in time
            elif phase == "backing off":
                sim.inject(Fault(refuse=503), count=1000)
            async with client_for(adapter, sim, tls) as client:
                # Long delays: the session sits in BACKOFF once refused.
                feed = open_feed(adapter, client, backoff=(5.0, 10.0, 2.0, 5.0))
                app = feed.app
                conn = None
                if phase == "open":
                    await adapter.wait_for(app, timeout=TIMEOUT, what="await app")
                    conn = await sim.wait_for_subscription(TICKER, timeout=TIMEOUT)
                    await feed.until_tick(feed.probe.tick + 5)
                elif phase == "logging in":
                    await sim.wait_until(
                        lambda s: any(c.messages_received for c in s.connections), timeout=TIMEOUT
                    )
                    conn = sim.connections[0]
                    assert app.state is State.AUTHENTICATING
                else:
                    await adapter.wait_for(
                        lambda: app.state is State.BACKOFF, timeout=TIMEOUT, what="BACKOFF"
                    )
                    assert sim.stats.handshakes_refused >= 1
                assert adapter.live_tasks() - before, "the app runs background tasks"

                nonlocal closing_from
                closing_from = len(caplog.records)
                await app.close()
                assert app.closed
                assert app.state is State.CLOSED
                assert app.current_ws is None
                # Every task the app started is done when close() returns.
                assert adapter.live_tasks() == before
                await app.close()  # twice is harmless
            assert adapter.live_tasks() == before

            # Every socket is closed: the simulator saw each connection end, and an
            # open one was closed properly (a close frame, code 1000).
            await sim.wait_until(lambda s: s.stats.connections_open == 0, timeout=TIMEOUT)
            if conn is not None:
                assert not conn.open
            if phase == "open":
                assert conn is not None
                assert conn.client_close_code == 1000
            gc.collect()
        leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
        assert not leaks, [str(w.message) for w in leaks]

    with simulator(tls) as sim:
        adapter.run(scenario)

    # Closing was asked for: what it ends (connections, late store answers) is no warning.
    warned = [
        r.getMessage()
        for r in caplog.records[closing_from:]
        if r.name.startswith("botters.")
        and not r.name.startswith("botters.simulator")
        and r.levelno >= logging.WARNING
    ]
    assert not warned, warned
