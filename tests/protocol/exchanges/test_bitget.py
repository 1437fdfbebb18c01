"""Bitget signer: published vectors built as users build requests, routing, edges."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters.protocol import Credentials, Headers, Request, route_for, sign_request
from botters.protocol.exchanges import bitget

KEY = "jbcfbye8AJzXxXwMKluXM12t"
SECRET = "mVd40qhnarPtxk3aqg0FCyY1qlTgBOKOXEcmMYfkerGUKmvr"
PASSPHRASE = "MyPassphrase123"
APIS = {"bitget": [KEY, SECRET, PASSPHRASE]}
CREDS = Credentials("bitget", KEY, SECRET.encode(), PASSPHRASE)
NOW = 2085848896.0


def _b64(text: str) -> str:
    digest = hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_get_vector_from_params() -> None:
    request = Request.build(
        "GET",
        "https://api.bitget.com/api/spot/v1/account/assets",
        params={"symbol": "BTCUSDT_SPBL"},
    )
    signed = sign_request(request, APIS, now=NOW)
    assert dict(signed.headers) == {
        "ACCESS-KEY": KEY,
        "ACCESS-SIGN": "OGmz3F0LHbvSri0tCmgDYdxclRnsf29hZ5/qi0IOxGA=",
        "ACCESS-TIMESTAMP": "2085848896000",
        "ACCESS-PASSPHRASE": PASSPHRASE,
        "Content-Type": "application/json",
    }
    assert signed.body == b""


def test_post_vector_from_data() -> None:
    request = Request.build(
        "POST",
        "https://api.bitget.com/api/spot/v1/account/assets/api/spot/v1/trade/fills",
        data={"symbol": "BTCUSDT_SPBL-USDT"},
    )
    signed = sign_request(request, APIS, now=NOW)
    assert signed.headers["ACCESS-SIGN"] == "+EzKoSg9aBmeokTWaboMdWxLQes/K0ZAuaYIYNtKtLw="
    assert signed.body == b'{"symbol": "BTCUSDT_SPBL-USDT"}'


def test_query_is_signed_in_the_order_sent() -> None:
    # Bitget's docs sign "?symbol=BTCUSDT&limit=20" as written, not sorted.
    request = Request.build(
        "GET",
        "https://api.bitget.com/api/mix/v2/market/depth",
        params=[("symbol", "BTCUSDT"), ("limit", "20")],
    )
    signed = bitget.sign(request, CREDS, now=1627366780.5456, nonce=None)
    text = "1627366780546GET/api/mix/v2/market/depth?symbol=BTCUSDT&limit=20"
    assert signed.headers["ACCESS-TIMESTAMP"] == "1627366780546"
    assert signed.headers["ACCESS-SIGN"] == _b64(text)


def test_caller_content_type_is_kept() -> None:
    request = Request(
        "POST", "https://api.bitget.com/x", Headers({"Content-Type": "text/plain"}), b"hi"
    )
    signed = bitget.sign(request, CREDS, now=NOW, nonce=None)
    assert signed.headers["Content-Type"] == "text/plain"
    assert signed.headers["ACCESS-SIGN"] == _b64("2085848896000POST/xhi")


def test_registry() -> None:
    route = route_for(Request("GET", "https://api.bitget.com/api/v2/spot/account/assets"))
    assert route is not None
    assert route.exchange == "bitget"
    assert route.name_for(Request("GET", "https://api.bitget.com/")) == "bitget"
    assert route.body_format == "json"


@pytest.mark.parametrize(
    "url",
    [
        "http://api.bitget.com/api/v2/spot/account/assets",
        "https://api.bitget.com.evil.example/api/v2/spot/account/assets",
        "https://bitget.com/api/v2/spot/account/assets",
        "wss://ws.bitget.com/v2/ws/private",
    ],
)
def test_other_urls_are_not_signed(url: str) -> None:
    request = Request("GET", url)
    assert sign_request(request, APIS, now=NOW) is request


@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
    params=st.dictionaries(st.text(min_size=1, max_size=5), st.text(max_size=8), max_size=3),
    data=st.dictionaries(st.text(max_size=5), st.text(max_size=8), max_size=3),
    millis=st.integers(min_value=0, max_value=4_102_444_800_000),
)
def test_signature_covers_exactly_what_is_sent(
    method: str, params: dict[str, str], data: dict[str, str], millis: int
) -> None:
    request = Request.build(
        method, "https://api.bitget.com/api/v2/x", params=params, data=data or None
    )
    signed = bitget.sign(request, CREDS, now=millis / 1000, nonce=None)
    assert signed.headers["ACCESS-TIMESTAMP"] == str(millis)
    text = f"{millis}{method}{signed.path_qs}{signed.body.decode()}"
    assert signed.headers["ACCESS-SIGN"] == _b64(text)
    assert (signed.url, signed.body) == (request.url, request.body)
