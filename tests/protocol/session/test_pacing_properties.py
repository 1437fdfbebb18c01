"""Properties of the send pacing under random bursts (Hypothesis, fake clock).

Random bursts of user sends, and PINGs from the peer (whose PONGs count when
``count_control``), arrive at random times; the timer is driven exactly at
``session.deadline``, as an adapter does. Then:

* no window of ``per`` seconds holds more than ``messages`` counted frames;
* data frames go out in the order they were sent, none lost;
* every frame goes at the earliest time the rule allows: for data alone that
  is ``max(sent_i, out_{i-1}, out_{i-messages} + per)``; with PONGs it is what
  a plain reference model (written here, separately) computes;
* the deadline is never in the past and moves on after each timer call.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from botters.protocol.session import (
    OpenConnection,
    Pacing,
    SendFrame,
    SendPong,
    Session,
    SessionConfig,
)

WALL = 2085848896.0

Event = tuple[float, str, str]  # (time, "data" or "pong", id)


def _events(draw_gaps: list[tuple[float, str, int]]) -> list[Event]:
    events: list[Event] = []
    now = 0.0
    n = 0
    for gap, kind, count in draw_gaps:
        now += gap
        for _ in range(count):
            n += 1
            events.append((now, kind, f"{kind}{n}"))
    return events


BURSTS = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.0, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 1.7, 3.0]),
        st.sampled_from(["data", "data", "data", "pong"]),
        st.integers(1, 9),
    ),
    min_size=1,
    max_size=12,
)


def run_machine(events: list[Event], pacing: Pacing) -> list[Event]:
    """Feed ``events`` to a session, driving its timer at each deadline; what went out, when."""
    session = Session(
        SessionConfig(
            url="ws://127.0.0.1:9/feed",
            rng=random.Random(1),
            heartbeat=None,
            dead_peer_timeout=None,
            pacing=pacing,
        )
    )
    out: list[Event] = []

    def record(now: float, actions: Any) -> None:
        for a in actions:
            if isinstance(a, SendFrame):
                out.append((now, "data", str(a.data)))
            elif isinstance(a, SendPong):
                out.append((now, "pong", a.payload.decode()))

    started = session.start(now=0.0, wall=WALL)
    conn = next(a.conn_id for a in started if isinstance(a, OpenConnection))
    record(0.0, session.connected(conn, now=0.0))
    now = 0.0

    def drive(until: float) -> None:
        nonlocal now
        while (deadline := session.deadline) is not None and deadline <= until:
            assert deadline >= now, "deadline in the past"
            now = deadline
            record(now, session.timer(now=now))
            after = session.deadline
            assert after is None or after > now, "the deadline did not move on"
        now = until

    for when, kind, ident in events:
        drive(when)
        if kind == "data":
            record(now, session.user_send(ident, now=now))
        else:
            record(now, session.protocol_ping(conn, ident.encode(), now=now))
    drive(float("inf"))
    assert session.queued() == 0
    return out


def reference(events: list[Event], pacing: Pacing) -> list[Event]:
    """The rule, plainly: send whenever the window has room; PONGs before waiting data.

    At one instant, what already waited goes before what arrives then (the
    adapter's timer runs before the input it is handed next).
    """
    messages, per = pacing.messages, pacing.per
    counted: list[float] = []  # send times of counted frames, in order
    data: deque[str] = deque()
    pongs: deque[str] = deque()
    out: list[Event] = []

    def room(t: float) -> bool:
        return len(counted) < messages or counted[-messages] + per <= t

    def release(t: float) -> None:
        while (pongs or data) and room(t):
            if pongs:
                out.append((t, "pong", pongs.popleft()))
            else:
                out.append((t, "data", data.popleft()))
            counted.append(t)

    pending = deque(events)
    t = 0.0
    while pending or data or pongs:
        # The next instant anything can happen: an arrival, or a slot for what waits.
        candidates = [pending[0][0]] if pending else []
        if (data or pongs) and len(counted) >= messages:
            candidates.append(counted[-messages] + per)
        t = max(t, min(candidates)) if candidates else t
        release(t)
        while pending and pending[0][0] <= t:
            _, kind, ident = pending.popleft()
            if kind == "pong" and not pacing.count_control:
                out.append((t, "pong", ident))  # not counted, never held
            else:
                (pongs if kind == "pong" else data).append(ident)
                release(t)
    return out


@settings(max_examples=300, deadline=None)
@given(
    bursts=BURSTS,
    messages=st.integers(1, 6),
    per=st.sampled_from([0.1, 0.25, 1.0, 2.5]),
    count_control=st.booleans(),
)
def test_random_bursts_obey_the_window_keep_order_and_never_wait_longer(
    bursts: list[tuple[float, str, int]], messages: int, per: float, count_control: bool
) -> None:
    pacing = Pacing(messages=messages, per=per, count_control=count_control)
    events = _events(bursts)
    out = run_machine(events, pacing)

    # Nothing lost, data in order.
    assert sorted(ident for _, _, ident in out) == sorted(ident for _, _, ident in events)
    sent_data = [ident for _, kind, ident in events if kind == "data"]
    assert [ident for _, kind, ident in out if kind == "data"] == sent_data

    # No window of `per` seconds holds more than `messages` counted frames.
    counted = [t for t, kind, _ in out if kind == "data" or count_control]
    assert counted == sorted(counted)
    for i in range(messages, len(counted)):
        assert counted[i] >= counted[i - messages] + per

    # Nothing goes before it was sent.
    arrived = {ident: t for t, _, ident in events}
    assert all(t >= arrived[ident] for t, _, ident in out)

    # Earliest: the same releases, at the same instants, as the plain model.
    assert out == reference(events, pacing)


@settings(max_examples=300, deadline=None)
@given(bursts=BURSTS, messages=st.integers(1, 6), per=st.sampled_from([0.1, 0.25, 1.0, 2.5]))
def test_data_alone_goes_at_the_closed_form_earliest_time(
    bursts: list[tuple[float, str, int]], messages: int, per: float
) -> None:
    events = [(t, "data", ident) for t, _, ident in _events(bursts)]
    out = run_machine(events, Pacing(messages=messages, per=per))
    released: list[float] = []
    for i, (arrived, _, _) in enumerate(events):
        earliest = arrived
        if i:
            earliest = max(earliest, released[i - 1])
        if i >= messages:
            earliest = max(earliest, released[i - messages] + per)
        released.append(earliest)
    assert [t for t, _, _ in out] == released
