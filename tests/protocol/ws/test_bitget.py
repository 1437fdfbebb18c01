"""Bitget WebSocket: login off public paths (inventory §4.8), replies, 30 s ping."""

from __future__ import annotations

import pytest

from botters.protocol import Credentials
from botters.protocol._ws import app_ping_for, build_login, classify_login_reply

SECRET = "mVd40qhnarPtxk3aqg0FCyY1qlTgBOKOXEcmMYfkerGUKmvr"  # pybotters test_ws vector
CREDS = Credentials("bitget", "jbcfbye8AJzXxXwMKluXM12t", SECRET.encode(), "MyPassphrase123")
PRIVATE = "wss://ws.bitget.com/v2/ws/private"


@pytest.mark.parametrize(
    "url", ["wss://ws.bitget.com/v2/ws/public", "wss://ws.bitget.com/mix/v1/stream/public"]
)
def test_public_sends_nothing(url: str) -> None:
    assert build_login(url, CREDS, now=2085848896.0) is None


def test_login_rounds_to_whole_seconds() -> None:
    login = build_login(PRIVATE, CREDS, now=2085848895.6)
    assert login is not None
    arg = login.data["args"][0]
    assert arg == {
        "api_key": "jbcfbye8AJzXxXwMKluXM12t",
        "passphrase": "MyPassphrase123",
        "timestamp": "2085848896",
        "sign": "RmRhCixsMce8H7j2uyvR6sk11tCRbYenohbd87nchH8=",
    }


@pytest.mark.parametrize(
    ("frame", "status", "reason"),
    [
        ('{"event":"login","code":0,"msg":""}', "ok", ""),
        ('{"event":"login","code":"0"}', "ok", ""),
        (
            '{"event":"error","code":30005,"msg":"Invalid ACCESS_KEY"}',
            "rejected",
            "30005 Invalid ACCESS_KEY",
        ),
        ('{"event":"login","code":30012,"msg":"bad"}', "rejected", "30012 bad"),
    ],
)
def test_login_replies(frame: str, status: str, reason: str) -> None:
    reply = classify_login_reply(PRIVATE, frame)
    assert reply is not None
    assert (reply.status, reply.reason) == (status, reason)


@pytest.mark.parametrize(
    "frame", ["pong", '{"event":"subscribe","arg":{}}', '{"action":"snapshot"}']
)
def test_other_frames(frame: str) -> None:
    assert classify_login_reply(PRIVATE, frame) is None


def test_ping_every_30_seconds() -> None:
    ping = app_ping_for("wss://ws.bitget.com/v2/ws/public")
    assert ping is not None
    assert ping.interval == 30.0
    assert ping.payload(now=0.0) == "ping"
    assert ping.is_pong("pong")
    assert not ping.is_pong('{"event":"pong"}')
