"""BitTrade signer: pybotters' inventory vectors (not in signing.json), canonical query, routing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters.protocol import Credentials, Request, route_for, sign_request
from botters.protocol.exchanges import bittrade

KEY = "e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx"
SECRET = "b0xxxxxx-c6xxxxxx-94xxxxxx-dxxxx"
APIS = {"bittrade": [KEY, SECRET]}
CREDS = Credentials("bittrade", KEY, SECRET.encode())
# pybotters' frozen clock, datetime(2017, 5, 11, 15, 19, 30) read as UTC.
NOW = datetime(2017, 5, 11, 15, 19, 30, tzinfo=UTC).timestamp()
AUTH_QS = (
    f"AccessKeyId={KEY}&SignatureMethod=HmacSHA256&SignatureVersion=2"
    "&Timestamp=2017-05-11T15%3A19%3A30"
)


@pytest.fixture(autouse=True)
def _register_secret(known_secrets: dict[str, str]) -> None:
    known_secrets[SECRET] = "bittrade inventory secret"


def _b64(text: str) -> str:
    digest = hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _signature(request: Request) -> str:
    return dict(parse_qsl(request.query))["Signature"]


def test_get_vector() -> None:
    request = Request.build(
        "GET", "https://api-cloud.bittrade.co.jp/v1/order/orders", params={"order-id": "123456789"}
    )
    signed = sign_request(request, APIS, now=NOW)
    assert _signature(signed) == "qmHOHCJ+e8Psi2VqhdZELGKrhTcvAOaBekVOeFXQMc0="
    assert signed.url == (
        "https://api-cloud.bittrade.co.jp/v1/order/orders?order-id=123456789&"
        f"{AUTH_QS}&Signature=qmHOHCJ%2Be8Psi2VqhdZELGKrhTcvAOaBekVOeFXQMc0%3D"
    )
    assert dict(signed.headers) == {}
    assert signed.body == b""


def test_post_vector_signs_the_query_not_the_body() -> None:
    request = Request.build(
        "POST",
        "https://api-cloud.bittrade.co.jp/v1/order/orders/place",
        data={"order-id": "123456789"},
    )
    signed = sign_request(request, APIS, now=NOW)
    assert _signature(signed) == "/yTARtqPKvYXF9PkmdgkruvfJWSr8umI6HOrNgvs4uk="
    assert signed.url == (
        "https://api-cloud.bittrade.co.jp/v1/order/orders/place?"
        f"{AUTH_QS}&Signature=%2FyTARtqPKvYXF9PkmdgkruvfJWSr8umI6HOrNgvs4uk%3D"
    )
    assert signed.body == b'{"order-id": "123456789"}'
    assert dict(signed.headers) == {"Content-Type": "application/json"}
    other_body = request.with_body(b'{"order-id": "987654321"}')
    assert _signature(bittrade.sign(other_body, CREDS, now=NOW, nonce=None)) == _signature(signed)


def test_canonical_encoding_uses_upper_hex_and_percent_20() -> None:
    request = Request.build(
        "GET",
        "https://api-cloud.bittrade.co.jp/v1/x",
        params={"z": "a b", "client-order-id": "x/y:z~"},
    )
    signed = bittrade.sign(request, CREDS, now=NOW, nonce=None)
    text = f"GET\napi-cloud.bittrade.co.jp\n/v1/x\n{AUTH_QS}&client-order-id=x%2Fy%3Az~&z=a%20b"
    assert _signature(signed) == _b64(text)
    # The caller's part of the query is sent as it was built.
    assert signed.query.startswith(request.query + "&AccessKeyId=")


@given(
    st.lists(
        st.tuples(
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=6),
            st.text(max_size=6),
        ),
        max_size=4,
        unique_by=lambda kv: kv[0],
    ),
    st.randoms(use_true_random=False),
)
def test_parameter_order_does_not_change_the_signature(
    pairs: list[tuple[str, str]], rnd: random.Random
) -> None:
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    url = "https://api-cloud.bittrade.co.jp/v1/order/orders"
    a = bittrade.sign(Request.build("GET", url, params=pairs), CREDS, now=NOW, nonce=None)
    b = bittrade.sign(Request.build("GET", url, params=shuffled), CREDS, now=NOW, nonce=None)
    assert _signature(a) == _signature(b)


def test_signing_again_replaces_the_auth_parameters() -> None:
    request = Request.build(
        "GET", "https://api-cloud.bittrade.co.jp/v1/order/orders", params={"order-id": "1"}
    )
    once = bittrade.sign(request, CREDS, now=NOW, nonce=None)
    twice = bittrade.sign(once, CREDS, now=NOW + 60, nonce=None)
    assert twice == bittrade.sign(request, CREDS, now=NOW + 60, nonce=None)
    assert [k for k, _ in parse_qsl(twice.query)].count("Signature") == 1


def test_registry() -> None:
    request = Request("GET", "https://api-cloud.bittrade.co.jp/v1/account/accounts")
    route = route_for(request)
    assert route is not None
    assert (route.exchange, route.name_for(request), route.body_format) == (
        "bittrade",
        "bittrade",
        "json",
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://api-cloud.bittrade.co.jp/v1/account/accounts",
        "https://api-cloud.bittrade.co.jp.evil.example/v1/account/accounts",
        "https://bittrade.co.jp/v1/account/accounts",
        "wss://api-cloud.bittrade.co.jp/ws/v2",
    ],
)
def test_other_urls_are_not_signed(url: str) -> None:
    request = Request("GET", url)
    assert sign_request(request, APIS, now=NOW) is request
