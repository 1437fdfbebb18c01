"""Scenarios 6 and 7: garbage frames and failing handlers do not stop the stream."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from botters.simulator import GARBAGE_FRAME

from ._adapters import AdapterUnderTest
from ._support import (
    TICKER,
    TIMEOUT,
    Tls,
    assert_board_in_sync,
    client_for,
    open_feed,
    simulator,
)

GARBAGE = 3


def test_garbage_frames_are_logged_and_skipped(
    adapter: AdapterUnderTest, tls: Tls, caplog: pytest.LogCaptureFixture
) -> None:
    garbage: list[str] = []

    def raw(msg: str, ws: Any) -> None:
        if msg == GARBAGE_FRAME:
            garbage.append(msg)

    async def scenario() -> None:
        async with client_for(adapter, sim, tls) as client:
            feed = open_feed(adapter, client, hdlr_str=raw)
            await adapter.wait_for(feed.app, timeout=TIMEOUT, what="await app")
            conn = await sim.wait_for_subscription(TICKER, timeout=TIMEOUT)
            await assert_board_in_sync(feed, sim)
            for sent in range(1, GARBAGE + 1):
                conn.send_garbage()  # one text frame that is not JSON, between data frames
                await feed.until(lambda sent=sent: len(garbage) >= sent, f"garbage frame {sent}")
                # The data after it is still applied.
                await feed.until_tick(feed.probe.tick + 3)
            await assert_board_in_sync(feed, sim)
            # Skipped, not fatal: same connection, no resync.
            assert feed.probe.interruptions == []
            assert sim.stats.connections_accepted == 1
            assert conn.open

    with simulator(tls) as sim:
        adapter.run(scenario)

    assert len(garbage) == GARBAGE  # the text handler saw each frame as it came
    about_garbage = [
        r
        for r in caplog.records
        if r.name.startswith("botters.")
        and not r.name.startswith("botters.simulator")
        and "not JSON" in r.getMessage()
    ]
    warnings = [r for r in about_garbage if r.levelno >= logging.WARNING]
    # Logged: at WARNING once for the connection (then more quietly: no log flood).
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert len(about_garbage) == GARBAGE


class HandlerBug(Exception):
    pass


def test_a_handler_exception_does_not_stop_the_stream(
    adapter: AdapterUnderTest, tls: Tls, caplog: pytest.LogCaptureFixture
) -> None:
    raised: list[int] = []

    def buggy(msg: Any, ws: Any) -> None:
        if msg.get("params", {}).get("channel") == TICKER:
            raised.append(msg["params"]["message"]["tick_id"])
            raise HandlerBug(f"bug on tick {raised[-1]}")

    async def scenario() -> None:
        async with client_for(adapter, sim, tls) as client:
            # The buggy handler comes first: the store and the probe after it must still run.
            feed = open_feed(adapter, client, handlers=[buggy])
            stream = feed.app.stream({"params": {"channel": TICKER}})
            await adapter.wait_for(feed.app, timeout=TIMEOUT, what="await app")
            await feed.until(lambda: len(raised) >= 5, "the handler raised 5 times")
            await assert_board_in_sync(feed, sim)
            # Streams get the messages too.
            first = await adapter.wait_for(stream.get(), timeout=TIMEOUT, what="stream.get()")
            assert first["params"]["channel"] == TICKER
            stream.close()
            assert feed.probe.interruptions == []
            assert sim.stats.connections_accepted == 1
            assert feed.probe.tick in raised  # the probe saw the same messages

    with simulator(tls) as sim:
        adapter.run(scenario)

    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is HandlerBug]
    assert len(logged) == len(raised)  # every failure, each with its traceback
    assert all(r.levelno >= logging.ERROR and r.name.startswith("botters.") for r in logged)
    assert "in buggy" in caplog.text  # the traceback names the handler's frame
