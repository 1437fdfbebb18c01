"""bitFlyer's HTTP API limits: IP, private, order and small-order windows."""

from __future__ import annotations

import pytest

from botters.protocol import Request
from botters.protocol.exchanges.bitflyer import _limits as bitflyer
from botters.protocol.limits import RateLimiter

BASE = "https://api.bitflyer.com"


def _names(request: Request) -> set[str]:
    return {w.name for w, units in bitflyer.price(request) if units == 1}


def test_public_requests_cost_only_the_ip_window() -> None:
    assert _names(Request.build("GET", BASE + "/v1/ticker?product_code=BTC_JPY")) == {"bitflyer.ip"}


def test_private_requests_cost_the_private_window() -> None:
    assert _names(Request.build("GET", BASE + "/v1/me/getbalance")) == {
        "bitflyer.ip",
        "bitflyer.private",
    }
    assert _names(Request.build("POST", BASE + "/v1/me/cancelchildorder", data={"a": 1})) == {
        "bitflyer.ip",
        "bitflyer.private",
    }


@pytest.mark.parametrize(
    ("size", "small"), [(0.01, True), (0.1, True), ("0.1", True), (0.11, False), (3, False)]
)
def test_child_orders_count_as_small_up_to_a_tenth(size: object, small: bool) -> None:
    request = Request.build(
        "POST",
        BASE + "/v1/me/sendchildorder",
        data={"product_code": "BTC_JPY", "child_order_type": "LIMIT", "size": size},
    )
    expected = {"bitflyer.ip", "bitflyer.private", "bitflyer.orders"}
    assert _names(request) == (expected | {"bitflyer.small-orders"} if small else expected)


def test_a_parent_order_is_small_if_any_child_is_and_an_unreadable_size_is_small() -> None:
    parent = Request.build(
        "POST",
        BASE + "/v1/me/sendparentorder",
        data={"parameters": [{"size": 1}, {"size": 0.05}]},
    )
    assert "bitflyer.small-orders" in _names(parent)
    big = Request.build(
        "POST", BASE + "/v1/me/sendparentorder", data={"parameters": [{"size": 1}, {"size": 2}]}
    )
    assert "bitflyer.small-orders" not in _names(big)
    assert "bitflyer.orders" in _names(big)
    no_size = Request.build("POST", BASE + "/v1/me/sendchildorder", data={"price": 1})
    assert "bitflyer.small-orders" in _names(no_size)


def test_cancel_all_counts_as_an_order_call_but_not_a_small_order() -> None:
    request = Request.build("POST", BASE + "/v1/me/cancelallchildorders", data={"a": "b"})
    assert _names(request) == {"bitflyer.ip", "bitflyer.private", "bitflyer.orders"}


def test_windows_match_the_docs() -> None:
    got = {w.name: (w.limit, w.period, w.scope, w.kind) for w in bitflyer.LIMITS.windows}
    assert got == {
        "bitflyer.ip": (500, 300, "ip", "sliding"),
        "bitflyer.private": (500, 300, "key", "sliding"),
        "bitflyer.orders": (300, 300, "key", "sliding"),
        "bitflyer.small-orders": (100, 60, "key", "sliding"),
    }


def test_the_101st_small_order_in_a_minute_waits() -> None:
    limiter = RateLimiter([bitflyer.LIMITS], margin=0)
    order = Request.build("POST", BASE + "/v1/me/sendchildorder", data={"size": 0.01})
    ats = [limiter.reserve(order, now=0.5 * i, key="k") for i in range(101)]
    assert all(r is not None for r in ats)
    assert ats[99] is not None
    assert ats[99].at == 49.5
    assert ats[100] is not None
    assert ats[100].at == 60.0
