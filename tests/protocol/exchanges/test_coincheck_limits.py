"""Coincheck documents no REST rate limit number, so botters has no table for it.

https://coincheck.com/ja/documents/exchange/api (the exchange API reference)
states no request budget; a table would have to invent one. The limiter then
leaves Coincheck requests alone, and this file pins that decision down so a
table is only added with a documented number.
"""

from __future__ import annotations

import importlib.util

from botters.protocol import Request
from botters.protocol.limits import RateLimiter, default_limits


def test_coincheck_has_no_limits_table() -> None:
    assert importlib.util.find_spec("botters.protocol.exchanges.coincheck._limits") is None
    assert all("coincheck.com" not in limits.hosts for limits in default_limits())


def test_coincheck_requests_are_not_paced() -> None:
    limiter = RateLimiter()
    request = Request.build("GET", "https://coincheck.com/api/accounts/balance")
    assert limiter.limits_for(request) is None
    assert limiter.reserve(request, now=0.0, key="k") is None
