"""Coincheck signer: pybotters vectors built from params/data, caller nonce, URL as sent."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters.protocol import Credentials, Request, body_format_for, route_for, sign_request
from botters.protocol.exchanges import coincheck

# pybotters' tests/test_auth.py and its frozen clock.
KEY = "FASfaGggPBYDtiIHu6XoJgK6"
SECRET = "NNT34iDK8Qr2P6nlAt4XTuw42nQUdqzHaj3337Qlz4i5l4zu"
APIS = {"coincheck": [KEY, SECRET]}
NOW = 2085848896.0
CREDS = Credentials("coincheck", KEY, SECRET.encode())


def _hex(text: str) -> str:
    return hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()


def test_get_vector_from_params() -> None:
    request = Request.build(
        "GET", "https://coincheck.com/api/deposit_money", params={"currency": "BTC"}
    )
    signed = sign_request(request, APIS, now=NOW)
    assert dict(signed.headers) == {
        "ACCESS-KEY": KEY,
        "ACCESS-NONCE": "2085848896000",
        "ACCESS-SIGNATURE": "8c5b1d6bcfb18f031955c33e9134143d3ab39187de7c50c020df446bbdd19b28",
    }
    assert signed.url == request.url
    assert signed.body == b""


def test_post_vector_from_form_data() -> None:
    data = {"pair": "btc_jpy", "order_type": "market_buy", "market_buy_amount": "BUY", "size": 0.01}
    request = Request.build("POST", "https://coincheck.com/api/exchange/orders", data=data)
    signed = sign_request(request, APIS, now=NOW)
    assert signed.headers["ACCESS-SIGNATURE"] == (
        "e2fb003781e70de254c0bce4f15ebed979175bdfca88c3839dafa17e48df94e0"
    )
    assert signed.body == b"pair=btc_jpy&order_type=market_buy&market_buy_amount=BUY&size=0.01"
    assert signed.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_caller_nonce_is_kept_and_signed() -> None:
    request = Request.build(
        "DELETE", "https://coincheck.com/api/exchange/orders/12345", headers={"ACCESS-NONCE": "42"}
    )
    signed = coincheck.sign(request, CREDS, now=NOW, nonce=None)
    assert signed.headers["ACCESS-NONCE"] == "42"
    assert signed.headers["ACCESS-SIGNATURE"] == _hex(
        "42https://coincheck.com/api/exchange/orders/12345"
    )


def test_signed_url_is_the_url_as_sent() -> None:
    # Host case and the default port are normalised before signing, and a value
    # needing escapes is signed escaped: the exact URL that goes on the wire.
    request = Request.build(
        "GET", "https://CoinCheck.com:443/api/exchange/orders/opens", params={"q": "a b/é"}
    )
    signed = coincheck.sign(request, CREDS, now=NOW, nonce=None)
    assert signed.url == "https://coincheck.com/api/exchange/orders/opens?q=a+b/%C3%A9"
    assert signed.headers["ACCESS-SIGNATURE"] == _hex(f"2085848896000{signed.url}")


@given(now=st.floats(min_value=1e9, max_value=4e9))
def test_nonce_is_rounded_milliseconds(now: float) -> None:
    request = Request.build("GET", "https://coincheck.com/api/accounts/balance")
    signed = coincheck.sign(request, CREDS, now=now, nonce=None)
    nonce = signed.headers["ACCESS-NONCE"]
    assert nonce == str(round(now * 1000))
    assert signed.headers["ACCESS-SIGNATURE"] == _hex(f"{nonce}{request.url}")


def test_registry() -> None:
    request = Request("GET", "https://coincheck.com/api/accounts")
    route = route_for(request)
    assert route is not None
    assert route.name_for(request) == "coincheck"
    assert body_format_for("https", "coincheck.com") == "form"


@pytest.mark.parametrize(
    "url",
    [
        "http://coincheck.com/api/accounts",
        "https://coincheck.com.evil.example/api/accounts",
        "https://api.coincheck.com/api/accounts",
        "wss://ws-api.coincheck.com/",
    ],
)
def test_other_hosts_are_never_signed(url: str) -> None:
    request = Request("GET", url)
    assert sign_request(request, APIS, now=NOW) is request
