"""Bybit v5's documented REST limits (https://bybit-exchange.github.io/docs/v5/rate-limit).

Rules
-----
* **Per IP**: "600 requests within a 5-second window per IP", shared by all
  traffic to ``api.bybit.com`` and ``api.bytick.com``. Bybit does not say the
  window is aligned to the clock, so it is ``"sliding"``.
* **Per UID and endpoint**: "based on the rolling time window per second and
  UID", so ``"sliding"``, ``scope="key"``, one budget per endpoint. Trade
  endpoints have one budget per product: the table gives one number spanning
  ``inverse`` and ``linear`` (counted together here, the stricter reading) and
  separate ones for ``option`` and ``spot``. The product is the request's
  ``category`` (query for GET, JSON body for POST); when it cannot be read, the
  request is charged to every product's budget of that endpoint.
* Every response reports the endpoint's counter: ``X-Bapi-Limit-Status`` (left),
  ``X-Bapi-Limit`` (the account's limit, which can be higher than the table:
  many limits are "upgradable") and ``X-Bapi-Limit-Reset-Timestamp``
  (milliseconds). :func:`observe` turns them into one :class:`Observation`.

Only the endpoints in the table below have a per-UID window; every request
counts against the IP window. The numbers are the "UTA2.0 Pro" column of the
table. ``api-demo`` and ``api-testnet`` are not included: the page does not say
they share these limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final, TypeAlias

from botters.protocol._request import Request
from botters.protocol.exchanges._limitkit import header_float, json_value, query_value
from botters.protocol.limits import Cost, ExchangeLimits, Observation, Window

__all__ = ["IP", "LIMITS", "observe", "price"]

SOURCE: Final = "https://bybit-exchange.github.io/docs/v5/rate-limit"

IP: Final = Window(
    name="bybit.ip", limit=600, period=5.0, kind="sliding", scope="ip", source=SOURCE
)

_Costs: TypeAlias = tuple[Cost, ...]


def _uid(name: str, per_second: float) -> Window:
    return Window(
        name=f"bybit.{name}",
        limit=per_second,
        period=1.0,
        kind="sliding",
        scope="key",
        source=SOURCE,
    )


def _one(window: Window) -> _Costs:
    return ((IP, 1.0), (window, 1.0))


_DERIVATIVES: Final = frozenset({"linear", "inverse"})


# botters' JSON bodies read '"category": "x"'; compact ones '"category":"x"'. Both are
# tried with bytes.__contains__ (C) before the general scan.
_CATEGORY_PATTERNS: Final = tuple(
    (pattern, name)
    for name in ("linear", "spot", "option", "inverse")
    for pattern in (f'"category": "{name}"'.encode(), f'"category":"{name}"'.encode())
)


def _body_category(body: bytes) -> str | None:
    for pattern, name in _CATEGORY_PATTERNS:
        if pattern in body:
            return name
    value = json_value(body, b'"category"')
    return None if value is None else value.decode("ascii", "replace")


class _ByCategory:
    """One endpoint whose budget depends on ``category``: derivatives, option, spot."""

    __slots__ = ("all", "derivatives", "option", "spot", "windows")

    def __init__(self, path: str, derivatives: float, option: float, spot: float) -> None:
        name = path.removeprefix("/v5/").replace("/", ".")
        d = _uid(f"{name}.derivatives", derivatives)
        o = _uid(f"{name}.option", option)
        s = _uid(f"{name}.spot", spot)
        self.windows = (d, o, s)
        self.derivatives = _one(d)
        self.option = _one(o)
        self.spot = _one(s)
        self.all: _Costs = ((IP, 1.0), (d, 1.0), (o, 1.0), (s, 1.0))

    def price(self, request: Request) -> _Costs:
        if request.method == "GET":
            raw = query_value(request.query, "category=")
            category = raw
        else:
            category = _body_category(request.body)
        if category in _DERIVATIVES:
            return self.derivatives
        if category == "spot":
            return self.spot
        if category == "option":
            return self.option
        return self.all


# Trade table, UTA2.0 Pro columns (inverse+linear, option, spot), per second (SOURCE).
_BY_CATEGORY: Final = {
    ("POST", "/v5/order/create"): _ByCategory("/v5/order/create", 10, 10, 20),
    ("POST", "/v5/order/amend"): _ByCategory("/v5/order/amend", 10, 10, 10),
    ("POST", "/v5/order/cancel"): _ByCategory("/v5/order/cancel", 10, 10, 20),
    ("POST", "/v5/order/cancel-all"): _ByCategory("/v5/order/cancel-all", 10, 1, 20),
    ("POST", "/v5/order/create-batch"): _ByCategory("/v5/order/create-batch", 10, 10, 20),
    ("POST", "/v5/order/amend-batch"): _ByCategory("/v5/order/amend-batch", 10, 10, 20),
    ("POST", "/v5/order/cancel-batch"): _ByCategory("/v5/order/cancel-batch", 10, 10, 20),
    ("POST", "/v5/order/pre-check"): _ByCategory("/v5/order/pre-check", 10, 10, 20),
}

# Endpoints with one per-UID budget for all products (SOURCE: Trade, Position and
# Account tables), per second.
_SHARED: Final = {
    ("POST", "/v5/order/disconnected-cancel-all"): 5,
    ("GET", "/v5/order/realtime"): 50,
    ("GET", "/v5/order/history"): 50,
    ("GET", "/v5/execution/list"): 50,
    ("GET", "/v5/order/spot-borrow-check"): 50,
    ("GET", "/v5/position/list"): 50,
    ("GET", "/v5/position/closed-pnl"): 50,
    ("POST", "/v5/position/set-leverage"): 10,
    ("POST", "/v5/position/switch-mode"): 10,
    ("POST", "/v5/position/trading-stop"): 10,
    ("POST", "/v5/position/set-auto-add-margin"): 10,
    ("POST", "/v5/position/add-margin"): 10,
    ("GET", "/v5/account/wallet-balance"): 50,
    ("GET", "/v5/account/borrow-history"): 50,
    ("GET", "/v5/account/collateral-info"): 50,
    ("GET", "/v5/account/transaction-log"): 25,
    ("GET", "/v5/account/fee-rate"): 5,
    ("GET", "/v5/account/info"): 50,
    ("POST", "/v5/account/set-margin-mode"): 5,
}

_IP_ONLY: Final = ((IP, 1.0),)


def _build() -> dict[str, dict[str, _Costs | _ByCategory]]:
    table: dict[str, dict[str, _Costs | _ByCategory]] = {}
    for (method, path), by_category in _BY_CATEGORY.items():
        table.setdefault(path, {})[method] = by_category
    for (method, path), per_second in _SHARED.items():
        name = path.removeprefix("/v5/").replace("/", ".")
        table.setdefault(path, {})[method] = _one(_uid(name, per_second))
    return table


_TABLE: Final = _build()

WINDOWS: Final = (
    IP,
    *(w for e in _BY_CATEGORY.values() for w in e.windows),
    *(costs[1][0] for m in _TABLE.values() for costs in m.values() if isinstance(costs, tuple)),
)


def price(request: Request) -> Sequence[Cost]:
    """One unit of the IP window, and one of the endpoint's per-UID window if it has one."""
    by_method = _TABLE.get(request.parts.path)
    if by_method is None:
        return _IP_ONLY
    entry = by_method.get(request.method)
    if entry is None:
        return _IP_ONLY
    if isinstance(entry, tuple):
        return entry
    return entry.price(request)


def observe(request: Request, status: int, headers: Mapping[str, str]) -> Iterable[Observation]:
    """The endpoint's ``X-Bapi-Limit*`` counters, as an observation of its per-UID window."""
    remaining = header_float(headers, "x-bapi-limit-status")
    limit = header_float(headers, "x-bapi-limit")
    if remaining is None and limit is None:
        return ()
    windows = [w for w, _ in price(request) if w.scope == "key"]
    if len(windows) != 1:  # no per-UID window, or the product could not be told
        return ()
    reset_ms = header_float(headers, "x-bapi-limit-reset-timestamp")
    return (
        Observation(
            window=windows[0],
            remaining=remaining,
            limit=limit,
            reset_at=None if reset_ms is None else reset_ms / 1000.0,
        ),
    )


LIMITS: Final = ExchangeLimits(
    exchange="bybit",
    hosts=frozenset({"api.bybit.com", "api.bytick.com"}),
    windows=WINDOWS,
    price=price,
    observe=observe,
    source=SOURCE,
)
