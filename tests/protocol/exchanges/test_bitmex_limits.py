"""BitMEX's REST limits: authenticated and unauthenticated minute budgets, order layer, headers."""

from __future__ import annotations

from botters.protocol import Request
from botters.protocol.exchanges.bitmex import _limits as bitmex
from botters.protocol.limits import RateLimiter

BASE = "https://www.bitmex.com"
SIGNED = {"api-expires": "1", "api-key": "k", "api-signature": "s"}


def _names(request: Request, key: str | None = "k") -> list[str]:
    reservation = RateLimiter([bitmex.LIMITS]).reserve(request, now=0.0, key=key)
    assert reservation is not None
    return [w.name for w, _ in reservation.windows]


def test_unsigned_requests_use_the_ip_budget_and_signed_ones_the_key_budget() -> None:
    public = Request.build("GET", BASE + "/api/v1/instrument")
    assert _names(public, key=None) == ["bitmex.unauthenticated"]
    # The limiter books before signing: the key it is told picks the budget.
    unsigned = Request.build("GET", BASE + "/api/v1/position")
    assert _names(unsigned, key="k") == ["bitmex.authenticated"]


def test_order_routes_also_cost_the_per_second_layer() -> None:
    for method, path in [
        ("POST", "/api/v1/order"),
        ("PUT", "/api/v1/order"),
        ("DELETE", "/api/v1/order"),
        ("DELETE", "/api/v1/order/all"),
        ("POST", "/api/v1/order/bulk"),
        ("POST", "/api/v1/position/leverage"),
    ]:
        request = Request.build(method, BASE + path, headers=SIGNED, data={"symbol": "XBTUSD"})
        assert _names(request) == ["bitmex.authenticated", "bitmex.orders.1s"], (method, path)
    get_orders = Request.build("GET", BASE + "/api/v1/order", headers=SIGNED)
    assert _names(get_orders) == ["bitmex.authenticated"]


def test_headers_become_observations() -> None:
    request = Request.build("POST", BASE + "/api/v1/order", headers=SIGNED, data={"a": 1})
    headers = {
        "x-ratelimit-limit": "120",
        "x-ratelimit-remaining": "118",
        "x-ratelimit-reset": "1592423441",
        "x-ratelimit-remaining-1s": "9",
        "x-ratelimit-limit-1s": "10",
    }
    seen = {o.window.name: o for o in bitmex.observe(request, 200, headers)}
    assert (seen["bitmex.authenticated"].remaining, seen["bitmex.authenticated"].limit) == (
        118,
        120,
    )
    assert seen["bitmex.authenticated"].reset_at == 1592423441
    assert (seen["bitmex.orders.1s"].remaining, seen["bitmex.orders.1s"].limit) == (9, 10)
    public = Request.build("GET", BASE + "/api/v1/instrument")
    [only] = bitmex.observe(public, 200, {"x-ratelimit-limit": "30", "x-ratelimit-remaining": "3"})
    assert only.window is bitmex.UNAUTHENTICATED
    assert list(bitmex.observe(public, 200, {})) == []


def test_an_exhausted_minute_bucket_blocks_until_its_reset() -> None:
    limiter = RateLimiter([bitmex.LIMITS], margin=0)
    request = Request.build("GET", BASE + "/api/v1/position", headers=SIGNED)
    assert limiter.reserve(request, now=1000.0, key="k") is not None
    headers = {
        "x-ratelimit-limit": "120",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "1030",
    }
    limiter.observe(request, 200, headers, now=1000.1, key="k")
    later = limiter.reserve(request, now=1000.2, key="k")
    assert later is not None
    assert later.at >= 1030.0
