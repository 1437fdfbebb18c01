"""GMO Coin's and bitbank's per-account, per-second REST limits."""

from __future__ import annotations

from botters.protocol import Request
from botters.protocol.exchanges.bitbank import _limits as bitbank
from botters.protocol.exchanges.gmocoin import _limits as gmocoin
from botters.protocol.limits import RateLimiter

GMO = "https://api.coin.z.com"
BITBANK = "https://api.bitbank.cc"


def _names(limits_price: object, request: Request) -> list[str]:
    return [w.name for w, _ in limits_price(request)]  # type: ignore[operator]


def test_gmocoin_counts_private_get_and_post_apart_and_leaves_public_alone() -> None:
    assert _names(gmocoin.price, Request.build("GET", GMO + "/private/v1/account/assets")) == [
        "gmocoin.private.get"
    ]
    post = Request.build("POST", GMO + "/private/v1/order", data={"symbol": "BTC"})
    assert _names(gmocoin.price, post) == ["gmocoin.private.post"]
    put = Request.build("PUT", GMO + "/private/v1/ws-auth", data={"token": "t"})
    assert _names(gmocoin.price, put) == ["gmocoin.private.post"]
    assert _names(gmocoin.price, Request.build("GET", GMO + "/public/v1/ticker")) == []
    for window in gmocoin.LIMITS.windows:
        assert (window.limit, window.period, window.scope, window.kind) == (20, 1, "key", "sliding")


def test_gmocoin_get_and_post_budgets_are_independent() -> None:
    limiter = RateLimiter([gmocoin.LIMITS], margin=0)
    get = Request.build("GET", GMO + "/private/v1/activeOrders")
    post = Request.build("POST", GMO + "/private/v1/order", data={"a": 1})
    gets = [limiter.reserve(get, now=1.0, key="k") for _ in range(21)]
    posts = [limiter.reserve(post, now=1.0, key="k") for _ in range(20)]
    assert [r.at for r in gets if r] == [1.0] * 20 + [2.0]
    assert [r.at for r in posts if r] == [1.0] * 20
    # Unsigned (public) requests and requests without a key are not held back.
    assert limiter.reserve(Request.build("GET", GMO + "/public/v1/status"), now=1.0) is None


def test_bitbank_update_and_query_budgets() -> None:
    for path in (
        "/v1/user/spot/order",
        "/v1/user/spot/cancel_order",
        "/v1/user/spot/cancel_orders",
        "/v1/user/request_withdrawal",
    ):
        request = Request.build("POST", BITBANK + path, data={"pair": "btc_jpy"})
        assert _names(bitbank.price, request) == ["bitbank.update"]
    for request in (
        Request.build("GET", BITBANK + "/v1/user/spot/order?pair=btc_jpy&order_id=1"),
        Request.build("GET", BITBANK + "/v1/user/assets"),
        Request.build("POST", BITBANK + "/v1/user/spot/orders_info", data={"pair": "btc_jpy"}),
    ):
        assert _names(bitbank.price, request) == ["bitbank.query"]
    assert (bitbank.QUERY.limit, bitbank.UPDATE.limit) == (10, 6)
    assert bitbank.QUERY.scope == bitbank.UPDATE.scope == "key"


def test_bitbank_seventh_order_in_a_second_waits() -> None:
    limiter = RateLimiter([bitbank.LIMITS], margin=0)
    order = Request.build("POST", BITBANK + "/v1/user/spot/order", data={"pair": "btc_jpy"})
    ats = [r.at for r in (limiter.reserve(order, now=3.25, key="k") for _ in range(7)) if r]
    assert ats == [3.25] * 6 + [4.25]
