"""OKX v5 WebSocket: no login on public paths (quirk 8.13), demo keys, replies, ping/pong."""

from __future__ import annotations

import pytest

from botters.protocol import Credentials
from botters.protocol._ws import app_ping_for, build_login, classify_login_reply, ws_route_for

SECRET = "YUJHBdFNrbz7atmV3f261ZhdRffTo4S9KZKC7C7qdqcHbRR4"  # pybotters test_ws vector
CREDS = Credentials("okx", "gYmX9fr0kqqxptUlDKESxetg", SECRET.encode(), "MyPassphrase123")
PRIVATE = "wss://ws.okx.com:8443/ws/v5/private"


@pytest.mark.parametrize(
    "url",
    [
        "wss://ws.okx.com:8443/ws/v5/public",
        "wss://wsaws.okx.com:8443/ws/v5/public",
        "wss://wspap.okx.com:8443/ws/v5/public?brokerId=9999",
    ],
)
def test_public_endpoint_sends_no_login(url: str) -> None:
    assert build_login(url, CREDS, now=2085848896.0) is None


@pytest.mark.parametrize(
    ("url", "name"),
    [
        (PRIVATE, "okx"),
        ("wss://ws.okx.com:8443/ws/v5/business", "okx"),
        ("wss://wsaws.okx.com:8443/ws/v5/private", "okx"),
        ("wss://wspap.okx.com:8443/ws/v5/private?brokerId=9999", "okx_demo"),
    ],
)
def test_private_and_business_log_in(url: str, name: str) -> None:
    route = ws_route_for(url)
    assert route is not None
    assert route.api_name == name
    login = build_login(url, CREDS, now=2085848896.9)
    assert login is not None
    arg = login.data["args"][0]
    assert arg["timestamp"] == "2085848896"  # whole seconds
    assert arg["sign"] == "6QVd7Mgd70We2/oDJr0+KnqxXZ+Gf1zIIl3qJk/Pqx8="


@pytest.mark.parametrize(
    ("frame", "status", "reason"),
    [
        ('{"event":"login","code":"0","msg":"","connId":"a4d3ae55"}', "ok", ""),
        ('{"event":"login","msg":""}', "ok", ""),
        (
            '{"event":"error","code":"60009","msg":"Login failed.","connId":"a4d3ae55"}',
            "rejected",
            "60009 Login failed.",
        ),
    ],
)
def test_login_replies(frame: str, status: str, reason: str) -> None:
    reply = classify_login_reply(PRIVATE, frame)
    assert reply is not None
    assert (reply.status, reply.reason) == (status, reason)


@pytest.mark.parametrize(
    "frame",
    ["pong", b"pong", '{"event":"subscribe","arg":{"channel":"orders"}}', '{"arg":{},"data":[]}'],
)
def test_pong_and_data_are_not_the_login_reply(frame: str | bytes) -> None:
    assert classify_login_reply(PRIVATE, frame) is None


def test_ping_pong() -> None:
    ping = app_ping_for("wss://ws.okx.com:8443/ws/v5/public")
    assert ping is not None
    assert ping.interval == 15.0
    assert ping.interval < 30
    assert ping.payload(now=0.0) == "ping"
    assert ping.is_pong("pong")
    assert ping.is_pong(b"pong")
    assert not ping.is_pong('"pong"')
    assert not ping.is_pong("ping")
