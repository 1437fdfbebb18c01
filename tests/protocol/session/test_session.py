"""Session state machine: example scenarios with a fake clock (no sleeps, no I/O)."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Sequence
from typing import Any

import pytest

from botters.protocol import ConfigError, Request
from botters.protocol._hmac import hmac_hex
from botters.protocol.session import (
    DELIVER,
    DELIVER_ONLY,
    NOT_PARSED,
    Action,
    BackingOff,
    Backoff,
    CloseConnection,
    Closed,
    Connecting,
    Disconnected,
    Established,
    FeedInterrupted,
    GMOCoinToken,
    HttpRequest,
    Idle,
    Ignored,
    KuCoinBullet,
    ListenKey,
    LoggedIn,
    LoginFailed,
    OpenConnection,
    Opened,
    Report,
    Resumed,
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
    TokenFailed,
)

WALL = 2085848896.0  # wall clock at monotonic 0 (pybotters' test epoch)

BITFLYER = "wss://ws.lightstream.bitflyer.com/json-rpc"
BITFLYER_APIS = {
    "bitflyer": ["Pcm1rbtSRqKxTvirZDDOct1k", "AKHZlv3PoAXZ0KXIKIVKOmS4ji3rV7ZIVIJRstwyplaw0FQ4"]
}
OKX_PRIVATE = "wss://ws.okx.com:8443/ws/v5/private"
OKX_APIS = {
    "okx": [
        "gYmX9fr0kqqxptUlDKESxetg",
        "YUJHBdFNrbz7atmV3f261ZhdRffTo4S9KZKC7C7qdqcHbRR4",
        "MyPassphrase123",
    ]
}
BYBIT_PUBLIC = "wss://stream.bybit.com/v5/public/linear"
BINANCE_WSAPI = "wss://ws-api.binance.com:443/ws-api/v3"
BINANCE_SECRET = "7pDOQJ49zyyDjrNGAvB31RcnAada8nkxkl2IWKop6b0E3tXh"
BINANCE_APIS = {"binance": ["9qm1u2s4GoHt9ryIm1D2fHV8", BINANCE_SECRET]}

SUB_TICKER = {"method": "subscribe", "params": {"channel": "lightning_ticker_BTC_JPY"}}
AUTH_OK = '{"jsonrpc":"2.0","id":"auth","result":true}'
AUTH_BAD = '{"jsonrpc":"2.0","id":"auth","error":{"code":-32600,"message":"bad signature"}}'


class Harness:
    """Drives a Session with a fake monotonic clock; wall = WALL + now."""

    def __init__(self, url: str = BYBIT_PUBLIC, *, seed: int = 1, **config: Any) -> None:
        config.setdefault("rng", random.Random(seed))
        # Keepalive off unless a test is about it: the fake peer never answers.
        config.setdefault("heartbeat", None)
        config.setdefault("dead_peer_timeout", None)
        self.session = Session(SessionConfig(url=url, **config))
        self.now = 0.0
        self.log: list[tuple[float, Action]] = []

    def _record(self, actions: Sequence[Action]) -> list[Action]:
        out = list(actions)
        self.log.extend((self.now, a) for a in out)
        return out

    def start(self) -> list[Action]:
        return self._record(self.session.start(now=self.now, wall=WALL + self.now))

    def call(self, name: str, *args: Any, **kwargs: Any) -> list[Action]:
        return self._record(getattr(self.session, name)(*args, now=self.now, **kwargs))

    def frame(self, conn_id: int, frame: str | bytes, parsed: Any = NOT_PARSED) -> list[Action]:
        if parsed is NOT_PARSED and isinstance(frame, str):
            try:
                parsed = json.loads(frame)
            except ValueError:
                parsed = NOT_PARSED
        return self._record(self.session.frame_received(conn_id, frame, parsed, self.now))

    def advance(self, until: float) -> list[Action]:
        """Honour every deadline up to ``until`` (calling timer exactly at each)."""
        out: list[Action] = []
        while True:
            deadline = self.session.deadline
            if deadline is None or deadline > until:
                break
            assert deadline >= self.now, "deadline in the past"
            self.now = deadline
            got = self.call("timer")
            out += got
            after = self.session.deadline
            assert after is None or after > self.now
        self.now = until
        return out

    def open(self, *, login_reply: str | None = None) -> int:
        """Start (or continue from BACKOFF) up to OPEN; returns the conn_id."""
        if self.session.state is State.IDLE:
            acts = self.start()
        else:
            acts = self.advance(self.session.deadline or self.now)
        conn = one(acts, OpenConnection).conn_id
        self.call("connected", conn)
        if login_reply is not None:
            self.frame(conn, login_reply)
        assert self.session.state is State.OPEN
        return conn


def of(actions: Sequence[Action], kind: type[Any]) -> list[Any]:
    return [a for a in actions if isinstance(a, kind)]


def one(actions: Sequence[Action], kind: type[Any]) -> Any:
    found = of(actions, kind)
    assert len(found) == 1, f"expected one {kind.__name__} in {actions}"
    return found[0]


def kinds(actions: Sequence[Action]) -> list[str]:
    return ["DELIVER" if a is DELIVER else type(a).__name__ for a in actions]


def sent(actions: Sequence[Action]) -> list[str | bytes]:
    return [a.data for a in of(actions, SendFrame)]


# -- configuration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "https://stream.bybit.com/v5/public/linear"}, "ws:// or wss://"),
        ({"url": "stream.bybit.com"}, "ws:// or wss://"),
        ({"heartbeat": 0}, "heartbeat"),
        ({"heartbeat": float("nan")}, "heartbeat"),
        ({"login_timeout": -1}, "login_timeout"),
        ({"backoff": (1, 2, 3)}, "backoff"),
        ({"backoff": (5, 1, 2, 1)}, "max_delay"),
        ({"backoff": (1, 5, 0.5, 1)}, "factor"),
        ({"sends": [object()]}, r"sends\[0\]"),
        ({"sends": [{"a": object()}]}, "JSON"),
        ({"rotate_on": []}, "rotate_on"),
        ({"rotate_on": [{}]}, "rotate_on"),
        ({"max_age": 0}, "max_age"),
        ({"headers": {"a": 1}}, "headers"),
        ({"dead_peer_timeout": "soon"}, "dead_peer_timeout"),
        ({"token_flow": object()}, "TokenFlow"),
        ({"rng": object()}, "rng"),
    ],
)
def test_config_is_validated(kwargs: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {"url": BYBIT_PUBLIC, "rng": random.Random(0)}
    base.update(kwargs)
    with pytest.raises(ConfigError, match=message):
        SessionConfig(**base)


def test_config_accepts_pybotters_backoff_tuple_and_filters() -> None:
    config = SessionConfig(
        url=BYBIT_PUBLIC,
        rng=random.Random(0),
        backoff=(1.92, 60.0, 1.618, 5.0),
        rotate_on={"e": "serverShutdown"},
        sends="hello",
    )
    assert config.backoff_policy == Backoff()
    assert config.sends == ("hello",)
    predicate = config.message_predicate
    assert predicate is not None
    assert predicate({"e": "serverShutdown", "E": 1})
    assert not predicate({"e": "other"})
    assert not predicate(["e"])


# -- login ordering ------------------------------------------------------------------


def test_bitflyer_login_then_subscribe_and_early_frames_are_delivered() -> None:
    h = Harness(BITFLYER, apis=BITFLYER_APIS, sends=[SUB_TICKER])
    acts = h.start()
    assert kinds(acts) == ["Connecting", "OpenConnection"]
    conn = one(acts, OpenConnection).conn_id
    h.now = 0.5
    acts = h.call("connected", conn)
    # Only the login goes out; the subscription waits for its acknowledgement.
    assert kinds(acts) == ["Established", "SendFrame"]
    login = json.loads(one(acts, SendFrame).data)
    assert login["method"] == "auth"
    ts = login["params"]["timestamp"]
    nonce = login["params"]["nonce"]
    assert ts == int((WALL + 0.5) * 1000)
    assert 16 <= len(nonce) <= 255
    assert login["params"]["signature"] == hmac_hex(
        BITFLYER_APIS["bitflyer"][1].encode(), f"{ts}{nonce}"
    )
    assert h.session.state is State.AUTHENTICATING
    assert h.session.current is None
    # A frame before the login reply is delivered (pybotters swallowed it).
    early = h.frame(conn, '{"jsonrpc":"2.0","method":"channelMessage","params":{}}')
    assert early == [DELIVER]
    # The reply itself is reported, not delivered; then the subscription goes out.
    acts = h.frame(conn, AUTH_OK)
    assert kinds(acts) == ["LoggedIn", "SendFrame", "Opened"]
    assert json.loads(one(acts, SendFrame).data) == SUB_TICKER
    assert h.session.current == conn
    assert h.frame(conn, '{"x": 1}') is not None


def test_bybit_public_needs_no_login_and_pings_every_20s() -> None:
    sub = {"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]}
    h = Harness(BYBIT_PUBLIC, sends=[sub], apis={"bybit": ["k" * 18, "s" * 36]})
    conn = one(h.start(), OpenConnection).conn_id
    acts = h.call("connected", conn)
    assert kinds(acts) == ["Established", "SendFrame", "Opened"]
    assert json.loads(one(acts, SendFrame).data) == sub
    # Data keeps flowing; the app ping goes out every 20 s regardless.
    pings: list[tuple[float, str | bytes]] = []
    for step in range(1, 90):
        h.now = step * 0.5
        acts = h.advance(h.now)
        pings += [(h.now, a.data) for a in of(acts, SendFrame)]
        assert h.frame(conn, '{"topic":"orderbook.50.BTCUSDT","data":{}}') is not None
    assert pings == [(20.0, '{"op":"ping"}'), (40.0, '{"op":"ping"}')]
    assert not of([a for _, a in h.log], SendPing)  # data flowed: no protocol ping needed


def test_okx_login_timeout_backs_off_and_is_reported() -> None:
    h = Harness(OKX_PRIVATE, apis=OKX_APIS, sends=['{"op":"subscribe"}'], login_timeout=10.0)
    conn = one(h.start(), OpenConnection).conn_id
    acts = h.call("connected", conn)
    assert json.loads(one(acts, SendFrame).data)["op"] == "login"
    assert h.session.deadline == pytest.approx(10.0)
    h.frame(conn, "pong")  # not the reply: delivered, still waiting
    acts = h.advance(10.0)
    assert kinds(acts) == [
        "LoginFailed",
        "CloseConnection",
        "Disconnected",
        "BackingOff",
    ]
    assert "no login reply" in one(acts, LoginFailed).reason
    # A login failure never retries faster than min_delay.
    assert one(acts, BackingOff).delay >= Backoff().min_delay
    assert h.session.state is State.BACKOFF
    assert not of(acts, FeedInterrupted)  # nothing was subscribed yet
    assert not [d for d in sent([a for _, a in h.log]) if "subscribe" in str(d)]


def test_rejected_login_is_reported_and_never_hammered() -> None:
    h = Harness(BITFLYER, apis=BITFLYER_APIS, sends=[SUB_TICKER])
    h.start()
    starts: list[float] = []
    for _ in range(12):
        opened = [a for t, a in h.log if isinstance(a, OpenConnection)]
        conn = opened[-1].conn_id
        starts.append(h.now)
        h.call("connected", conn)
        acts = h.frame(conn, AUTH_BAD)
        assert kinds(acts) == ["LoginFailed", "CloseConnection", "Disconnected", "BackingOff"]
        assert one(acts, LoginFailed).reason == "-32600 bad signature"
        h.call("connection_lost", conn, clean=True)
        h.advance(h.session.deadline or 0.0)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(g >= Backoff().min_delay for g in gaps)
    assert gaps[-1] == pytest.approx(60.0, abs=0.001)  # capped at max_delay
    subs = [d for d in sent([a for _, a in h.log]) if "lightning_ticker" in str(d)]
    assert subs == []


def test_coincheck_style_no_reply_classifier_counts_as_accepted_after_send() -> None:
    # MEXC futures has a classifier; pick a route with a login but check the generic rule
    # through bitFlyer with a reply that is not JSON: still waiting, delivered.
    h = Harness(BITFLYER, apis=BITFLYER_APIS)
    conn = one(h.start(), OpenConnection).conn_id
    h.call("connected", conn)
    assert h.frame(conn, b"\x00\x01") == [DELIVER]
    assert h.session.state is State.AUTHENTICATING


# -- backoff -------------------------------------------------------------------------


def test_fifty_abrupt_drops_back_off_increasing_then_capped_and_reset_when_stable() -> None:
    h = Harness(BYBIT_PUBLIC, seed=7)
    conn = h.open()
    delays: list[float] = []
    for _ in range(50):
        h.now += 1.0  # each connection lives one second: not stable
        acts = h.call("connection_lost", conn, code=1006, reason="reset", clean=False)
        assert of(acts, FeedInterrupted)  # it was open: stores must resync
        assert not of(acts, OpenConnection)  # never an immediate reconnect
        delays.append(one(acts, BackingOff).delay)
        conn = h.open()
    backoff = Backoff()
    assert 0 <= delays[0] <= backoff.initial
    assert all(backoff.min_delay <= d <= backoff.max_delay for d in delays[1:])
    # Increasing until the cap, then at the cap.
    capped = delays.index(60.0)
    assert capped < 15
    assert all(a < b for a, b in itertools.pairwise(delays[1 : capped + 1]))
    assert all(d == 60.0 for d in delays[capped:])
    # A connection that lives past stable_after resets the count.
    h.now += 31.0
    acts = h.call("connection_lost", conn, clean=False)
    backing = one(acts, BackingOff)
    assert backing.attempt == 1
    assert backing.delay <= backoff.initial


def test_clean_close_backs_off_instead_of_reconnecting_at_once() -> None:
    h = Harness(BYBIT_PUBLIC, seed=3)
    conn = h.open()
    reconnects: list[float] = []
    for _ in range(5):
        h.now += 0.1
        acts = h.call("connection_lost", conn, code=1000, clean=True)
        assert kinds(acts) == ["Disconnected", "FeedInterrupted", "BackingOff"]
        assert "closed with code 1000" in one(acts, Disconnected).reason
        conn = h.open()
        reconnects.append(h.now)
    gaps = [b - a for a, b in itertools.pairwise(reconnects)]
    assert all(g > 1.9 for g in gaps)  # pybotters: three reconnects in 0.5 s


def test_refused_handshake_429_waits_the_maximum() -> None:
    h = Harness(BYBIT_PUBLIC)
    conn = one(h.start(), OpenConnection).conn_id
    acts = h.call("connect_failed", conn, "rate limited", status=429)
    assert one(acts, BackingOff).delay == 60.0
    assert "HTTP 429" in one(acts, Disconnected).reason
    assert not of(acts, FeedInterrupted)


def test_handshake_timeout_closes_and_backs_off() -> None:
    h = Harness(BYBIT_PUBLIC, connect_timeout=5.0)
    conn = one(h.start(), OpenConnection).conn_id
    acts = h.advance(5.0)
    assert kinds(acts) == ["CloseConnection", "Disconnected", "BackingOff"]
    # The abandoned handshake completing late is ignored, then forgotten.
    late = h.call("connected", conn)
    assert kinds(late) == ["Ignored"]
    h.call("connection_lost", conn)
    assert conn not in h.session.live_connections


def test_backoff_delay_formula() -> None:
    b = Backoff(min_delay=2.0, max_delay=30.0, factor=2.0, initial=1.0, jitter=0.0)
    assert [b.delay(n, 0.5) for n in range(1, 8)] == [0.5, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert b.delay(10**6, 0.99) == 30.0


# -- keepalive, dead peer, idle ---------------------------------------------------------


def test_dead_peer_is_detected_within_the_timeout() -> None:
    h = Harness(BITFLYER, heartbeat=10.0, dead_peer_timeout="auto")
    conn = h.open()
    h.frame(conn, '{"a":1}')
    acts = h.advance(10.0)
    ping = one(acts, SendPing)
    assert ping.conn_id == conn
    # The peer answers: alive.
    h.now = 10.2
    assert h.call("protocol_pong", conn, ping.payload) == []
    acts = h.advance(20.2)
    ping = one(acts, SendPing)
    # Now silence: given up 15 s (1.5 heartbeats) after the last frame.
    acts = h.advance(40.0)
    assert kinds(acts)[:4] == ["CloseConnection", "Disconnected", "FeedInterrupted", "BackingOff"]
    lost_at = next(t for t, a in h.log if isinstance(a, Disconnected))
    assert lost_at == pytest.approx(25.2)
    assert "dead peer" in one(acts, Disconnected).reason


def test_dead_peer_from_app_ping_without_heartbeat() -> None:
    # OKX public: "ping" every 15 s, "pong" answers; no protocol heartbeat.
    h = Harness("wss://ws.okx.com:8443/ws/v5/public", dead_peer_timeout="auto")
    conn = h.open()
    acts = h.advance(15.0)
    assert sent(acts) == ["ping"]
    h.now = 15.1
    assert h.frame(conn, "pong") == [DELIVER]
    acts = h.advance(30.0)
    assert sent(acts) == ["ping"]
    acts = h.advance(50.0)
    assert "dead peer" in of(acts, Disconnected)[0].reason
    lost_at = next(t for t, a in h.log if isinstance(a, Disconnected))
    assert lost_at == pytest.approx(15.1 + 30.0)


def test_protocol_ping_is_answered() -> None:
    h = Harness(BYBIT_PUBLIC)
    conn = h.open()
    assert h.call("protocol_ping", conn, b"abc") == [SendPong(conn_id=conn, payload=b"abc")]


def test_idle_signal_ignores_pings_and_pongs() -> None:
    h = Harness("wss://ws.okx.com:8443/ws/v5/public", idle_timeout=20.0, heartbeat=None)
    conn = h.open()
    h.now = 1.0
    h.frame(conn, '{"arg":{},"data":[]}')
    acts = h.advance(15.0)
    assert sent(acts) == ["ping"]
    h.now = 15.05
    h.frame(conn, "pong")  # a pong is not data
    acts = h.advance(25.0)
    assert one(acts, Idle).since == 1.0
    assert h.session.idle_since == 1.0
    h.now = 26.0
    acts = h.frame(conn, '{"arg":{},"data":[1]}')
    assert kinds(acts) == ["DELIVER", "Resumed"]
    assert h.session.idle_since is None
    assert h.session.last_data_at == 26.0


# -- hot path -----------------------------------------------------------------------------


def test_hot_path_returns_the_shared_tuple() -> None:
    h = Harness(BYBIT_PUBLIC, heartbeat=10.0)
    conn = h.open()
    before = h.session.deadline
    h.now = 3.0
    assert h.session.frame_received(conn, '{"a":1}', {"a": 1}, 3.0) is DELIVER_ONLY
    after = h.session.deadline
    assert before is not None
    assert after is not None
    assert after >= before  # a data frame only moves deadlines later


def test_unknown_connection_frames_are_ignored_with_a_reason() -> None:
    h = Harness(BYBIT_PUBLIC)
    h.open()
    acts = h.frame(99, "x")
    assert kinds(acts) == ["Ignored"]
    assert "unknown" in one(acts, Ignored).reason


# -- replay and signing ---------------------------------------------------------------------


def test_replayed_sends_are_signed_afresh_on_a_copy() -> None:
    order = {
        "id": "o1",
        "method": "order.place",
        "params": {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.01"},
    }
    original = json.loads(json.dumps(order))
    h = Harness(BINANCE_WSAPI, apis=BINANCE_APIS, sends=[order, "plain text"])
    conn = h.open()
    first = [a for _, a in h.log if isinstance(a, SendFrame)]
    h.now = 100.0
    h.call("connection_lost", conn, clean=False)
    h.open()
    second = [a for _, a in h.log if isinstance(a, SendFrame)][len(first) :]
    assert [f.data for f in first][1] == "plain text"
    assert [f.data for f in second][1] == "plain text"
    a = json.loads(first[0].data)["params"]
    b = json.loads(second[0].data)["params"]
    assert a["timestamp"] == int(WALL * 1000)
    assert b["timestamp"] > a["timestamp"]
    assert a["signature"] != b["signature"]
    for params in (a, b):
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
        assert params["signature"] == hmac_hex(BINANCE_SECRET.encode(), payload)
    assert order == original  # the user's message was never modified


def test_user_send_only_when_open_and_never_replayed() -> None:
    h = Harness(BITFLYER, apis=BITFLYER_APIS)
    with pytest.raises(SessionError, match="not open"):
        h.call("user_send", "x")
    conn = one(h.start(), OpenConnection).conn_id
    with pytest.raises(SessionError):
        h.call("user_send", "x")
    h.call("connected", conn)
    with pytest.raises(SessionError):  # logged in? not yet
        h.call("user_send", "x")
    h.frame(conn, AUTH_OK)
    acts = h.call("user_send", {"method": "x"})
    assert acts == [SendFrame(conn_id=conn, data='{"method":"x"}')]
    h.call("connection_lost", conn)
    h.open(login_reply=AUTH_OK)
    assert '{"method":"x"}' not in sent([a for t, a in h.log if t > 0])[1:]


def test_url_change_applies_to_the_next_connect() -> None:
    h = Harness(BYBIT_PUBLIC)
    conn = h.open()
    h.call("url_changed", "wss://stream.bybit.com/v5/public/spot")
    assert h.session.url.endswith("/spot")
    h.call("connection_lost", conn)
    acts = h.advance(h.session.deadline or 0.0)
    assert one(acts, OpenConnection).url == "wss://stream.bybit.com/v5/public/spot"
    with pytest.raises(ConfigError):
        h.call("url_changed", "https://example.com/")


# -- close --------------------------------------------------------------------------------


def test_user_close_waits_for_the_connection_then_is_closed() -> None:
    h = Harness(BYBIT_PUBLIC)
    conn = h.open()
    acts = h.call("user_close")
    assert acts == [CloseConnection(conn_id=conn, code=1000, reason="")]
    assert h.session.state is State.CLOSING
    assert h.frame(conn, '{"late":1}') == [DELIVER]
    acts = h.call("connection_lost", conn, clean=True)
    assert kinds(acts) == ["Closed"]
    assert h.session.state is State.CLOSED
    assert h.session.deadline is None
    with pytest.raises(SessionError, match="closed"):
        h.start()


def test_user_close_during_backoff_is_immediate_and_close_timeout_forgets() -> None:
    h = Harness(BYBIT_PUBLIC)
    conn = h.open()
    h.call("connection_lost", conn)
    assert h.call("user_close") == [Closed()]
    h2 = Harness(BYBIT_PUBLIC, close_timeout=2.0)
    h2.open()
    h2.call("user_close")
    acts = h2.advance(5.0)
    assert acts == [Closed()]


# -- rotation -------------------------------------------------------------------------------


def test_rotation_by_age_is_make_before_break() -> None:
    h = Harness(BYBIT_PUBLIC, sends=['{"op":"subscribe"}'], max_age=100.0, rotation_overlap=5.0)
    old = h.open()
    h.advance(50.0)
    h.frame(old, '{"n":1}')
    acts = h.advance(100.0)
    started = one(acts, RotationStarted)
    new = one(acts, OpenConnection).conn_id
    assert started.conn_id == new != old
    assert h.session.live_connections == (old, new)
    assert h.session.current == old
    h.now = 100.5
    assert h.frame(old, '{"n":2}') == [DELIVER]
    acts = h.call("connected", new)
    assert sent(acts) == ['{"op":"subscribe"}']
    assert h.session.current == old  # still the old one until the handover
    # During the overlap both deliver.
    h.now = 101.0
    assert h.frame(new, '{"n":3}') == [DELIVER]
    assert h.frame(old, '{"n":3}') == [DELIVER]
    acts = h.advance(105.5)
    assert kinds(acts) == ["CloseConnection", "Rotated"]
    assert one(acts, Rotated) == Rotated(old=old, new=new)
    assert h.session.current == new
    assert h.session.live_connections == (new,)
    # The old one still delivers until it is gone; no interruption is reported.
    h.now = 105.6
    assert h.frame(old, '{"n":4}') == [DELIVER]
    h.call("connection_lost", old, clean=True)
    assert not of([a for _, a in h.log], FeedInterrupted)
    # The next rotation is max_age after the new connection's start.
    acts = h.advance(200.6)
    assert one(acts, RotationStarted)


def test_rotation_by_message_predicate() -> None:
    h = Harness(BYBIT_PUBLIC, rotate_on=[{"e": "serverShutdown"}])
    old = h.open()
    acts = h.frame(old, '{"e":"serverShutdown","E":1}')
    assert kinds(acts)[:3] == ["DELIVER", "RotationStarted", "Connecting"] or kinds(acts)[:2] == [
        "DELIVER",
        "RotationStarted",
    ]
    new = one(acts, OpenConnection).conn_id
    # A second match while rotating does not start another one.
    assert not of(h.frame(old, '{"e":"serverShutdown"}'), RotationStarted)
    h.call("connected", new)
    h.advance(h.now + 5.0)
    assert h.session.current == new


def test_failed_rotation_keeps_the_current_connection_and_retries() -> None:
    h = Harness(BYBIT_PUBLIC, max_age=100.0)
    old = h.open()
    acts = h.advance(100.0)
    new = one(acts, OpenConnection).conn_id
    acts = h.call("connect_failed", new, "refused", status=503)
    failed = one(acts, RotationFailed)
    assert not of(acts, FeedInterrupted)
    assert not of(acts, BackingOff)
    assert h.session.current == old
    acts = h.advance(100.0 + failed.retry_in)
    assert one(acts, RotationStarted)


def test_old_connection_lost_before_successor_opens_is_an_interruption() -> None:
    h = Harness(BYBIT_PUBLIC, max_age=100.0)
    old = h.open()
    acts = h.advance(100.0)
    new = one(acts, OpenConnection).conn_id
    acts = h.call("connection_lost", old)
    assert kinds(acts) == ["Disconnected", "FeedInterrupted"]
    assert h.session.state is State.CONNECTING
    acts = h.call("connected", new)
    assert one(acts, Opened).conn_id == new
    assert h.session.current == new


def test_old_connection_lost_during_overlap_promotes_without_interruption() -> None:
    h = Harness(BYBIT_PUBLIC, max_age=100.0)
    old = h.open()
    new = one(h.advance(100.0), OpenConnection).conn_id
    h.call("connected", new)
    acts = h.call("connection_lost", old)
    assert kinds(acts) == ["Disconnected", "Rotated"]
    assert h.session.current == new


def test_manual_rotate() -> None:
    h = Harness(BYBIT_PUBLIC)
    assert kinds(h.call("rotate")) == ["Ignored"]
    h.open()
    acts = h.call("rotate", "user asked")
    assert one(acts, RotationStarted).reason == "user asked"
    assert kinds(h.call("rotate")) == ["Ignored"]


# -- token flows ---------------------------------------------------------------------------

BULLET = {
    "code": "200000",
    "data": {
        "token": "T0k",
        "instanceServers": [
            {
                "endpoint": "wss://ws-api-spot.kucoin.com/",
                "encrypt": True,
                "protocol": "websocket",
                "pingInterval": 18000,
                "pingTimeout": 10000,
            }
        ],
    },
}


def test_kucoin_bullet_before_every_connect_with_ping_from_the_answer() -> None:
    h = Harness(
        "wss://ws-api-spot.kucoin.com/",
        token_flow=KuCoinBullet(private=False),
        heartbeat=None,
        sends=['{"type":"subscribe","topic":"/market/ticker:BTC-USDT"}'],
    )
    acts = h.start()
    assert kinds(acts) == ["Connecting", "HttpRequest"]
    req = one(acts, HttpRequest)
    assert (req.request.method, req.request.url) == (
        "POST",
        "https://api.kucoin.com/api/v1/bullet-public",
    )
    assert h.session.state is State.PREPARING
    h.now = 0.3
    acts = h.call("http_response", req.request_id, status=200, body=BULLET)
    url = one(acts, OpenConnection).url
    assert url.startswith("wss://ws-api-spot.kucoin.com/?token=T0k&connectId=")
    conn = one(acts, OpenConnection).conn_id
    h.call("connected", conn)
    acts = h.advance(18.3)
    ping = json.loads(one(acts, SendFrame).data)
    assert ping["type"] == "ping"
    assert ping["id"]
    h.now = 18.4
    assert h.frame(conn, json.dumps({"id": ping["id"], "type": "pong"})) == [DELIVER]
    # Reconnect: a new bullet (tokens are not reused).
    h.now = 20.0
    h.call("connection_lost", conn)
    acts = h.advance(h.session.deadline or 0.0)
    assert one(acts, HttpRequest).request.url.endswith("/bullet-public")


def test_kucoin_bad_bullet_is_reported_and_backs_off() -> None:
    h = Harness("wss://ws-api-spot.kucoin.com/", token_flow=KuCoinBullet(private=True))
    req = one(h.start(), HttpRequest)
    assert req.request.url.endswith("/bullet-private")
    acts = h.call("http_response", req.request_id, status=200, body={"code": "400100"})
    assert "400100" in one(acts, TokenFailed).reason
    assert one(acts, BackingOff)
    assert h.session.state is State.BACKOFF
    # A late answer to a request that timed out is ignored.
    acts = h.advance(h.session.deadline or 0.0)
    req = one(acts, HttpRequest)
    acts = h.advance(h.now + 30.0)
    assert "timed out" in one(acts, TokenFailed).reason
    assert kinds(h.call("http_response", req.request_id, status=200, body=BULLET)) == ["Ignored"]


GMO_URL = "wss://api.coin.z.com/ws/private/v1"


def _body(req: Request) -> Any:
    return json.loads(req.body) if req.body else None


def test_gmo_token_in_url_renewed_while_connected_and_reused_on_reconnect() -> None:
    h = Harness(GMO_URL, token_flow=GMOCoinToken(), heartbeat=None)
    req = one(h.start(), HttpRequest)
    assert (req.request.method, req.request.url) == (
        "POST",
        "https://api.coin.z.com/private/v1/ws-auth",
    )
    acts = h.call("http_response", req.request_id, status=200, body={"status": 0, "data": "tok1"})
    conn = one(acts, OpenConnection).conn_id
    assert one(acts, OpenConnection).url == "wss://api.coin.z.com/ws/private/v1/tok1"
    h.call("connected", conn)
    acts = h.advance(1800.0)
    renew = one(acts, HttpRequest)
    assert renew.request.method == "PUT"
    assert _body(renew.request) == {"token": "tok1"}
    h.now = 1800.2
    h.call("http_response", renew.request_id, status=200, body={"status": 0})
    acts = h.advance(3600.0)
    assert not of(acts, HttpRequest)  # next renewal at 3600.2
    acts = h.advance(3600.2)
    renew = one(acts, HttpRequest)
    h.call("http_response", renew.request_id, status=200, body={"status": 0})
    # Reconnect: extend and reuse the token.
    h.call("connection_lost", conn)
    acts = h.advance(h.session.deadline or 0.0)
    put = one(acts, HttpRequest)
    assert put.request.method == "PUT"
    acts = h.call("http_response", put.request_id, status=200, body={"status": 0})
    conn = one(acts, OpenConnection).conn_id
    assert one(acts, OpenConnection).url.endswith("/tok1")
    # Later the token is dead (maintenance): extending fails, a new one is made.
    h.call("connected", conn)
    h.call("connection_lost", conn)
    acts = h.advance(h.session.deadline or 0.0)
    put = one(acts, HttpRequest)
    acts = h.call("http_response", put.request_id, status=200, body={"status": 1})
    post = one(acts, HttpRequest)
    assert post.request.method == "POST"
    acts = h.call("http_response", post.request_id, status=200, body={"status": 0, "data": "tok2"})
    assert one(acts, OpenConnection).url.endswith("/tok2")


def test_gmo_failed_renewal_rotates_with_a_new_token() -> None:
    h = Harness(GMO_URL, token_flow=GMOCoinToken(renew_every=600.0), heartbeat=None)
    req = one(h.start(), HttpRequest)
    acts = h.call("http_response", req.request_id, status=200, body={"status": 0, "data": "t1"})
    old = one(acts, OpenConnection).conn_id
    h.call("connected", old)
    renew = one(h.advance(600.0), HttpRequest)
    acts = h.call("http_response", renew.request_id, status=200, body={"status": 5})
    assert kinds(acts)[:2] == ["TokenFailed", "RotationStarted"]
    post = one(acts, HttpRequest)
    assert post.request.method == "POST"
    acts = h.call("http_response", post.request_id, status=200, body={"status": 0, "data": "t2"})
    new = one(acts, OpenConnection).conn_id
    h.call("connected", new)
    acts = h.advance(h.now + 5.0)
    assert one(acts, Rotated) == Rotated(old=old, new=new)


def test_listen_key_keepalive_and_expiry_rotation() -> None:
    flow = ListenKey.binance_usdm()
    h = Harness("wss://fstream.binance.com/ws", token_flow=flow)
    req = one(h.start(), HttpRequest)
    assert (req.request.method, req.request.url) == (
        "POST",
        "https://fapi.binance.com/fapi/v1/listenKey",
    )
    acts = h.call("http_response", req.request_id, status=200, body={"listenKey": "LK1"})
    old = one(acts, OpenConnection).conn_id
    assert one(acts, OpenConnection).url == "wss://fstream.binance.com/ws/LK1"
    h.call("connected", old)
    acts = h.advance(1800.0)
    put = one(acts, HttpRequest)
    assert (put.request.method, put.request.url) == (
        "PUT",
        "https://fapi.binance.com/fapi/v1/listenKey",
    )
    h.call("http_response", put.request_id, status=200, body={"listenKey": "LK1"})
    h.now = 2000.0
    acts = h.frame(old, '{"e":"listenKeyExpired","E":1,"listenKey":"LK1"}')
    assert kinds(acts)[:2] == ["DELIVER", "RotationStarted"]
    post = one(acts, HttpRequest)
    assert post.request.method == "POST"  # a new key, not a keep-alive of the dead one
    acts = h.call("http_response", post.request_id, status=200, body={"listenKey": "LK2"})
    assert one(acts, OpenConnection).url.endswith("/LK2")


def test_mexc_listen_key_goes_into_the_query() -> None:
    flow = ListenKey.mexc_spot()
    h = Harness("wss://wbs-api.mexc.com/ws?listenKey={listenKey}", token_flow=flow)
    req = one(h.start(), HttpRequest)
    assert req.request.url == "https://api.mexc.com/api/v3/userDataStream"
    acts = h.call("http_response", req.request_id, status=200, body={"listenKey": "abc"})
    conn = one(acts, OpenConnection).conn_id
    assert one(acts, OpenConnection).url == "wss://wbs-api.mexc.com/ws?listenKey=abc"
    h.call("connected", conn)
    put = one(h.advance(1800.0), HttpRequest)
    assert put.request.url == "https://api.mexc.com/api/v3/userDataStream?listenKey=abc"
    assert not flow.checks_messages
    # The hot path stays on: no message check for MEXC.
    assert h.session.frame_received(conn, "{}", {}, h.now) is DELIVER_ONLY


def test_reports_are_reports() -> None:
    for cls in (Connecting, Established, LoggedIn, Opened, Resumed, TokenFailed, Idle):
        assert issubclass(cls, Report)


def test_bitbank_server_pings_are_answered_and_are_not_data() -> None:
    h = Harness("wss://stream.bitbank.cc/socket.io/?EIO=4&transport=websocket", idle_timeout=10.0)
    conn = h.open()
    h.now = 1.0
    # A data frame stays on the hot path even though the route answers pings.
    assert h.session.frame_received(conn, '42["message",{}]', NOT_PARSED, 1.0) is DELIVER_ONLY
    h.now = 2.0
    acts = h.frame(conn, "2")
    assert acts == [DELIVER, SendFrame(conn_id=conn, data="3")]
    acts = h.advance(11.5)
    assert one(acts, Idle).since == 1.0  # the server's ping did not count as data


def test_rotate_on_is_checked_on_the_hot_path_without_leaving_it() -> None:
    h = Harness(BYBIT_PUBLIC, rotate_on=[{"e": "serverShutdown"}])
    conn = h.open()
    assert h.session.frame_received(conn, "{}", {"e": "trade"}, 0.0) is DELIVER_ONLY
    acts = h.session.frame_received(conn, "{}", {"e": "serverShutdown"}, 0.0)
    assert acts is not DELIVER_ONLY
    assert kinds(list(acts))[:2] == ["DELIVER", "RotationStarted"]
    # Not parsed by the adapter: the machine parses this once itself.
    h2 = Harness(BYBIT_PUBLIC, rotate_on=lambda m: m == {"bye": 1})
    conn2 = h2.open()
    acts = h2.session.frame_received(conn2, '{"bye":1}', NOT_PARSED, 0.0)
    assert one(list(acts), RotationStarted)


def test_each_login_is_built_afresh() -> None:
    h = Harness(BITFLYER, apis=BITFLYER_APIS)
    logins = []
    for _ in range(3):
        if h.session.state is State.IDLE:
            conn = one(h.start(), OpenConnection).conn_id
        else:
            conn = one(h.advance(h.session.deadline or 0.0), OpenConnection).conn_id
        logins.append(json.loads(one(h.call("connected", conn), SendFrame).data)["params"])
        h.frame(conn, AUTH_OK)
        h.now += 1.0
        h.call("connection_lost", conn)
    assert len({p["timestamp"] for p in logins}) == 3
    assert len({p["nonce"] for p in logins}) == 3
    assert len({p["signature"] for p in logins}) == 3
