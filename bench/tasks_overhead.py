"""What botters.tasks costs over the framework's own primitives, measured in one run.

10,000 no-op tasks, run concurrently:

* asyncio: ``asyncio.gather`` of the coroutines vs ``run(concurrent(...))``;
* trio: a nursery ``start_soon``-ing each vs ``run(concurrent(...))``;
* and, on both, ``run(serial(...))`` vs a plain ``for`` loop of awaits.

The no-op task awaits nothing, so every figure is pure overhead (task creation,
scheduling, result bookkeeping); a real REST call takes 10^3-10^5 times longer.
The ratio is ours / raw (1.0x: free).

    python bench/tasks_overhead.py [N]
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from botters.tasks import concurrent, run, serial, task

ROUNDS = 7


async def noop(client: Any, i: int) -> int:
    return i


def best(measure: Callable[[], float]) -> float:
    times = []
    for _ in range(ROUNDS):
        gc.collect()
        times.append(measure())
    return min(times)


def timed_asyncio(body: Callable[[], Awaitable[Any]]) -> float:
    async def main() -> float:
        t0 = time.perf_counter()
        await body()
        return time.perf_counter() - t0

    return asyncio.run(main())


def timed_trio(body: Callable[[], Awaitable[Any]]) -> float:
    async def main() -> float:
        t0 = time.perf_counter()
        await body()
        return time.perf_counter() - t0

    return trio.run(main)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    client = object()
    together = concurrent(*[task(noop, i) for i in range(n)])
    in_turn = serial(*[task(noop, i) for i in range(n)])
    expected = list(range(n))

    async def gather() -> None:
        assert await asyncio.gather(*[noop(client, i) for i in range(n)]) == expected

    async def nursery() -> None:
        results = [0] * n

        async def one(i: int) -> None:
            results[i] = await noop(client, i)

        async with trio.open_nursery() as tasks:
            for i in range(n):
                tasks.start_soon(one, i)
        assert results == expected

    async def loop() -> None:
        assert [await noop(client, i) for i in range(n)] == expected

    async def ours_concurrent() -> None:
        assert await run(together, client) == expected

    async def ours_serial() -> None:
        assert await run(in_turn, client) == expected

    rows = [
        ("asyncio", "concurrent", best(lambda: timed_asyncio(gather)), "asyncio.gather"),
        ("", "", best(lambda: timed_asyncio(ours_concurrent)), "run(concurrent(...))"),
        ("trio", "concurrent", best(lambda: timed_trio(nursery)), "nursery.start_soon"),
        ("", "", best(lambda: timed_trio(ours_concurrent)), "run(concurrent(...))"),
        ("asyncio", "serial", best(lambda: timed_asyncio(loop)), "for loop of awaits"),
        ("", "", best(lambda: timed_asyncio(ours_serial)), "run(serial(...))"),
        ("trio", "serial", best(lambda: timed_trio(loop)), "for loop of awaits"),
        ("", "", best(lambda: timed_trio(ours_serial)), "run(serial(...))"),
    ]
    print(f"{n:,} no-op tasks, best of {ROUNDS} runs")
    print(f"{'framework':<9} {'shape':<11} {'how':<22} {'total':>9} {'per task':>10} {'ratio':>7}")
    for i in range(0, len(rows), 2):
        for j, (framework, shape, seconds, how) in enumerate(rows[i : i + 2]):
            ratio = "" if j == 0 else f"{seconds / rows[i][2]:.2f}x"
            print(
                f"{framework:<9} {shape:<11} {how:<22} {seconds * 1e3:>7.2f}ms "
                f"{seconds / n * 1e6:>8.2f}µs {ratio:>7}"
            )


if __name__ == "__main__":
    main()
