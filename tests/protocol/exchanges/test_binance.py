"""Binance signer: docs and pybotters vectors, the endpoint-security table, Ed25519/RSA keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from botters.protocol import (
    Credentials,
    Request,
    SigningError,
    body_format_for,
    route_for,
    sign_request,
)
from botters.protocol.exchanges import binance
from botters.protocol.exchanges.binance import endpoint_security, sign_payload

# pybotters' tests/test_auth.py (binancespot_testnet) and its frozen clock.
PB_KEY = "LyM2qCkPqVaMxWIcRIe08V4s"
PB_SECRET = "34BkmXEjeq5qRIbvKjhODva3XsL2MWd1pAWSq6ZkHDxnaQjh"
PB_NOW = 2085848896.0
# https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security (HMAC)
DOC_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_APIS = {"binance": [DOC_KEY, DOC_SECRET]}

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[2] / "data" / "signing_vectors.json").read_text()
)


def _hex(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def _creds(secret: bytes | str, name: str = "binance") -> Credentials:
    raw = secret.encode() if isinstance(secret, str) else secret
    return Credentials(name, "KEY", raw)


def _split_signature(query: str) -> tuple[str, str]:
    """The query before ``&signature=`` and the (still percent-encoded) signature."""
    head, sep, signature = query.rpartition("signature=")
    assert sep, query
    assert "&" not in signature
    return head.removesuffix("&"), signature


# -- published vectors, built the way users build requests -------------------


def test_pybotters_post_with_params_and_form_data() -> None:
    request = Request.build(
        "POST",
        "https://testnet.binance.vision/api/v3/order/test",
        params={"symbol": "BTCUSDT", "side": "SELL"},
        data={"type": "MARKET", "quantity": "0.001"},
    )
    signed = sign_request(request, {"binancespot_testnet": [PB_KEY, PB_SECRET]}, now=PB_NOW)
    assert signed.url == (
        "https://testnet.binance.vision/api/v3/order/test?symbol=BTCUSDT&side=SELL"
        "&timestamp=2085848896000"
        "&signature=4a538ce375d23684c909cfe01a2f63488080ef05d247156057067ee3c45358bc"
    )
    assert signed.body == b"type=MARKET&quantity=0.001"
    assert dict(signed.headers) == {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-MBX-APIKEY": PB_KEY,
    }


def test_pybotters_user_data_stream_gets_the_key_only() -> None:
    request = Request.build("POST", "https://testnet.binance.vision/api/v3/userDataStream")
    signed = sign_request(request, {"binancespot_testnet": [PB_KEY, PB_SECRET]}, now=PB_NOW)
    assert dict(signed.headers) == {"X-MBX-APIKEY": PB_KEY}
    assert signed.url == request.url
    assert signed.body == b""


def test_pybotters_websocket_handshake_is_untouched() -> None:
    request = Request(
        "GET", "wss://testnet.binance.vision/ws/btcusdt@trade", {"Upgrade": "websocket"}
    )
    signed = sign_request(request, {"binancespot_testnet": [PB_KEY, PB_SECRET]}, now=PB_NOW)
    assert signed is request


def test_docs_example_1_parameters_in_the_body() -> None:
    # The caller's timestamp travels in the body, so none is added to the query.
    body = (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    request = Request.build("POST", "https://api.binance.com/api/v3/order", data=body)
    signed = sign_request(request, DOC_APIS, now=0.0)
    assert signed.query == (
        "signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    )
    assert signed.body == body.encode()


def test_docs_example_3_mixed_query_and_body_has_no_ampersand_between() -> None:
    request = Request.build(
        "POST",
        "https://api.binance.com/api/v3/order",
        params={"symbol": "LTCBTC", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"},
        data={"quantity": 1, "price": 0.1, "recvWindow": 5000, "timestamp": 1499827319559},
    )
    signed = sign_request(request, DOC_APIS, now=0.0)
    assert signed.query == (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
        "&signature=0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
    )


def test_docs_example_2_caller_timestamp_in_query_is_not_duplicated() -> None:
    params = {
        "symbol": "LTCBTC",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": 1,
        "price": 0.1,
        "recvWindow": 5000,
        "timestamp": 1499827319559,
    }
    request = Request.build("POST", "https://api.binance.com/api/v3/order", params=params)
    signed = sign_request(request, DOC_APIS, now=PB_NOW)
    names = [name for name, _ in parse_qsl(signed.query)]
    assert names.count("timestamp") == 1
    assert signed.query.endswith(
        "&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    )


@pytest.mark.parametrize(
    "vector",
    [v for v in VECTORS if v["exchange"] == "binance" and v["kind"] in ("ws_api", "ws_auth")],
    ids=lambda v: v["id"],
)
def test_sign_payload_reproduces_websocket_api_vectors(vector: dict[str, Any]) -> None:
    creds = Credentials("binance", vector["inputs"]["api_key"], vector["inputs"]["secret"].encode())
    assert sign_payload(creds, vector["string_to_sign"]) == vector["expected"]["signature"]


# -- timestamp and signature placement --------------------------------------


def test_timestamp_is_rounded_milliseconds_and_no_recv_window_is_added() -> None:
    request = Request.build("GET", "https://fapi.binance.com/fapi/v2/account")
    signed = binance.sign(request, _creds("s"), now=1700000000.1234, nonce=None)
    head, signature = _split_signature(signed.query)
    assert head == "timestamp=1700000000123"
    assert signature == _hex("s", head)
    assert "recvWindow" not in signed.query


def test_json_looking_body_does_not_hide_a_timestamp() -> None:
    # Only a form body can carry parameters Binance reads; a JSON text cannot.
    request = Request.build("POST", "https://api.binance.com/api/v3/order", data='{"timestamp": 1}')
    signed = binance.sign(request, _creds("s"), now=1.0, nonce=None)
    assert signed.query.startswith("timestamp=1000&signature=")


def test_existing_headers_are_kept() -> None:
    request = Request.build(
        "GET", "https://api.binance.com/api/v3/account", headers={"User-Agent": "bot"}
    )
    signed = binance.sign(request, _creds("s"), now=1.0, nonce=None)
    assert signed.headers["User-Agent"] == "bot"
    assert signed.headers["X-MBX-APIKEY"] == "KEY"


@given(
    params=st.dictionaries(
        st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1).filter(
            lambda k: k not in ("timestamp", "signature")
        ),
        st.text(st.characters(codec="utf-8", exclude_characters="\x00")),
        max_size=5,
    ),
    now=st.floats(min_value=1e9, max_value=4e9),
)
def test_signed_query_is_original_plus_timestamp_plus_signature(
    params: dict[str, str], now: float
) -> None:
    request = Request.build("GET", "https://api.binance.com/api/v3/myTrades", params=params)
    signed = binance.sign(request, _creds("hypothesis-secret"), now=now, nonce=None)
    head, signature = _split_signature(signed.query)
    stamp = f"timestamp={round(now * 1000)}"
    assert head == (f"{request.query}&{stamp}" if request.query else stamp)
    assert signature == _hex("hypothesis-secret", head)
    assert signed.path == request.path
    assert signed.body == request.body


# -- endpoint security table -------------------------------------------------

PUBLIC = [
    ("api.binance.com", "/api/v3/ping"),
    ("api.binance.com", "/api/v3/time"),
    ("api1.binance.com", "/api/v3/exchangeInfo"),
    ("api-gcp.binance.com", "/api/v3/depth"),
    ("api.binance.com", "/api/v3/klines"),
    ("api.binance.com", "/api/v3/uiKlines"),
    ("api.binance.com", "/api/v3/ticker"),
    ("api.binance.com", "/api/v3/ticker/24hr"),
    ("api.binance.com", "/api/v3/ticker/price"),
    ("api.binance.com", "/api/v3/ticker/bookTicker"),
    ("api.binance.com", "/api/v3/ticker/tradingDay"),
    ("api.binance.com", "/api/v3/avgPrice"),
    ("api.binance.com", "/sapi/v1/system/status"),
    ("testnet.binance.vision", "/api/v3/depth"),
    ("fapi.binance.com", "/fapi/v1/premiumIndex"),
    ("fapi.binance.com", "/fapi/v1/fundingRate"),
    ("fapi.binance.com", "/fapi/v2/ticker/price"),
    ("fapi.binance.com", "/futures/data/openInterestHist"),
    ("fapi.binance.com", "/futures/data/takerlongshortRatio"),
    ("testnet.binancefuture.com", "/fapi/v1/depth"),
    ("dapi.binance.com", "/dapi/v1/klines"),
    ("dapi.binance.com", "/futures/data/basis"),
    ("papi.binance.com", "/papi/v1/ping"),
    ("eapi.binance.com", "/eapi/v1/mark"),
]
API_KEY_ONLY = [
    ("POST", "api.binance.com", "/api/v3/userDataStream"),
    ("PUT", "api.binance.com", "/api/v3/userDataStream"),
    ("DELETE", "api.binance.com", "/api/v3/userDataStream"),
    ("POST", "api.binance.com", "/sapi/v1/userDataStream"),
    ("POST", "api.binance.com", "/sapi/v1/userDataStream/isolated"),
    ("POST", "fapi.binance.com", "/fapi/v1/listenKey"),
    ("PUT", "dapi.binance.com", "/dapi/v1/listenKey"),
    ("POST", "papi.binance.com", "/papi/v1/listenKey"),
    ("POST", "eapi.binance.com", "/eapi/v1/listenKey"),
    ("POST", "testnet.binancefuture.com", "/fapi/v1/listenKey"),
    ("GET", "api.binance.com", "/api/v3/historicalTrades"),
    ("GET", "fapi.binance.com", "/fapi/v1/historicalTrades"),
]
SIGNED = [
    ("POST", "api.binance.com", "/api/v3/order"),
    ("POST", "api.binance.com", "/api/v3/order/test"),
    ("GET", "api.binance.com", "/api/v3/account"),
    ("GET", "api.binance.com", "/api/v3/rateLimit/order"),
    ("GET", "api.binance.com", "/sapi/v1/capital/config/getall"),
    ("GET", "api.binance.com", "/sapi/v1/margin/allPairs"),
    ("GET", "fapi.binance.com", "/fapi/v2/account"),
    ("GET", "fapi.binance.com", "/fapi/v1/ticker"),  # not a USDⓈ-M endpoint name
    ("POST", "dapi.binance.com", "/dapi/v1/order"),
    ("POST", "papi.binance.com", "/papi/v1/um/order"),
    ("GET", "eapi.binance.com", "/eapi/v1/account"),
    ("GET", "api.binance.com", "/api/v1/ping"),  # unknown family: signed, as pybotters did
    ("GET", "api.binance.com", "/"),
]


@pytest.mark.parametrize(("host", "path"), PUBLIC)
def test_public_endpoints_are_sent_unchanged(host: str, path: str) -> None:
    assert endpoint_security(path) == "NONE"
    request = Request.build("GET", f"https://{host}{path}", params={"symbol": "BTCUSDT"})
    route = route_for(request)
    assert route is not None
    signed = sign_request(request, {route.name_for(request): ["KEY", "SECRET"]}, now=PB_NOW)
    assert signed is request


@pytest.mark.parametrize(("method", "host", "path"), API_KEY_ONLY)
def test_market_data_and_user_stream_endpoints_get_the_key_only(
    method: str, host: str, path: str
) -> None:
    assert endpoint_security(path) == "API_KEY"
    request = Request.build(method, f"https://{host}{path}", params={"listenKey": "abc"})
    route = route_for(request)
    assert route is not None
    signed = sign_request(request, {route.name_for(request): ["KEY", "SECRET"]}, now=PB_NOW)
    assert dict(signed.headers) == {"X-MBX-APIKEY": "KEY"}
    assert signed.url == request.url
    assert signed.body == b""


@pytest.mark.parametrize(("method", "host", "path"), SIGNED)
def test_private_and_unknown_endpoints_are_signed(method: str, host: str, path: str) -> None:
    assert endpoint_security(path) == "SIGNED"
    request = Request.build(method, f"https://{host}{path}")
    signed = binance.sign(request, _creds("SECRET"), now=PB_NOW, nonce=None)
    head, signature = _split_signature(signed.query)
    assert head == "timestamp=2085848896000"
    assert signature == _hex("SECRET", head)


def test_trailing_slash_and_empty_path() -> None:
    assert endpoint_security("/api/v3/depth/") == "NONE"
    assert endpoint_security("/fapi/v1/listenKey/") == "API_KEY"
    assert endpoint_security("/api/v3/") == "SIGNED"
    assert endpoint_security("/") == "SIGNED"
    # Paths are case-sensitive at Binance; a wrong case is not public.
    assert endpoint_security("/api/v3/Depth") == "SIGNED"


# -- registry ------------------------------------------------------------------

HOSTS = {
    "api.binance.com": "binance",
    "api-gcp.binance.com": "binance",
    "api1.binance.com": "binance",
    "api2.binance.com": "binance",
    "api3.binance.com": "binance",
    "api4.binance.com": "binance",
    "fapi.binance.com": "binance",
    "dapi.binance.com": "binance",
    "papi.binance.com": "binance",
    "eapi.binance.com": "binance",
    "testnet.binance.vision": "binancespot_testnet",
    "testnet.binancefuture.com": "binancefuture_testnet",
}


@pytest.mark.parametrize(("host", "name"), HOSTS.items())
def test_hosts_map_to_api_names(host: str, name: str) -> None:
    request = Request("GET", f"https://{host}/api/v3/account")
    route = route_for(request)
    assert route is not None
    assert route.exchange == "binance"
    assert route.name_for(request) == name
    assert body_format_for("https", host) == "form"


@pytest.mark.parametrize(
    "url",
    [
        "http://api.binance.com/api/v3/account",
        "https://api.binance.com.evil.example/api/v3/account",
        "https://evilapi.binance.com/api/v3/account",
        "https://data-api.binance.vision/api/v3/depth",
        "wss://stream.binance.com:9443/ws/btcusdt@trade",
    ],
)
def test_other_hosts_and_schemes_are_never_signed(url: str) -> None:
    request = Request("GET", url)
    assert sign_request(request, {"binance": ["KEY", "SECRET"]}, now=PB_NOW) is request


def test_testnet_credentials_are_not_mixed_up() -> None:
    request = Request.build("GET", "https://testnet.binancefuture.com/fapi/v2/account")
    # Only mainnet credentials: the testnet request goes out unsigned.
    assert sign_request(request, {"binance": ["KEY", "SECRET"]}, now=PB_NOW) is request


# -- Ed25519 and RSA keys ------------------------------------------------------

# RFC 8032 section 7.1, TEST 1 (empty message).
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
    "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def _pem(key: Any, fmt: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8) -> bytes:
    pem: bytes = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
    return pem


@pytest.fixture(scope="module")
def ed25519_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def registered(known_secrets: dict[str, str]) -> dict[str, str]:
    return known_secrets


def _body_line(pem: bytes) -> str:
    """A line of the PEM's base64 body: what a leak would contain."""
    return pem.decode().splitlines()[1]


def test_rfc8032_test_1_through_sign_payload() -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)
    creds = _creds(_pem(key))
    assert sign_payload(creds, "") == base64.b64encode(RFC8032_SIGNATURE).decode()


def test_ed25519_rest_signature_verifies_and_is_url_encoded(
    ed25519_key: ed25519.Ed25519PrivateKey, registered: dict[str, str]
) -> None:
    pem = _pem(ed25519_key)
    registered[_body_line(pem)] = "test ed25519 key"
    creds = _creds(pem)
    request = Request.build(
        "POST",
        "https://api.binance.com/api/v3/order",
        params={"symbol": "BTCUSDT", "side": "BUY"},
        data={"type": "MARKET", "quantity": "1"},
    )
    signed = binance.sign(request, creds, now=PB_NOW, nonce=None)
    head, encoded = _split_signature(signed.query)
    assert head == "symbol=BTCUSDT&side=BUY&timestamp=2085848896000"
    assert not set("+/=") & set(encoded)
    assert encoded.endswith("%3D%3D")  # 64 bytes of base64 end in "==", percent-encoded
    raw = base64.b64decode(unquote(encoded), validate=True)
    assert len(raw) == 64
    ed25519_key.public_key().verify(raw, head.encode() + request.body)  # raises if wrong
    # Deterministic, and the parsed key is cached on the credentials.
    assert binance.sign(request, creds, now=PB_NOW, nonce=None) == signed
    assert creds._private_key is not None
    cached = creds._private_key
    binance.sign(request, creds, now=PB_NOW + 1, nonce=None)
    assert creds._private_key is cached


@pytest.mark.parametrize(
    "fmt", [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL]
)
def test_rsa_rest_signature_verifies(
    rsa_key: rsa.RSAPrivateKey, fmt: serialization.PrivateFormat, registered: dict[str, str]
) -> None:
    pem = _pem(rsa_key, fmt)
    registered[_body_line(pem)] = "test rsa key"
    creds = _creds(pem)
    request = Request.build("GET", "https://fapi.binance.com/fapi/v2/account")
    signed = binance.sign(request, creds, now=PB_NOW, nonce=None)
    head, encoded = _split_signature(signed.query)
    raw = base64.b64decode(unquote(encoded), validate=True)
    rsa_key.public_key().verify(raw, head.encode(), padding.PKCS1v15(), hashes.SHA256())
    assert binance.sign(request, creds, now=PB_NOW, nonce=None) == signed


def test_sign_payload_with_rsa_is_plain_base64(rsa_key: rsa.RSAPrivateKey) -> None:
    creds = _creds(_pem(rsa_key))
    text = "apiKey=k&symbol=１２３&timestamp=1"  # WS-API payloads are raw UTF-8
    signature = sign_payload(creds, text)
    rsa_key.public_key().verify(
        base64.b64decode(signature, validate=True),
        text.encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


def test_public_and_key_only_paths_never_load_the_pem() -> None:
    # A public or listenKey call must not even try to load the key.
    creds = _creds(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    public = Request.build("GET", "https://api.binance.com/api/v3/depth")
    listen = Request.build("POST", "https://api.binance.com/api/v3/userDataStream")
    assert binance.sign(public, creds, now=PB_NOW, nonce=None) is public
    assert dict(binance.sign(listen, creds, now=PB_NOW, nonce=None).headers) == {
        "X-MBX-APIKEY": "KEY"
    }
    assert creds._private_key is None


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc)


def _signing_error(creds: Credentials) -> SigningError:
    request = Request.build("GET", "https://api.binance.com/api/v3/account")
    with pytest.raises(SigningError) as info:
        binance.sign(request, creds, now=PB_NOW, nonce=None)
    return info.value


def test_missing_cryptography_says_how_to_install_and_hides_the_key(
    ed25519_key: ed25519.Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    pem = _pem(ed25519_key)
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.serialization", None)
    exc = _signing_error(_creds(pem))
    text = _error_text(exc)
    assert "botters[crypto]" in str(exc)
    assert _body_line(pem) not in text
    assert "PRIVATE KEY-----" not in text


def test_garbage_pem_is_a_signing_error_without_the_secret() -> None:
    secret = (
        b"-----BEGIN PRIVATE KEY-----\nc3VwZXItc2VjcmV0LW1hdGVyaWFs\n-----END PRIVATE KEY-----\n"
    )
    exc = _signing_error(_creds(secret))
    text = _error_text(exc)
    assert "c3VwZXItc2VjcmV0LW1hdGVyaWFs" not in text
    assert "binance" in str(exc)


def test_encrypted_pem_is_refused(ed25519_key: ed25519.Ed25519PrivateKey) -> None:
    pem = ed25519_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass-phrase"),
    )
    exc = _signing_error(_creds(pem))
    assert "encrypted" in str(exc)
    assert _body_line(pem) not in _error_text(exc)


def test_unsupported_key_type_is_refused() -> None:
    pem = _pem(ec.generate_private_key(ec.SECP256R1()))
    exc = _signing_error(_creds(pem))
    assert "Ed25519 or RSA" in str(exc)
    assert _body_line(pem) not in _error_text(exc)
