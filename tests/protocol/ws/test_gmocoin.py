"""GMO Coin: ws-auth token requests (signed by the REST signer) and the private URL."""

from __future__ import annotations

import json

import pytest

from botters.protocol import ConfigError, Credentials, sign_request
from botters.protocol._ws import WsTokenError, app_ping_for, build_login, ws_route_for
from botters.protocol.exchanges.gmocoin._ws import (
    create_token_request,
    delete_token_request,
    extend_token_request,
    parse_token,
    private_url,
)

APIS = {"gmocoin": ["gmo-key", "gmo-test-secret"]}


def test_create_extend_delete_requests(known_secrets: dict[str, str]) -> None:
    known_secrets["gmo-test-secret"] = "test_gmocoin:secret"
    create = create_token_request()
    assert (create.method, create.url, create.body) == (
        "POST",
        "https://api.coin.z.com/private/v1/ws-auth",
        b"{}",
    )
    extend = extend_token_request("tok")
    assert extend.method == "PUT"
    assert json.loads(extend.body) == {"token": "tok"}
    delete = delete_token_request("tok")
    assert delete.method == "DELETE"
    assert json.loads(delete.body) == {"token": "tok"}
    for request in (create, extend, delete):
        assert request.headers["content-type"] == "application/json"
        signed = sign_request(request, APIS, now=1700000000.0)
        assert {"API-KEY", "API-TIMESTAMP", "API-SIGN"} <= set(signed.headers)


def test_parse_token_and_private_url() -> None:
    token = parse_token({"status": 0, "data": "xxxxxxxxxxxxxxxxxxxx", "responsetime": "t"})
    url = private_url(token)
    assert url == "wss://api.coin.z.com/ws/private/v1/xxxxxxxxxxxxxxxxxxxx"
    route = ws_route_for(url)
    assert route is not None
    assert route.exchange == "gmocoin"
    assert build_login(url, Credentials("gmocoin", "k", b"s"), now=0.0) is None
    assert app_ping_for(url) is None
    assert private_url("a/b?c") == "wss://api.coin.z.com/ws/private/v1/a%2Fb%3Fc"


@pytest.mark.parametrize(
    "response",
    [
        {"status": 5, "messages": [{"message_code": "ERR-5201", "message_string": "MAINTENANCE"}]},
        {"status": 0, "data": ""},
        {"status": 0},
        "nope",
    ],
)
def test_bad_token_answers(response: object) -> None:
    with pytest.raises(WsTokenError):
        parse_token(response)  # type: ignore[arg-type]


def test_empty_token_is_misuse() -> None:
    with pytest.raises(ConfigError):
        private_url("")
    with pytest.raises(ConfigError):
        extend_token_request("")
