"""Every ``ws_auth`` / ``ws_api`` vector in signing_vectors.json, through the public API.

Each vector is reproduced the way a session would: :func:`build_login` for a
login, :func:`sign_outgoing` for a Binance WebSocket API request, with the
clock (and nonce) the vector was made with. The signature must match byte for
byte and the message field for field. Nothing is mocked.

``bitmex-ws-header-auth-pybotters`` is not here: BitMEX authenticates the
handshake with signed headers, which the REST route for its wss hosts does
(tests/protocol/test_vectors.py and tests/protocol/exchanges/test_bitmex.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from botters.protocol import Credentials
from botters.protocol._hmac import hmac_b64, hmac_hex
from botters.protocol._ws import build_login, sign_outgoing, ws_route_for

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent.parent.parent / "data" / "signing_vectors.json").read_text()
)
HANDSHAKE_ONLY = {"bitmex-ws-header-auth-pybotters"}
WS = [v for v in VECTORS if v["kind"] in ("ws_auth", "ws_api") and v["id"] not in HANDSHAKE_ONLY]


def _credentials(v: dict[str, Any]) -> Credentials:
    i = v["inputs"]
    route = ws_route_for(i["url"])
    assert route is not None, f"{i['url']} is not a registered wss host"
    assert isinstance(route.api_name, str)
    return Credentials(route.api_name, i["api_key"], i["secret"].encode(), i.get("passphrase", ""))


def _clock(v: dict[str, Any]) -> tuple[float, str]:
    """The ``now`` (and nonce) that reproduce the vector, from its own inputs."""
    i = v["inputs"]
    exchange = v["exchange"]
    if exchange == "bybit":
        return (int(i["expires"]) - 5000) / 1000, ""  # expires = now + 5 s, in ms
    if exchange == "phemex":
        return float(int(i["expires"]) - 60), ""  # expiry = now + 60 s
    if exchange == "coincheck":
        return int(i["nonce"]) / 1000, ""  # the nonce is the time in ms
    if exchange == "bitflyer":
        return int(i["timestamp"]) / 1000, i["nonce"]
    if exchange in ("okx", "bitget", "mexc"):
        return float(int(i["timestamp"])), ""  # seconds
    assert exchange == "binance"
    return int(i["timestamp"]) / 1000, ""


# Members botters sends beyond the (pybotters-made) vector, each with the reason.
EXTRA_MEMBERS: dict[str, dict[str, Any]] = {
    # JSON-RPC 2.0 requests carry "jsonrpc": "2.0" (bitFlyer: "complies with JSON-RPC 2.0").
    "bitflyer-ws-auth-pybotters": {"jsonrpc": "2.0"},
}


def _signature_in(message: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(message, dict):
        for value in message.values():
            found |= _signature_in(value)
    elif isinstance(message, list):
        for value in message:
            found |= _signature_in(value)
    elif isinstance(message, str):
        found.add(message)
    return found


@pytest.mark.parametrize("vector", WS, ids=[v["id"] for v in WS])
def test_ws_vector(vector: dict[str, Any]) -> None:
    i = vector["inputs"]
    creds = _credentials(vector)
    now, nonce = _clock(vector)
    expected = {**vector["expected"]["message"], **EXTRA_MEMBERS.get(vector["id"], {})}
    if vector["exchange"] == "binance":
        # The user sends the request without the fields the signer owns.
        params = {k: v for k, v in i["params"].items() if k not in ("apiKey", "timestamp")}
        sent = sign_outgoing(i["url"], {"method": i["ws_method"], "params": params}, creds, now=now)
        got = dict(sent)
        # Key order of params is irrelevant to Binance; the payload is sorted.
    else:
        login = build_login(i["url"], creds, now=now, nonce=nonce)
        assert login is not None
        got = login.data
        assert json.loads(login.text) == got  # the text sent is the message built
    assert got == expected
    assert vector["expected"]["signature"] in _signature_in(got)


@pytest.mark.parametrize(
    "vector",
    [v for v in WS if v["exchange"] == "binance"],
    ids=lambda v: v["id"],
)
def test_binance_vector_with_params_as_published(vector: dict[str, Any]) -> None:
    """Params that already hold apiKey/timestamp (as the docs show them) sign the same."""
    i = vector["inputs"]
    creds = _credentials(vector)
    now, _ = _clock(vector)
    message = {"method": i["ws_method"], "params": dict(i["params"])}
    assert sign_outgoing(i["url"], message, creds, now=now) == vector["expected"]["message"]


@pytest.mark.parametrize("vector", WS, ids=[v["id"] for v in WS])
def test_string_to_sign_gives_published_signature(vector: dict[str, Any]) -> None:
    """The vector is self-consistent: HMAC(secret, string_to_sign) is the signature."""
    helper = hmac_b64 if vector["rule"].endswith("base64") else hmac_hex
    secret = vector["inputs"]["secret"].encode()
    assert helper(secret, vector["string_to_sign"]) == vector["expected"]["signature"]


def test_every_ws_vector_is_covered() -> None:
    kinds = {v["id"] for v in VECTORS if v["kind"] in ("ws_auth", "ws_api")}
    assert kinds - HANDSHAKE_ONLY == {v["id"] for v in WS}
    assert len(WS) == 13
