"""BitMEX signer: REST vectors, the expiry rules, the signed wss handshake, routing."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters.protocol import (
    ConfigError,
    Credentials,
    Headers,
    Request,
    body_format_for,
    route_for,
    sign_request,
)
from botters.protocol.exchanges import bitmex

KEY = "fSvgi9a85yDFx3efr94tmJpH"
SECRET = "1GGUedysKk2s2rMMWRmMe7uAp1mKAbORgR3rUSMe15I70P1A"
APIS = {"bitmex": [KEY, SECRET]}
CREDS = Credentials("bitmex", KEY, SECRET.encode())
DOC_KEY = "LAqUlngMIQkIUjXMUreyu3qn"
DOC_SECRET = "chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO"
NOW = 2085848896.0

VECTORS: dict[str, dict[str, Any]] = {
    v["id"]: v
    for v in json.loads((Path(__file__).parents[2] / "data" / "signing_vectors.json").read_text())
}


def _hex(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def test_get_vector_with_caller_expiry() -> None:
    request = Request.build(
        "GET",
        "https://www.bitmex.com/api/v1/order",
        params={"symbol": "XBTUSD"},
        headers={"api-expires": "2085848901000"},
    )
    signed = sign_request(request, APIS, now=NOW)
    assert dict(signed.headers) == {
        "api-expires": "2085848901000",
        "api-key": KEY,
        "api-signature": "62760c6f7c194d1b3aca1fd80cbf5d75a1adb154c593b6562be7f33b7d29a5dd",
    }


def test_post_vector_sends_a_form_body() -> None:
    request = Request.build(
        "POST",
        "https://www.bitmex.com/api/v1/order",
        data={"symbol": "XBTUSD", "side": "Buy", "orderQty": 100, "ordType": "Market"},
        headers={"api-expires": "2085848901000"},
    )
    assert request.body == b"symbol=XBTUSD&side=Buy&orderQty=100&ordType=Market"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    signed = sign_request(request, APIS, now=NOW)
    assert signed.headers["api-signature"] == (
        "2193e9dbfa05580140238a29822d8d6154b529a42efc4461cf767db56bbe4fc6"
    )


@pytest.mark.parametrize("vector_id", ["bitmex-get-simple", "bitmex-get-query", "bitmex-post-json"])
def test_docs_examples(vector_id: str) -> None:
    # https://www.bitmex.com/app/apiKeysUsage example calculations (expires in seconds).
    i = VECTORS[vector_id]["inputs"]
    url = i["url"] + (f"?{i['query']}" if i["query"] else "")
    request = Request(i["method"], url, Headers({"api-expires": i["expires"]}), i["body"].encode())
    signed = bitmex.sign(
        request, Credentials("bitmex", DOC_KEY, DOC_SECRET.encode()), now=0, nonce=None
    )
    assert signed.headers["api-signature"] == VECTORS[vector_id]["expected"]["signature"]
    assert signed.url == url  # the encoded filter is sent (and signed) as written


def test_default_expiry_is_seconds_five_ahead() -> None:
    request = Request("GET", "https://www.bitmex.com/api/v1/position")
    signed = bitmex.sign(request, CREDS, now=1518064231.6, nonce=None)
    assert signed.headers["api-expires"] == "1518064237"
    assert signed.headers["api-signature"] == _hex(SECRET, "GET/api/v1/position1518064237")


@given(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False))
def test_default_expiry_is_never_in_milliseconds(now: float) -> None:
    signed = bitmex.sign(
        Request("GET", "https://www.bitmex.com/api/v1/x"), CREDS, now=now, nonce=None
    )
    expires = int(signed.headers["api-expires"])
    assert now + 4 <= expires <= now + 6


@pytest.mark.parametrize("bad", ["", "tomorrow", "1.5", "-5", "１２"])
def test_bad_caller_expiry_is_refused(bad: str) -> None:
    request = Request("GET", "https://www.bitmex.com/api/v1/x", Headers({"api-expires": bad}))
    with pytest.raises(ConfigError, match="api-expires"):
        bitmex.sign(request, CREDS, now=NOW, nonce=None)


def test_ws_handshake_vector() -> None:
    # pybotters' test_bitmex_ws: the upgrade GET carries the three headers,
    # signed over "GET/realtime" + expires.
    v = VECTORS["bitmex-ws-header-auth-pybotters"]
    expires = str(v["inputs"]["expires"])
    request = Request("GET", v["inputs"]["url"], Headers({"api-expires": expires}))
    signed = sign_request(request, APIS, now=NOW)
    assert dict(signed.headers) == {
        "api-expires": expires,
        "api-key": KEY,
        "api-signature": v["expected"]["signature"],
    }
    assert signed.url == "wss://www.bitmex.com/realtime"


@pytest.mark.parametrize(
    "url",
    [
        "wss://ws.bitmex.com/realtime",
        "wss://ws.bitmex.com/realtime?subscribe=order,position",
        "wss://www.bitmex.com/realtime",
    ],
)
def test_ws_handshake_signs_get_realtime(url: str) -> None:
    signed = sign_request(Request("GET", url), APIS, now=1518064231.0)
    assert signed.headers["api-expires"] == "1518064236"
    assert signed.headers["api-signature"] == _hex(SECRET, "GET/realtime1518064236")
    assert signed.url == url
    assert signed.body == b""


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://www.bitmex.com/api/v1/order", "bitmex"),
        ("https://testnet.bitmex.com/api/v1/order", "bitmex_testnet"),
        ("wss://ws.bitmex.com/realtime", "bitmex"),
        ("wss://www.bitmex.com/realtime", "bitmex"),
        ("wss://ws.testnet.bitmex.com/realtime", "bitmex_testnet"),
        ("wss://testnet.bitmex.com/realtime", "bitmex_testnet"),
    ],
)
def test_registry(url: str, name: str) -> None:
    request = Request("GET", url)
    route = route_for(request)
    assert route is not None
    assert (route.exchange, route.name_for(request)) == ("bitmex", name)


def test_rest_bodies_are_forms() -> None:
    assert body_format_for("https", "www.bitmex.com") == "form"
    assert body_format_for("https", "testnet.bitmex.com") == "form"


@pytest.mark.parametrize(
    "url",
    [
        "http://www.bitmex.com/api/v1/order",
        "ws://ws.bitmex.com/realtime",
        "https://ws.bitmex.com/realtime",
        "https://bitmex.com/api/v1/order",
        "https://www.bitmex.com.evil.example/api/v1/order",
        "wss://ws.bitmex.com.evil.example/realtime",
    ],
)
def test_other_urls_are_not_signed(url: str) -> None:
    request = Request("GET", url)
    assert sign_request(request, APIS, now=NOW) is request


def test_testnet_never_uses_mainnet_credentials() -> None:
    request = Request("GET", "https://testnet.bitmex.com/api/v1/order")
    assert sign_request(request, APIS, now=NOW) is request
