"""Phemex signer: vectors built from params/data, expiry rules, decoded query, routing."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters.protocol import ConfigError, Credentials, Headers, Request, route_for, sign_request
from botters.protocol.exchanges import phemex

KEY = "9kYxQXZ6PrR8h17lsVdDcpnJ"
SECRET = "ZBAUiPBTQOjYgTihYnZMw2HFkTooufRnNY5iuahBPMspRYQJ"
APIS = {"phemex": [KEY, SECRET]}
CREDS = Credentials("phemex", KEY, SECRET.encode())
NOW = 2085848896.0


def _hex(text: str) -> str:
    return hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()


def test_get_vector_from_params() -> None:
    request = Request.build(
        "GET",
        "https://api.phemex.com/orders/activeList",
        params={"ordStatus": ["New", "PartiallyFilled", "Untriggered"], "symbol": "BTCUSD"},
    )
    signed = sign_request(request, APIS, now=NOW)
    assert dict(signed.headers) == {
        "x-phemex-access-token": KEY,
        "x-phemex-request-expiry": "2085848956",
        "x-phemex-request-signature": (
            "abe7afcaaff085715ad26615b315007bdc4590390efcf5267b4317ce832ca6b5"
        ),
    }


def test_post_vector_from_data() -> None:
    data = {
        "symbol": "BTCUSD",
        "clOrdID": "uuid-1573058952273",
        "side": "Sell",
        "priceEp": 93185000,
        "orderQty": 7,
        "ordType": "Limit",
        "reduceOnly": False,
        "timeInForce": "GoodTillCancel",
        "takeProfitEp": 0,
        "stopLossEp": 0,
    }
    request = Request.build("POST", "https://api.phemex.com/orders", data=data)
    signed = sign_request(request, APIS, now=NOW)
    assert signed.headers["x-phemex-request-signature"] == (
        "5a02dc2e10c613256eec342d1833229fa00e5c7f58e522c70fd7ee12613ce7d6"
    )
    assert signed.headers["Content-Type"] == "application/json"


def test_docs_example_1_string_to_sign() -> None:
    # Phemex "Signature Example 1": HMacSha256(/accounts/accountPositions +
    # currency=BTC + 1575735514); the docs print no secret, so check the text.
    request = Request.build(
        "GET", "https://api.phemex.com/accounts/accountPositions", params={"currency": "BTC"}
    )
    signed = phemex.sign(request, CREDS, now=1575735514 - 60, nonce=None)
    assert signed.headers["x-phemex-request-signature"] == _hex(
        "/accounts/accountPositionscurrency=BTC1575735514"
    )


def test_query_is_signed_decoded() -> None:
    request = Request.build(
        "GET", "https://api.phemex.com/x", params={"a": "b c", "t": "1+2", "u": "%"}
    )
    assert request.query == "a=b+c&t=1%2B2&u=%25"
    signed = phemex.sign(request, CREDS, now=NOW, nonce=None)
    assert signed.headers["x-phemex-request-signature"] == _hex("/xa=b c&t=1+2&u=%2085848956")


@given(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False))
def test_default_expiry_is_whole_seconds_plus_60(now: float) -> None:
    request = Request("GET", "https://api.phemex.com/accounts/accountPositions")
    signed = phemex.sign(request, CREDS, now=now, nonce=None)
    assert signed.headers["x-phemex-request-expiry"] == str(int(now) + 60)


def test_caller_expiry_is_honoured() -> None:
    request = Request(
        "GET",
        "https://api.phemex.com/accounts/positions",
        Headers({"X-Phemex-Request-Expiry": "1700000000"}),
    )
    signed = phemex.sign(request, CREDS, now=NOW, nonce=None)
    assert signed.headers["x-phemex-request-expiry"] == "1700000000"
    assert signed.headers["x-phemex-request-signature"] == _hex("/accounts/positions1700000000")
    assert len(signed.headers) == 3


@pytest.mark.parametrize("bad", ["", "soon", "1.5", "-1", "１２"])
def test_bad_caller_expiry_is_refused(bad: str) -> None:
    request = Request("GET", "https://api.phemex.com/x", Headers({"x-phemex-request-expiry": bad}))
    with pytest.raises(ConfigError, match="x-phemex-request-expiry") as info:
        phemex.sign(request, CREDS, now=NOW, nonce=None)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("api.phemex.com", "phemex"),
        ("vapi.phemex.com", "phemex"),
        ("testnet-api.phemex.com", "phemex_testnet"),
    ],
)
def test_registry(host: str, name: str) -> None:
    request = Request("GET", f"https://{host}/accounts/accountPositions")
    route = route_for(request)
    assert route is not None
    assert (route.exchange, route.name_for(request), route.body_format) == ("phemex", name, "json")


def test_testnet_uses_only_testnet_credentials() -> None:
    request = Request("GET", "https://testnet-api.phemex.com/accounts/accountPositions")
    assert sign_request(request, APIS, now=NOW) is request
    signed = sign_request(request, {"phemex_testnet": ["tk", "ts"]}, now=NOW)
    assert signed.headers["x-phemex-access-token"] == "tk"


@pytest.mark.parametrize(
    "url",
    [
        "http://api.phemex.com/orders",
        "https://api.phemex.com.evil.example/orders",
        "https://phemex.com/orders",
        "wss://ws.phemex.com/ws",
    ],
)
def test_other_urls_are_not_signed(url: str) -> None:
    request = Request("GET", url)
    assert sign_request(request, APIS, now=NOW) is request
