"""BitTrade WebSocket: v2.1 auth (inventory §4.8 vector), replies, pings per path."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import pytest

from botters.protocol import Credentials
from botters.protocol._ws import (
    answer_server_ping,
    app_ping_for,
    build_login,
    classify_login_reply,
)

KEY = "e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx"
CREDS = Credentials("bittrade", KEY, b"b0xxxxxx-c6xxxxxx-94xxxxxx-dxxxx")  # pybotters vector
V2 = "wss://api-cloud.bittrade.co.jp/ws/v2"
NOW = datetime(2019, 9, 1, 18, 16, 16, tzinfo=UTC).timestamp()


def test_login_vector() -> None:
    login = build_login(V2, CREDS, now=NOW)
    assert login is not None
    assert login.data == {
        "action": "req",
        "ch": "auth",
        "params": {
            "authType": "api",
            "accessKey": KEY,
            "signatureMethod": "HmacSHA256",
            "signatureVersion": "2.1",
            "timestamp": "2019-09-01T18:16:16",
            "signature": "3OPwFJ4yGZ14Ji17K0o8AYARb47hmGcgoP5KiVlMdzU=",
        },
    }


@pytest.mark.parametrize(
    "url",
    ["wss://api-cloud.bittrade.co.jp/ws", "wss://api-cloud.bittrade.co.jp/retail/ws"],
)
def test_market_streams_never_log_in(url: str) -> None:
    assert build_login(url, CREDS, now=NOW) is None


@pytest.mark.parametrize(
    ("frame", "status", "reason"),
    [
        ('{"action":"req","code":200,"ch":"auth","data":{}}', "ok", ""),
        (
            '{"action":"req","code":2002,"ch":"auth","message":"invalid.auth.state"}',
            "rejected",
            "2002 invalid.auth.state",
        ),
    ],
)
def test_login_replies_including_failure(frame: str, status: str, reason: str) -> None:
    """A failure ends the wait (pybotters kept waiting, quirk 8.5)."""
    reply = classify_login_reply(V2, frame)
    assert reply is not None
    assert (reply.status, reply.reason) == (status, reason)


@pytest.mark.parametrize(
    "frame",
    [
        '{"action":"ping","data":{"ts":1575537778295}}',
        '{"action":"push","ch":"orders#btcjpy","data":{}}',
        '{"action":"sub","code":200,"ch":"orders#btcjpy"}',
    ],
)
def test_other_frames(frame: str) -> None:
    assert classify_login_reply(V2, frame) is None


def test_pings_per_path() -> None:
    ws = app_ping_for("wss://api-cloud.bittrade.co.jp/ws")
    v2 = app_ping_for(V2)
    retail = app_ping_for("wss://api-cloud.bittrade.co.jp/retail/ws")
    assert ws is not None
    assert v2 is not None
    assert retail is not None
    assert (ws.interval, v2.interval, retail.interval) == (5.0, 20.0, 10.0)
    now = 1700000000.25
    assert json.loads(ws.payload(now=now)) == {"pong": 1700000000250}
    assert json.loads(v2.payload(now=now)) == {"action": "pong", "data": {"ts": 1700000000250}}
    assert json.loads(retail.payload(now=now)) == {"action": 5, "ts": 1700000000}
    assert app_ping_for("wss://api-cloud.bittrade.co.jp/other") is None


def test_server_pings_are_answered_with_the_same_value() -> None:
    market = "wss://api-cloud.bittrade.co.jp/ws"
    compressed = gzip.compress(b'{"ping": 1492420473027}')
    assert answer_server_ping(market, compressed) == '{"pong":1492420473027}'
    assert answer_server_ping(market, '{"ping":5}') == '{"pong":5}'
    v2_ping = '{"action":"ping","data":{"ts":1575537778295}}'
    assert json.loads(answer_server_ping(V2, v2_ping) or "") == {
        "action": "pong",
        "data": {"ts": 1575537778295},
    }
    for other in ('{"ch":"market.btcjpy.trade.detail","tick":{}}', b"\x1f\x8bbroken", "2"):
        assert answer_server_ping(V2, other) is None
