"""REST rate limits as data, and a pure limiter that books requests against them.

A bot that exceeds an exchange's limits gets HTTP 429, then an IP ban. botters'
clients pace every request through a :class:`RateLimiter` built from the limits
each exchange documents (:func:`default_limits`), so the ban never comes:

>>> from botters.protocol import Request
>>> from botters.protocol.limits import ExchangeLimits, RateLimiter, Window
>>> second = Window(name="demo.requests", limit=2, period=1.0, kind="fixed")
>>> demo = ExchangeLimits(
...     exchange="demo", hosts=frozenset({"api.example.com"}), windows=(second,),
...     price=lambda request: ((second, 1),),
... )
>>> limiter = RateLimiter([demo], margin=0)
>>> request = Request.build("GET", "https://api.example.com/v1/time")
>>> [limiter.reserve(request, now=100.2).at for _ in range(3)]
[100.2, 100.2, 101.0]

The limiter is pure: it answers "send at T" and never sleeps. The adapters
(:class:`botters.Client`, :class:`botters.trio.Client`) sleep until ``T``, send,
and give the response back with :meth:`RateLimiter.observe`, which honours
``Retry-After`` on 429/418 and the counters exchanges report in headers.
"""

from __future__ import annotations

from ._limiter import RateLimiter, Reservation, WindowUsage
from ._model import Cost, ExchangeLimits, Observation, Scope, Window, WindowKind, retry_after
from ._registry import default_limits

__all__ = [
    "Cost",
    "ExchangeLimits",
    "Observation",
    "RateLimiter",
    "Reservation",
    "Scope",
    "Window",
    "WindowKind",
    "WindowUsage",
    "default_limits",
    "retry_after",
]
