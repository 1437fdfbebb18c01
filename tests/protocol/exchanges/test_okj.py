"""OKJ (okcoin.jp): pybotters' inventory vectors (not in signing.json) and routing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from botters.protocol import Headers, Request, route_for, sign_request
from botters.protocol.exchanges import okj, okx

KEY = "NpuOBinRJMsSKHE38Gbf6MAm"
SECRET = "xNn5J6y2uSAOZNHOORX2f6hWdD8QqE2eW01KDrt4gq74Q7A6"
PASSPHRASE = "MyPassphrase123"
APIS = {"okj": [KEY, SECRET, PASSPHRASE]}
NOW = datetime(2036, 2, 5, 18, 28, 16, tzinfo=UTC).timestamp()


@pytest.fixture(autouse=True)
def _register_secret(known_secrets: dict[str, str]) -> None:
    known_secrets[SECRET] = "okj inventory secret"


def test_get_vector() -> None:
    # The doubled "&&" is in the upstream test; it is sent and signed as written.
    request = Request.build(
        "GET",
        "https://www.okcoin.jp/api/spot/v3/orders"
        "?instrument_id=BTC-JPY&state=filled&limit=2&&after=2500723297223680",
    )
    signed = sign_request(request, APIS, now=NOW)
    assert signed.path_qs == (
        "/api/spot/v3/orders?instrument_id=BTC-JPY&state=filled&limit=2&&after=2500723297223680"
    )
    assert dict(signed.headers) == {
        "OK-ACCESS-KEY": KEY,
        "OK-ACCESS-SIGN": "z2O3V5la0FP21wbxkoFr5f+HDvoiqnZ5Cklz814LWJE=",
        "OK-ACCESS-TIMESTAMP": "2036-02-05T18:28:16.000Z",
        "OK-ACCESS-PASSPHRASE": PASSPHRASE,
        "Content-Type": "application/json",
    }


def test_post_vector() -> None:
    data = {
        "type": "limit",
        "side": "buy",
        "instrument_id": "BTC-JPY",
        "size": "0.001",
        "client_oid": "oktspot79",
        "price": "4638.51",
        "notional": "",
        "order_type": "3",
    }
    request = Request.build("POST", "https://www.okcoin.jp/api/spot/v3/orders", data=data)
    signed = sign_request(request, APIS, now=NOW)
    assert signed.headers["OK-ACCESS-SIGN"] == "V/csv742qfo7G7QAi81qQQik8KrEmwKh5xsTHIFlq2M="
    assert signed.headers["Content-Type"] == "application/json"
    assert signed.body.startswith(b'{"type": "limit", ')


def test_okj_reuses_the_okx_signer() -> None:
    assert okj.sign is okx.sign


def test_registry() -> None:
    route = route_for(Request("GET", "https://www.okcoin.jp/api/spot/v3/orders"))
    assert route is not None
    assert (
        route.exchange,
        route.name_for(Request("GET", "https://www.okcoin.jp/")),
        route.body_format,
    ) == (
        "okj",
        "okj",
        "json",
    )
    # The demo header means nothing on OKJ: it is always the okj key.
    demo = Request("GET", "https://www.okcoin.jp/", Headers({"x-simulated-trading": "1"}))
    assert route.name_for(demo) == "okj"


@pytest.mark.parametrize(
    "url",
    ["http://www.okcoin.jp/api/spot/v3/orders", "https://okcoin.jp/api/spot/v3/orders"],
)
def test_other_urls_are_not_signed(url: str) -> None:
    request = Request("GET", url)
    assert sign_request(request, APIS, now=NOW) is request


def test_okx_credentials_never_sign_okj() -> None:
    request = Request("GET", "https://www.okcoin.jp/api/spot/v3/orders")
    assert sign_request(request, {"okx": [KEY, SECRET, PASSPHRASE]}, now=NOW) is request
