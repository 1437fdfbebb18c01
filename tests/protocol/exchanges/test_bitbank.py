"""bitbank signer: both timing methods, caller-chosen headers, payload choice per method."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters.protocol import Credentials, Request, body_format_for, route_for, sign_request
from botters.protocol.exchanges import bitbank

# pybotters' tests/test_auth.py and its frozen clock.
KEY = "l5HGaEzIC3KiMqbYwtAl1r48"
SECRET = "6lgYlHSYj31SAU67jCtxn6qh60pZTeekd5iRseYZNzrC2kX5"
APIS = {"bitbank": [KEY, SECRET]}
NOW = 2085848896.0
CREDS = Credentials("bitbank", KEY, SECRET.encode())
# https://github.com/bitbankinc/bitbank-api-docs/blob/master/rest-api.md "Sample" (secret "hoge")
DOC = Credentials("bitbank", "doc-key", b"hoge")
DOC_BODY = '{"pair": "xrp_jpy", "price": "20", "amount": "1","side": "buy", "type": "limit"}'


def _hex(text: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def test_get_vector_from_params() -> None:
    request = Request.build(
        "GET", "https://api.bitbank.cc/v1/user/spot/order", params={"pair": "btc_jpy"}
    )
    signed = sign_request(request, APIS, now=NOW)
    assert dict(signed.headers) == {
        "ACCESS-KEY": KEY,
        "ACCESS-REQUEST-TIME": "2085848896000",
        "ACCESS-SIGNATURE": "87c0358b092b78c4ac8f46bbd447665acbe9c8a136068473d14f8143ac9ac6aa",
    }
    assert signed.body == b""


def test_get_vector_with_time_window() -> None:
    request = Request.build(
        "GET",
        "https://api.bitbank.cc/v1/user/spot/order",
        params={"pair": "btc_jpy"},
        headers={"ACCESS-TIME-WINDOW": "1000"},
    )
    signed = sign_request(request, APIS, now=NOW)
    assert signed.headers["ACCESS-TIME-WINDOW"] == "1000"
    assert signed.headers["ACCESS-SIGNATURE"] == (
        "b01d3c62a7a80fcd6ca46736c9b956c703a7ebedc04d788b9b33b433979e84bd"
    )


def test_post_vector_from_json_data() -> None:
    data = {"pair": "btc_jpy", "amount": "0.01", "side": "buy", "type": "market"}
    request = Request.build("POST", "https://api.bitbank.cc/v1/user/spot/order", data=data)
    signed = sign_request(request, APIS, now=NOW)
    assert signed.headers["ACCESS-SIGNATURE"] == (
        "d3f190a3707dae355edf4cc38252c02d6aa360d8c3b84f2a734f1ac306b88812"
    )
    assert signed.headers["Content-Type"] == "application/json"


def test_docs_nonce_method_when_the_caller_sets_a_nonce() -> None:
    request = Request.build(
        "GET", "https://api.bitbank.cc/v1/user/assets", headers={"ACCESS-NONCE": "1721121776490"}
    )
    signed = bitbank.sign(request, DOC, now=NOW, nonce=None)
    assert signed.headers["ACCESS-SIGNATURE"] == (
        "f957817b95c3af6cf5e2e9dfe1503ea8088f46879d4ab73051467fd7b94f1aba"
    )
    assert signed.headers["ACCESS-NONCE"] == "1721121776490"
    assert "ACCESS-REQUEST-TIME" not in signed.headers


def test_nonce_method_ignores_a_time_window_header() -> None:
    # Without ACCESS-REQUEST-TIME bitbank uses the nonce method, where no window exists.
    request = Request.build(
        "POST",
        "https://api.bitbank.cc/v1/user/spot/order",
        data=DOC_BODY,
        headers={"ACCESS-NONCE": "1721121776490", "ACCESS-TIME-WINDOW": "1000"},
    )
    signed = bitbank.sign(request, DOC, now=NOW, nonce=None)
    assert signed.headers["ACCESS-SIGNATURE"] == (
        "8ef83c2b991765b18c95aade7678471747c06890a23a453c76238345b5c86fb8"
    )


def test_caller_request_time_is_kept_and_wins_over_a_nonce() -> None:
    request = Request.build(
        "POST",
        "https://api.bitbank.cc/v1/user/spot/order",
        data=DOC_BODY,
        headers={
            "ACCESS-REQUEST-TIME": "1721121776490",
            "ACCESS-TIME-WINDOW": "1000",
            "ACCESS-NONCE": "99",
        },
    )
    signed = bitbank.sign(request, DOC, now=NOW, nonce=None)
    assert signed.headers["ACCESS-REQUEST-TIME"] == "1721121776490"
    assert signed.headers["ACCESS-SIGNATURE"] == (
        "7868665738ae3f8a796224e0413c1351ddd7ec2af121db12815c0a5b74b8764c"
    )


@given(
    params=st.dictionaries(
        st.text("abcpair_", min_size=1, max_size=6),
        st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8),
        max_size=4,
    ),
    now=st.floats(min_value=1e9, max_value=4e9),
)
def test_get_signs_path_and_query_as_sent(params: dict[str, str], now: float) -> None:
    request = Request.build(
        "GET", "https://api.bitbank.cc/v1/user/spot/trade_history", params=params
    )
    signed = bitbank.sign(request, CREDS, now=now, nonce=None)
    stamp = str(round(now * 1000))
    assert signed.headers["ACCESS-REQUEST-TIME"] == stamp
    assert signed.headers["ACCESS-SIGNATURE"] == _hex(stamp + request.path_qs)


def test_post_does_not_sign_the_path_or_query() -> None:
    first = Request.build("POST", "https://api.bitbank.cc/v1/user/spot/order", data={"a": 1})
    second = Request.build(
        "POST", "https://api.bitbank.cc/v1/user/spot/cancel_order?x=1", data={"a": 1}
    )
    sig1 = bitbank.sign(first, CREDS, now=NOW, nonce=None).headers["ACCESS-SIGNATURE"]
    sig2 = bitbank.sign(second, CREDS, now=NOW, nonce=None).headers["ACCESS-SIGNATURE"]
    assert sig1 == sig2 == _hex('2085848896000{"a": 1}')


def test_registry() -> None:
    request = Request("GET", "https://api.bitbank.cc/v1/user/assets")
    route = route_for(request)
    assert route is not None
    assert route.name_for(request) == "bitbank"
    assert body_format_for("https", "api.bitbank.cc") == "json"


@pytest.mark.parametrize(
    "url",
    [
        "http://api.bitbank.cc/v1/user/assets",
        "https://public.bitbank.cc/btc_jpy/ticker",
        "https://api.bitbank.cc.evil.example/v1/user/assets",
    ],
)
def test_other_hosts_are_never_signed(url: str) -> None:
    request = Request("GET", url)
    assert sign_request(request, APIS, now=NOW) is request
