"""When the next round of a :func:`~botters.tasks.repeat` starts: pure arithmetic.

Theory of operation
-------------------
A repeat with an ``interval`` starts its rounds on a schedule. The schedule is
computed from the *scheduled* start of the previous round, not from when that
round really began or ended, so small sleep overshoots never accumulate into
drift. Two rules decide the next start:

* **Plain** (``align=False``): one ``interval`` after the previous scheduled
  start. Time is the event loop's monotonic clock.
* **Aligned** (``align=True``): the first multiple of ``interval`` after the
  previous scheduled start ("every second on the second"). Time is the wall
  clock (seconds since the Unix epoch), since that is what "on the second"
  means to an exchange; the first round waits for the first multiple that is
  not in the past. (The runner reads the wall clock once per repeat and
  sleeps on the monotonic clock; see :func:`botters.tasks.repeat`.)

**Overrun.** When a round takes longer than its interval, the start the rules
name is already in the past. The next round then starts at once, *once*: the
schedule is rebuilt from that late start, so rounds never pile up and there is
never a burst of back-to-back rounds to "catch up" on the ticks that were
missed. Plain schedules therefore keep their starts at least ``interval``
apart; aligned ones start the late round immediately and return to the grid at
the next multiple after it.

Float arithmetic: an instant within a billionth of an interval (or a few units
in the last place of the time itself) of a multiple counts as being on it, so
``0.3 / 0.1 == 2.9999999999999996`` does not start a second round at the same
instant.

This module reads no clock: the caller passes ``now``.
"""

from __future__ import annotations

import math
from typing import Final

__all__ = ["next_start"]

_EPS: Final = 1e-9
"""Fraction of an interval under which two instants count as the same one."""


def _tolerance(t: float, interval: float) -> float:
    """How close to a multiple of ``interval`` counts as on it, at the magnitude of ``t``."""
    return interval * _EPS + 4 * math.ulp(max(abs(t), 1.0))


def next_start(
    now: float,
    interval: float | None,
    *,
    previous: float | None = None,
    align: bool = False,
) -> float:
    """The instant the next round should start, never earlier than ``now``.

    Args:
        now: The current time, on the clock the schedule uses (monotonic for
            plain schedules, the wall clock for aligned ones).
        interval: Seconds between round starts (> 0), or ``None`` for "as soon
            as the previous round is done".
        previous: The previous round's *scheduled* start (what this function
            returned last time), or ``None`` for the first round.
        align: Start on multiples of ``interval`` on that clock.

    Returns:
        The scheduled start: ``now`` itself when the round is due (or
        overdue); otherwise a later instant to sleep until.

    >>> next_start(10.0, 1.0, previous=9.5)          # due half a second from now
    10.5
    >>> next_start(12.0, 1.0, previous=9.5)          # overran: start at once, once
    12.0
    >>> next_start(100.25, 1.0, align=True)          # first aligned round: next second
    101.0
    >>> next_start(101.0, 1.0, previous=101.0, align=True)
    102.0
    """
    if interval is None or interval <= 0:
        return now
    if align:
        if previous is None:
            # The first multiple of interval at or after now (within tolerance).
            tol = _tolerance(now, interval)
            k = math.ceil(now / interval)
            if (k - 1) * interval >= now - tol:
                k -= 1  # the division rounded up, or now is a hair past a multiple
            elif k * interval < now - tol:
                k += 1
        else:
            # The first multiple strictly after the previous scheduled start.
            tol = _tolerance(previous, interval)
            k = math.floor(previous / interval) + 1
            if k * interval - previous <= tol:
                k += 1  # previous was on a multiple that the division put just below
            elif (k - 1) * interval > previous + tol:
                k -= 1  # the division rounded up past a multiple
        target = k * interval
    else:
        if previous is None:
            return now
        target = previous + interval
    return target if target > now else now
