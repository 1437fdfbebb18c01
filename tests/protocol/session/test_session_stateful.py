"""Session state machine under random input sequences (Hypothesis, fake clock).

The test plays a faithful adapter: it only reports what the machine asked for
(a ``connected`` for a connection it was told to open, an HTTP answer for a
request it was told to make...), in any order and at any time, and checks
after every call that the machine kept its promises:

* sends (frames, pings, pongs) go only to connections whose handshake
  completed, that were not given up or lost;
* subscriptions go out only after the login was accepted, when one is needed;
* at most one connection is live (being opened or open), two only while a
  rotation is under way;
* deadlines are never in the past, and after ``timer(deadline)`` the deadline
  has moved forward;
* backoff delays stay within their bounds, a rejected login waits at least
  ``min_delay``, and no attempt starts before the backoff delay is over;
* when the current connection is lost, stores are told (FeedInterrupted) before
  anything is sent on another connection, unless a finished rotation made up
  for it; and they are not told otherwise;
* replayed messages carry a signature made at send time (fresh timestamp),
  also when the send pacing held them back;
* on a paced connection no window of ``per`` seconds holds more than
  ``messages`` counted frames, and every user-send ticket is carried out or
  reported unsent exactly once (never after it was withdrawn).
"""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from botters.protocol.session import (
    DELIVER,
    Action,
    BackingOff,
    Backoff,
    CloseConnection,
    Closed,
    Connecting,
    Disconnected,
    FeedInterrupted,
    GMOCoinToken,
    HttpRequest,
    Ignored,
    KuCoinBullet,
    ListenKey,
    LoggedIn,
    LoginFailed,
    OpenConnection,
    Pacing,
    Rotated,
    RotationFailed,
    RotationStarted,
    SendFrame,
    SendPing,
    SendPong,
    Session,
    SessionConfig,
    SessionError,
    State,
    Unsent,
)

WALL = 2085848896.0
BACKOFF = Backoff(min_delay=1.0, max_delay=20.0, factor=2.0, initial=2.0, jitter=0.2)
SUB = {"method": "subscribe", "params": {"channel": "lightning_board_BTC_JPY"}}
ORDER = {"id": 1, "method": "order.place", "params": {"symbol": "BTCUSDT", "side": "BUY"}}

CONFIGS: dict[str, dict[str, Any]] = {
    "bitflyer": {
        "url": "wss://ws.lightstream.bitflyer.com/json-rpc",
        "apis": {"bitflyer": ["bfkey", "bfsecret-bfsecret"]},
        "sends": [SUB],
        "heartbeat": 10.0,
        "idle_timeout": 30.0,
        "max_age": 300.0,
        "rotate_on": [{"rotate": True}],
        "login_timeout": 5.0,
    },
    "bybit": {
        "url": "wss://stream.bybit.com/v5/public/linear",
        "sends": ['{"op":"subscribe","args":["orderbook.1.BTCUSDT"]}'],
        "heartbeat": None,
        "max_age": 200.0,
        "stable_after": 20.0,
    },
    "kucoin": {
        "url": "wss://ws-api-spot.kucoin.com/",
        "token_flow": KuCoinBullet(),
        "sends": ['{"type":"subscribe","topic":"/market/match:BTC-USDT"}'],
        "heartbeat": 10.0,
    },
    "gmo": {
        "url": "wss://api.coin.z.com/ws/private/v1",
        "token_flow": GMOCoinToken(renew_every=100.0),
        "sends": ['{"command":"subscribe","channel":"executionEvents"}'],
        "heartbeat": 10.0,
        "max_age": 400.0,
    },
    "listenkey": {
        "url": "wss://fstream.binance.com/ws",
        "token_flow": ListenKey.binance_usdm(),
        "heartbeat": None,
        "dead_peer_timeout": 60.0,
        "http_timeout": 10.0,
    },
    "bitflyer_paced": {
        "url": "wss://ws.lightstream.bitflyer.com/json-rpc",
        "apis": {"bitflyer": ["bfkey", "bfsecret-bfsecret"]},
        "sends": [SUB, SUB, SUB],
        "heartbeat": 10.0,
        "max_age": 300.0,
        "login_timeout": 5.0,
        "pacing": Pacing(messages=2, per=1.5, count_control=True),
    },
    "binance_wsapi_paced": {
        "url": "wss://ws-api.binance.com/ws-api/v3",
        "apis": {"binance": ["bnkey", "bnsecret-bnsecret"]},
        "sends": [ORDER, "text message", ORDER],
        "heartbeat": 10.0,
        "rotation_overlap": 0.0,
        "max_age": 150.0,
        "pacing": Pacing(messages=1, per=2.0),
    },
    "binance_wsapi": {
        "url": "wss://ws-api.binance.com/ws-api/v3",
        "apis": {"binance": ["bnkey", "bnsecret-bnsecret"]},
        "sends": [ORDER, "text message"],
        "heartbeat": 10.0,
        "rotation_overlap": 0.0,
        "max_age": 150.0,
    },
}

BULLET = {
    "code": "200000",
    "data": {
        "token": "tok",
        "instanceServers": [
            {
                "endpoint": "wss://ws-api-spot.kucoin.com/",
                "pingInterval": 18000,
                "pingTimeout": 10000,
            }
        ],
    },
}


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.opened: set[int] = set()  # OpenConnection seen
        self.connected: set[int] = set()  # we reported connected
        self.finished: set[int] = set()  # close requested, failed or lost
        self.gone: set[int] = set()  # we reported connection_lost / connect_failed
        self.logged_in: set[int] = set()
        self.requests: dict[int, HttpRequest] = {}
        self.not_before: float | None = None
        self.rotating = False
        self.tokens = 0
        self.closed = False
        self.sent_at: dict[int, list[float]] = {}  # counted sends per connection
        self.next_ticket = 0
        self.issued: set[int] = set()
        self.reported: set[int] = set()  # released or unsent
        self.withdrawn: set[int] = set()

    # -- setup ---------------------------------------------------------------------

    @initialize(name=st.sampled_from(sorted(CONFIGS)), seed=st.integers(0, 2**32 - 1))
    def setup(self, name: str, seed: int) -> None:
        self.name = name
        config = dict(CONFIGS[name])
        self.needs_login = "apis" in config and name.startswith("bitflyer")
        self.pacing: Pacing | None = config.get("pacing")
        self.session = Session(SessionConfig(rng=random.Random(seed), backoff=BACKOFF, **config))
        self.check(self.session.start(now=self.now, wall=WALL + self.now))

    # -- the adapter's view ----------------------------------------------------------

    def live(self) -> set[int]:
        return self.opened - self.finished

    def pick(self, data: st.DataObject, pool: set[int]) -> int:
        return data.draw(st.sampled_from(sorted(pool)))

    def check(self, actions: list[Action] | tuple[Action, ...], *, timer: bool = False) -> None:
        s = self.session
        before_current = getattr(self, "current_before", None)
        batch = list(actions)
        for i, a in enumerate(batch):
            if isinstance(a, OpenConnection):
                assert a.conn_id not in self.opened, "conn_id reused"
                self.opened.add(a.conn_id)
            elif isinstance(a, SendFrame | SendPing | SendPong):
                assert a.conn_id in self.connected, f"send before the handshake: {a}"
                assert a.conn_id not in self.finished, f"send on a finished connection: {a}"
                if isinstance(a, SendFrame):
                    self.check_send(a, batch[:i])
                    if a.ticket is not None:
                        self.report_ticket(a.ticket)
                self.check_window(a)
            elif isinstance(a, Unsent):
                for ticket in a.tickets:
                    self.report_ticket(ticket)
            elif isinstance(a, CloseConnection):
                self.finished.add(a.conn_id)
            elif isinstance(a, LoggedIn):
                self.logged_in.add(a.conn_id)
            elif isinstance(a, HttpRequest):
                self.requests[a.request_id] = a
            elif isinstance(a, RotationStarted):
                self.rotating = True
            elif isinstance(a, Rotated | RotationFailed):
                self.rotating = False
            elif isinstance(a, BackingOff):
                self.check_backoff(a, batch)
            elif isinstance(a, Connecting):
                if self.not_before is not None:
                    assert self.now >= self.not_before - 1e-9, "attempt before the backoff ended"
                self.not_before = None
            elif isinstance(a, Closed):
                self.closed = True
        # The current connection's loss tells the stores first, unless a
        # completed rotation replaced it.
        if before_current is not None:
            lost = any(isinstance(a, Disconnected) and a.conn_id == before_current for a in batch)
            rotated = any(isinstance(a, Rotated) and a.old == before_current for a in batch)
            if lost and not rotated:
                assert FeedInterrupted() in batch, "loss of an open feed not reported"
                first = batch.index(FeedInterrupted())
                assert not any(
                    isinstance(a, SendFrame) and a.conn_id != before_current for a in batch[:first]
                )
        if FeedInterrupted() in batch:
            assert any(isinstance(a, Disconnected) for a in batch)
        if len(self.live()) >= 2:
            assert self.rotating, f"two live connections outside a rotation: {self.live()}"
        assert len(self.live()) <= 2
        if len(s.live_connections) <= 1:
            self.rotating = False  # the successor took over or was dropped
        deadline = s.deadline
        if deadline is not None:
            assert deadline >= self.now, "deadline in the past"
            if timer:
                assert deadline > self.now, "timer(deadline) did not move the deadline"
        if s.current is not None:
            assert s.state is State.OPEN
            assert s.current in self.connected
        assert set(s.live_connections) >= self.live() - self.gone - self.finished

    def check_send(self, a: SendFrame, earlier: list[Action]) -> None:
        data = a.data
        if self.needs_login and isinstance(data, str) and "lightning_board" in data:
            assert a.conn_id in self.logged_in, "subscription before the login was accepted"
        if self.name == "binance_wsapi" and isinstance(data, str) and '"order.place"' in data:
            params = json.loads(data)["params"]
            # Signed now (to the ms; now + offset may round differently than WALL + now).
            assert abs(params["timestamp"] - (WALL + self.now) * 1000) <= 1, "stale signature"
            assert ORDER["params"] == {"symbol": "BTCUSDT", "side": "BUY"}  # never mutated

    def check_window(self, a: SendFrame | SendPing | SendPong) -> None:
        pacing = self.pacing
        if pacing is None or (not isinstance(a, SendFrame) and not pacing.count_control):
            return
        times = self.sent_at.setdefault(a.conn_id, [])
        times.append(self.now)
        if len(times) > pacing.messages:
            assert times[-1] >= times[-1 - pacing.messages] + pacing.per, "window overrun"

    def report_ticket(self, ticket: int) -> None:
        assert ticket in self.issued, "a ticket nobody issued"
        assert ticket not in self.reported, "a ticket carried out twice"
        assert ticket not in self.withdrawn, "a withdrawn send went out"
        self.reported.add(ticket)

    def check_backoff(self, a: BackingOff, batch: list[Action]) -> None:
        throttled = any(
            isinstance(x, Disconnected) and ("HTTP 429" in x.reason or "HTTP 418" in x.reason)
            for x in batch
        )
        if throttled:
            assert a.delay == BACKOFF.max_delay
        elif a.attempt <= 1 and not any(isinstance(x, LoginFailed) for x in batch):
            assert 0 <= a.delay <= BACKOFF.initial
        else:
            assert BACKOFF.min_delay <= a.delay <= BACKOFF.max_delay
        self.not_before = self.now + a.delay

    def call(self, method: str, *args: Any, timer: bool = False, **kwargs: Any) -> None:
        self.current_before = self.session.current
        self.check(getattr(self.session, method)(*args, now=self.now, **kwargs), timer=timer)

    # -- rules -------------------------------------------------------------------------

    @rule(dt=st.floats(0, 90, allow_nan=False))
    def advance(self, dt: float) -> None:
        until = self.now + dt
        for _ in range(500):
            deadline = self.session.deadline
            if deadline is None or deadline > until:
                break
            self.now = deadline
            self.call("timer", timer=True, wall=WALL + self.now)
        self.now = until

    @precondition(lambda self: bool(self.opened - self.connected - self.gone - self.finished))
    @rule(data=st.data())
    def handshake_completes(self, data: st.DataObject) -> None:
        conn = self.pick(data, self.opened - self.connected - self.gone - self.finished)
        self.connected.add(conn)
        self.call("connected", conn)

    @precondition(lambda self: bool(self.opened - self.connected - self.gone))
    @rule(data=st.data(), status=st.sampled_from([None, 403, 429, 503]))
    def handshake_fails(self, data: st.DataObject, status: int | None) -> None:
        conn = self.pick(data, self.opened - self.connected - self.gone)
        self.gone.add(conn)
        self.finished.add(conn)
        self.call("connect_failed", conn, "refused", status=status)

    @precondition(lambda self: bool(self.connected - self.gone))
    @rule(
        data=st.data(),
        kind=st.sampled_from(
            ["data", "data", "login_ok", "login_bad", "pong", "rotate", "expired", "junk"]
        ),
    )
    def frame(self, data: st.DataObject, kind: str) -> None:
        conn = self.pick(data, self.connected - self.gone)
        frame: str | bytes
        parsed: Any
        frame, parsed = {
            "data": ('{"channel":"x","message":{}}', {"channel": "x", "message": {}}),
            "login_ok": ('{"jsonrpc":"2.0","id":"auth","result":true}', None),
            "login_bad": ('{"jsonrpc":"2.0","id":"auth","error":{"code":1}}', None),
            "pong": ('{"id":"x","type":"pong"}', None),
            "rotate": ('{"rotate":true}', {"rotate": True}),
            "expired": ('{"e":"listenKeyExpired"}', {"e": "listenKeyExpired"}),
            "junk": (b"\xff\x00", None),
        }[kind]
        self.current_before = self.session.current
        actions = self.session.frame_received(conn, frame, parsed, self.now)
        if conn not in self.finished:
            assert DELIVER in actions or kind.startswith("login")
        self.check(actions)

    @precondition(lambda self: bool(self.connected - self.gone))
    @rule(data=st.data(), ping=st.booleans())
    def control_frame(self, data: st.DataObject, ping: bool) -> None:
        conn = self.pick(data, self.connected - self.gone)
        self.call("protocol_ping" if ping else "protocol_pong", conn, b"1")

    @precondition(lambda self: bool(self.opened - self.gone))
    @rule(data=st.data(), clean=st.booleans())
    def connection_lost(self, data: st.DataObject, clean: bool) -> None:
        conn = self.pick(data, self.opened - self.gone)
        self.gone.add(conn)
        self.finished.add(conn)
        self.call("connection_lost", conn, code=1000 if clean else None, clean=clean)

    @precondition(lambda self: bool(self.requests))
    @rule(data=st.data(), outcome=st.sampled_from(["ok", "ok", "bad", "error"]))
    def http_answer(self, data: st.DataObject, outcome: str) -> None:
        request_id = data.draw(st.sampled_from(sorted(self.requests)))
        request = self.requests.pop(request_id).request
        if outcome == "error":
            self.call("http_response", request_id, error="connection reset")
            return
        self.tokens += 1
        body: Any
        if self.name == "kucoin":
            body = BULLET if outcome == "ok" else {"code": "400100", "msg": "nope"}
        elif self.name == "gmo":
            if request.method == "PUT":
                body = {"status": 0 if outcome == "ok" else 5}
            else:
                body = {"status": 0, "data": f"t{self.tokens}"} if outcome == "ok" else {}
        else:
            body = {"listenKey": f"k{self.tokens}"} if outcome == "ok" else {"code": -1125}
        status = 200 if outcome == "ok" else 400
        self.call("http_response", request_id, status=status, body=body, wall=WALL + self.now)

    @rule(message=st.sampled_from(['{"op":"x"}', b"\x01", {"method": "order.place"}]))
    def user_send(self, message: Any) -> None:
        current = self.session.current
        self.next_ticket += 1
        ticket = self.next_ticket
        self.issued.add(ticket)
        try:
            self.call("user_send", message, ticket=ticket)
        except SessionError:
            assert current is None
            self.issued.discard(ticket)
        else:
            assert current is not None

    @precondition(lambda self: bool(self.issued - self.reported - self.withdrawn))
    @rule(data=st.data())
    def withdraw_send(self, data: st.DataObject) -> None:
        ticket = data.draw(st.sampled_from(sorted(self.issued - self.reported - self.withdrawn)))
        actions = self.session.withdraw_send(ticket, now=self.now)
        if actions:
            assert [type(a) for a in actions] == [Ignored]
            raise AssertionError("an outstanding ticket was not found")
        self.withdrawn.add(ticket)

    @rule()
    def rotate(self) -> None:
        self.call("rotate", "test")

    @rule(spot=st.booleans())
    def change_url(self, spot: bool) -> None:
        url = CONFIGS[self.name]["url"]
        self.call("url_changed", url + ("?x=1" if spot and "?" not in url else ""))

    @precondition(lambda self: not self.closed)
    @rule(data=st.data())
    def user_close(self, data: st.DataObject) -> None:
        # Rare: most runs should exercise a long-lived session.
        if data.draw(st.integers(0, 9)) == 0:
            self.call("user_close")
            assert self.session.state in (State.CLOSING, State.CLOSED)

    @invariant()
    def never_two_current(self) -> None:
        if hasattr(self, "session"):
            assert len(self.session.live_connections) <= 2


SessionMachine.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSessionMachine = SessionMachine.TestCase
