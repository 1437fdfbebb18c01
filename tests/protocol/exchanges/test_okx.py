"""OKX v5 signer: published vectors built the way users build requests, demo routing, edges."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters.protocol import Credentials, Headers, Request, route_for, sign_request
from botters.protocol.exchanges import okx

KEY = "gYmX9fr0kqqxptUlDKESxetg"
SECRET = "YUJHBdFNrbz7atmV3f261ZhdRffTo4S9KZKC7C7qdqcHbRR4"
PASSPHRASE = "MyPassphrase123"
APIS = {"okx": [KEY, SECRET, PASSPHRASE]}
# pybotters' frozen clock, datetime(2036, 2, 5, 18, 28, 16) read as UTC.
NOW = datetime(2036, 2, 5, 18, 28, 16, tzinfo=UTC).timestamp()


def _b64(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_get_vector_from_params() -> None:
    request = Request.build(
        "GET", "https://www.okx.com/api/v5/account/balance", params={"ccy": "BTC,ETH"}
    )
    signed = sign_request(request, APIS, now=NOW)
    assert signed.url == "https://www.okx.com/api/v5/account/balance?ccy=BTC,ETH"
    assert dict(signed.headers) == {
        "OK-ACCESS-KEY": KEY,
        "OK-ACCESS-SIGN": "fWIucRPbzCxgeO2g9g0nV+FJyX1tr5/LKSypAyiVpQI=",
        "OK-ACCESS-TIMESTAMP": "2036-02-05T18:28:16.000Z",
        "OK-ACCESS-PASSPHRASE": PASSPHRASE,
        "Content-Type": "application/json",
    }
    assert signed.body == b""


def test_post_vector_from_data() -> None:
    data = {
        "instId": "BTC-USDT",
        "tdMode": "cash",
        "clOrdId": "b15",
        "side": "buy",
        "ordType": "limit",
        "px": "2.15",
        "sz": "2",
    }
    request = Request.build("POST", "https://www.okx.com/api/v5/trade/order", data=data)
    signed = sign_request(request, APIS, now=NOW)
    assert signed.headers["OK-ACCESS-SIGN"] == "iIYMZ8i1gUDjJ2RNinu6VGMIuJwbdSFFVe6OYjzlh0Q="
    assert signed.headers["Content-Type"] == "application/json"
    assert signed.body == request.body


def test_timestamp_has_milliseconds_and_signs_them() -> None:
    request = Request.build("GET", "https://www.okx.com/api/v5/account/balance")
    signed = okx.sign(
        request, Credentials("okx", KEY, SECRET.encode(), PASSPHRASE), now=NOW + 0.715, nonce=None
    )
    assert signed.headers["OK-ACCESS-TIMESTAMP"] == "2036-02-05T18:28:16.715Z"
    text = "2036-02-05T18:28:16.715ZGET/api/v5/account/balance"
    assert signed.headers["OK-ACCESS-SIGN"] == _b64(SECRET, text)


def test_caller_content_type_is_kept() -> None:
    # A form body must stay labelled as a form: never relabel it as JSON.
    request = Request.build(
        "POST", "https://www.okx.com/api/v5/x", data={"a": "1"}, body_format="form"
    )
    signed = sign_request(request, APIS, now=NOW)
    assert signed.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert signed.body == b"a=1"


@pytest.mark.parametrize(
    ("host", "name"),
    [("www.okx.com", "okx"), ("aws.okx.com", "okx")],
)
def test_hosts_route_to_okx(host: str, name: str) -> None:
    route = route_for(Request("GET", f"https://{host}/api/v5/account/balance"))
    assert route is not None
    assert route.exchange == "okx"
    assert route.name_for(Request("GET", f"https://{host}/")) == name
    assert route.body_format == "json"


@pytest.mark.parametrize(
    "url",
    [
        "http://www.okx.com/api/v5/account/balance",
        "https://okx.com/api/v5/account/balance",
        "https://www.okx.com.evil.example/api/v5/account/balance",
        "wss://ws.okx.com:8443/ws/v5/private",
    ],
)
def test_other_urls_are_not_signed(url: str) -> None:
    request = Request("GET", url)
    assert sign_request(request, APIS, now=NOW) is request


def test_demo_header_selects_demo_credentials() -> None:
    apis = {"okx": [KEY, SECRET, PASSPHRASE], "okx_demo": ["demo-key", "demo-secret", "demo-pass"]}
    live = Request.build("GET", "https://www.okx.com/api/v5/account/balance")
    demo = Request.build(
        "GET", "https://www.okx.com/api/v5/account/balance", headers={"x-simulated-trading": "1"}
    )
    assert sign_request(live, apis, now=NOW).headers["OK-ACCESS-KEY"] == KEY
    signed_demo = sign_request(demo, apis, now=NOW)
    assert signed_demo.headers["OK-ACCESS-KEY"] == "demo-key"
    assert signed_demo.headers["OK-ACCESS-PASSPHRASE"] == "demo-pass"
    # The caller's header goes out as it was.
    assert signed_demo.headers["x-simulated-trading"] == "1"


def test_demo_request_without_demo_credentials_is_not_signed() -> None:
    # Falling back to live keys would trade real money from a demo bot.
    demo = Request.build(
        "GET", "https://www.okx.com/api/v5/account/balance", headers={"x-simulated-trading": "1"}
    )
    assert sign_request(demo, APIS, now=NOW) is demo


@given(st.text(max_size=5))
def test_only_exactly_1_means_demo(value: str) -> None:
    request = Request("GET", "https://www.okx.com/", Headers({"X-Simulated-Trading": value}))
    assert okx.api_name_for(request) == ("okx_demo" if value == "1" else "okx")


@given(
    path=st.text(alphabet="abcdefghijklmnopqrstuvwxyz/-", min_size=1, max_size=20),
    query=st.dictionaries(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=5),
        st.text(max_size=10),
        max_size=3,
    ),
    body=st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    millis=st.integers(min_value=0, max_value=4_102_444_800_000),
)
def test_signature_covers_exactly_what_is_sent(
    path: str, query: dict[str, str], body: dict[str, int], millis: int
) -> None:
    request = Request.build("POST", f"https://www.okx.com/{path}", params=query, data=body or None)
    signed = okx.sign(
        request, Credentials("okx", KEY, SECRET.encode(), PASSPHRASE), now=millis / 1000, nonce=None
    )
    ts = signed.headers["OK-ACCESS-TIMESTAMP"]
    assert round(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000) == millis
    text = f"{ts}POST{signed.path_qs}{signed.body.decode()}"
    assert signed.headers["OK-ACCESS-SIGN"] == _b64(SECRET, text)
    assert (signed.url, signed.body) == (request.url, request.body)
