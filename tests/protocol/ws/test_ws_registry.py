"""The exact-host WebSocket registry and the properties every route must have.

* Only exact ``wss`` hosts are known: ``ws://``, look-alikes, unknown hosts and
  strings that are not URLs get no route, no login, no ping, no signing.
* A login message never shows the secret, and shows the passphrase only where
  the exchange wants it in clear; its ``repr`` shows neither key nor signature.
* Every route that logs in can also recognise its login reply, and a reply
  classifier never claims frames that are not JSON objects.
"""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botters.protocol import Credentials
from botters.protocol._ws import (
    AppPing,
    LoginReply,
    WsRoute,
    answer_server_ping,
    app_ping_for,
    build_login,
    classify_login_reply,
    registered_ws_hosts,
    resolve_ws,
    sign_outgoing,
    ws_route_for,
)

HOSTS = sorted(registered_ws_hosts())
SECRET = "s3cr3t-ws-registry-secret"
PASSPHRASE = "pass-phrase-ws-registry"
CLEAR_PASSPHRASE = {"okx", "okj", "bitget"}
# One URL per exchange that does log in (public paths are tested per exchange).
LOGIN_PATH = {
    "bybit": "/v5/private",
    "bitflyer": "/json-rpc",
    "okx": "/ws/v5/private",
    "okj": "/ws/v3",
    "bitget": "/v2/ws/private",
    "phemex": "/ws",
    "coincheck": "/",
    "mexc": "/edge",
    "bittrade": "/ws/v2",
}
NONCE = "0123456789abcdef0123456789abcdef"

hostnames = st.from_regex(
    r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?){0,3}", fullmatch=True
)


@pytest.fixture(autouse=True)
def _register(known_secrets: dict[str, str]) -> None:
    known_secrets[SECRET] = "test_ws_registry:secret"
    known_secrets[PASSPHRASE] = "test_ws_registry:passphrase"


def test_hosts_are_many_and_lower_case() -> None:
    assert len(HOSTS) >= 30
    assert all(h == h.lower() and "://" not in h and "/" not in h for h in HOSTS)


@pytest.mark.parametrize("host", HOSTS)
def test_registered_host_is_found_only_over_wss(host: str) -> None:
    route = ws_route_for(f"wss://{host}/some/path")
    assert isinstance(route, WsRoute)
    assert host in route.hosts
    assert ws_route_for(f"wss://{host}:9443/some/path") is route  # the port is ignored
    assert ws_route_for(f"wss://{host.upper()}/x") is route  # hosts are case-insensitive
    for scheme in ("ws", "https", "http"):
        assert ws_route_for(f"{scheme}://{host}/some/path") is None


@pytest.mark.parametrize("host", HOSTS)
def test_look_alikes_are_unknown(host: str) -> None:
    for fake in (
        f"{host}.evil.example",
        f"evil{host}",
        f"evil-{host}",
        f"{host}-evil.example",
        host.replace(".", "-", 1),
        host + ".",
    ):
        assert fake in registered_ws_hosts() or ws_route_for(f"wss://{fake}/p") is None, fake


@given(host=hostnames, path=st.text(string.ascii_letters + "/-_", max_size=20))
def test_random_hosts_are_unknown_unless_registered(host: str, path: str) -> None:
    route = ws_route_for(f"wss://{host}/{path}")
    assert (route is not None) == (host in registered_ws_hosts())
    assert ws_route_for(f"ws://{host}/{path}") is None


@given(st.text(max_size=60))
def test_any_string_is_safe_to_look_up(text: str) -> None:
    creds = Credentials("bybit", "key", SECRET.encode())
    route = ws_route_for(text)
    if route is None:
        assert build_login(text, creds, now=1.0, nonce=NONCE) is None
        assert app_ping_for(text) is None
        assert classify_login_reply(text, '{"op":"auth","success":true}') is None
        assert answer_server_ping(text, "2") is None
        message = {"op": "order.create", "args": []}
        assert sign_outgoing(text, message, creds, now=1.0) is message


@pytest.mark.parametrize("exchange", sorted(LOGIN_PATH))
def test_login_never_leaks_the_secret(exchange: str) -> None:
    host = next(h for h, r in registered_ws_hosts().items() if r.exchange == exchange and r.login)
    url = f"wss://{host}{LOGIN_PATH[exchange]}"
    creds = Credentials(exchange, "the-api-key", SECRET.encode(), PASSPHRASE)
    login = build_login(url, creds, now=2085848896.0, nonce=NONCE)
    assert login is not None
    assert SECRET not in login.text
    assert (PASSPHRASE in login.text) == (exchange in CLEAR_PASSPHRASE)
    assert "the-api-key" in login.text
    shown = repr(login) + str(login)
    for hidden in ("the-api-key", SECRET, PASSPHRASE, "sign"):
        assert hidden not in shown
    assert json.loads(login.text) == login.data


@pytest.mark.parametrize("exchange", sorted(LOGIN_PATH))
def test_login_depends_on_the_clock(exchange: str) -> None:
    host = next(h for h, r in registered_ws_hosts().items() if r.exchange == exchange and r.login)
    url = f"wss://{host}{LOGIN_PATH[exchange]}"
    creds = Credentials(exchange, "k", SECRET.encode(), PASSPHRASE)
    first = build_login(url, creds, now=2085848896.0, nonce=NONCE)
    again = build_login(url, creds, now=2085848896.0, nonce=NONCE)
    later = build_login(url, creds, now=2085848996.0, nonce=NONCE)
    assert first is not None
    assert again is not None
    assert later is not None
    assert first.text == again.text  # pure: same inputs, same message
    assert first.text != later.text  # a reconnect never replays an old login


@pytest.mark.parametrize("host", HOSTS)
def test_routes_that_log_in_recognise_their_reply(host: str) -> None:
    route = registered_ws_hosts()[host]
    if route.login is not None:
        assert route.classify_reply is not None
    for frame in ("pong", "ping", "2", "3", "", "[]", "null", b"\x00\xff", "{", '{"x":1}'):
        assert classify_login_reply(f"wss://{host}/", frame) is None


def test_resolve_ws_needs_credentials_for_the_route() -> None:
    apis = {"okx_demo": ["k", SECRET, PASSPHRASE], "bybit": ["k", SECRET]}
    found = resolve_ws("wss://wspap.okx.com:8443/ws/v5/private", apis)
    assert found is not None
    assert found[0].exchange == "okx"
    assert found[1].name == "okx_demo"
    assert resolve_ws("wss://ws.okx.com:8443/ws/v5/private", apis) is None  # no "okx" entry
    assert resolve_ws("wss://stream.bybit.com/v5/private", apis) is not None
    assert resolve_ws("ws://stream.bybit.com/v5/private", apis) is None
    assert resolve_ws("wss://stream.bybit.com.evil.example/v5/private", apis) is None


def test_login_reply_values() -> None:
    ok = LoginReply.accepted()
    assert ok.ok
    assert ok.status == "ok"
    assert ok.reason == ""
    bad = LoginReply.rejected(None, "", "x" * 500)
    assert not bad.ok
    assert bad.status == "rejected"
    assert len(bad.reason) <= 200
    assert LoginReply.rejected().reason == "no reason given"
    assert LoginReply.rejected({"code": 1, "msg": "a\nb"}).reason == '{"code":1,"msg":"a\\nb"}'


def test_app_ping_payload_and_pong() -> None:
    ping = AppPing(interval=1.5, build=lambda now, nonce: f"{now}:{nonce}")
    assert ping.payload(now=2.0, nonce="n") == "2.0:n"
    assert not ping.is_pong("anything")  # no matcher: the exchange never answers
    assert ping.timeout is None


@settings(max_examples=50)
@given(st.sampled_from(HOSTS), st.text(max_size=30) | st.binary(max_size=30))
def test_classifiers_and_pong_matchers_never_raise(host: str, frame: str | bytes) -> None:
    url = f"wss://{host}/ws/v2?EIO=4"
    classify_login_reply(url, frame)
    answer_server_ping(url, frame)
    ping = app_ping_for(url)
    if ping is not None:
        ping.is_pong(frame)


def test_unknown_host_is_not_looked_up_by_suffix() -> None:
    assert ws_route_for("wss://bybit.com/v5/private") is None
    assert ws_route_for("wss://okx.com/ws/v5/private") is None
    assert ws_route_for("wss://binance.com/ws-api/v3") is None
