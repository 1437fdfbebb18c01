"""run() and stream() under asyncio and trio, on virtual clocks (see _support.py).

Task functions here take a ``client`` that is just a recorder (a plain object
the test owns): the engine passes it through untouched. The clients
themselves are tested with real servers in test_examples.py and
tests/transports/test_client_views.py.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
import trio

from botters import ConfigError
from botters.tasks import Done, concurrent, repeat, run, serial, stream, task

from ._support import FRAMEWORKS, now, run_in, sleep, sleep_forever

pytestmark = pytest.mark.parametrize("fw", FRAMEWORKS)


@dataclass
class Log:
    """What the tasks did, in order: ("start"|"end"|"cancelled"|"cleaned", name, time)."""

    events: list[tuple[str, str, float]] = field(default_factory=list)
    running: int = 0
    most_running: int = 0

    def names(self, kind: str) -> list[str]:
        return [n for k, n, _ in self.events if k == kind]

    def times(self, kind: str, name: str | None = None) -> list[float]:
        return [t for k, n, t in self.events if k == kind and (name is None or n == name)]


async def work(log: Log, name: str, seconds: float = 0.0, result: Any = None) -> Any:
    """Sleep ``seconds`` (virtual), recording start, end, or cancellation and cleanup."""
    log.events.append(("start", name, now()))
    log.running += 1
    log.most_running = max(log.most_running, log.running)
    try:
        await sleep(seconds)
    except BaseException:
        log.events.append(("cancelled", name, now()))
        raise
    finally:
        log.running -= 1
        log.events.append(("cleaned", name, now()))
    log.events.append(("end", name, now()))
    return name if result is None else result


async def fail(log: Log, name: str, seconds: float = 0.0, exc: BaseException | None = None) -> Any:
    log.events.append(("start", name, now()))
    await sleep(seconds)
    log.events.append(("failed", name, now()))
    raise exc if exc is not None else KeyError(name)


async def hang(log: Log, name: str) -> None:
    """Wait forever; when cancelled, do some (awaited) cleanup first."""
    log.events.append(("start", name, now()))
    try:
        await sleep_forever()
    finally:
        log.events.append(("cancelled", name, now()))
        # Cleanup that itself awaits: still done before run() returns.
        with trio.CancelScope(shield=True) if _on_trio() else _nullcontext():
            await _unshielded_checkpoint()
        log.events.append(("cleaned", name, now()))


def _on_trio() -> bool:
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


async def _unshielded_checkpoint() -> None:
    if _on_trio():
        await trio.lowlevel.checkpoint()
    else:
        # A cancelled asyncio task may still await in finally (the cancel was delivered).
        await asyncio.sleep(0)


# -- results ---------------------------------------------------------------------------


def test_results_come_back_in_declaration_order_whatever_the_finish_order(fw: str) -> None:
    async def main() -> None:
        log = Log()
        tree = concurrent(*[task(work, f"t{i}", 5 - i) for i in range(5)])
        assert await run(tree, log) == ["t0", "t1", "t2", "t3", "t4"]
        assert log.names("end") == ["t4", "t3", "t2", "t1", "t0"]

    run_in(fw, main)


def test_results_are_shaped_like_the_tree(fw: str) -> None:
    async def main() -> None:
        log = Log()
        tree = serial(
            task(work, "a", 1),
            concurrent(
                serial(task(work, "b1", 3), task(work, "b2", 1)),
                repeat(task(work, "c", 1), count=3),
                task(work, "d", 2),
            ),
            repeat(concurrent(task(work, "e", 1), task(work, "f", 0.5)), count=2, interval=5),
            repeat(task(work, "never"), count=0),
        )
        assert await run(tree, log) == [
            "a",
            [["b1", "b2"], ["c", "c", "c"], "d"],
            [["e", "f"], ["e", "f"]],
            [],
        ]

    run_in(fw, main)


def test_a_bare_task_or_coroutine_function_runs_alone(fw: str) -> None:
    async def hello(client: Any) -> str:
        return f"hello {client}"

    async def main() -> None:
        assert await run(hello, "you") == "hello you"
        assert await run(task(work, "x"), Log()) == "x"
        assert await run(serial(), None) == []
        assert await run(concurrent(), None) == []

    run_in(fw, main)


def test_serial_runs_one_after_the_other(fw: str) -> None:
    async def main() -> None:
        log = Log()
        await run(serial(*[task(work, f"s{i}", 1) for i in range(4)]), log)
        assert log.most_running == 1
        starts, ends = log.times("start"), log.times("end")
        assert all(start >= end for start, end in zip(starts[1:], ends, strict=False))

    run_in(fw, main)


def test_concurrent_runs_everything_at_once(fw: str) -> None:
    async def main() -> None:
        log = Log()
        t0 = now()
        await run(concurrent(*[task(work, f"c{i}", 10) for i in range(50)]), log)
        assert log.most_running == 50
        assert log.times("start") == [t0] * 50  # all started before any time passed

    run_in(fw, main)


def test_concurrent_limit_bounds_how_many_run_at_once(fw: str) -> None:
    async def main() -> None:
        log = Log()
        tree = concurrent(*[task(work, f"c{i}", 1 + i % 3) for i in range(10)], limit=3)
        assert await run(tree, log) == [f"c{i}" for i in range(10)]
        assert log.most_running == 3
        assert log.names("start") == [f"c{i}" for i in range(10)]  # taken in order

    run_in(fw, main)


def test_the_same_tree_runs_again(fw: str) -> None:
    async def main() -> None:
        tree = repeat(concurrent(task(work, "a", 1), task(work, "b")), count=2)
        first, second = await run(tree, Log()), await run(tree, Log())
        assert first == second == [["a", "b"], ["a", "b"]]

    run_in(fw, main)


# -- failures --------------------------------------------------------------------------


def test_errors_raise_raises_the_first_failure_itself(fw: str) -> None:
    async def main() -> None:
        log = Log()
        boom = KeyError("boom")
        tree = serial(
            concurrent(task(work, "slow", 10), task(fail, "bad", 1, boom), task(hang, "hung")),
            task(work, "after"),
        )
        with pytest.raises(KeyError) as info:
            await run(tree, log)
        assert info.value is boom  # as it is: not an ExceptionGroup, not wrapped
        # Its siblings were cancelled and had finished their cleanup by then...
        assert sorted(log.names("cancelled")) == ["hung", "slow"]
        assert sorted(log.names("cleaned")) == ["hung", "slow"]
        # ...and nothing after it started.
        assert "after" not in log.names("start")
        assert log.names("end") == []

    run_in(fw, main)


def test_errors_raise_stops_a_serial_and_a_repeat_at_the_failure(fw: str) -> None:
    async def main() -> None:
        log = Log()
        rounds = repeat(serial(task(work, "a", 1), task(fail, "b", 1)), count=5, interval=10)
        with pytest.raises(KeyError, match="b"):
            await run(rounds, log)
        assert log.names("start") == ["a", "b"]

    run_in(fw, main)


def test_other_failures_during_the_cancellation_are_noted_and_logged(
    fw: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def cleanup_fails(log: Log, name: str) -> None:
        log.events.append(("start", name, now()))
        try:
            await sleep_forever()
        finally:
            raise ValueError(f"{name}: cleanup failed")

    async def main() -> None:
        log = Log()
        tree = concurrent(task(cleanup_fails, "x"), task(fail, "first", 1), task(work, "ok", 5))
        with pytest.raises(KeyError) as info:
            await run(tree, log)
        notes = getattr(info.value, "__notes__", [])
        assert len(notes) == 1
        assert "1 more task(s) failed" in notes[0]
        assert "cleanup_fails: ValueError: x: cleanup failed" in notes[0]

    with caplog.at_level(logging.ERROR, logger="botters.tasks"):
        run_in(fw, main)
    records = [r for r in caplog.records if r.name == "botters.tasks"]
    assert len(records) == 1
    assert records[0].exc_info is not None
    assert isinstance(records[0].exc_info[1], ValueError)


def test_errors_collect_makes_the_exception_the_result(fw: str) -> None:
    async def main() -> None:
        log = Log()
        boom = KeyError("boom")
        tree = serial(
            concurrent(task(work, "a", 2), task(fail, "bad", 1, boom)),
            task(fail, "bad2"),
            task(work, "after"),
        )
        first, second, third = await run(tree, log, errors="collect")
        assert first[0] == "a"
        assert first[1] is boom
        assert isinstance(second, KeyError)
        assert third == "after"
        assert log.names("cancelled") == []

    run_in(fw, main)


def test_a_function_that_is_not_async_is_a_clear_failure(fw: str) -> None:
    def not_async(client: Any) -> int:
        return 1

    async def main() -> None:
        with pytest.raises(ConfigError, match="did not return an awaitable"):
            await run(not_async, Log())
        [result] = await run(serial(not_async), Log(), errors="collect")
        assert isinstance(result, ConfigError)

    run_in(fw, main)


def test_arguments_are_checked_before_anything_runs(fw: str) -> None:
    async def main() -> None:
        log = Log()
        with pytest.raises(ConfigError, match="errors="):
            await run(task(work, "x"), log, errors="ignore")  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match="has no client"):
            await run(task(work, "x"))
        with pytest.raises(ConfigError, match="never ends"):
            await run(serial(task(work, "x"), repeat(task(work, "y"))), log)
        with pytest.raises(ConfigError, match="with_apis"):
            await run(task(work, "x", apis={}), log)
        with pytest.raises(ConfigError, match="buffer="):
            stream(task(work, "x"), log, buffer=0)
        assert log.events == []

    run_in(fw, main)


# -- cancellation ----------------------------------------------------------------------


def test_cancelling_the_caller_cancels_and_awaits_every_task(fw: str) -> None:
    async def main() -> None:
        log = Log()
        tree = concurrent(task(hang, "a"), serial(task(work, "b", 1), task(hang, "c")))
        if fw == "trio":
            with trio.move_on_after(5) as scope:
                await run(tree, log)
            assert scope.cancelled_caught
        else:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(5):
                    await run(tree, log)
        assert sorted(log.names("cancelled")) == ["a", "c"]
        assert sorted(log.names("cleaned")) == ["a", "b", "c"]

    run_in(fw, main)


# -- repeat timing (virtual clocks) ------------------------------------------------------


def test_interval_is_the_period_between_starts(fw: str) -> None:
    async def main() -> None:
        log = Log()
        await run(repeat(task(work, "r", 0.3), count=4, interval=1), log)
        starts = log.times("start")
        assert [round(b - a, 9) for a, b in itertools.pairwise(starts)] == [1.0] * 3

    run_in(fw, main)


def test_an_overrun_starts_the_next_round_at_once_without_a_burst(fw: str) -> None:
    async def main() -> None:
        log = Log()
        durations = [0.2, 2.5, 0.2, 0.2]  # the second round overruns two ticks

        async def round_(client: Log) -> None:
            i = len(client.times("start"))
            await work(client, f"r{i}", durations[i])

        await run(repeat(round_, count=4, interval=1), log)
        s = log.times("start")
        assert [round(x - s[0], 9) for x in s] == [0.0, 1.0, 3.5, 4.5]

    run_in(fw, main)


def test_align_starts_on_multiples_of_the_interval_on_the_wall_clock(fw: str) -> None:
    async def main() -> None:
        log = Log()
        offset = time.time() - now()  # this test's view of wall minus loop clock
        await run(repeat(task(work, "r", 0.1), count=3, interval=2, align=True), log)
        walls = [t + offset for t in log.times("start")]
        for wall in walls:
            assert abs(wall / 2 - round(wall / 2)) * 2 < 0.05  # on the even seconds
        assert [round(b - a, 6) for a, b in itertools.pairwise(walls)] == [2.0, 2.0]

    run_in(fw, main)


def test_a_repeat_without_interval_still_lets_others_run(fw: str) -> None:
    async def instant(client: Log) -> None:
        client.running += 1  # no await at all

    async def main() -> None:
        log = Log()
        async with stream(concurrent(repeat(instant), task(work, "other", 0)), log) as results:
            async for done in results:
                if done.name == "work":
                    break
        assert log.running > 0

    run_in(fw, main)


# -- stream ----------------------------------------------------------------------------


def test_stream_yields_each_task_as_it_finishes(fw: str) -> None:
    async def main() -> None:
        log = Log()
        tree = serial(
            task(work, "first", 1),
            concurrent(task(work, "slow", 3), task(work, "fast", 1)),
        )
        got: list[Done] = []
        async with stream(tree, log) as results:
            async for done in results:
                got.append(done)
        assert [(d.name, d.path, d.result, d.ok) for d in got] == [
            ("work", (0,), "first", True),
            ("work", (1, 1), "fast", True),
            ("work", (1, 0), "slow", True),
        ]
        assert [d.elapsed for d in got] == pytest.approx([1, 1, 3])
        assert all(d.started <= d.finished for d in got)
        assert got[0].value() == "first"
        assert repr(got[1]).startswith("<Done work path=(1, 1) ok in 1.0")

    run_in(fw, main)


def test_stream_paths_count_rounds(fw: str) -> None:
    async def main() -> None:
        log = Log()
        tree = repeat(concurrent(task(work, "a", 0.5), task(work, "b", 0.1)), count=2, interval=1)
        async with stream(tree, log) as results:
            paths = [(d.path, d.result) async for d in results]
        assert paths == [((0, 1), "b"), ((0, 0), "a"), ((1, 1), "b"), ((1, 0), "a")]

    run_in(fw, main)


def test_leaving_the_stream_early_cancels_and_awaits_everything(fw: str) -> None:
    async def main() -> None:
        log = Log()
        tree = concurrent(
            repeat(task(work, "tick", 0.1), interval=1),  # forever
            task(hang, "hung"),
        )
        seen = 0
        async with stream(tree, log) as results:
            async for _ in results:
                seen += 1
                if seen == 3:
                    break
        # By the time the block is left, nothing runs any more.
        assert log.names("cleaned").count("hung") == 1
        assert log.running == 0
        assert log.names("start").count("tick") == 3

    run_in(fw, main)


def test_an_exception_in_the_block_cancels_the_tree_and_comes_out_as_it_is(fw: str) -> None:
    async def main() -> None:
        log = Log()
        mine = RuntimeError("the bot's own bug")

        async def read() -> None:
            async with stream(concurrent(task(hang, "h"), task(work, "w", 1)), log) as results:
                async for _ in results:
                    raise mine

        with pytest.raises(RuntimeError) as info:
            await read()
        assert info.value is mine
        assert log.names("cleaned") == ["w", "h"]

    run_in(fw, main)


def test_stream_errors_raise_raises_after_the_earlier_results(fw: str) -> None:
    async def main() -> None:
        log = Log()
        boom = KeyError("boom")
        tree = concurrent(task(work, "early", 1), task(fail, "bad", 2, boom), task(hang, "h"))
        got = []

        async def read() -> None:
            async with stream(tree, log) as results:
                async for done in results:
                    got.append(done.result)

        with pytest.raises(KeyError) as info:
            await read()
        assert info.value is boom
        assert got == ["early"]
        assert log.names("cleaned") == ["early", "h"]

    run_in(fw, main)


def test_stream_errors_collect_reports_failures_and_goes_on(fw: str) -> None:
    async def main() -> None:
        log = Log()
        boom = KeyError("boom")
        tree = serial(task(fail, "bad", 1, boom), task(work, "after", 1))
        async with stream(tree, log, errors="collect") as results:
            got = [d async for d in results]
        assert [(d.ok, d.result, d.error) for d in got] == [
            (False, None, boom),
            (True, "after", None),
        ]
        with pytest.raises(KeyError):
            got[0].value()

    run_in(fw, main)


def test_a_slow_reader_holds_the_tree_back(fw: str) -> None:
    async def main() -> None:
        log = Log()
        calls = 0

        async def instant(client: Log) -> int:
            nonlocal calls
            calls += 1
            return calls

        async with stream(repeat(instant), log, buffer=1) as results:
            async for done in results:
                if done.result == 3:
                    break
                await sleep(60)  # a slow reader: the tree waits instead of piling up
        assert calls <= 3 + 2  # read, one in the buffer, one waiting to report

    run_in(fw, main)


def test_a_stream_is_read_inside_its_block_and_runs_once(fw: str) -> None:
    async def main() -> None:
        s = stream(task(work, "x"), Log())
        with pytest.raises(ConfigError, match="async with stream"):
            async for _ in s:
                pass
        async with s as results:
            assert [d.result async for d in results] == ["x"]
            assert [d async for d in results] == []  # ended
        with pytest.raises(ConfigError, match="runs once"):
            async with s:
                pass
        assert "Stream closed" in repr(s)

    run_in(fw, main)


# -- clients per task ------------------------------------------------------------------


class ViewingClient:
    """A stand-in for a botters client: ``with_apis`` returns a labelled copy."""

    def __init__(self, label: str = "owner") -> None:
        self.label = label
        self.views: list[ViewingClient] = []

    def with_apis(self, apis: Any) -> ViewingClient:
        view = ViewingClient(f"{self.label} as {','.join(apis) or 'nobody'}")
        self.views.append(view)
        return view


async def who(client: ViewingClient) -> str:
    await sleep(0)
    return client.label


def test_each_task_gets_its_client_or_a_view_with_its_apis(fw: str) -> None:
    async def main() -> None:
        owner, other = ViewingClient(), ViewingClient("other")
        sub = task(who, apis={"bybit": ["sub-key", "sub-secret-0001"]})
        tree = concurrent(who, sub, task(who, client=other), repeat(sub, count=3))
        assert await run(tree, owner) == [
            "owner",
            "owner as bybit",
            "other",
            ["owner as bybit"] * 3,
        ]
        assert len(owner.views) == 1  # one view per task per run, reused across rounds
        assert other.views == []

    run_in(fw, main)


def test_nothing_from_a_failed_run_is_left(fw: str) -> None:
    async def main() -> None:
        for _ in range(3):
            tree = concurrent(*[task(hang, f"h{i}") for i in range(20)], task(fail, "f"))
            with pytest.raises(KeyError):
                await run(tree, Log())

    run_in(fw, main)
