"""The scenario helpers themselves, under every framework (trio's before its transport lands)."""

from __future__ import annotations

import pytest

from ._adapters import IMPLEMENTATIONS, AdapterUnderTest
from ._support import Tls, simulator


@pytest.fixture(params=list(IMPLEMENTATIONS))
def helpers(request: pytest.FixtureRequest) -> AdapterUnderTest:
    return IMPLEMENTATIONS[request.param]()


def test_run_wait_for_and_the_clock(helpers: AdapterUnderTest) -> None:
    async def scenario() -> str:
        t0 = helpers.clock()
        await helpers.sleep_checkpoint()
        flag: list[int] = []

        async def later() -> str:
            flag.append(1)
            return "done"

        assert await helpers.wait_for(later(), timeout=1.0) == "done"
        assert await helpers.wait_for(lambda: bool(flag), timeout=1.0) is None
        calls: list[int] = []

        async def changed() -> None:
            calls.append(1)
            await helpers.sleep_checkpoint()

        await helpers.wait_for(lambda: len(calls) >= 3, timeout=1.0, changed=changed)
        assert len(calls) == 3  # re-checked after each change, not polled
        with pytest.raises(TimeoutError, match="never"):
            await helpers.wait_for(lambda: False, timeout=0.01, what="never")
        assert helpers.clock() >= t0 + 0.01
        return "result"

    assert helpers.run(scenario) == "result"


def test_live_tasks_sees_other_tasks(helpers: AdapterUnderTest) -> None:
    async def scenario() -> None:
        before = helpers.live_tasks()
        if helpers.name == "trio":
            import trio

            async with trio.open_nursery() as nursery:
                nursery.start_soon(trio.sleep_forever)
                await trio.lowlevel.checkpoint()
                assert len(helpers.live_tasks() - before) == 1
                nursery.cancel_scope.cancel()
        else:
            import asyncio

            task = asyncio.get_running_loop().create_task(asyncio.sleep(10))
            assert helpers.live_tasks() - before == {task}
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert helpers.live_tasks() == before

    helpers.run(scenario)


def test_simulator_waits_work_under_the_framework(helpers: AdapterUnderTest, tls: Tls) -> None:
    async def scenario() -> None:
        await sim.wait_for_ticks(3)
        await helpers.wait_for(sim.wait_for_ticks(5), timeout=5.0)

    with simulator(tls) as sim:
        helpers.run(scenario)
