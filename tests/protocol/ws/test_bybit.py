"""Bybit v5 WebSocket: login only off public paths, replies, ping, order-entry header."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters.protocol import Credentials
from botters.protocol._hmac import hmac_hex
from botters.protocol._ws import (
    app_ping_for,
    build_login,
    classify_login_reply,
    sign_outgoing,
    ws_route_for,
)

KEY = "77SQfUG7X33JhYZ3Jswpx5To"
SECRET = "PrYiNnCnP76YzpTLvRtV9O1RBa5ecOXqrOTyXuTADCEXYoEX"  # pybotters test_ws vector
CREDS = Credentials("bybit", KEY, SECRET.encode())
NOW = 2085848896.0


@pytest.mark.parametrize(
    "url",
    [
        "wss://stream.bybit.com/v5/public/spot",
        "wss://stream.bybit.com/v5/public/linear",
        "wss://stream-testnet.bybit.com/v5/public/option",
        "wss://stream.bytick.com/v5/public/inverse",
    ],
)
def test_public_paths_send_no_login(url: str) -> None:
    assert build_login(url, CREDS, now=NOW) is None  # inventory §4.8: "sends nothing"


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("wss://stream.bybit.com/v5/private", "bybit"),
        ("wss://stream.bybit.com/v5/trade", "bybit"),
        ("wss://stream.bytick.com/v5/private?max_active_time=1m", "bybit"),
        ("wss://stream-demo.bybit.com/v5/private", "bybit_demo"),
        ("wss://stream-testnet.bybit.com/v5/trade", "bybit_testnet"),
    ],
)
def test_private_and_trade_paths_log_in(url: str, name: str) -> None:
    route = ws_route_for(url)
    assert route is not None
    assert route.api_name == name
    login = build_login(url, CREDS, now=NOW)
    assert login is not None
    assert login.data == {
        "op": "auth",
        "args": [
            KEY,
            2085848901000,
            "a8bcd91ad5f8efdaefaf4ca6f38e551d739d6b42c2b54c85667fb181ecbc29a4",
        ],
    }


@pytest.mark.parametrize(
    ("frame", "status", "reason"),
    [
        ('{"success":true,"ret_msg":"","op":"auth","conn_id":"c"}', "ok", ""),
        ('{"retCode":0,"retMsg":"OK","op":"auth","connId":"c"}', "ok", ""),
        ('{"success":false,"ret_msg":"Params Error","op":"auth"}', "rejected", "Params Error"),
        ('{"retCode":10004,"retMsg":"invalid sign","op":"auth"}', "rejected", "10004 invalid sign"),
        ('{"retCode":20001,"retMsg":"repeat auth","op":"auth"}', "rejected", "20001 repeat auth"),
    ],
)
def test_login_replies(frame: str, status: str, reason: str) -> None:
    reply = classify_login_reply("wss://stream.bybit.com/v5/private", frame)
    assert reply is not None
    assert (reply.status, reply.reason) == (status, reason)


@pytest.mark.parametrize(
    "frame",
    [
        '{"op":"pong","args":["1675418560633"],"conn_id":"c"}',
        '{"topic":"order","data":[]}',
        '{"op":"subscribe","success":true}',
        '{"op":"auth"}',
        "not json",
        b'{"op":"auth","success":true',
    ],
)
def test_other_frames_are_not_the_login_reply(frame: str | bytes) -> None:
    assert classify_login_reply("wss://stream.bybit.com/v5/private", frame) is None


def test_app_ping() -> None:
    ping = app_ping_for("wss://stream.bybit.com/v5/public/spot")
    assert ping is not None
    assert ping.interval == 20.0
    assert ping.payload(now=NOW) == '{"op":"ping"}'
    assert ping.is_pong('{"success":true,"ret_msg":"pong","conn_id":"c","op":"ping"}')
    assert ping.is_pong('{"req_id":"","op":"pong","args":["1"],"conn_id":"c"}')
    assert not ping.is_pong('{"op":"ping"}')
    assert not ping.is_pong("pong")


TRADE = "wss://stream.bybit.com/v5/trade"
ORDER = {
    "reqId": "r1",
    "header": {"X-BAPI-RECV-WINDOW": "8000", "Referer": "bot"},
    "op": "order.create",
    "args": [{"symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.001"}],
}


def test_trade_header_vector() -> None:
    """Inventory §4.8: the trade stream adds the ms timestamp header, /v5/private nothing."""
    message = {"op": "order.create", "args": [{"symbol": "BTCUSDT"}]}
    signed = sign_outgoing(TRADE, message, CREDS, now=NOW)
    assert signed == {**message, "header": {"X-BAPI-TIMESTAMP": "2085848896000"}}
    assert sign_outgoing("wss://stream.bybit.com/v5/private", message, CREDS, now=NOW) is message


def test_trade_header_is_fresh_and_keeps_user_fields() -> None:
    original = copy.deepcopy(ORDER)
    first = sign_outgoing(TRADE, ORDER, CREDS, now=NOW)
    assert original == ORDER
    assert first["header"] == {
        "X-BAPI-RECV-WINDOW": "8000",
        "Referer": "bot",
        "X-BAPI-TIMESTAMP": "2085848896000",
    }
    again = sign_outgoing(TRADE, first, CREDS, now=NOW + 1.5)
    assert again["header"]["X-BAPI-TIMESTAMP"] == "2085848897500"
    assert first["header"]["X-BAPI-TIMESTAMP"] == "2085848896000"  # not mutated


@pytest.mark.parametrize("op", ["auth", "ping", "pong"])
def test_trade_control_messages_are_untouched(op: str) -> None:
    message: dict[str, Any] = {"op": op}
    assert sign_outgoing(TRADE, message, CREDS, now=NOW) is message


@given(now=st.floats(1e9, 4e9))
def test_login_signature_verifies_independently(now: float) -> None:
    login = build_login("wss://stream.bybit.com/v5/private", CREDS, now=now)
    assert login is not None
    key, expires, signature = login.data["args"]
    assert key == KEY
    assert expires == round(now * 1000) + 5000
    assert signature == hmac_hex(SECRET.encode(), f"GET/realtime{expires}")
