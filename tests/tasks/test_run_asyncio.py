"""run() behaviour that only asyncio has: a CancelledError nobody asked for.

(trio has no such thing: a Cancelled always comes from a cancel scope, so
these tests are not in the both-frameworks module test_run.py.)
"""

from __future__ import annotations

import asyncio
from typing import Any

from botters.tasks import concurrent, run, task

from ._support import run_in
from .test_run import Log, work


def test_a_stray_asyncio_cancellation_is_the_tasks_failure() -> None:

    async def awaits_a_cancelled_future(client: Any) -> None:
        future = asyncio.get_running_loop().create_future()
        future.cancel()
        await future  # CancelledError, though nobody cancelled this task

    async def main() -> None:
        a, b = await run(
            concurrent(awaits_a_cancelled_future, task(work, "b", 1)), Log(), errors="collect"
        )
        assert isinstance(a, asyncio.CancelledError)
        assert b == "b"

    run_in("asyncio", main)
