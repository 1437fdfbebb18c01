"""bitFlyer Realtime API: JSON-RPC auth with the adapter's nonce, and its reply."""

from __future__ import annotations

import pytest

from botters.protocol import ConfigError, Credentials
from botters.protocol._hmac import hmac_hex
from botters.protocol._ws import app_ping_for, build_login, classify_login_reply

URL = "wss://ws.lightstream.bitflyer.com/json-rpc"
SECRET = "AKHZlv3PoAXZ0KXIKIVKOmS4ji3rV7ZIVIJRstwyplaw0FQ4"  # pybotters test_ws vector
CREDS = Credentials("bitflyer", "Pcm1rbtSRqKxTvirZDDOct1k", SECRET.encode())


def test_login_uses_the_given_nonce() -> None:
    a = build_login(URL, CREDS, now=2085848896.0, nonce="a" * 32)
    b = build_login(URL, CREDS, now=2085848896.0, nonce="b" * 32)
    assert a is not None
    assert b is not None
    assert a.data["params"]["nonce"] == "a" * 32
    assert a.data["params"]["signature"] == hmac_hex(SECRET.encode(), "2085848896000" + "a" * 32)
    assert a.data["params"]["signature"] != b.data["params"]["signature"]
    assert a.data["jsonrpc"] == "2.0"
    assert a.data["id"] == "auth"
    assert a.data["method"] == "auth"
    assert isinstance(a.data["params"]["timestamp"], int)


@pytest.mark.parametrize("nonce", ["", "short", "x" * 15, "x" * 256])
def test_unusable_nonce_is_refused(nonce: str) -> None:
    with pytest.raises(ConfigError, match="16 to 255"):
        build_login(URL, CREDS, now=1.0, nonce=nonce)


@pytest.mark.parametrize(
    ("frame", "status", "reason"),
    [
        ('{"jsonrpc":"2.0","id":"auth","result":true}', "ok", ""),
        (
            '{"jsonrpc":"2.0","id":"auth","error":{"code":-32600,"message":"invalid signature"}}',
            "rejected",
            "-32600 invalid signature",
        ),
        ('{"jsonrpc":"2.0","id":"auth","result":false}', "rejected", "result was false"),
    ],
)
def test_login_replies(frame: str, status: str, reason: str) -> None:
    reply = classify_login_reply(URL, frame)
    assert reply is not None
    assert (reply.status, reply.reason) == (status, reason)


@pytest.mark.parametrize(
    "frame",
    [
        '{"jsonrpc":"2.0","method":"channelMessage","params":{"channel":"x","message":{}}}',
        '{"jsonrpc":"2.0","id":1,"result":true}',
        "garbage",
    ],
)
def test_other_frames_are_not_the_reply(frame: str) -> None:
    assert classify_login_reply(URL, frame) is None


def test_no_app_ping() -> None:
    assert app_ping_for(URL) is None
