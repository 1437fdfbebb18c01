"""GMO Coin signer: pybotters vectors, docs' PUT/DELETE rule, public endpoints, path rule."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters.protocol import Credentials, Request, body_format_for, route_for, sign_request
from botters.protocol.exchanges import gmocoin

# pybotters' tests/test_auth.py and its frozen clock.
KEY = "GnHvwP7d5FbWdZinoI2hKBTR"
SECRET = "jFRfAL7PiFLvYP6rS9u6TmTjTyVI1z21QXgDqxsCdPkMmN6I"
APIS = {"gmocoin": [KEY, SECRET]}
NOW = 2085848896.0
CREDS = Credentials("gmocoin", KEY, SECRET.encode())


def _hex(text: str) -> str:
    return hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()


def test_get_vector_from_params() -> None:
    request = Request.build(
        "GET",
        "https://api.coin.z.com/private/v1/activeOrders",
        params={"symbol": "BTC_JPY", "page": 1, "count": 100},
    )
    signed = sign_request(request, APIS, now=NOW)
    assert dict(signed.headers) == {
        "API-KEY": KEY,
        "API-TIMESTAMP": "2085848896000",
        "API-SIGN": "e6f0c55c381b08f0892daad0c5e27f69050dab787d98e45680802e340849978a",
    }
    assert signed.url == request.url
    assert signed.body == b""


def test_post_vector_from_json_data() -> None:
    data = {"symbol": "BTC_JPY", "side": "BUY", "executionType": "MARKET", "size": 0.01}
    request = Request.build("POST", "https://api.coin.z.com/private/v1/order", data=data)
    signed = sign_request(request, APIS, now=NOW)
    assert signed.headers["API-SIGN"] == (
        "b6e96f0fe71993d29b50dc8a9a0bebe974fb38749e2ee7aed1e4abb845b063bf"
    )
    assert signed.headers["Content-Type"] == "application/json"
    assert signed.body == request.body


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_put_and_delete_send_the_body_but_do_not_sign_it(method: str) -> None:
    # https://api.coin.z.com/docs/en/#ws-auth-put / #ws-auth-delete examples:
    # text = timestamp + method + path, while the JSON {"token": ...} is sent.
    request = Request.build(
        method, "https://api.coin.z.com/private/v1/ws-auth", data={"token": "xxxxxxxx"}
    )
    signed = gmocoin.sign(request, CREDS, now=NOW, nonce=None)
    assert signed.body == b'{"token": "xxxxxxxx"}'
    assert signed.headers["API-SIGN"] == _hex(f"2085848896000{method}/v1/ws-auth")


def test_post_without_data_signs_an_empty_body() -> None:
    request = Request.build("POST", "https://api.coin.z.com/private/v1/ws-auth")
    signed = gmocoin.sign(request, CREDS, now=NOW, nonce=None)
    assert signed.body == b""
    assert "Content-Type" not in signed.headers
    assert signed.headers["API-SIGN"] == _hex("2085848896000POST/v1/ws-auth")


@pytest.mark.parametrize(
    "path", ["/public/v1/ticker", "/public/v1/orderbooks", "/public/v1/status", "/public"]
)
def test_public_endpoints_are_sent_unchanged(path: str) -> None:
    request = Request.build("GET", f"https://api.coin.z.com{path}", params={"symbol": "BTC"})
    assert sign_request(request, APIS, now=NOW) is request


def test_public_prefix_must_be_a_whole_segment() -> None:
    request = Request.build("GET", "https://api.coin.z.com/publicity/v1/x")
    signed = gmocoin.sign(request, CREDS, now=NOW, nonce=None)
    assert signed.headers["API-SIGN"] == _hex("2085848896000GET/v1/x")


@pytest.mark.parametrize(
    ("path", "signed_path"),
    [
        ("/private/v1/order", "/v1/order"),
        ("/private/v1/account/assets", "/v1/account/assets"),
        ("/private/v1/", "/v1/"),
        ("/private", "/"),
        ("/", "/"),
    ],
)
def test_signed_path_drops_the_first_segment(path: str, signed_path: str) -> None:
    request = Request.build("GET", f"https://api.coin.z.com{path}")
    signed = gmocoin.sign(request, CREDS, now=NOW, nonce=None)
    assert signed.headers["API-SIGN"] == _hex(f"2085848896000GET{signed_path}")


@given(
    params=st.dictionaries(
        st.text("abcxyz", min_size=1, max_size=5),
        st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8),
        max_size=4,
    )
)
def test_query_is_never_signed(params: dict[str, str]) -> None:
    request = Request.build("GET", "https://api.coin.z.com/private/v1/orders", params=params)
    signed = gmocoin.sign(request, CREDS, now=NOW, nonce=None)
    assert signed.headers["API-SIGN"] == _hex("2085848896000GET/v1/orders")
    assert signed.url == request.url


def test_registry() -> None:
    request = Request("GET", "https://api.coin.z.com/private/v1/account/margin")
    route = route_for(request)
    assert route is not None
    assert route.name_for(request) == "gmocoin"
    assert body_format_for("https", "api.coin.z.com") == "json"


@pytest.mark.parametrize(
    "url",
    [
        "http://api.coin.z.com/private/v1/account/margin",
        "https://forex-api.coin.z.com/private/v1/account/assets",
        "https://api.coin.z.com.evil.example/private/v1/order",
        "wss://api.coin.z.com/ws/private/v1/token",
    ],
)
def test_other_hosts_are_never_signed(url: str) -> None:
    request = Request("GET", url)
    assert sign_request(request, APIS, now=NOW) is request
