"""Binance WebSocket API signing: on a copy, per security type, fresh on every call."""

from __future__ import annotations

import copy
import hashlib
import hmac
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters.protocol import Credentials
from botters.protocol._ws import app_ping_for, build_login, sign_outgoing, ws_route_for
from botters.protocol.exchanges.binance._ws import session_logon, signature_payload

KEY = "9qm1u2s4GoHt9ryIm1D2fHV8"
SECRET = "7pDOQJ49zyyDjrNGAvB31RcnAada8nkxkl2IWKop6b0E3tXh"  # pybotters test_ws vector
CREDS = Credentials("binance", KEY, SECRET.encode())
URL = "wss://ws-api.binance.com:443/ws-api/v3"
NOW = 2085848896.0


def expected_signature(params: dict[str, Any]) -> str:
    """Binance's rule, written independently: sorted k=v of the JSON values, no encoding."""
    pairs = []
    for k in sorted(params):
        if k == "signature":
            continue
        v = params[k]
        text = (
            v
            if isinstance(v, str)
            else ("true" if v is True else "false" if v is False else str(v))
        )
        pairs.append(f"{k}={text}")
    return hmac.new(SECRET.encode(), "&".join(pairs).encode(), hashlib.sha256).hexdigest()


ORDER = {
    "id": "c1",
    "method": "order.place",
    "params": {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "price": "23416.10000000",
        "quantity": "0.00847000",
    },
}


def test_order_place_matches_the_pybotters_vector() -> None:
    signed = sign_outgoing(URL, ORDER, CREDS, now=NOW)
    assert signed["params"]["signature"] == (
        "c119b5309bb35cf7a72d34812dbcd3895f4ce9bdda06001b7bb3a50a43fc74d6"
    )
    assert signed["params"]["timestamp"] == 2085848896000
    assert signed["params"]["apiKey"] == KEY
    assert signed["id"] == "c1"
    assert signed["method"] == "order.place"


def test_signing_never_mutates_and_resigning_is_fresh() -> None:
    original = copy.deepcopy(ORDER)
    first = sign_outgoing(URL, ORDER, CREDS, now=NOW)
    assert original == ORDER  # the caller's message and params are untouched
    assert first is not ORDER
    assert first["params"] is not ORDER["params"]
    # A reconnect re-signs the already signed message: pybotters put the stale
    # signature into the new payload (quirk 8.8); botters must not.
    again = sign_outgoing(URL, first, CREDS, now=NOW + 30)
    assert first == sign_outgoing(URL, ORDER, CREDS, now=NOW)  # first not mutated either
    assert again["params"]["timestamp"] == 2085848926000
    assert again["params"]["signature"] == expected_signature(again["params"])
    assert again == sign_outgoing(URL, ORDER, CREDS, now=NOW + 30)


scalars = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.integers(-(10**12), 10**12),
    st.booleans(),
)
names = st.text(st.characters(min_codepoint=48, max_codepoint=122), min_size=1, max_size=10)


@given(params=st.dictionaries(names, scalars, max_size=6), now=st.floats(1e9, 4e9))
def test_any_signed_request_verifies_independently(params: dict[str, Any], now: float) -> None:
    message = {"method": "account.status", "params": params}
    snapshot = copy.deepcopy(message)
    signed = sign_outgoing(URL, message, CREDS, now=now)
    assert message == snapshot
    out = signed["params"]
    assert out["apiKey"] == KEY
    assert out["timestamp"] == round(now * 1000)
    assert out["signature"] == expected_signature(out)
    kept = {k: v for k, v in params.items() if k not in ("apiKey", "timestamp", "signature")}
    assert {k: out[k] for k in kept} == kept
    # Signing the signed output again at the same instant changes nothing.
    assert sign_outgoing(URL, signed, CREDS, now=now) == signed


def test_public_methods_and_non_requests_are_untouched() -> None:
    for message in (
        {"method": "ping"},
        {"id": 1, "method": "depth", "params": {"symbol": "BTCUSDT"}},
        {"method": "session.status"},
        {"method": "userDataStream.subscribe"},
        {"params": {"x": 1}},
        {"method": 42},
    ):
        assert sign_outgoing(URL, message, CREDS, now=NOW) is message


def test_api_key_only_methods_get_the_key_and_no_signature() -> None:
    message = {"method": "userDataStream.ping", "params": {"listenKey": "abc"}}
    signed = sign_outgoing(URL, message, CREDS, now=NOW)
    assert signed["params"] == {"listenKey": "abc", "apiKey": KEY}
    assert message["params"] == {"listenKey": "abc"}


def test_stream_paths_and_stream_hosts_are_never_signed() -> None:
    message = {"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 1}
    for url in (
        "wss://testnet.binance.vision/ws",
        "wss://testnet.binance.vision/stream?streams=btcusdt@trade",
        "wss://stream.binance.com:9443/ws",
        "wss://fstream.binance.com/ws",
    ):
        assert sign_outgoing(url, message, CREDS, now=NOW) is message


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("wss://ws-api.binance.com/ws-api/v3", "binance"),
        ("wss://ws-fapi.binance.com/ws-fapi/v1", "binance"),
        ("wss://ws-dapi.binance.com/ws-dapi/v1", "binance"),
        ("wss://testnet.binance.vision/ws-api/v3", "binancespot_testnet"),
        ("wss://ws-api.testnet.binance.vision/ws-api/v3", "binancespot_testnet"),
        ("wss://testnet.binancefuture.com/ws-fapi/v1", "binancefuture_testnet"),
    ],
)
def test_ws_api_hosts_sign_with_their_api_name(url: str, name: str) -> None:
    route = ws_route_for(url)
    assert route is not None
    assert route.api_name == name
    signed = sign_outgoing(
        url, {"method": "order.status", "params": {"symbol": "X"}}, CREDS, now=NOW
    )
    assert signed["params"]["signature"] == expected_signature(signed["params"])


def test_no_automatic_login_and_no_app_ping() -> None:
    """Decisions: no session.logon by itself (Ed25519-only), no unsolicited pongs."""
    for url in (URL, "wss://stream.binance.com:9443/ws", "wss://fstream.binance.com/ws"):
        assert build_login(url, CREDS, now=NOW) is None
        assert app_ping_for(url) is None


def test_session_logon_builder() -> None:
    message = session_logon(CREDS, now=NOW, request_id="logon-1")
    assert message == {
        "id": "logon-1",
        "method": "session.logon",
        "params": {
            "apiKey": KEY,
            "timestamp": 2085848896000,
            "signature": "b8e612f5ae4bfe8ca85fd6e6f0305dc17bed58b05ae26e33f73b4690b9daa490",
        },
    }
    assert "id" not in session_logon(CREDS, now=NOW)
    # The same message sent by a user among its initial messages is signed alike.
    sent = sign_outgoing(URL, {"method": "session.logon", "params": {}}, CREDS, now=NOW)
    assert sent["params"] == message["params"]


def test_signature_payload_is_raw_utf8_sorted() -> None:
    assert (
        signature_payload({"b": "１", "a": 1, "signature": "old", "c": False}) == "a=1&b=１&c=false"
    )


def test_pem_key_signature_is_base64(known_secrets: dict[str, str]) -> None:
    pytest.importorskip("cryptography")
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    private = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    known_secrets[pem.decode()] = "test_binance:ed25519"
    creds = Credentials("binance", KEY, pem)
    message = session_logon(creds, now=NOW)
    public: Ed25519PublicKey = private.public_key()
    payload = signature_payload(message["params"]).encode()
    public.verify(base64.b64decode(message["params"]["signature"]), payload)  # raises if wrong
