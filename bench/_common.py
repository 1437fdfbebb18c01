"""Shared helpers for the DataStore benchmarks (bench/board.py, bench/datastore.py)."""

from __future__ import annotations

import asyncio
import copy
import gc
import time
from collections.abc import Callable, Sequence
from typing import Any


def best_time(run: Callable[[], object], rounds: int) -> float:
    """Smallest wall time of ``rounds`` calls of ``run`` (GC collected before each)."""
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def best_per_call(setup: Callable[[], Any], run: Callable[[Any], object], rounds: int) -> float:
    """Smallest wall time of ``run(state)`` over ``rounds`` fresh ``setup()`` states."""
    best = float("inf")
    for _ in range(rounds):
        state = setup()
        gc.collect()
        t0 = time.perf_counter()
        run(state)
        best = min(best, time.perf_counter() - t0)
    return best


def copies(messages: Sequence[Any]) -> list[Any]:
    """A deep copy of ``messages`` so stores that keep references cannot share them."""
    return copy.deepcopy(list(messages))


def in_event_loop(fn: Callable[[], object]) -> None:
    """Run ``fn`` inside a running asyncio loop (pybotters schedules tasks in onmessage)."""

    async def body() -> None:
        fn()
        await asyncio.sleep(0)

    asyncio.run(body())


def fmt_rate(rate: float) -> str:
    """Messages (or calls) per second, human-sized."""
    if rate >= 1e6:
        return f"{rate / 1e6:.2f}M/s"
    if rate >= 1e3:
        return f"{rate / 1e3:.1f}k/s"
    return f"{rate:.0f}/s"


def fmt_us(seconds: float) -> str:
    """A duration in microseconds."""
    return f"{seconds * 1e6:.2f} µs"
