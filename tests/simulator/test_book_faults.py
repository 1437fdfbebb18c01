"""Book faults on every dialect: gaps, duplicates, swaps, bad checksums; the truth stays right."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from botters.simulator import Fault, Simulator

from ._venues import Book, Feed, okx_checksum
from .conftest import Rpc

TOPIC = "orderbook.50.BTCUSDT"
SWAP = "BTC-USDT-SWAP"
BOOKS = {"channel": "books", "instId": SWAP}
FX = "FX_BTC_JPY"

Main = Callable[[Simulator, aiohttp.ClientSession], Awaitable[None]]


def run(exchange: str, main: Main, **options: Any) -> None:
    async def go() -> None:
        async with (
            Simulator(exchange=exchange, tick_interval=None, **options) as sim,
            aiohttp.ClientSession() as s,
        ):
            await main(sim, s)

    asyncio.run(go())


async def bybit_deltas(
    s: aiohttp.ClientSession, sim: Simulator, ticks: int, fault: Fault | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """Subscribe to :data:`TOPIC` (``fault`` applied to the live connection), tick; (u0, deltas)."""
    ws = await s.ws_connect(sim.ws_url)
    feed = Feed(ws)
    assert (await feed.request({"op": "subscribe", "args": [TOPIC]}))["success"]
    snapshot = await feed.next()
    if fault is not None:
        sim.open_connections[-1].inject(fault)
    sim.advance(ticks)
    frames = await feed.flush_bybit()
    await ws.close()
    return snapshot["data"]["u"], [f["data"] for f in frames]


async def okx_updates(
    s: aiohttp.ClientSession, sim: Simulator, ticks: int, fault: Fault | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Subscribe to ``books`` (``fault`` applied live), tick; (snapshot data, updates' data)."""
    ws = await s.ws_connect(sim.ws_url)
    feed = Feed(ws)
    assert (await feed.request({"op": "subscribe", "args": [BOOKS]}))["event"] == "subscribe"
    (snapshot,) = (await feed.next())["data"]
    if fault is not None:
        sim.open_connections[-1].inject(fault)
    sim.advance(ticks)
    frames = await feed.flush_okx()
    await ws.close()
    return snapshot, [f["data"][0] for f in frames]


def fault_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("fault:")]


# ------------------------------------------------------------------- Bybit


def test_bybit_skip_is_a_gap_in_u(caplog: pytest.LogCaptureFixture) -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        u0, deltas = await bybit_deltas(s, sim, 12, Fault(skip_diff_after=2))
        steps = [b["u"] - a["u"] for a, b in itertools.pairwise(deltas)]
        assert deltas[0]["u"] == u0 + 1
        assert steps[1] == 2  # the third diff never came
        assert set(steps[:1] + steps[2:]) == {1}
        assert sim.stats.diffs_skipped == 1
        assert sim.connections[0].diffs_offered == len(deltas) + 1
        # The simulator's book moved on: a fresh snapshot is its truth, and links.
        async with s.ws_connect(sim.ws_url) as ws:
            feed = Feed(ws)
            await feed.request({"op": "subscribe", "args": [TOPIC]})
            data = (await feed.next())["data"]
            book = Book()
            book.reset(data["b"], data["a"])
            assert book.levels() == sim.book_levels("BTCUSDT", 50)
            assert data["u"] == deltas[-1]["u"]

    with caplog.at_level(logging.INFO, logger="botters.simulator"):
        run("bybit", main, seed=2)
    assert fault_lines(caplog) == [f"fault: connection #1: skipping book diff #2 ({TOPIC})"]


def test_bybit_duplicate_armed_for_the_next_connection() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        sim.inject(Fault(duplicate_diff_after=1))
        _, deltas = await bybit_deltas(s, sim, 8)
        us = [d["u"] for d in deltas]
        assert us[1] == us[2]
        assert deltas[1] == deltas[2]
        assert us[:2] + us[3:] == list(range(us[0], us[0] + len(us) - 1))
        assert sim.stats.diffs_duplicated == 1
        # Only that connection: the next one is clean.
        _, deltas = await bybit_deltas(s, sim, 8)
        us = [d["u"] for d in deltas]
        assert us == list(range(us[0], us[0] + len(us)))

    run("bybit", main, seed=3)


def test_bybit_reorder_swaps_two_consecutive_diffs() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        u0, deltas = await bybit_deltas(s, sim, 8, Fault(reorder_diff_after=0))
        us = [d["u"] for d in deltas]
        assert us[:2] == [u0 + 2, u0 + 1]
        assert us[2:] == list(range(u0 + 3, u0 + 1 + len(us)))
        assert sim.stats.diffs_reordered == 1

    run("bybit", main, seed=4)


def test_a_held_diff_is_dropped_when_its_topic_starts_over() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        async with s.ws_connect(sim.ws_url) as ws:
            feed = Feed(ws)
            await feed.request({"op": "subscribe", "args": [TOPIC]})
            await feed.next()
            sim.open_connections[0].inject(Fault(reorder_diff_after=0))
            while sim.open_connections[0].diffs_offered == 0:
                sim.advance()
            assert await feed.flush_bybit() == []  # held back
            await feed.request({"op": "unsubscribe", "args": [TOPIC]})
            await feed.request({"op": "subscribe", "args": [TOPIC]})
            snapshot = (await feed.next())["data"]
            sim.advance(5)
            us = [f["data"]["u"] for f in await feed.flush_bybit()]
            assert us == list(range(snapshot["u"] + 1, snapshot["u"] + 1 + len(us)))

    run("bybit", main, seed=5)


def test_checksum_faults_need_checksums() -> None:
    for exchange in ("bybit", "bitflyer"):
        sim = Simulator(exchange=exchange)
        with pytest.raises(ValueError, match="checksums"):
            sim.inject(Fault(corrupt_checksum_after=0))
    with pytest.raises(ValueError, match="okx_checksum=False"):
        Simulator(exchange="okx", okx_checksum=False).inject(Fault(corrupt_checksum_after=0))
    Simulator(exchange="okx").inject(Fault(corrupt_checksum_after=0))
    for name in ("skip_diff_after", "duplicate_diff_after", "reorder_diff_after"):
        with pytest.raises(ValueError, match=name):
            Fault(**{name: -1})


# --------------------------------------------------------------------- OKX


def links(snapshot: dict[str, Any], updates: list[dict[str, Any]]) -> list[bool]:
    """Whether each update's prevSeqId names the seqId received just before it."""
    out, last = [], snapshot["seqId"]
    for data in updates:
        out.append(data["prevSeqId"] == last)
        last = data["seqId"]
    return out


def test_okx_skip_breaks_the_seq_id_chain() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        snapshot, updates = await okx_updates(s, sim, 10, Fault(skip_diff_after=3))
        assert links(snapshot, updates) == [True] * 3 + [False] + [True] * (len(updates) - 4)
        assert sim.stats.diffs_skipped == 1

    run("okx", main, seed=2)


def test_okx_duplicate_and_reorder() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        snapshot, updates = await okx_updates(s, sim, 6, Fault(duplicate_diff_after=0))
        assert updates[0] == updates[1]
        assert links(snapshot, updates)[:3] == [True, False, True]
        snapshot, updates = await okx_updates(s, sim, 6, Fault(reorder_diff_after=1))
        seq_ids = [u["seqId"] for u in updates]
        assert seq_ids[1] > seq_ids[2]  # the second and third swapped
        assert updates[2]["prevSeqId"] == updates[0]["seqId"]
        assert (sim.stats.diffs_duplicated, sim.stats.diffs_reordered) == (1, 1)

    run("okx", main, seed=3)


def test_okx_corrupt_checksum_breaks_one_message_only() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        sim.inject(Fault(corrupt_checksum_after=1))
        snapshot, updates = await okx_updates(s, sim, 8)
        book = Book()
        book.reset(snapshot["bids"], snapshot["asks"])
        good = []
        for data in updates:
            book.apply(data["bids"], data["asks"])
            good.append(data["checksum"] == okx_checksum(*book.top()))
        assert good == [True, False] + [True] * (len(updates) - 2)
        assert links(snapshot, updates) == [True] * len(updates)
        assert book.levels() == sim.book_levels(SWAP)
        assert sim.stats.checksums_corrupted == 1

    run("okx", main, seed=4)


# ---------------------------------------------------------------- bitFlyer


def test_bitflyer_skip_loses_one_board_diff_and_duplicate_repeats_one() -> None:
    async def main(sim: Simulator, s: aiohttp.ClientSession) -> None:
        board = f"lightning_board_{FX}"
        async with s.ws_connect(sim.ws_url) as ws:
            rpc = Rpc(ws)
            await rpc.subscribe(board)
            conn = sim.connections[0]
            conn.inject(Fault(skip_diff_after=1, duplicate_diff_after=3))
            sim.advance(6)
            await rpc.subscribe(f"lightning_ticker_{FX}")  # every diff is queued before its reply
            diffs = [m["params"]["message"] for m in rpc.backlog]
            assert conn.diffs_offered == 6
            assert len(diffs) == 6  # one lost, one sent twice
            assert diffs[2] == diffs[3]
            assert json.dumps(diffs[0]) != json.dumps(diffs[1])
            assert (sim.stats.diffs_skipped, sim.stats.diffs_duplicated) == (1, 1)

    run("bitflyer", main, seed=1)
