"""Send pacing in the session machine, with a fake clock (no sleeps, no I/O).

The driver honours every deadline exactly (``timer(now=deadline)``), as an
adapter's timer does, and records when each frame was released.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

import pytest

from botters.protocol import ConfigError
from botters.protocol._ws import pacing_for
from botters.protocol.exchanges.okx._ws import counts_toward_limit
from botters.protocol.session import (
    DELIVER_ONLY,
    NOT_PARSED,
    Action,
    CloseConnection,
    Ignored,
    OpenConnection,
    Opened,
    Pacing,
    Rotated,
    SendBacklog,
    SendFrame,
    SendPing,
    SendPong,
    Session,
    SessionConfig,
    State,
    Unsent,
)

WALL = 2085848896.0
BINANCE_SPOT = "wss://stream.binance.com:9443/ws"
BINANCE_WSAPI = "wss://ws-api.binance.com:443/ws-api/v3"
BINANCE_APIS = {"binance": ["9qm1u2s4GoHt9ryIm1D2fHV8", "7pDOQJ49zyyDjrNGAvB31RcnAada8nk"]}
PHEMEX = "wss://ws.phemex.com/ws"
PHEMEX_APIS = {"phemex": ["phemex-key", "c2VjcmV0LXNlY3JldC1zZWNyZXQ="]}
PHEMEX_OK = '{"error":null,"id":123,"result":{"status":"success"}}'
LOCAL = "ws://127.0.0.1:9/feed"


def subs(n: int) -> list[str]:
    return [f'{{"method":"SUBSCRIBE","params":["s{i}"],"id":{i}}}' for i in range(n)]


class Driver:
    """A session on a fake monotonic clock; ``log`` holds ``(time, action)`` of every output."""

    def __init__(self, url: str = BINANCE_SPOT, **config: Any) -> None:
        config.setdefault("rng", random.Random(3))
        config.setdefault("heartbeat", None)
        config.setdefault("dead_peer_timeout", None)
        self.session = Session(SessionConfig(url=url, **config))
        self.now = 0.0
        self.log: list[tuple[float, Action]] = []

    def _record(self, actions: Sequence[Action]) -> list[Action]:
        out = list(actions)
        self.log.extend((self.now, a) for a in out)
        return out

    def call(self, name: str, *args: Any, **kwargs: Any) -> list[Action]:
        if name == "start":
            kwargs["wall"] = WALL + self.now
        return self._record(getattr(self.session, name)(*args, now=self.now, **kwargs))

    def frame(self, conn: int, text: str) -> list[Action]:
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = NOT_PARSED
        return self._record(self.session.frame_received(conn, text, parsed, self.now))

    def advance(self, until: float) -> list[Action]:
        """Call ``timer`` at every deadline up to ``until``, then move the clock there."""
        out: list[Action] = []
        while (deadline := self.session.deadline) is not None and deadline <= until:
            assert deadline >= self.now
            self.now = deadline
            out += self.call("timer", wall=WALL + self.now)
            after = self.session.deadline
            assert after is None or after > self.now
        self.now = until
        return out

    def open(self, *, reply: str | None = None) -> int:
        if self.session.state is State.IDLE:
            acts = self.call("start")
        else:
            acts = self.advance(self.session.deadline or self.now)
        conn = next(a.conn_id for a in acts if isinstance(a, OpenConnection))
        self.call("connected", conn)
        if reply is not None:
            self.frame(conn, reply)
        assert self.session.state is State.OPEN
        return conn

    def sent(self, conn: int | None = None) -> list[tuple[float, Any]]:
        """``(time, what)`` of every frame released: data, or ``"PING"``/``"PONG"``."""
        out: list[tuple[float, Any]] = []
        for when, a in self.log:
            if isinstance(a, SendFrame | SendPing | SendPong) and conn in (None, a.conn_id):
                what = a.data if isinstance(a, SendFrame) else type(a).__name__[4:].upper()
                out.append((when, what))
        return out


def times(driver: Driver, conn: int | None = None) -> list[float]:
    return [t for t, _ in driver.sent(conn)]


# -- the value and the table ----------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"messages": 0, "per": 1.0},
        {"messages": True, "per": 1.0},
        {"messages": 1.5, "per": 1.0},
        {"messages": 5, "per": 0},
        {"messages": 5, "per": -1.0},
        {"messages": 5, "per": float("inf")},
        {"messages": 5, "per": float("nan")},
        {"messages": 5, "per": "1"},
        {"messages": 5, "per": 1.0, "count_control": 1},
        {"messages": 5, "per": 1.0, "counts": "subscribe"},
    ],
)
def test_pacing_is_validated(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="pacing"):
        Pacing(**kwargs)


def test_config_takes_auto_a_pacing_or_off() -> None:
    custom = Pacing(messages=3, per=0.5)
    rng = random.Random(0)
    assert SessionConfig(url=LOCAL, rng=rng).pacing_policy == "auto"
    assert SessionConfig(url=LOCAL, rng=rng, pacing=True).pacing_policy == "auto"
    assert SessionConfig(url=LOCAL, rng=rng, pacing=False).pacing_policy is None
    assert SessionConfig(url=LOCAL, rng=rng, pacing=None).pacing_policy is None
    assert SessionConfig(url=LOCAL, rng=rng, pacing=custom).pacing_policy is custom
    with pytest.raises(ConfigError, match="pacing"):
        SessionConfig(url=LOCAL, rng=rng, pacing=(5, 1.0))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "messages", "per", "control"),
    [
        ("wss://stream.binance.com:9443/ws", 5, 1.0, True),
        ("wss://data-stream.binance.vision/stream?streams=btcusdt@trade", 5, 1.0, True),
        ("wss://fstream.binance.com/ws", 10, 1.0, True),
        ("wss://dstream.binance.com/stream", 10, 1.0, True),
        ("wss://api.coin.z.com/ws/public/v1", 1, 1.0, False),
        ("wss://api.coin.z.com/ws/private/v1/token", 1, 1.0, False),
        ("wss://ws-api-spot.kucoin.com/?token=t", 100, 10.0, False),
        ("wss://ws-api-futures.kucoin.com/", 100, 10.0, False),
        ("wss://ws.okx.com:8443/ws/v5/public", 480, 3600.0, False),
        ("wss://wspap.okx.com:8443/ws/v5/private", 480, 3600.0, False),
        ("wss://ws.bitget.com/v2/ws/public", 10, 1.0, True),
        ("wss://ws.phemex.com/ws", 10, 1.0, False),
        ("wss://testnet.phemex.com/ws", 10, 1.0, False),
    ],
)
def test_documented_limits_per_host(url: str, messages: int, per: float, control: bool) -> None:
    pacing = pacing_for(url)
    assert pacing is not None
    assert (pacing.messages, pacing.per, pacing.count_control) == (messages, per, control)
    assert pacing.source.startswith("https://")


@pytest.mark.parametrize(
    "url",
    [
        "wss://stream.bybit.com/v5/public/linear",
        "wss://ws.lightstream.bitflyer.com/json-rpc",
        "wss://ws-api.binance.com:443/ws-api/v3",
        "ws://stream.binance.com:9443/ws",  # not wss: nothing registered
        "wss://stream.binance.com.evil.example/ws",
        LOCAL,
    ],
)
def test_hosts_without_a_documented_limit_are_not_paced(url: str) -> None:
    assert pacing_for(url) is None


def test_okx_counts_only_subscribe_unsubscribe_and_login() -> None:
    assert counts_toward_limit('{"op":"unsubscribe","args":[]}')
    assert counts_toward_limit(b'{"op":"login","args":[]}')
    assert not counts_toward_limit('{"op":["subscribe"]}')
    assert not counts_toward_limit("[1,2]")


# -- initial messages and replays ------------------------------------------------------


def test_initial_messages_go_five_a_second_on_binance_spot() -> None:
    d = Driver(sends=subs(12))
    conn = d.open()
    assert times(d) == [0.0] * 5
    assert d.session.queued() == 7
    assert d.session.deadline == 1.0  # exactly when the sixth may go
    d.advance(2.5)
    assert times(d) == [0.0] * 5 + [1.0] * 5 + [2.0] * 2
    assert [what for _, what in d.sent(conn)] == subs(12)  # in order
    assert d.session.queued() == 0
    assert d.session.deadline is None


def test_open_means_queued_and_later_sends_go_after_the_initial_ones() -> None:
    d = Driver(sends=subs(7))
    conn = d.open()
    assert d.session.current == conn  # open: the rest are queued, ahead of anything else
    d.call("user_send", "mine")
    d.advance(1.0)
    assert [what for _, what in d.sent()] == [*subs(7), "mine"]
    assert times(d)[-3:] == [1.0, 1.0, 1.0]


def test_a_replay_after_a_reconnect_is_paced_afresh() -> None:
    d = Driver(sends=subs(8), backoff=(0.5, 1.0, 2.0, 0.1))
    first = d.open()
    d.now = 0.3
    d.call("connection_lost", first, clean=False)  # 3 initial messages never went
    assert d.session.state is State.BACKOFF
    assert not [a for _, a in d.log if isinstance(a, Unsent)]  # nothing of the user's
    second = d.open()
    start = d.now
    assert second != first
    d.advance(start + 1.0)
    assert times(d, second) == [start] * 5 + [start + 1.0] * 3
    assert [what for _, what in d.sent(second)] == subs(8)


def test_the_login_counts_and_goes_first_then_initial_then_user_sends_in_order() -> None:
    d = Driver(PHEMEX, apis=PHEMEX_APIS, sends=subs(4), pacing=Pacing(messages=2, per=1.0))
    acts = d.call("start")
    conn = next(a.conn_id for a in acts if isinstance(a, OpenConnection))
    login = [a for a in d.call("connected", conn) if isinstance(a, SendFrame)]
    assert len(login) == 1
    assert '"user.auth"' in login[0].data
    d.now = 0.2
    d.frame(conn, PHEMEX_OK)
    assert d.session.state is State.OPEN
    d.call("user_send", "u1")
    d.call("user_send", "u2")
    d.advance(3.0)
    assert [what for _, what in d.sent()][1:] == [*subs(4), "u1", "u2"]
    # Two in any second, the login included: 0.0 login, 0.2, then 1.0/1.2, 2.0/2.2, 3.0.
    assert times(d) == [0.0, 0.2, 1.0, 1.2, 2.0, 2.2, 3.0]


def test_an_app_ping_overtakes_waiting_data_but_waits_for_a_slot() -> None:
    # Phemex pings every 5 s; one frame a second lets the backlog last past it.
    d = Driver(PHEMEX, sends=subs(7), pacing=Pacing(messages=1, per=1.0))
    d.open()
    d.advance(5.5)
    sent = d.sent()
    ping = next(i for i, (_, what) in enumerate(sent) if '"server.ping"' in what)
    assert sent[ping][0] == 5.0  # due at 5.0, and the slot of 5.0 was free for it
    assert [what for _, what in sent if '"server.ping"' not in what] == subs(5)  # 6th at 6.0
    assert times(d) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    d.advance(7.0)
    assert [what for _, what in d.sent()][-2:] == [subs(7)[5], subs(7)[6]]


# -- control frames -------------------------------------------------------------------


def test_control_frames_count_and_never_break_the_limit() -> None:
    d = Driver(sends=subs(12))
    conn = d.open()
    d.now = 0.5
    pong = d.call("protocol_ping", conn, b"p1")
    assert not [a for a in pong if isinstance(a, SendPong)]  # the window is full until 1.0
    d.advance(1.0)
    sent = d.sent()
    assert sent[5] == (1.0, "PONG")  # first in the next slot, ahead of the data
    assert [t for t, _ in sent] == [0.0] * 5 + [1.0] * 5
    assert d.session.queued() == 3


def test_a_control_frame_with_room_goes_at_once_and_takes_a_slot() -> None:
    d = Driver(sends=subs(3))
    conn = d.open()
    d.now = 0.1
    assert [type(a) for a in d.call("protocol_ping", conn, b"x")] == [SendPong]
    d.now = 0.2
    d.call("user_send", "a")
    d.call("user_send", "b")  # 3 + pong + a = 5 in the window: b waits
    assert d.session.queued() == 1
    assert d.session.deadline == 1.0


def test_control_frames_pass_freely_where_they_do_not_count() -> None:
    d = Driver(LOCAL, sends=subs(3), pacing=Pacing(messages=3, per=1.0), heartbeat=0.25)
    conn = d.open()
    d.advance(0.6)  # heartbeat PINGs while the window is full of data
    assert [what for _, what in d.sent()] == [*subs(3), "PING", "PING"]
    d.call("protocol_ping", conn, b"x")
    assert d.sent()[-1] == (0.6, "PONG")


# -- user sends: tickets, loss, withdrawal -----------------------------------------------


def test_a_released_user_send_carries_its_ticket() -> None:
    d = Driver(sends=subs(5))
    d.open()
    assert d.call("user_send", "late", ticket=41) == []
    [frame] = [a for a in d.advance(1.0) if isinstance(a, SendFrame)]
    assert (frame.data, frame.ticket) == ("late", 41)


def test_a_lost_connection_drops_its_queue_and_reports_the_user_sends() -> None:
    d = Driver(sends=subs(6))
    conn = d.open()
    d.call("user_send", "a", ticket=1)
    d.call("user_send", "b")  # send_json_nowait: no ticket
    d.call("user_send", "c", ticket=3)
    d.now = 0.4
    acts = d.call("connection_lost", conn, clean=True, code=1000)
    assert [a for a in acts if isinstance(a, Unsent)] == [
        Unsent(conn_id=conn, tickets=(1, 3), untracked=1)
    ]
    d.advance(0.99)
    assert d.session.queued(conn) == 0
    assert len(d.sent()) == 5  # nothing more went on it


def test_a_connection_given_up_reports_its_waiting_sends_before_closing() -> None:
    d = Driver(sends=subs(6), dead_peer_timeout=0.5)
    conn = d.open()
    d.call("user_send", "a", ticket=9)
    acts = d.advance(0.5)
    kinds = [type(a) for a in acts]
    assert kinds.index(Unsent) < kinds.index(CloseConnection)
    assert next(a for a in acts if isinstance(a, Unsent)).tickets == (9,)
    assert d.session.queued(conn) == 0


def test_closing_the_session_reports_the_waiting_sends() -> None:
    d = Driver(sends=subs(5))
    conn = d.open()
    d.call("user_send", "a", ticket=2)
    acts = d.call("user_close")
    assert Unsent(conn_id=conn, tickets=(2,), untracked=0) in acts


def test_a_withdrawn_send_never_goes_and_the_rest_keep_their_order() -> None:
    d = Driver(sends=subs(5))
    d.open()
    for i, text in enumerate(["a", "b", "c"], 1):
        d.call("user_send", text, ticket=i)
    assert d.call("withdraw_send", 2) == []
    d.advance(1.0)
    assert [what for _, what in d.sent()][5:] == ["a", "c"]
    assert [type(a) for a in d.call("withdraw_send", 1)] == [Ignored]  # already sent


def test_a_dict_that_waited_is_signed_again_when_released() -> None:
    order = {"id": "o1", "method": "order.place", "params": {"symbol": "BTCUSDT"}}
    d = Driver(BINANCE_WSAPI, apis=BINANCE_APIS, pacing=Pacing(messages=1, per=2.0))
    d.open()
    d.call("user_send", order)
    d.now = 0.5
    d.call("user_send", order, wall=WALL + 0.5)
    d.advance(2.0)
    first, second = (json.loads(what) for _, what in d.sent())
    assert first["params"]["timestamp"] == int(WALL * 1000)
    assert second["params"]["timestamp"] == int((WALL + 2.0) * 1000)  # signed at release
    assert first["params"]["signature"] != second["params"]["signature"]
    assert "timestamp" not in order["params"]  # the user's dict is untouched


# -- rotation, off, custom, reports ------------------------------------------------------


def test_a_rotation_successor_has_its_own_window_and_hands_over_once_subscribed() -> None:
    d = Driver(sends=subs(7), rotation_overlap=2.0)
    old = d.open()
    d.advance(10.0)
    acts = d.call("rotate", "test")
    new = next(a.conn_id for a in acts if isinstance(a, OpenConnection))
    d.now = 10.1
    d.call("connected", new)
    assert times(d, new) == [10.1] * 5  # the old connection's sends do not count here
    d.advance(11.5)
    assert times(d, new) == [10.1] * 5 + [11.1] * 2
    # The overlap starts when the last initial message went (11.1), not at open (10.1).
    assert not [a for _, a in d.log if isinstance(a, Rotated)]
    d.advance(13.1)
    assert [a for _, a in d.log if isinstance(a, Rotated)] == [Rotated(old=old, new=new)]


@pytest.mark.parametrize("off", [None, False])
def test_pacing_off_sends_everything_at_once(off: Any) -> None:
    d = Driver(sends=subs(12), pacing=off)
    d.open()
    assert times(d) == [0.0] * 12
    assert d.session.deadline is None


def test_a_custom_pacing_applies_to_any_host() -> None:
    d = Driver(LOCAL, sends=subs(4), pacing=Pacing(messages=2, per=0.25))
    d.open()
    d.advance(1.0)
    assert times(d) == [0.0, 0.0, 0.25, 0.25]


def test_unknown_hosts_are_not_paced_by_default() -> None:
    d = Driver(LOCAL, sends=subs(50))
    d.open()
    assert times(d) == [0.0] * 50


def test_okx_paces_subscriptions_only_and_never_holds_the_keepalive() -> None:
    d = Driver("wss://ws.okx.com:8443/ws/v5/public", sends=subs(2))
    d.open()
    subscribe = '{"op":"subscribe","args":[{"channel":"tickers","instId":"BTC-USDT"}]}'
    for _ in range(481):
        d.call("user_send", subscribe)
    assert d.session.queued() == 1  # the 481st subscription in the hour
    d.call("user_send", '{"op":"order","args":[]}')  # not counted: goes at once
    d.advance(15.0)  # the text ping
    assert [what for _, what in d.sent()][-2:] == ['{"op":"order","args":[]}', "ping"]
    d.advance(3599.0)
    assert [what for _, what in d.sent()].count(subscribe) == 480
    d.advance(3600.0)
    assert [t for t, what in d.sent() if what == subscribe][-1] == 3600.0


def test_a_long_backlog_is_reported_once_per_episode() -> None:
    d = Driver("wss://api.coin.z.com/ws/public/v1", sends=subs(3))
    d.open()
    for i in range(12):
        d.call("user_send", f"u{i}")
    reports = [a for _, a in d.log if isinstance(a, SendBacklog)]
    assert len(reports) == 1
    assert reports[0].queued == 11
    assert reports[0].seconds == 11.0
    assert reports[0].limit == "1 message per 1 s"
    d.advance(20.0)
    assert d.session.queued() == 0
    for i in range(12):
        d.call("user_send", f"v{i}")
    assert len([a for _, a in d.log if isinstance(a, SendBacklog)]) == 2


def test_the_hot_path_is_untouched_on_a_paced_connection() -> None:
    d = Driver(sends=subs(12))
    conn = d.open()
    assert d.session.frame_received(conn, '{"e":"trade"}', {"e": "trade"}, 0.3) is DELIVER_ONLY
    assert d.session.queued() == 7


def test_opened_is_reported_once_the_initial_messages_are_queued() -> None:
    d = Driver(sends=subs(6))
    d.open()
    kinds = [type(a) for _, a in d.log]
    assert kinds.count(SendFrame) == 5
    assert Opened in kinds
