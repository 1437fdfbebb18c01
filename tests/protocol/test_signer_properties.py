"""Properties every signer must have, checked over every registered host.

For any request to any host botters signs:

* signing is deterministic given ``(now, nonce)``;
* the signed request differs from the unsigned one only where that exchange's rule
  says (the table below is written from the exchanges' docs, independently of the
  signers): same method, scheme, host, path and body; existing headers kept; only
  the listed headers and query parameters added;
* the secret never appears in the output, and a passphrase only where the exchange
  wants it in clear;
* the signature depends on the clock;
* only exact https/wss hosts are ever signed; look-alikes, ``http://`` and unknown
  hosts are returned untouched.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from botters.protocol import Request, registered_hosts, route_for, sign_request

# exchange -> (headers that may be added, query parameters that may be appended)
ALLOWED: dict[str, tuple[set[str], set[str]]] = {
    "bitflyer": ({"access-key", "access-timestamp", "access-sign"}, set()),
    "bybit": ({"x-bapi-api-key", "x-bapi-timestamp", "x-bapi-sign"}, set()),
    "binance": ({"x-mbx-apikey"}, {"timestamp", "signature"}),
    "bitbank": ({"access-key", "access-request-time", "access-signature"}, set()),
    "bitget": (
        {"access-key", "access-sign", "access-timestamp", "access-passphrase", "content-type"},
        set(),
    ),
    "bitmex": ({"api-expires", "api-key", "api-signature"}, set()),
    "bittrade": (
        set(),
        {"AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp", "Signature"},
    ),
    "coincheck": ({"access-key", "access-nonce", "access-signature"}, set()),
    "gmocoin": ({"api-key", "api-timestamp", "api-sign"}, set()),
    "kucoin": (
        {
            "kc-api-sign",
            "kc-api-timestamp",
            "kc-api-key",
            "kc-api-passphrase",
            "kc-api-key-version",
        },
        set(),
    ),
    "mexc": (
        {"apikey", "request-time", "signature", "content-type", "x-mexc-apikey"},
        {"timestamp", "signature"},
    ),
    "okx": (
        {"ok-access-key", "ok-access-sign", "ok-access-timestamp", "ok-access-passphrase"}
        | {"content-type"},
        set(),
    ),
    "phemex": (
        {"x-phemex-access-token", "x-phemex-request-expiry", "x-phemex-request-signature"},
        set(),
    ),
}
ALLOWED["okj"] = ALLOWED["okx"]
# Headers that carry the passphrase in clear because the exchange asks for it so.
CLEAR_PASSPHRASE = {"ok-access-passphrase", "access-passphrase"}

# A private (signed) endpoint per exchange, so every generated request is one the
# exchange wants signed.
PRIVATE_PATH = {
    "bitflyer": "/v1/me/getchildorders",
    "bybit": "/v5/order/realtime",
    "bitbank": "/v1/user/spot/order",
    "bitget": "/api/v2/spot/trade/place-order",
    "bitmex": "/api/v1/order",
    "bittrade": "/v1/order/orders/place",
    "coincheck": "/api/exchange/orders",
    "gmocoin": "/private/v1/order",
    "kucoin": "/api/v1/orders",
    "okx": "/api/v5/trade/order",
    "okj": "/api/spot/v3/orders",
    "phemex": "/orders",
}


def _private_path(exchange: str, host: str) -> str:
    if exchange == "binance":
        if host.startswith(("fapi.", "testnet.binancefuture.")):
            return "/fapi/v1/order"
        if host.startswith("dapi."):
            return "/dapi/v1/order"
        if host.startswith("papi."):
            return "/papi/v1/um/order"
        return "/api/v3/order"
    if exchange == "mexc":
        return "/api/v3/order" if host == "api.mexc.com" else "/api/v1/private/order/submit"
    return PRIVATE_PATH[exchange]


TARGETS = sorted(registered_hosts())

_secret = st.text(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#", min_size=24, max_size=40
)
_token = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=10)
# Keys get a prefix so they never collide with the names a scheme reserves
# (timestamp, signature, ...): a caller-set timestamp is honoured on purpose.
_params = st.dictionaries(
    _token.map(lambda k: f"k_{k}"), st.one_of(_token, st.integers(0, 10**9)), max_size=4
)


def _request(
    scheme: str, host: str, method: str, params: dict[str, Any], data: dict[str, Any]
) -> Request:
    route = route_for(Request("GET", f"{scheme}://{host}/"))
    assert route is not None
    if scheme == "wss":
        return Request.build("GET", f"wss://{host}/realtime")
    return Request.build(
        method,
        f"https://{host}{_private_path(route.exchange, host)}",
        params=params or None,
        data=data if method != "GET" else None,
    )


def _apis(request: Request, secret: str, passphrase: str) -> dict[str, list[str]]:
    route = route_for(request)
    assert route is not None
    return {route.name_for(request): ["the-api-key", secret, passphrase]}


def test_table_covers_every_registered_exchange() -> None:
    exchanges = {route.exchange for route in registered_hosts().values()}
    assert exchanges <= set(ALLOWED), exchanges - set(ALLOWED)
    assert len(TARGETS) >= 30


@pytest.mark.parametrize(("scheme", "host"), TARGETS, ids=[f"{s}://{h}" for s, h in TARGETS])
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
    params=_params,
    data=_params,
    secret=_secret,
    passphrase=_secret,
    now=st.integers(1_500_000_000, 4_000_000_000).map(float),
    nonce=_token,
)
def test_signing_changes_only_what_the_rule_says(
    scheme: str,
    host: str,
    method: str,
    params: dict[str, Any],
    data: dict[str, Any],
    secret: str,
    passphrase: str,
    now: float,
    nonce: str,
) -> None:
    assume(secret not in passphrase and passphrase not in secret)
    unsigned = _request(scheme, host, method, params, data)
    apis = _apis(unsigned, secret, passphrase)
    route = route_for(unsigned)
    assert route is not None
    signed = sign_request(unsigned, apis, now=now, nonce=nonce)

    # deterministic
    assert sign_request(unsigned, apis, now=now, nonce=nonce) == signed
    # the clock is covered by the signature
    later = sign_request(unsigned, apis, now=now + 7, nonce=nonce)
    assert later != signed

    # only the rule's differences
    allowed_headers, allowed_params = ALLOWED[route.exchange]
    assert (signed.method, signed.scheme, signed.host, signed.path, signed.body) == (
        unsigned.method,
        unsigned.scheme,
        unsigned.host,
        unsigned.path,
        unsigned.body,
    )
    for name, value in unsigned.headers.items():
        assert signed.headers[name] == value
    added = {k.lower() for k in signed.headers} - {k.lower() for k in unsigned.headers}
    assert added <= allowed_headers
    if unsigned.query:
        assert signed.query.startswith(unsigned.query)
    appended = parse_qsl(signed.query[len(unsigned.query) :].lstrip("&"))
    assert {k for k, _ in appended} <= allowed_params
    assert added or appended, "nothing was added: the request was not signed"

    # secrets
    shown = signed.url + signed.body.decode() + "".join(signed.headers.values())
    assert secret not in shown
    for name, value in signed.headers.items():
        if passphrase in value:
            assert name.lower() in CLEAR_PASSPHRASE
    assert passphrase not in signed.url + signed.body.decode()


@pytest.mark.parametrize(("scheme", "host"), TARGETS, ids=[f"{s}://{h}" for s, h in TARGETS])
def test_plain_http_ws_and_lookalikes_are_never_signed(scheme: str, host: str) -> None:
    apis = {name: ["k", "secret-secret-secret", "pass"] for name in _all_api_names()}
    registered = registered_hosts()
    plain = {"https": "http", "wss": "ws"}[scheme]
    lookalikes = [
        f"{host}.evil.example",
        f"evil{host}",
        f"evil-{host}",
        f"x.{host}",
        host.replace(".", "-", 1),
        host[:-1],
    ]
    for candidate_scheme, candidate in [(plain, host)] + [(scheme, h) for h in lookalikes]:
        if (candidate_scheme, candidate) in registered:
            continue  # e.g. x.<host> happens to be another real host
        request = Request.build("GET", f"{candidate_scheme}://{candidate}/api/v1/order")
        assert route_for(request) is None
        assert sign_request(request, apis, now=2085848896.0) is request


def _all_api_names() -> set[str]:
    names = set()
    for (scheme, host), route in registered_hosts().items():
        probe = Request("GET", f"{scheme}://{host}/")
        names.add(route.name_for(probe))
        names.add(route.name_for(probe.with_headers({"x-simulated-trading": "1"})))
    return names


@given(
    st.from_regex(r"[a-z0-9]{1,12}(\.[a-z0-9-]{1,12}){0,3}\.[a-z]{2,6}", fullmatch=True),
    st.sampled_from(["https", "wss", "http", "ws"]),
)
def test_arbitrary_hosts_are_signed_only_if_registered(host: str, scheme: str) -> None:
    assume((scheme, host) not in registered_hosts())
    request = Request.build("POST", f"{scheme}://{host}/v1/order", data={"a": 1})
    apis = {name: ["k", "secret-secret-secret", "pass"] for name in _all_api_names()}
    assert sign_request(request, apis, now=2085848896.0) is request


def test_no_credentials_means_untouched() -> None:
    request = Request.build("GET", "https://api.bitflyer.com/v1/me/getbalance")
    assert sign_request(request, {}, now=2085848896.0) is request
    assert sign_request(request, {"bybit": ["k", "s"]}, now=2085848896.0) is request
