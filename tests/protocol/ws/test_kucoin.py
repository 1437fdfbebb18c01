"""KuCoin: bullet request/answer, the URL with token and connectId, server-given ping timing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from botters.protocol import ConfigError, Credentials, sign_request
from botters.protocol._ws import WsTokenError, app_ping_for, build_login, ws_route_for
from botters.protocol.exchanges.kucoin._ws import bullet_request, parse_bullet

TOKEN = (
    "2neAiuYvAU61ZDXANAGAsiL4-iAExhsBXZxftpOeh_55i3Ysy2q2LEsEWU64mdzUOPusi3"
    "4M_wGoSf7iNyEWJ4aBZXpWhrmY9jKtqkdWoFa75w3istPvPtiYB9J6i9GjsxUuhPw3Blrz"
    "azF6ghq4L2Lbh2p1dmvLzAS2k-"
)  # shaped like a real bullet token


def answer(**server: Any) -> dict[str, Any]:
    base = {
        "endpoint": "wss://ws-api-spot.kucoin.com/",
        "encrypt": True,
        "protocol": "websocket",
        "pingInterval": 18000,
        "pingTimeout": 10000,
    }
    return {"code": "200000", "data": {"token": TOKEN, "instanceServers": [{**base, **server}]}}


def test_parse_bullet_builds_the_url_and_timing() -> None:
    bullet = parse_bullet(answer(pingInterval=50000, pingTimeout=12000), connect_id="abc-1")
    assert bullet.url == f"wss://ws-api-spot.kucoin.com/?token={TOKEN}&connectId=abc-1"
    assert (bullet.ping_interval, bullet.ping_timeout) == (50.0, 12.0)
    ping = bullet.app_ping
    assert (ping.interval, ping.timeout) == (50.0, 12.0)  # not pybotters' fixed 15 s
    assert json.loads(ping.payload(now=0.0, nonce="n-1")) == {"id": "n-1", "type": "ping"}
    assert ping.is_pong('{"id":"n-1","type":"pong"}')
    assert not ping.is_pong('{"id":"n-1","type":"welcome"}')
    assert TOKEN not in repr(bullet)
    assert ws_route_for(bullet.url) is not None
    assert build_login(bullet.url, Credentials("kucoin", "k", b"s", "p"), now=0.0) is None


def test_token_and_connect_id_are_percent_encoded() -> None:
    raw = answer()
    raw["data"]["token"] = "a+b/c=="
    bullet = parse_bullet(raw, connect_id="x y&z")
    assert bullet.url.endswith("?token=a%2Bb%2Fc%3D%3D&connectId=x%20y%26z")


def test_endpoint_with_query_gets_an_ampersand() -> None:
    bullet = parse_bullet(
        answer(endpoint="wss://ws-api-futures.kucoin.com/endpoint?x=1"), connect_id="c"
    )
    assert bullet.url == f"wss://ws-api-futures.kucoin.com/endpoint?x=1&token={TOKEN}&connectId=c"


@pytest.mark.parametrize(
    ("response", "match"),
    [
        ({"code": "400003", "msg": "KC-API-KEY not exists"}, "400003"),
        ({"code": "200000"}, "no data"),
        ({"code": "200000", "data": {"instanceServers": []}}, "no token"),
        ({"code": "200000", "data": {"token": TOKEN, "instanceServers": []}}, "no instance"),
        (answer(endpoint="ws://ws-api-spot.kucoin.com/"), "wss"),
        (answer(endpoint=None), "no endpoint"),
        (answer(pingInterval=0), "pingInterval"),
        (answer(pingTimeout="10000"), "pingTimeout"),
        (answer(pingInterval=True), "pingInterval"),
        ([], "not a JSON object"),
    ],
)
def test_bad_answers_are_refused_without_showing_the_token(response: Any, match: str) -> None:
    with pytest.raises(WsTokenError, match=match) as info:
        parse_bullet(response, connect_id="c")
    assert TOKEN not in str(info.value)


def test_connect_id_is_required() -> None:
    with pytest.raises(ConfigError):
        parse_bullet(answer(), connect_id="")


def test_bullet_requests(known_secrets: dict[str, str]) -> None:
    known_secrets["kucoin-test-secret"] = "test_kucoin:secret"
    public = bullet_request(private=False)
    assert (public.method, public.url) == ("POST", "https://api.kucoin.com/api/v1/bullet-public")
    futures = bullet_request(private=True, futures=True)
    assert futures.url == "https://api-futures.kucoin.com/api/v1/bullet-private"
    apis = {"kucoin": ["key", "kucoin-test-secret", "kucoin-pass"]}
    signed = sign_request(bullet_request(private=True), apis, now=1700000000.0)
    assert "KC-API-SIGN" in signed.headers  # the REST signer signs the private request


def test_default_ping_for_known_hosts() -> None:
    ping = app_ping_for("wss://ws-api-spot.kucoin.com/?token=t&connectId=c")
    assert ping is not None
    assert ping.interval == 18.0
