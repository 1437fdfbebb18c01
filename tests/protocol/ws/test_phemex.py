"""Phemex WebSocket: user.auth, replies, server.ping on every host (quirk 8.14)."""

from __future__ import annotations

import json

import pytest

from botters.protocol import Credentials
from botters.protocol._ws import app_ping_for, build_login, classify_login_reply, ws_route_for

SECRET = "ZBAUiPBTQOjYgTihYnZMw2HFkTooufRnNY5iuahBPMspRYQJ"  # pybotters test_ws vector
CREDS = Credentials("phemex", "9kYxQXZ6PrR8h17lsVdDcpnJ", SECRET.encode())
HOSTS = {
    "ws.phemex.com": "phemex",
    "phemex.com": "phemex",
    "vapi.phemex.com": "phemex",
    "api.phemex.com": "phemex",
    "testnet.phemex.com": "phemex_testnet",
    "testnet-api.phemex.com": "phemex_testnet",
}


@pytest.mark.parametrize(("host", "name"), sorted(HOSTS.items()))
def test_every_host_logs_in_and_pings(host: str, name: str) -> None:
    url = f"wss://{host}/ws"
    route = ws_route_for(url)
    assert route is not None
    assert route.api_name == name
    login = build_login(url, CREDS, now=2085848896.7)
    assert login is not None
    assert login.data == {
        "method": "user.auth",
        "params": [
            "API",
            "9kYxQXZ6PrR8h17lsVdDcpnJ",
            "196f317edfa0662ec3d388099683b40a25607919ca3546b131108b9ee5cbed4a",
            2085848956,
        ],
        "id": 123,
    }
    ping = app_ping_for(url)
    assert ping is not None
    assert ping.interval < 30


def test_ping_payload_and_pong() -> None:
    ping = app_ping_for("wss://ws.phemex.com/ws")
    assert ping is not None
    payload = json.loads(ping.payload(now=1700000000.5))
    assert payload == {"id": 1700000000500, "method": "server.ping", "params": []}
    assert payload["id"] != 123  # never the login's id
    assert ping.is_pong('{"error":null,"id":1234,"result":"pong"}')
    assert not ping.is_pong('{"error":null,"id":1234,"result":{"status":"success"}}')


@pytest.mark.parametrize(
    ("frame", "status", "reason"),
    [
        ('{"error":null,"id":123,"result":{"status":"success"}}', "ok", ""),
        (
            '{"error":{"code":6012,"message":"invalid login token"},"id":123,"result":null}',
            "rejected",
            "6012 invalid login token",
        ),
    ],
)
def test_login_replies(frame: str, status: str, reason: str) -> None:
    reply = classify_login_reply("wss://ws.phemex.com/ws", frame)
    assert reply is not None
    assert (reply.status, reply.reason) == (status, reason)


@pytest.mark.parametrize(
    "frame",
    [
        '{"error":null,"id":1700000000500,"result":"pong"}',
        '{"error":null,"id":124,"result":{"status":"success"}}',
        '{"id":123}',
        '{"book":{"asks":[],"bids":[]},"depth":30,"sequence":1,"symbol":"BTCUSD","type":"snapshot"}',
    ],
)
def test_other_frames(frame: str) -> None:
    assert classify_login_reply("wss://ws.phemex.com/ws", frame) is None
