"""OKJ WebSocket v3: login (inventory §4.8 vector), raw-deflate replies, ping/pong."""

from __future__ import annotations

import zlib

import pytest

from botters.protocol import Credentials
from botters.protocol._ws import app_ping_for, build_login, classify_login_reply, ws_route_for
from botters.protocol.exchanges.okj._ws import decode, inflate

URL = "wss://connect.okcoin.jp:443/ws/v3"
SECRET = "xNn5J6y2uSAOZNHOORX2f6hWdD8QqE2eW01KDrt4gq74Q7A6"  # pybotters test_ws vector
CREDS = Credentials("okj", "NpuOBinRJMsSKHE38Gbf6MAm", SECRET.encode(), "MyPassphrase123")


def deflate(text: str) -> bytes:
    c = zlib.compressobj(wbits=-15)
    return c.compress(text.encode()) + c.flush()


def test_login_vector() -> None:
    route = ws_route_for(URL)
    assert route is not None
    assert route.api_name == "okj"
    login = build_login(URL, CREDS, now=2085848896.0)
    assert login is not None
    assert login.data == {
        "op": "login",
        "args": [
            "NpuOBinRJMsSKHE38Gbf6MAm",
            "MyPassphrase123",
            "2085848896.0",
            "4G7fREPrFGwpbozBXFDBFaIrJ1ZDeD2n2V36KttTyFs=",
        ],
    }


def test_timestamp_keeps_milliseconds() -> None:
    login = build_login(URL, CREDS, now=1538054050.9751234)
    assert login is not None
    assert login.data["args"][2] == "1538054050.975"  # the docs' example format


@pytest.mark.parametrize(
    ("text", "status", "reason"),
    [
        ('{"event":"login","success":true}', "ok", ""),
        (
            '{"event":"error","message":"Invalid sign","errorCode":30013}',
            "rejected",
            "30013 Invalid sign",
        ),
    ],
)
def test_compressed_login_replies(text: str, status: str, reason: str) -> None:
    reply = classify_login_reply(URL, deflate(text))
    assert reply is not None
    assert (reply.status, reply.reason) == (status, reason)
    plain = classify_login_reply(URL, text)  # a text frame is read as it is
    assert plain == reply


@pytest.mark.parametrize(
    "frame",
    [
        b"\x00\x01garbage",
        b"",
        "pong",
        deflate("pong"),
        deflate('{"table":"spot/ticker","data":[]}'),
        zlib.compress(b'{"event":"login","success":true}'),  # zlib header: not raw deflate
    ],
)
def test_other_frames_are_not_the_reply(frame: str | bytes) -> None:
    assert classify_login_reply(URL, frame) is None


def test_decode_helpers() -> None:
    assert inflate(deflate("héllo")) == "héllo".encode()
    assert decode(deflate("héllo")) == "héllo"
    assert decode("text") == "text"
    assert decode(b"\xff\xfe") is None
    assert decode(deflate("x")[:-1]) is None  # truncated stream
    with pytest.raises(zlib.error):
        inflate(deflate("abc")[:1])


def test_ping_pong() -> None:
    ping = app_ping_for(URL)
    assert ping is not None
    assert ping.interval == 15.0
    assert ping.payload(now=0.0) == "ping"
    assert ping.is_pong(deflate("pong"))
    assert ping.is_pong("pong")
    assert not ping.is_pong(deflate("ping"))
