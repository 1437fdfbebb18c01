"""bitbank Socket.IO: the client pings on Engine.IO v3, answers the server's pings on v4."""

from __future__ import annotations

from botters.protocol._ws import answer_server_ping, app_ping_for, build_login, ws_route_for
from botters.protocol.exchanges.bitbank._ws import engine_io_version

V3 = "wss://stream.bitbank.cc/socket.io/?EIO=3&transport=websocket"
V4 = "wss://stream.bitbank.cc/socket.io/?EIO=4&transport=websocket"


def test_engine_io_v3_client_pings() -> None:
    ping = app_ping_for(V3)
    assert ping is not None
    assert ping.interval == 15.0
    assert ping.payload(now=0.0) == "2"
    assert ping.is_pong("3")
    assert not ping.is_pong("2")
    assert answer_server_ping(V3, "2") is None  # v3 servers never ping


def test_engine_io_v4_answers_server_pings() -> None:
    assert app_ping_for(V4) is None  # a client "2" is a protocol error in v4
    assert answer_server_ping(V4, "2") == "3"
    for frame in ("3", '42["message",{}]', "40", b"2"):
        assert answer_server_ping(V4, frame) is None


def test_version_defaults_to_4() -> None:
    route = ws_route_for("wss://stream.bitbank.cc/socket.io/")
    assert route is not None
    assert route.exchange == "bitbank"
    assert answer_server_ping("wss://stream.bitbank.cc/socket.io/", "2") == "3"
    from botters.protocol._request import _split_url

    assert engine_io_version(_split_url(V3)) == 3
    assert engine_io_version(_split_url("wss://stream.bitbank.cc/?EIO=x")) == 4


def test_no_login() -> None:
    from botters.protocol import Credentials

    assert build_login(V4, Credentials("bitbank", "k", b"s"), now=0.0) is None
