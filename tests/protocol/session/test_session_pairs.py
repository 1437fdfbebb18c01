"""Every (state, input) pair of the session machine is defined and behaves.

The transition table must cover every pair; then each pair is driven for real:
a machine is brought into each state by ordinary inputs and fed each kind of
input. Nothing may raise except :class:`SessionError` for caller misuse
(``start`` twice, sending while not open), and the deadline must stay sane.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from botters.protocol.session import (
    Connected,
    ConnectFailed,
    ConnectionLost,
    Event,
    FrameReceived,
    HttpRequest,
    HttpResponse,
    Ignored,
    KuCoinBullet,
    OpenConnection,
    ProtocolPing,
    ProtocolPong,
    Rotate,
    Session,
    SessionConfig,
    SessionError,
    Start,
    State,
    Timer,
    UrlChanged,
    UserClose,
    UserSend,
    WithdrawSend,
)
from botters.protocol.session._machine import _TABLE

WALL = 2085848896.0
BITFLYER = "wss://ws.lightstream.bitflyer.com/json-rpc"
APIS = {"bitflyer": ["bfkey", "bfsecret-bfsecret"]}

INPUTS: tuple[type[Event], ...] = (
    Start,
    Connected,
    ConnectFailed,
    FrameReceived,
    ProtocolPing,
    ProtocolPong,
    ConnectionLost,
    Timer,
    UserSend,
    UserClose,
    UrlChanged,
    HttpResponse,
    Rotate,
    WithdrawSend,
)

# What each reachable state needs: a config and the inputs that lead there.
Setup = Callable[[], tuple[Session, int | None, int | None]]


def _session(**config: Any) -> Session:
    config.setdefault("url", BITFLYER)
    return Session(SessionConfig(rng=random.Random(5), **config))


def _conn(actions: list[Any]) -> int:
    return next(a.conn_id for a in actions if isinstance(a, OpenConnection))


def idle() -> tuple[Session, int | None, int | None]:
    return _session(), None, None


def preparing() -> tuple[Session, int | None, int | None]:
    s = _session(url="wss://ws-api-spot.kucoin.com/", token_flow=KuCoinBullet())
    acts = s.start(now=0.0, wall=WALL)
    request_id = next(a.request_id for a in acts if isinstance(a, HttpRequest))
    return s, 1, request_id  # conn 1 is reserved but not opened yet


def connecting() -> tuple[Session, int | None, int | None]:
    s = _session()
    return s, _conn(s.start(now=0.0, wall=WALL)), None


def authenticating() -> tuple[Session, int | None, int | None]:
    s = _session(apis=APIS)
    conn = _conn(s.start(now=0.0, wall=WALL))
    s.connected(conn, now=0.1)
    return s, conn, None


def open_() -> tuple[Session, int | None, int | None]:
    s = _session()
    conn = _conn(s.start(now=0.0, wall=WALL))
    s.connected(conn, now=0.1)
    return s, conn, None


def backoff() -> tuple[Session, int | None, int | None]:
    s, conn, _ = open_()
    assert conn is not None
    s.connection_lost(conn, now=0.2)
    return s, conn, None


def closing() -> tuple[Session, int | None, int | None]:
    s, conn, _ = open_()
    s.user_close(now=0.2)
    return s, conn, None


def closed() -> tuple[Session, int | None, int | None]:
    s, conn, _ = closing()
    assert conn is not None
    s.connection_lost(conn, now=0.3)
    return s, conn, None


SETUPS: dict[State, Setup] = {
    State.IDLE: idle,
    State.PREPARING: preparing,
    State.CONNECTING: connecting,
    State.AUTHENTICATING: authenticating,
    State.OPEN: open_,
    State.BACKOFF: backoff,
    State.CLOSING: closing,
    State.CLOSED: closed,
}


def _event(kind: type[Event], conn: int, request_id: int, now: float) -> Event:
    args: dict[str, Any] = {"now": now}
    if kind in (Connected, ConnectFailed, FrameReceived, ProtocolPing, ProtocolPong):
        args["conn_id"] = conn
    if kind is ConnectionLost:
        args.update(conn_id=conn, clean=True, code=1000)
    if kind is ConnectFailed:
        args.update(reason="refused", status=503)
    if kind is FrameReceived:
        args.update(frame='{"jsonrpc":"2.0","id":"auth","result":true}', parsed=None)
    if kind is Start:
        args["wall"] = WALL + now
    if kind is UserSend:
        args["data"] = '{"x":1}'
    if kind is UrlChanged:
        args["url"] = BITFLYER + "?v=2"
    if kind is HttpResponse:
        args.update(request_id=request_id, status=500)
    if kind is WithdrawSend:
        args["ticket"] = 7
    return kind(**args)


def test_the_table_covers_every_pair() -> None:
    assert set(_TABLE) == {(state, kind) for state in State for kind in INPUTS}


MISUSE = {(state, Start) for state in State if state is not State.IDLE} | {
    (state, UserSend) for state in State if state is not State.OPEN
}


@pytest.mark.parametrize("kind", INPUTS, ids=lambda k: k.__name__)
@pytest.mark.parametrize("state", list(State), ids=lambda s: s.name)
def test_every_state_and_input(state: State, kind: type[Event]) -> None:
    session, conn, request_id = SETUPS[state]()
    assert session.state is state
    event = _event(kind, conn if conn is not None else 1, request_id or 1, now=0.5)
    if (state, kind) in MISUSE:
        with pytest.raises(SessionError):
            session.handle(event)
        assert session.state is state  # misuse changes nothing
        return
    actions = session.handle(event)
    assert isinstance(actions, list)
    deadline = session.deadline
    assert deadline is None or deadline >= 0.5
    if state is State.CLOSED:
        # A closed session only ever ignores (or accepts a URL for nothing).
        assert all(isinstance(a, Ignored) for a in actions)
        assert session.state is State.CLOSED


@pytest.mark.parametrize("kind", INPUTS[1:7], ids=lambda k: k.__name__)
def test_connection_inputs_for_an_unknown_connection_are_ignored(kind: type[Event]) -> None:
    for setup in SETUPS.values():
        session, _, _ = setup()
        before = session.state
        actions = session.handle(_event(kind, 999, 1, now=0.5))
        assert [type(a) for a in actions] == [Ignored]
        assert session.state is before


def test_connection_inputs_on_a_closing_connection() -> None:
    # The old connection of a rotation is CLOSING while the session is OPEN.
    s = _session(rotation_overlap=0.0)
    old = _conn(s.start(now=0.0, wall=WALL))
    s.connected(old, now=0.1)
    new = _conn(s.rotate(now=1.0))
    s.connected(new, now=1.1)
    s.timer(now=1.1)
    assert s.current == new
    assert s.connected(old, now=1.2)[0] == Ignored(
        event="Connected", reason="the connection is closing"
    )
    assert s.protocol_ping(old, now=1.2)[0].reason == "the connection is closing"
    assert s.frame_received(old, "late", None, 1.3) is not None
    assert s.connection_lost(old, now=1.4) == []
    assert s.state is State.OPEN
