"""MEXC contract WebSocket: login (seconds, see the module's recorded doubt), replies, ping."""

from __future__ import annotations

import pytest

from botters.protocol import Credentials
from botters.protocol._ws import app_ping_for, build_login, classify_login_reply

SECRET = "39aw3fMqFhHsuhbkQ0wa8JzuUgodvbTVl9tZblpSKFnB9Qh3"  # pybotters test_ws vector
CREDS = Credentials("mexc", "0uVJRVNmR2ZHiCXtf6yEwrwy", SECRET.encode())
URL = "wss://contract.mexc.com/edge"


def test_login_truncates_to_seconds() -> None:
    login = build_login(URL, CREDS, now=2085848896.99)
    assert login is not None
    assert login.data["param"]["reqTime"] == "2085848896"
    assert login.data["param"]["signature"] == (
        "cd92edf98d52d973e96ffdce6f845c930f9900c5e4aa47ca4ef81d80533ab882"
    )


@pytest.mark.parametrize(
    ("frame", "status", "reason"),
    [
        ('{"channel":"rs.login","data":"success","ts":1}', "ok", ""),
        ('{"channel":"rs.login","data":"failed"}', "rejected", "failed"),
        (
            '{"channel":"rs.error","data":"signature verification failed"}',
            "rejected",
            "signature verification failed",
        ),
    ],
)
def test_login_replies(frame: str, status: str, reason: str) -> None:
    reply = classify_login_reply(URL, frame)
    assert reply is not None
    assert (reply.status, reply.reason) == (status, reason)


@pytest.mark.parametrize(
    "frame", ['{"channel":"pong","data":1587453241453}', '{"channel":"push.ticker"}']
)
def test_other_frames(frame: str) -> None:
    assert classify_login_reply(URL, frame) is None


def test_ping() -> None:
    ping = app_ping_for(URL)
    assert ping is not None
    assert 10.0 <= ping.interval <= 20.0
    assert ping.payload(now=0.0) == '{"method":"ping"}'
    assert ping.is_pong('{"channel":"pong","data":1587453241453}')
    assert not ping.is_pong('{"channel":"rs.login","data":"success"}')
