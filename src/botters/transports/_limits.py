"""How both clients apply the REST rate limiter: configuration, booking, observing.

The limiter (:class:`botters.protocol.limits.RateLimiter`) is pure: it books a
request and answers *when* it may go. This module is what the two clients
share around it; each adapter only supplies the wait itself (an asyncio or trio
sleep that a moved reservation can cut short, and that gives the reservation
back when the waiting task is cancelled).
"""

from __future__ import annotations

import logging
import time
from typing import Any, TypeAlias

from botters.protocol._errors import ConfigError
from botters.protocol._request import Request
from botters.protocol.limits import RateLimiter, Reservation, retry_after
from botters.protocol.limits._model import lower_headers

__all__ = ["RateLimitSetting", "make_limiter", "observe", "wake"]

logger = logging.getLogger("botters.http")

RateLimitSetting: TypeAlias = "bool | float | RateLimiter | None"
"""What ``Client(rate_limit=...)`` takes: on, off, a scale, or a limiter of your own."""


def make_limiter(setting: Any) -> RateLimiter | None:
    """The limiter a client uses for ``rate_limit=setting``.

    * ``True`` (the default): every exchange's documented limits;
    * ``False`` or ``None``: no limiter at all;
    * a number: the documented limits scaled by it (``0.5`` = half of each);
    * a :class:`~botters.protocol.limits.RateLimiter`: that one (share one
      between clients that use the same IP or keys).
    """
    if setting is True:
        return RateLimiter()
    if setting is False or setting is None:
        return None
    if isinstance(setting, RateLimiter):
        return setting
    if isinstance(setting, int | float) and not isinstance(setting, bool):
        if not setting > 0:
            raise ConfigError(f"rate_limit= as a scale must be > 0, not {setting!r}")
        return RateLimiter(scale=float(setting))
    raise ConfigError(
        "rate_limit= takes True, False, a scale (e.g. 0.8) or a "
        f"botters.protocol.limits.RateLimiter, not {type(setting).__name__}"
    )


def wake(reservations: list[Reservation]) -> None:
    """Wake the waiters of reservations whose time moved (so they re-read it)."""
    for reservation in reservations:
        waker = reservation.waker
        if waker is not None:
            waker.set()


def observe(
    limiter: RateLimiter, request: Request, status: int, headers: Any, key: str | None
) -> None:
    """Fold a response into ``limiter``; a throttle is logged once, with how long it holds."""
    now = time.time()
    if status in (418, 429):
        lowered = lower_headers(headers.items())
        wait = retry_after(lowered, wall=now)
        limits = limiter.limits_for(request)
        who = limits.exchange if limits is not None else request.host
        after = f"Retry-After {wait:g} s" if wait is not None else "no Retry-After: backing off"
        what = "IP ban" if status == 418 else "too many requests"
        logger.warning(
            "%s: HTTP %d (%s) for %s %s; %s requests wait (%s)",
            request.host,
            status,
            what,
            request.method,
            request.path,
            who,
            after,
        )
        wake(limiter.observe(request, status, lowered, now=now, key=key))
        return
    # Both adapters' response headers answer get() case-insensitively.
    wake(limiter.observe(request, status, headers, now=now, key=key, case_insensitive=True))
