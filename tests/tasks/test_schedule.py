"""next_start: the pure schedule of a repeat, driven with fixed numbers and by Hypothesis."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters.tasks import next_start

# -- fixed numbers ---------------------------------------------------------------------


def test_no_interval_means_now() -> None:
    assert next_start(5.0, None) == 5.0
    assert next_start(5.0, None, previous=1.0) == 5.0
    assert next_start(5.0, 0) == 5.0


def test_plain_first_round_starts_at_once() -> None:
    assert next_start(5.0, 1.0) == 5.0


def test_plain_next_round_is_one_interval_after_the_scheduled_start() -> None:
    assert next_start(5.3, 1.0, previous=5.0) == 6.0
    # The round started late (5.02) but the schedule is kept: no drift.
    assert next_start(5.9, 1.0, previous=5.0) == 6.0


def test_plain_overrun_starts_at_once_then_rebuilds_from_there() -> None:
    late = next_start(7.4, 1.0, previous=5.0)  # ticks at 6 and 7 were missed
    assert late == 7.4  # one round now, not three
    assert next_start(7.5, 1.0, previous=late) == 8.4


def test_aligned_first_round_waits_for_the_next_multiple() -> None:
    assert next_start(100.25, 1.0, align=True) == 101.0
    assert next_start(100.0, 1.0, align=True) == 100.0  # already on one
    assert next_start(125.0, 60.0, align=True) == 180.0


def test_aligned_next_round_is_the_next_multiple() -> None:
    assert next_start(101.2, 1.0, previous=101.0, align=True) == 102.0
    assert next_start(101.999, 1.0, previous=101.0, align=True) == 102.0


def test_aligned_overrun_starts_at_once_then_returns_to_the_grid() -> None:
    late = next_start(103.6, 1.0, previous=101.0, align=True)
    assert late == 103.6
    assert next_start(103.7, 1.0, previous=late, align=True) == 104.0


def test_float_multiples_do_not_start_twice() -> None:
    # 0.3 / 0.1 == 2.9999999999999996: a naive floor would schedule 0.30000000000000004.
    assert next_start(0.3, 0.1, previous=0.3, align=True) == pytest.approx(0.4)
    assert next_start(3 * 0.1, 0.1, previous=3 * 0.1, align=True) == pytest.approx(0.4)
    # Just past a multiple by float noise counts as on it (no full-interval wait).
    assert next_start(0.30000000000000004, 0.1, align=True) == 0.30000000000000004


# -- properties ------------------------------------------------------------------------

times = st.floats(min_value=0.0, max_value=4e9, allow_nan=False)
intervals = st.floats(min_value=1e-3, max_value=1e5, allow_nan=False)
durations = st.lists(st.floats(min_value=0.0, max_value=5.0), min_size=1, max_size=30)


def _slack(t: float) -> float:
    """Float rounding at the magnitude of ``t`` (a few units in the last place)."""
    return 4 * math.ulp(max(abs(t), 1.0))


def _is_multiple(t: float, interval: float) -> bool:
    k = round(t / interval)
    return math.isclose(t, k * interval, rel_tol=1e-9, abs_tol=interval * 1e-6 + _slack(t))


@given(times, intervals, st.booleans(), st.one_of(st.none(), times))
def test_never_in_the_past_and_never_more_than_one_interval_away(
    now: float, interval: float, align: bool, previous: float | None
) -> None:
    if previous is not None:
        previous = min(previous, now)  # the previous start is never in the future
    start = next_start(now, interval, previous=previous, align=align)
    assert start >= now
    assert start - now <= interval * (1 + 1e-6) + _slack(now)


@given(times, intervals, times)
def test_plain_is_one_interval_after_previous_or_now(
    now: float, interval: float, previous: float
) -> None:
    previous = min(previous, now)
    assert next_start(now, interval, previous=previous) == max(previous + interval, now)


@given(times, intervals, st.one_of(st.none(), times))
def test_aligned_is_on_the_grid_unless_overdue(
    now: float, interval: float, previous: float | None
) -> None:
    if previous is not None:
        previous = min(previous, now)
    start = next_start(now, interval, previous=previous, align=True)
    assert start == now or _is_multiple(start, interval)
    if previous is not None:
        assert start > previous


@given(
    st.floats(min_value=0.0, max_value=1e6),
    st.floats(min_value=0.01, max_value=100.0),
    st.booleans(),
    durations,
)
def test_a_simulated_schedule_never_bursts(
    t0: float, interval: float, align: bool, rounds: list[float]
) -> None:
    """Run rounds of arbitrary durations (in units of the interval) on the schedule.

    Plain starts are always at least one interval apart. Aligned starts are
    each on the grid or right after an overrun, and no window of one interval
    holds more than two starts (a late round and the next tick).
    """
    now, scheduled = t0, None
    starts: list[float] = []
    for fraction in rounds:
        scheduled = next_start(now, interval, previous=scheduled, align=align)
        now = max(now, scheduled)  # sleep until it
        starts.append(now)
        now += fraction * interval  # the round runs
    for a, b in itertools.pairwise(starts):
        assert b > a
        if not align:
            assert b - a >= interval * (1 - 1e-9) - _slack(b)
    if align:
        for i in range(len(starts) - 2):
            assert starts[i + 2] - starts[i] > interval * (1 - 1e-6) - _slack(starts[i])
