"""MEXC signers: spot v3 (Binance-like) and contract / open-api v2 (sorted params)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters.protocol import Credentials, Request, body_format_for, route_for, sign_request
from botters.protocol.exchanges import mexc

# pybotters' tests/test_auth.py and its frozen clock.
KEY = "0uVJRVNmR2ZHiCXtf6yEwrwy"
SECRET = "39aw3fMqFhHsuhbkQ0wa8JzuUgodvbTVl9tZblpSKFnB9Qh3"
APIS = {"mexc": [KEY, SECRET]}
NOW = 2085848896.0
CREDS = Credentials("mexc", KEY, SECRET.encode())
# https://mexcdevelop.github.io/apidocs/spot_v3_en/#signed
DOC_APIS = {"mexc": ["mx0aBYs33eIilxBWC5", "45d0b3c26f2644f19bfb98b07741b2f5"]}


def _hex(text: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


# -- spot v3 -------------------------------------------------------------------


def test_v3_get_without_params_gets_timestamp_and_signature_only() -> None:
    request = Request.build("GET", "https://api.mexc.com/api/v3/account")
    signed = sign_request(request, APIS, now=NOW)
    assert signed.url == (
        "https://api.mexc.com/api/v3/account?timestamp=2085848896000"
        "&signature=bea4958a74f3d56f984e7fafd012cb2474813ff98d857b9e75d5eb46e4bcc5bc"
    )
    # No body and no Content-Type on a GET (pybotters quirk §8.2 fixed).
    assert signed.body == b""
    assert dict(signed.headers) == {"X-MEXC-APIKEY": KEY}


def test_v3_get_with_params() -> None:
    request = Request.build(
        "GET", "https://api.mexc.com/api/v3/openOrders", params={"symbol": "BTCUSDT"}
    )
    signed = sign_request(request, APIS, now=NOW)
    assert signed.query == (
        "symbol=BTCUSDT&timestamp=2085848896000"
        "&signature=1923150018f1270770e4fcbb9d4362930eea069a2bdff8d14df6a8b4ad95460f"
    )


def test_v3_post_form_body_is_labelled_as_a_form() -> None:
    data = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quoteOrderQty": "5"}
    request = Request.build("POST", "https://api.mexc.com/api/v3/order", data=data)
    signed = sign_request(request, APIS, now=NOW)
    assert signed.query == (
        "timestamp=2085848896000"
        "&signature=692fc141d6a0bb9abc90714e253369b715b74c115358d9cbf6f450bdde688fdd"
    )
    assert signed.body == b"symbol=BTCUSDT&side=BUY&type=MARKET&quoteOrderQty=5"
    # pybotters sent these bytes labelled application/json (quirk §8.3).
    assert signed.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert signed.headers["X-MEXC-APIKEY"] == KEY


def test_v3_docs_example_3_mixed_query_and_body() -> None:
    request = Request.build(
        "POST",
        "https://api.mexc.com/api/v3/order",
        params={"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT"},
        data={"quantity": 1, "price": 11, "recvWindow": 5000, "timestamp": 1644489390087},
    )
    signed = sign_request(request, DOC_APIS, now=0.0)
    assert signed.query == (
        "symbol=BTCUSDT&side=BUY&type=LIMIT"
        "&signature=d1a676610ceb39174c8039b3f548357994b2a34139a8addd33baadba65684592"
    )


def test_v3_docs_example_2_caller_timestamp_is_kept() -> None:
    params = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": 1,
        "price": 11,
        "recvWindow": 5000,
        "timestamp": 1644489390087,
    }
    request = Request.build("POST", "https://api.mexc.com/api/v3/order", params=params)
    signed = sign_request(request, DOC_APIS, now=NOW)
    assert signed.query == (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=11&recvWindow=5000"
        "&timestamp=1644489390087"
        "&signature=fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"
    )


@given(
    params=st.dictionaries(
        st.sampled_from(["symbol", "side", "type", "quantity", "price", "newClientOrderId"]),
        st.text(st.characters(codec="utf-8", exclude_characters="\x00")),
        max_size=4,
    ),
    now=st.floats(min_value=1e9, max_value=4e9),
)
def test_v3_signature_covers_query_then_timestamp(params: dict[str, str], now: float) -> None:
    request = Request.build("DELETE", "https://api.mexc.com/api/v3/order", params=params)
    signed = mexc.sign(request, CREDS, now=now, nonce=None)
    head, _, signature = signed.query.rpartition("&signature=")
    stamp = f"timestamp={round(now * 1000)}"
    assert head == (f"{request.query}&{stamp}" if request.query else stamp)
    assert signature == _hex(head)


# -- contract / open-api v2 -------------------------------------------------


def test_contract_get_vector_with_params_in_user_order() -> None:
    # The URL keeps the caller's order; only the signed text is sorted.
    request = Request.build(
        "GET",
        "https://www.mexc.com/open/api/v2/order/open_orders",
        params={"symbol": "BTC_USDT", "page_num": 1},
    )
    signed = sign_request(request, APIS, now=NOW)
    assert signed.query == "symbol=BTC_USDT&page_num=1"
    assert signed.body == b""
    assert dict(signed.headers) == {
        "ApiKey": KEY,
        "Request-Time": "2085848896000",
        "Signature": "ce019ef241a13e8c41abca7daf029f3cbe0a0c89b115ed2f091d1937a209ca0a",
        "Content-Type": "application/json",
    }


def test_contract_post_vector() -> None:
    data = {
        "symbol": "BTC_USDT",
        "price": "40000.0",
        "quantity": "1",
        "trade_type": "ASK",
        "order_type": "LIMIT_ORDER",
    }
    request = Request.build("POST", "https://www.mexc.com/open/api/v2/order/place", data=data)
    signed = sign_request(request, APIS, now=NOW)
    assert signed.headers["Signature"] == (
        "d2a4b3fa386a6d4b96a00a7fafa5be223584cd6f511848330ca6615e67d0a994"
    )
    assert signed.headers["Content-Type"] == "application/json"
    assert signed.body == request.body


def test_contract_batch_values_are_url_encoded_when_signed() -> None:
    # MEXC: "if parameter values contain commas or other special characters, these
    # must be URL-encoded during signing"; its Java sample encodes a space as %20.
    request = Request.build(
        "GET",
        "https://contract.mexc.com/api/v1/private/order/list/open_orders",
        params={"symbols": "BTC_USDT,ETH_USDT", "note": "a b", "page_size": 20},
    )
    signed = mexc.sign_contract(request, CREDS, now=NOW, nonce=None)
    assert signed.query == "symbols=BTC_USDT,ETH_USDT&note=a+b&page_size=20"
    text = f"{KEY}2085848896000note=a%20b&page_size=20&symbols=BTC_USDT%2CETH_USDT"
    assert signed.headers["Signature"] == _hex(text)


def test_contract_delete_signs_sorted_query_and_put_signs_the_body() -> None:
    delete = Request.build(
        "DELETE", "https://contract.mexc.com/api/v1/private/x", params={"b": "2", "a": "1"}
    )
    signed = mexc.sign_contract(delete, CREDS, now=NOW, nonce=None)
    assert signed.headers["Signature"] == _hex(f"{KEY}2085848896000a=1&b=2")
    put = Request.build(
        "PUT", "https://contract.mexc.com/api/v1/private/x?z=1", data={"positionId": 1}
    )
    signed = mexc.sign_contract(put, CREDS, now=NOW, nonce=None)
    assert signed.headers["Signature"] == _hex(f'{KEY}2085848896000{{"positionId": 1}}')


def test_contract_without_params_signs_key_and_time_only() -> None:
    request = Request.build("GET", "https://contract.mexc.com/api/v1/private/account/assets")
    signed = mexc.sign_contract(request, CREDS, now=NOW, nonce=None)
    assert signed.headers["Signature"] == _hex(f"{KEY}2085848896000")


def test_contract_keeps_a_content_type_the_caller_chose() -> None:
    request = Request.build(
        "POST", "https://contract.mexc.com/api/v1/private/x", data={"a": 1}, body_format="form"
    )
    signed = mexc.sign_contract(request, CREDS, now=NOW, nonce=None)
    assert signed.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert signed.headers["Signature"] == _hex(f"{KEY}2085848896000a=1")


@given(
    pairs=st.lists(
        st.tuples(
            st.text("abcdefghij_", min_size=1, max_size=6),
            st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8),
        ),
        unique_by=lambda pair: pair[0],
        max_size=6,
    ),
    data=st.data(),
)
def test_contract_signature_ignores_parameter_order(
    pairs: list[tuple[str, str]], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(pairs))
    first = Request.build("GET", "https://contract.mexc.com/api/v1/private/x", params=pairs)
    second = Request.build("GET", "https://contract.mexc.com/api/v1/private/x", params=shuffled)
    sig1 = mexc.sign_contract(first, CREDS, now=NOW, nonce=None).headers["Signature"]
    sig2 = mexc.sign_contract(second, CREDS, now=NOW, nonce=None).headers["Signature"]
    assert sig1 == sig2


# -- registry ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "signer", "body_format"),
    [
        ("api.mexc.com", mexc.sign, "form"),
        ("contract.mexc.com", mexc.sign_contract, "json"),
        ("www.mexc.com", mexc.sign_contract, "json"),
    ],
)
def test_hosts(host: str, signer: object, body_format: str) -> None:
    request = Request("GET", f"https://{host}/api/v1/x")
    route = route_for(request)
    assert route is not None
    assert route.name_for(request) == "mexc"
    assert route.signer is signer
    assert body_format_for("https", host) == body_format


@pytest.mark.parametrize(
    "url",
    [
        "http://api.mexc.com/api/v3/account",
        "https://api.mexc.com.evil.example/api/v3/account",
        "https://futures.mexc.com/api/v1/private/x",
        "wss://contract.mexc.com/edge",
    ],
)
def test_other_hosts_are_never_signed(url: str) -> None:
    request = Request("GET", url)
    assert sign_request(request, APIS, now=NOW) is request
