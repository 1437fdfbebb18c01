"""Phemex's documented REST limits: the IP budget and the per-user API groups.

Source: https://github.com/phemex/phemex-api-docs/blob/master/Generic-API-Info.en.md

Rules
-----
* **Per IP**: "Currently Phemex restrict every IP 5,000 request in 5 minutes
  window"; exceeding it blocks the IP for five minutes. Every request counts 1.
* **Per user, by group**: "Rest API has a request capacity in one minute
  window on user basis"; "All Phemex APIs are divided into 3 groups,
  ``contract``, ``spotOrder`` and ``others``. All APIs in the same group share a
  request capacity. Every API consume request shares at its own weight."
  Capacities: Contract 500/minute, SpotOrder 500/minute, Others 100/minute.
  The weights are the docs' tables (``DELETE /orders/all`` 3, ``GET
  /accounts/positions`` 25, spot cancels 2, the rest 1). "APIs which is not in
  contract or spotOrder group is categoried into other group": every path not
  in the two tables (hedged-perpetual ``/g-...`` paths and ``PUT
  /orders/create`` included) is counted in Others, at weight 1, since the docs
  give no Others weights. Others is the smallest budget, so this never
  admits more than Phemex would; the group headers (below) show where the
  exchange counted a request.
* The groups are "on user basis" (``scope="key"``). Others also holds the
  public market data, which is called without a key; those requests are
  counted in a per-IP Others budget of the same size (``scope="anonymous"``),
  the stricter reading for requests that carry no user.
* The docs do not say the windows are aligned to the clock, so all are
  ``"sliding"`` (the safe reading of "5 minutes window" and "this minute").
* **Headers**: "Below headers are returned with API response. Postfix
  ``-<groupName>`` is empty if group is others": ``x-ratelimit-remaining-<group>``
  ("Remaining request permits in this minute"), ``x-ratelimit-capacity-<group>``
  and, when throttled (HTTP 429), ``x-ratelimit-retry-after-<group>`` ("Reset
  timeout in seconds"). :func:`observe` reads them for ``contract``,
  ``spotorder`` and the unsuffixed others group. The retry-after countdown is
  anchored to the response's ``Date`` header (plus one second, since ``Date``
  is rounded down), because ``observe`` is not given the limiter's clock.

``vapi.phemex.com`` ("High rate limit Rest API base endpoint") gets the same,
lower, documented numbers: its limits depend on the account and are not
given. It shares the IP budget with ``api.phemex.com``. The testnet is not
included: the page does not say it has these limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final, TypeAlias

from botters.protocol._request import Request
from botters.protocol.exchanges._limitkit import header_float
from botters.protocol.limits import Cost, ExchangeLimits, Observation, Window

__all__ = ["CONTRACT", "IP", "LIMITS", "OTHERS", "OTHERS_ANONYMOUS", "SPOT_ORDER", "observe"]

SOURCE: Final = "https://github.com/phemex/phemex-api-docs/blob/master/Generic-API-Info.en.md"

IP: Final = Window(
    name="phemex.ip", limit=5000, period=300.0, kind="sliding", scope="ip", source=SOURCE
)
CONTRACT: Final = Window(
    name="phemex.contract", limit=500, period=60.0, kind="sliding", scope="key", source=SOURCE
)
SPOT_ORDER: Final = Window(
    name="phemex.spot-order", limit=500, period=60.0, kind="sliding", scope="key", source=SOURCE
)
OTHERS: Final = Window(
    name="phemex.others", limit=100, period=60.0, kind="sliding", scope="key", source=SOURCE
)
OTHERS_ANONYMOUS: Final = Window(
    name="phemex.others.anonymous",
    limit=100,
    period=60.0,
    kind="sliding",
    scope="anonymous",
    source=SOURCE,
)

_Costs: TypeAlias = tuple[Cost, ...]


def _contract(weight: float) -> _Costs:
    return ((IP, 1.0), (CONTRACT, weight))


def _spot(weight: float) -> _Costs:
    return ((IP, 1.0), (SPOT_ORDER, weight))


# One request of the IP budget and of whichever Others budget applies (the
# limiter skips the key's without a key and the anonymous one with a key).
_OTHERS: Final = ((IP, 1.0), (OTHERS, 1.0), (OTHERS_ANONYMOUS, 1.0))

# The docs' "Contract group" and "SpotOrder group" tables: (method, path) -> costs.
_TABLE: Final[dict[tuple[str, str], _Costs]] = {
    ("POST", "/orders"): _contract(1),
    ("PUT", "/orders/replace"): _contract(1),
    ("DELETE", "/orders/cancel"): _contract(1),
    ("DELETE", "/orders/all"): _contract(3),
    ("DELETE", "/orders"): _contract(1),
    ("GET", "/orders/activeList"): _contract(1),
    ("GET", "/orders/active"): _contract(1),
    ("GET", "/accounts/accountPositions"): _contract(1),
    ("GET", "/accounts/positions"): _contract(25),
    ("POST", "/spot/orders"): _spot(1),
    ("PUT", "/spot/orders"): _spot(1),
    ("DELETE", "/spot/orders"): _spot(2),
    ("DELETE", "/spot/orders/all"): _spot(2),
    ("GET", "/spot/orders/active"): _spot(1),
    ("GET", "/spot/orders"): _spot(1),
}

WINDOWS: Final = (IP, CONTRACT, SPOT_ORDER, OTHERS, OTHERS_ANONYMOUS)


def price(request: Request) -> Sequence[Cost]:
    """One request of the IP budget, and the request's weight in its group."""
    return _TABLE.get((request.method, request.parts.path), _OTHERS)


# (header suffix, window for a signed request, window for an unsigned one).
_GROUPS: Final = (
    ("-contract", CONTRACT, CONTRACT),
    ("-spotorder", SPOT_ORDER, SPOT_ORDER),
    ("", OTHERS, OTHERS_ANONYMOUS),
)
_HEADERS: Final = tuple(
    (
        f"x-ratelimit-remaining{suffix}",
        f"x-ratelimit-capacity{suffix}",
        f"x-ratelimit-retry-after{suffix}",
        signed,
        unsigned,
    )
    for suffix, signed, unsigned in _GROUPS
)


def _server_time(headers: Mapping[str, str]) -> float | None:
    """The latest wall-clock second the response's ``Date`` header can stand for, or ``None``."""
    raw = headers.get("date")
    if raw is None:
        return None
    from email.utils import parsedate_to_datetime  # only read when a group is exhausted

    try:
        return parsedate_to_datetime(raw).timestamp() + 1.0
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def observe(request: Request, status: int, headers: Mapping[str, str]) -> Iterable[Observation]:
    """Each group's ``x-ratelimit-*`` counters the response carries, as observations."""
    out = []
    signed = "x-phemex-access-token" in request.headers
    for remaining_name, capacity_name, retry_name, signed_window, unsigned_window in _HEADERS:
        remaining = header_float(headers, remaining_name)
        capacity = header_float(headers, capacity_name)
        retry = header_float(headers, retry_name)
        if remaining is None and capacity is None and retry is None:
            continue
        if retry is not None and remaining is None:
            remaining = 0.0  # a reset countdown is "for current ratelimited user"
        reset_at = None
        if retry is not None and remaining is not None and remaining <= 0:
            now = _server_time(headers)
            if now is not None:
                reset_at = now + max(retry, 0.0)
        out.append(
            Observation(
                window=signed_window if signed else unsigned_window,
                remaining=remaining,
                limit=capacity,
                reset_at=reset_at,
            )
        )
    return out


LIMITS: Final = ExchangeLimits(
    exchange="phemex",
    hosts=frozenset({"api.phemex.com", "vapi.phemex.com"}),  # HOSTS in _auth.py
    windows=WINDOWS,
    price=price,
    observe=observe,
    source=SOURCE,
)
