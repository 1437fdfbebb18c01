"""What an exchange's REST limits are, as data: windows, costs and header readings.

Theory of operation
-------------------
An exchange documents its limits as *budgets*: "6,000 request weight per minute
per IP", "10 orders per second per UID on this endpoint". Each budget is a
:class:`Window`. A request *costs* some units in one or more windows: Binance's
``GET /api/v3/depth?limit=5000`` costs 250 units of the IP's weight window and
nothing else; ``POST /api/v3/order`` costs 1 unit of the weight window, 1 of the
10-second order window and 1 of the daily order window. :class:`ExchangeLimits`
holds one exchange's windows and the function that prices a request.

Windows come in two kinds, because exchanges count in two ways:

* ``"fixed"``: the budget refills all at once at multiples of ``period`` on the
  wall clock (Binance's minute starts at second 0 UTC, its day at midnight UTC).
  The exchange's clock and ours differ a little and a request sent just before a
  boundary may arrive just after it, so the limiter counts such a request in both
  windows (see :class:`~._limiter.RateLimiter`'s ``margin``).
* ``"sliding"``: at most ``limit`` units in any interval of ``period`` seconds.
  This is the safe reading of a limit whose counting the exchange does not
  document, since it is never looser than a fixed window of the same size.

A window is per IP (``scope="ip"``: every request from this process shares it)
or per API key (``scope="key"``: each key has its own budget; requests sent
without credentials do not count against it), as each exchange says. An
exchange with a separate, stricter budget for unauthenticated requests (BitMEX)
gives it ``scope="anonymous"``: one per-IP budget that only requests without
credentials count against. The limiter is told the key before the request is
signed, so a price function never needs to look at signature headers.

Exchanges that report their counters in response headers (Binance's
``X-MBX-USED-WEIGHT-1M``, Bybit's ``X-Bapi-Limit-Status``) are read by the
exchange's ``observe`` function into :class:`Observation` values, which the
limiter folds in so that usage by other processes on the same IP or key is seen.

Everything here is immutable; :class:`Window` compares and hashes by identity,
because each one is a single object in its exchange's table and the limiter
looks it up on every request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from botters.protocol._request import Request

__all__ = [
    "Cost",
    "ExchangeLimits",
    "Observation",
    "Scope",
    "Window",
    "WindowKind",
    "lower_headers",
    "retry_after",
]

WindowKind: TypeAlias = Literal["fixed", "sliding"]
"""How a window refills: all at once at wall-clock multiples, or continuously."""

Scope: TypeAlias = Literal["ip", "key", "anonymous"]
"""Who shares a window: every request from this IP, or each API key on its own."""


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Window:
    """One documented budget: at most ``limit`` units per ``period`` seconds.

    Compared and hashed by identity: two windows with equal numbers are still
    two budgets (Bybit's per-endpoint limits have the same size and are counted
    apart).
    """

    name: str
    """A readable, unique name (``"binance.spot.weight"``), shown in logs."""
    limit: float
    """Units allowed per period (before the limiter's ``scale``)."""
    period: float
    """The window's length in seconds."""
    kind: WindowKind = "sliding"
    """``"fixed"`` (refills at wall-clock multiples of ``period``) or ``"sliding"``."""
    scope: Scope = "ip"
    """``"ip"`` (shared by every request), ``"key"`` (one budget per API key) or
    ``"anonymous"`` (shared by the requests sent without credentials only)."""
    source: str = ""
    """The exchange documentation URL this limit is quoted from."""

    def __post_init__(self) -> None:
        if not self.limit > 0 or not self.period > 0:
            raise ValueError(f"window {self.name!r}: limit and period must be positive")

    def __repr__(self) -> str:
        per = f"{self.period:g} s"
        return f"<Window {self.name} {self.limit:g}/{per} {self.kind} per {self.scope}>"


Cost: TypeAlias = tuple[Window, float]
"""A request's price in one window: ``(window, units)``."""


@dataclass(slots=True, kw_only=True)
class Observation:
    """What a response said about one window's counter (read it, do not change it).

    Not frozen: one or more are made per response, and a frozen dataclass
    costs three times as much to build.

    Any field may be ``None`` (not reported). ``used`` is the exchange's count
    in its current window (including the request just answered); ``remaining``
    the units left in it; ``limit`` the budget the exchange applies to this
    account (it can be higher than documented, e.g. for VIP tiers);
    ``reset_at`` the wall-clock second when the window refills.
    """

    window: Window
    used: float | None = None
    remaining: float | None = None
    limit: float | None = None
    reset_at: float | None = None


Pricer: TypeAlias = Callable[[Request], Sequence[Cost]]
Observer: TypeAlias = Callable[[Request, int, Mapping[str, str]], Iterable[Observation]]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ExchangeLimits:
    """One exchange's REST limits: which hosts, which windows, and what each request costs.

    Args:
        exchange: The exchange's name (``"binance"``), for logs.
        hosts: Exact, lower-case host names these limits apply to.
        windows: Every window ``price`` can return (listed for documentation
            and :meth:`~._limiter.RateLimiter.usage`).
        price: The cost of a request, as ``(window, units)`` pairs; an empty
            sequence means "not limited".
        observe: Reads a response's status and headers (names lower-cased)
            into :class:`Observation` values; ``None`` if the exchange sends
            no counters.
        source: The documentation URL of the exchange's limits page.
    """

    exchange: str
    hosts: frozenset[str]
    windows: tuple[Window, ...]
    price: Pricer
    observe: Observer | None = None
    source: str = ""

    def __repr__(self) -> str:
        return f"<ExchangeLimits {self.exchange} windows={len(self.windows)}>"


def lower_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """``headers`` as a plain dict with lower-case names (the first value of a repeated name)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in pairs:
        out.setdefault(name.lower(), value)
    return out


_MAX_RETRY_AFTER: Final = 86_400.0


def retry_after(headers: Mapping[str, str], *, wall: float) -> float | None:
    """Seconds to wait that a ``Retry-After`` header asks for, or ``None``.

    Both forms of RFC 9110 are read: a number of seconds, or an HTTP date
    (compared with ``wall``, the current ``time.time()``). Absurd values are
    capped at a day; an unreadable header counts as absent.

    >>> retry_after({"retry-after": "7"}, wall=0.0)
    7.0
    >>> retry_after({"retry-after": "Thu, 01 Jan 1970 00:00:30 GMT"}, wall=10.0)
    20.0
    >>> retry_after({"retry-after": "soon"}, wall=0.0) is None
    True
    """
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        from email.utils import parsedate_to_datetime  # rare: not worth its import cost

        try:
            seconds = parsedate_to_datetime(raw).timestamp() - wall
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)
