"""Coincheck WebSocket: login signs the fixed private-channel text (quirk 8.15 decided)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from botters.protocol import Credentials
from botters.protocol._ws import app_ping_for, build_login, classify_login_reply

SECRET = "NNT34iDK8Qr2P6nlAt4XTuw42nQUdqzHaj3337Qlz4i5l4zu"  # pybotters test_ws vector
CREDS = Credentials("coincheck", "FASfaGggPBYDtiIHu6XoJgK6", SECRET.encode())
EXPECTED = {
    "type": "login",
    "access_key": "FASfaGggPBYDtiIHu6XoJgK6",
    "access_nonce": "2085892096000",
    "access_signature": "8ea715c5402f78069b139e4b978b56280292aa616b2b771621b6a2e400956588",
}


@pytest.mark.parametrize(
    "url",
    [
        "wss://stream.coincheck.com",
        "wss://stream.coincheck.com/",
        "wss://stream.coincheck.com/private",
        "wss://stream.coincheck.com/?x=1",
    ],
)
def test_inventory_vector_whatever_the_connection_url(url: str) -> None:
    now = datetime(2036, 2, 6, 6, 28, 16, tzinfo=UTC).timestamp()  # inventory §4.8 clock
    assert now == 2085892096.0
    login = build_login(url, CREDS, now=now)
    assert login is not None
    assert login.data == EXPECTED


def test_public_host_never_logs_in() -> None:
    assert build_login("wss://ws-api.coincheck.com/", CREDS, now=1.0) is None


@pytest.mark.parametrize(
    ("frame", "status"),
    [('{"success":true}', "ok"), ('{"success":false,"error":"invalid signature"}', "rejected")],
)
def test_login_replies(frame: str, status: str) -> None:
    reply = classify_login_reply("wss://stream.coincheck.com", frame)
    assert reply is not None
    assert reply.status == status
    if status == "rejected":
        assert reply.reason == "invalid signature"


@pytest.mark.parametrize("frame", ['{"success":"yes"}', '[1,"btc_jpy"]', '{"id":1}'])
def test_other_frames(frame: str) -> None:
    assert classify_login_reply("wss://stream.coincheck.com", frame) is None


def test_no_app_ping() -> None:
    assert app_ping_for("wss://stream.coincheck.com") is None
    assert app_ping_for("wss://ws-api.coincheck.com/") is None
