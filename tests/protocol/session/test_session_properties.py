"""Properties: backoff bounds, and the hot path agrees with the general path."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from botters.protocol.session import (
    DELIVER_ONLY,
    NOT_PARSED,
    Action,
    Backoff,
    FrameReceived,
    OpenConnection,
    Session,
    SessionConfig,
)

WALL = 2085848896.0


@given(
    lo=st.floats(0.01, 100),
    span=st.floats(0, 1000),
    factor=st.floats(1, 10),
    initial=st.floats(0, 100),
    jitter=st.floats(0, 2),
    attempt=st.integers(1, 10_000),
    u=st.floats(0, 1, exclude_max=True),
)
def test_backoff_delays_stay_in_bounds(
    lo: float, span: float, factor: float, initial: float, jitter: float, attempt: int, u: float
) -> None:
    b = Backoff(min_delay=lo, max_delay=lo + span, factor=factor, initial=initial, jitter=jitter)
    delay = b.delay(attempt, u)
    if attempt == 1:
        assert 0 <= delay <= initial
    else:
        assert lo <= delay <= lo + span
        assert b.delay(attempt + 1, 0.0) >= b.delay(attempt, 0.0)  # never shrinks


FRAMES = st.sampled_from(
    [
        ('{"topic":"t","data":{}}', {"topic": "t", "data": {}}),
        ('{"op":"pong"}', {"op": "pong"}),
        ('{"e":"serverShutdown"}', {"e": "serverShutdown"}),
        ("2", NOT_PARSED),
        (b"\x00binary", NOT_PARSED),
    ]
)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("frame"), FRAMES, st.floats(0, 30)),
        st.tuples(st.just("lost"), st.just(None), st.floats(0, 30)),
    ),
    max_size=40,
)


def _norm(actions: Any) -> list[Action]:
    return list(actions)


@settings(max_examples=150, deadline=None)
@given(
    url=st.sampled_from(
        [
            "wss://stream.bybit.com/v5/public/linear",
            "wss://stream.bitbank.cc/socket.io/?EIO=4&transport=websocket",
            "wss://ws.okx.com:8443/ws/v5/public",
        ]
    ),
    rotate_on=st.sampled_from([None, [{"e": "serverShutdown"}]]),
    idle=st.sampled_from([None, 12.0]),
    steps=STEPS,
)
def test_hot_path_matches_the_general_path(
    url: str, rotate_on: Any, idle: float | None, steps: list[Any]
) -> None:
    """``frame_received`` (with its shortcut) and ``handle(FrameReceived)`` act alike."""

    def make() -> Session:
        return Session(
            SessionConfig(
                url=url, rng=random.Random(3), rotate_on=rotate_on, idle_timeout=idle, heartbeat=5.0
            )
        )

    fast, slow = make(), make()
    now = 0.0
    shortcuts = 0
    conns: list[int] = []
    for s in (fast, slow):
        acts = s.start(now=now, wall=WALL)
        conn = next(a.conn_id for a in acts if isinstance(a, OpenConnection))
        s.connected(conn, now=now)
    conns.append(conn)
    for kind, frame, dt in steps:
        target = now + dt
        while True:  # honour deadlines on both, which must agree
            d1, d2 = fast.deadline, slow.deadline
            assert d1 == d2
            if d1 is None or d1 > target:
                break
            now = d1
            a1, a2 = fast.timer(now=now), slow.timer(now=now)
            assert a1 == a2
            conns += [a.conn_id for a in a1 if isinstance(a, OpenConnection)]
        now = target
        conn = conns[-1]
        if kind == "lost":
            assert fast.connection_lost(conn, now=now) == slow.connection_lost(conn, now=now)
            continue
        text, parsed = frame
        got = fast.frame_received(conn, text, parsed, now)
        if got is DELIVER_ONLY:
            shortcuts += 1
        want = slow.handle(FrameReceived(conn_id=conn, frame=text, parsed=parsed, now=now))
        assert _norm(got) == _norm(want)
        assert fast.state is slow.state
        assert fast.idle_since == slow.idle_since
        assert fast.last_data_at == slow.last_data_at
    event(f"shortcut taken: {shortcuts > 0}")
