"""KuCoin signer: vectors, the un-URL-encoded signing rule, key versions, routing."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters.protocol import Credentials, Headers, Request, route_for, sign_request
from botters.protocol.exchanges import kucoin

KEY = "CYdTygFbGgM1re2J54lU2t83"
SECRET = "r9ugGEq5pJkrBuqs6GYFgHFIgsPr4iAw06awzFByoZPRjTJs"
PASSPHRASE = "MyPassphrase123"
HASHED_PASSPHRASE = "NdCF6AMfsU+m1ywTeSVeBREs7l1veIb487x9csAONO4="
APIS = {"kucoin": [KEY, SECRET, PASSPHRASE]}
CREDS = Credentials("kucoin", KEY, SECRET.encode(), PASSPHRASE)
NOW = 2085848896.0


def _b64(text: str) -> str:
    digest = hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_get_vector() -> None:
    request = Request.build("GET", "https://api-futures.kucoin.com/api/v1/orders")
    signed = sign_request(request, APIS, now=NOW)
    assert dict(signed.headers) == {
        "KC-API-KEY": KEY,
        "KC-API-SIGN": "S3VbT04nwftUSb9URF0s/KeCLJfzgz8FsytZ9gDaxsw=",
        "KC-API-TIMESTAMP": "2085848896000",
        "KC-API-PASSPHRASE": HASHED_PASSPHRASE,
        "KC-API-KEY-VERSION": "2",
    }
    # No body, so no Content-Type (pybotters sent an empty form here).
    assert signed.body == b""
    assert "Content-Type" not in signed.headers


def test_post_vector_from_data() -> None:
    data = {
        "clientOid": "1",
        "symbol": "XBTUSDTM",
        "side": "buy",
        "type": "limit",
        "leverage": "1",
        "price": "19200",
        "size": 1,
    }
    request = Request.build("POST", "https://api-futures.kucoin.com/api/v1/orders", data=data)
    signed = sign_request(request, APIS, now=NOW)
    assert signed.headers["KC-API-SIGN"] == "aoxLuRURO0t1z9hhh9ERbHjVp6bJ1K5bfoU2xHH25Y4="
    assert signed.headers["Content-Type"] == "application/json"


def test_docs_example_is_signed_un_url_encoded() -> None:
    # https://www.kucoin.com/docs-new/authentication: the URL
    # /api/v1/sub/api-key?apiKey=67b3&subName=test&passphrase=abc%21%40%2311
    # is signed as .../api-key?apiKey=67b3&subName=test&passphrase=abc!@#11
    request = Request.build(
        "GET",
        "https://api.kucoin.com/api/v1/sub/api-key",
        params={"apiKey": "67b3", "subName": "test", "passphrase": "abc!@#11"},
    )
    assert request.query == "apiKey=67b3&subName=test&passphrase=abc!@%2311"
    assert kucoin.signed_path(request) == (
        "/api/v1/sub/api-key?apiKey=67b3&subName=test&passphrase=abc!@#11"
    )
    signed = kucoin.sign(request, CREDS, now=NOW, nonce=None)
    text = "2085848896000GET/api/v1/sub/api-key?apiKey=67b3&subName=test&passphrase=abc!@#11"
    assert signed.headers["KC-API-SIGN"] == _b64(text)
    # What goes on the wire stays encoded.
    assert signed.url == request.url


def test_path_is_decoded_too() -> None:
    request = Request("GET", "https://api.kucoin.com/api/v1/a%20b/c%2Fd")
    assert kucoin.signed_path(request) == "/api/v1/a b/c/d"


@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=6), st.text(max_size=8)),
        min_size=1,
        max_size=4,
    )
)
def test_signed_query_is_the_raw_key_value_text(pairs: list[tuple[str, str]]) -> None:
    # KuCoin's own SDK signs f"{key}={value}" joined by "&", unencoded.
    request = Request.build("GET", "https://api.kucoin.com/api/v1/orders", params=pairs)
    raw = "&".join(f"{k}={v}" for k, v in pairs)
    assert kucoin.signed_path(request) == f"/api/v1/orders?{raw}"


@pytest.mark.parametrize(
    ("version", "passphrase"),
    [("1", PASSPHRASE), ("2", HASHED_PASSPHRASE), ("3", HASHED_PASSPHRASE)],
)
def test_caller_key_version_is_honoured(version: str, passphrase: str) -> None:
    request = Request(
        "GET", "https://api.kucoin.com/api/v1/accounts", Headers({"kc-api-key-version": version})
    )
    signed = kucoin.sign(request, CREDS, now=NOW, nonce=None)
    assert signed.headers["KC-API-KEY-VERSION"] == version
    assert signed.headers["KC-API-PASSPHRASE"] == passphrase
    assert signed.headers["KC-API-SIGN"] == _b64("2085848896000GET/api/v1/accounts")
    assert len(signed.headers) == 5  # replaced in place, not added twice


@pytest.mark.parametrize("host", ["api.kucoin.com", "api-futures.kucoin.com"])
def test_registry(host: str) -> None:
    route = route_for(Request("GET", f"https://{host}/api/v1/accounts"))
    assert route is not None
    assert route.exchange == "kucoin"
    assert route.name_for(Request("GET", f"https://{host}/")) == "kucoin"
    assert route.body_format == "json"


@pytest.mark.parametrize(
    "url",
    [
        "http://api.kucoin.com/api/v1/accounts",
        "https://api.kucoin.com.evil.example/api/v1/accounts",
        "https://kucoin.com/api/v1/accounts",
        "wss://ws-api-spot.kucoin.com/",
    ],
)
def test_other_urls_are_not_signed(url: str) -> None:
    request = Request("GET", url)
    assert sign_request(request, APIS, now=NOW) is request
