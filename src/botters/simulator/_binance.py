"""The Binance Spot dialect: market streams, the listenKey user data stream, signed REST.

Market streams (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams):

* ``/ws/<stream>`` (raw: each event as it is), ``/stream?streams=<a>/<b>``
  (combined: each event wrapped ``{"stream": name, "data": event}``) and a
  bare ``/ws``. Stream names are lower-case: ``<symbol>@depth`` and
  ``<symbol>@depth@100ms`` (diffs), ``<symbol>@depth<5|10|20>`` with an
  optional ``@100ms`` (partial books), ``<symbol>@trade``,
  ``<symbol>@aggTrade`` and ``<symbol>@bookTicker``; a listenKey names the
  user data stream. Every market tick is one update window: both diff
  speeds publish every tick whose book changed.
* ``{"method": "SUBSCRIBE" | "UNSUBSCRIBE", "params": [...], "id": n}`` is
  answered ``{"result": null, "id": n}``, ``LIST_SUBSCRIPTIONS`` with the
  names, ``SET_PROPERTY ["combined", bool]`` and ``GET_PROPERTY
  ["combined"]`` as documented; a bad request gets ``{"code": 2 | 3, "msg":
  ..., "id": n}``. The server sends a PING frame every 20 s and drops a
  connection that answered none of three, i.e. had a minute to answer
  (``Simulator(ws_ping_interval=)`` changes the interval); client PINGs are
  answered with PONGs.
* Diffs are ``{"e": "depthUpdate", "E", "s", "U", "u", "b", "a"}`` with
  absolute quantities (``"0.00000000"`` removes a level), covering the whole
  book. Update ids count matching-engine changes: each window starts with a
  few (seeded) changes that leave no trace in the event (an order placed
  and cancelled), then one id per level the event carries, so
  ``U == previous u + 1``.

REST (https://developers.binance.com/docs/binance-spot-api-docs/rest-api):

* ``GET /api/v3/depth`` answers the book as it is now, ``{"lastUpdateId",
  "bids", "asks"}`` (``limit`` levels a side, 100 by default, at most 5000).
  Like Binance's engine it runs ahead of the stream: ``lastUpdateId`` counts
  the traceless changes of the window under way, so it lies in the next
  event's ``[U; u)`` and a client following Binance's documented algorithm
  (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#how-to-manage-a-local-order-book-correctly)
  syncs whichever reading of step 5 it implements. ``RestFault(book_age=n)``
  answers the book of ``n`` events ago instead (the diffs buffered since must
  be replayed); ``Fault(skip_diff_after=...)`` makes a gap (``U > u + 1``).
* ``GET /api/v3/time``, ``GET /api/v3/exchangeInfo``, ``GET /api/v3/ticker/bookTicker``.
* USER_STREAM (``X-MBX-APIKEY`` only): ``POST /api/v3/userDataStream`` ->
  ``{"listenKey"}`` (the active key again, extended, if there is one), ``PUT``
  keeps it alive, ``DELETE`` closes it; an unknown key is ``-1125``. A key
  expires 60 minutes after its last keep-alive by the simulator's ``clock``;
  its connections then get ``{"e": "listenKeyExpired", ...}``.
* SIGNED (see ``_binance_auth``): ``POST /api/v3/order`` (``LIMIT`` with
  ``timeInForce``, ``MARKET``; ``quantity``; answered in the ``FULL`` shape,
  or ``ACK``/``RESULT`` by ``newOrderRespType``), ``DELETE /api/v3/order``,
  ``GET /api/v3/order``, ``GET /api/v3/openOrders``, ``GET /api/v3/account``.
  Orders push ``executionReport`` (``NEW``, ``TRADE``, ``CANCELED``) and,
  when balances change, ``outboundAccountPosition`` to the user data stream.
  Balances are checked: an order the free balance cannot pay for is
  ``-2010``. Fees are zero.

Prices and quantities print with eight decimals (``"65000.01000000"``), as
Binance Spot prints them. Errors are ``{"code": -n, "msg": ...}`` with HTTP
400 (401 for key errors).
"""

from __future__ import annotations

import json
import logging
import random
import string
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, ClassVar, Final

from aiohttp import web

from ._account import Fill, Order, OrderError, OrderRequest
from ._binance_auth import check_api_key, check_signed, mandatory, parse_params
from ._books import BookView
from ._connection import SimConnection
from ._dialect import Dialect, RestError, Route, dumps
from ._engine import TickResult
from ._faults import RestFault
from ._market import Market, MarketSpec

__all__ = ["DEMO_APIS", "MARKETS", "Binance", "UserStreamRequest"]

logger = logging.getLogger("botters.simulator")

DEMO_APIS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {"binance": ("botters-binance-demo-key", "botters-binance-demo-secret")}
)

MARKETS: Final[Mapping[str, MarketSpec]] = MappingProxyType(
    {
        "BTCUSDT": MarketSpec(
            product_code="BTCUSDT", start_price="65000.00", price_step="0.01", size_step="0.00001"
        ),
        "ETHUSDT": MarketSpec(
            product_code="ETHUSDT", start_price="3500.00", price_step="0.01", size_step="0.0001"
        ),
    }
)
"""Binance Spot pairs by symbol."""

LISTEN_KEY_LIFETIME: Final = 3600.0
"""Seconds a listenKey lives after its last keep-alive (60 minutes)."""
STARTING_BASE: Final = Decimal(1)
"""Every traded base asset starts with this balance (so that a SELL can be tried at once)."""
_HISTORY: Final = 1000
"""Book events kept per symbol for ``RestFault(book_age=...)``."""
_PARTIAL_DEPTHS: Final = (5, 10, 20)
_TIME_IN_FORCE: Final = ("GTC", "IOC", "FOK")
_KEY_CHARS: Final = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True, kw_only=True)
class UserStreamRequest:
    """One listenKey request the simulator received (see :meth:`Simulator.user_stream_requests`)."""

    method: str
    """``"POST"`` (create), ``"PUT"`` (keep alive) or ``"DELETE"`` (close)."""
    listen_key: str
    """The key created, kept alive or closed (as sent, for a refused one; ``""`` if none)."""
    time: float
    """The simulator's wall clock (``clock=``) when it arrived."""
    accepted: bool
    """Whether the key was known and active (a POST always is)."""


@dataclass(slots=True)
class _ListenKey:
    key: str
    created: float
    renewed: float
    active: bool = True


@dataclass(frozen=True, slots=True)
class _Event:
    """One published diff event: its ids and, to roll the book back, each level's old size."""

    first: int
    last: int
    hidden: int
    """The traceless engine updates the window started with."""
    changes: list[tuple[bool, int, int]]
    """``(is_bid, ticks, old lots)`` of every level the event carried."""


class _DepthBook:
    """One symbol's diff stream: what it published, its update ids, its recent events."""

    __slots__ = ("history", "last", "pending", "rng", "view")

    def __init__(self, market: Market, rng: random.Random) -> None:
        self.view = BookView(market, None)
        self.rng = rng
        self.last = rng.randint(10**9, 2 * 10**9)
        self.pending = rng.randint(1, 5)
        self.history: deque[_Event] = deque(maxlen=_HISTORY)

    @property
    def snapshot_id(self) -> int:
        """The engine's update id now: the last event's ``u`` plus the window's hidden updates."""
        return self.last + self.pending

    def advance(
        self,
    ) -> tuple[int, int, int, list[tuple[int, int]], list[tuple[int, int]]] | None:
        """Close the window: ``(U, u, previous u, bids, asks)``, or ``None`` if nothing shows."""
        old_bids, old_asks = self.view.bids, self.view.asks
        diff = self.view.advance()
        if diff is None:
            self.pending += self.rng.randint(0, 2)
            return None
        changes = [(True, p, old_bids.get(p, 0)) for p, _ in diff.bids]
        changes += [(False, p, old_asks.get(p, 0)) for p, _ in diff.asks]
        previous = self.last
        first = previous + 1
        last = previous + self.pending + len(changes)
        self.history.append(_Event(first, last, self.pending, changes))
        self.last = last
        self.pending = self.rng.randint(1, 5)
        return first, last, previous, diff.bids, diff.asks

    def snapshot(self, age: int) -> tuple[int, list[tuple[int, int]], list[tuple[int, int]]]:
        """``(lastUpdateId, bids, asks)`` as the book was ``age`` events ago (all levels)."""
        bids, asks = dict(self.view.bids), dict(self.view.asks)
        if age <= 0 or not self.history:
            return self.snapshot_id, *_sorted(bids, asks)
        events = list(self.history)[-age:]
        for event in reversed(events):
            for is_bid, price, lots in event.changes:
                side = bids if is_bid else asks
                if lots:
                    side[price] = lots
                else:
                    side.pop(price, None)
        oldest = events[0]
        return oldest.first + oldest.hidden - 1, *_sorted(bids, asks)


def _sorted(
    bids: dict[int, int], asks: dict[int, int]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    return sorted(bids.items(), reverse=True), sorted(asks.items())


def _bad(code: int, message: str) -> RestError:
    return RestError(400, code, message)


def _text8(value: Decimal) -> str:
    return format(value, ".8f")


class Binance(Dialect):
    """Binance Spot: market streams, the listenKey user data stream, signed REST."""

    name = "binance"
    hosts = ("api.binance.com", "stream.binance.com")
    ws_paths = ("/ws", "/stream")
    ws_patterns = ("/ws/{streams}",)
    markets = MARKETS
    default_products = ("BTCUSDT",)
    demo_apis = DEMO_APIS
    currency = "USDT"
    unified = True
    window = 5.0
    ping_interval = 20.0
    user_stream_path: ClassVar[str] = "/api/v3/userDataStream"
    diff_streams: ClassVar[tuple[str, ...]] = ("depth", "depth@100ms")
    """The diff stream names after ``<symbol>@`` (every one publishes every event)."""
    other_streams: ClassVar[tuple[str, ...]] = ("trade", "aggTrade", "bookTicker", "ticker")
    partial_depths: ClassVar[tuple[int, ...]] = _PARTIAL_DEPTHS
    max_depth_limit: ClassVar[int] = 5000
    default_depth_limit: ClassVar[str] = "100"
    default_response_type: ClassVar[str] = "FULL"
    listen_key_param: ClassVar[bool] = True
    """Whether a keep-alive or close must name its listenKey (USDⓈ-M's need not)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        seed = self.sim.seed
        self._books = {
            symbol: _DepthBook(market, random.Random(f"{seed}:{symbol}:binance-depth"))
            for symbol, market in self.engine.markets.items()
        }
        self._last_top = {symbol: self._top(m) for symbol, m in self.engine.markets.items()}
        self._trades = dict.fromkeys(self.engine.markets, 0)
        self._by_stream = {symbol.lower(): symbol for symbol in self.engine.markets}
        self._combined: set[int] = set()
        self._key_rng = random.Random(f"{seed}:binance-listen-keys")
        self._listen_keys: dict[str, _ListenKey] = {}
        self._user_requests: list[UserStreamRequest] = []
        self._account_update = 0.0
        self._signed: tuple[web.Request, dict[str, str]] | None = None
        account = self.engine.account
        for market in self.engine.markets.values():
            if not market.spec.margin:
                account.balances.setdefault(market.spec.base, STARTING_BASE)

    # ============================================================= printing

    def price_text(self, spec: MarketSpec, ticks: int) -> str:
        """Eight decimals: ``"65000.01000000"``."""
        return _text8(spec.price(ticks))

    def size_text(self, spec: MarketSpec, lots: int) -> str:
        """Eight decimals: ``"0.12500000"``."""
        return _text8(spec.size(lots))

    def _levels(self, spec: MarketSpec, levels: Iterable[tuple[int, int]]) -> list[list[str]]:
        return [[self.price_text(spec, p), self.size_text(spec, s)] for p, s in levels]

    # ============================================================= REST

    def routes(self) -> list[Route]:
        """The ``/api/v3`` endpoints served."""
        return [
            Route("GET", "/api/v3/depth", self._depth, private=False),
            Route("GET", "/api/v3/time", self._time, private=False),
            Route("GET", "/api/v3/ping", self._ping, private=False),
            Route("GET", "/api/v3/exchangeInfo", self._exchange_info, private=False),
            Route("GET", "/api/v3/ticker/bookTicker", self._book_ticker, private=False),
            Route("POST", self.user_stream_path, self._user_stream),
            Route("PUT", self.user_stream_path, self._user_stream),
            Route("DELETE", self.user_stream_path, self._user_stream),
            Route("POST", "/api/v3/order", self._new_order),
            Route("DELETE", "/api/v3/order", self._cancel_order),
            Route("GET", "/api/v3/order", self._query_order),
            Route("GET", "/api/v3/openOrders", self._open_orders),
            Route("GET", "/api/v3/account", self._account),
        ]

    def authenticate(self, request: web.Request, body: bytes) -> str:
        """``X-MBX-APIKEY`` (USER_STREAM), or the key and signature (SIGNED)."""
        self._expire_keys()
        if request.path == self.user_stream_path:
            return check_api_key(request.headers, self.keys)
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise _bad(-1100, "Illegal characters found in the body.") from None
        key, params = check_signed(
            request.headers,
            request.rel_url.raw_query_string,
            text,
            self.keys,
            now=self.clock(),
            window=self.sim._window,
        )
        self._signed = (request, params)  # for the endpoint, which runs next (see _params)
        return key

    def error_response(self, error: RestError) -> web.Response:
        """``{"code": -n, "msg": ...}`` with the error's HTTP status."""
        return web.json_response(
            {"code": error.code, "msg": error.message}, status=error.status, dumps=dumps
        )

    def fault_response(self, status: int) -> web.Response:
        """A ``RestFault(status=...)``: ``-1001`` (server error) or ``-1003`` (429)."""
        if status == 429:
            return self.error_response(RestError(429, -1003, "Too many requests (simulated)."))
        return self.error_response(
            RestError(status, -1001, "Internal error; unable to process your request.")
        )

    def check_rest_fault(self, fault: RestFault) -> None:
        """Every REST fault applies (``book_age`` to ``GET /api/v3/depth``)."""

    def _answer(self, data: Any) -> web.Response:
        return web.json_response(data, dumps=dumps)

    def _params(self, request: web.Request) -> dict[str, str]:
        """The SIGNED request's parameters, or a public one's query."""
        signed, self._signed = self._signed, None
        if signed is not None and signed[0] is request:
            return signed[1]
        out: dict[str, str] = {}
        for name, value in parse_params(request.rel_url.raw_query_string):
            if name in out:
                raise _bad(-1101, f"Duplicate values for parameter '{name}'.")
            out[name] = value
        return out

    def _market(self, params: Mapping[str, str]) -> Market:
        symbol = params.get("symbol", "")
        if not symbol:
            raise mandatory("symbol")
        market = self.engine.markets.get(symbol)
        if market is None:
            raise _bad(-1121, "Invalid symbol.")
        return market

    def _depth(self, request: web.Request, body: bytes) -> web.Response:
        params = self._params(request)
        market = self._market(params)
        limit_text = params.get("limit", self.default_depth_limit)
        if not limit_text.isdigit() or int(limit_text) < 1:
            raise _bad(
                -1100, "Illegal characters found in parameter 'limit'; legal range is '1..'."
            )
        limit = min(int(limit_text), self.max_depth_limit)
        fault = self.rest_fault()
        age = fault.book_age if fault is not None and fault.book_age else 0
        last_id, bids, asks = self._books[market.product_code].snapshot(age)
        spec = market.spec
        return self._answer(
            {
                "lastUpdateId": last_id,
                **self._snapshot_stamps(),
                "bids": self._levels(spec, bids[:limit]),
                "asks": self._levels(spec, asks[:limit]),
            }
        )

    def _snapshot_stamps(self) -> dict[str, int]:
        """Fields of a depth snapshot besides the ids and levels (none on spot)."""
        return {}

    def _time(self, request: web.Request, body: bytes) -> web.Response:
        return self._answer({"serverTime": round(self.clock() * 1000)})

    def _ping(self, request: web.Request, body: bytes) -> web.Response:
        return self._answer({})

    def _exchange_info(self, request: web.Request, body: bytes) -> web.Response:
        params = self._params(request)
        markets = (
            [self._market(params)] if "symbol" in params else list(self.engine.markets.values())
        )
        return self._answer(
            {
                "timezone": "UTC",
                "serverTime": round(self.clock() * 1000),
                "rateLimits": [
                    {
                        "rateLimitType": "REQUEST_WEIGHT",
                        "interval": "MINUTE",
                        "intervalNum": 1,
                        "limit": 6000,
                    },
                    {
                        "rateLimitType": "ORDERS",
                        "interval": "SECOND",
                        "intervalNum": 10,
                        "limit": 100,
                    },
                ],
                "exchangeFilters": [],
                "symbols": [self._symbol_info(m.spec) for m in markets],
            }
        )

    @staticmethod
    def _symbol_info(spec: MarketSpec) -> dict[str, Any]:
        return {
            "symbol": spec.product_code,
            "status": "TRADING",
            "baseAsset": spec.base,
            "baseAssetPrecision": 8,
            "quoteAsset": spec.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "orderTypes": ["LIMIT", "MARKET"],
            "icebergAllowed": False,
            "ocoAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": _text8(spec.tick),
                    "maxPrice": "1000000.00000000",
                    "tickSize": _text8(spec.tick),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": _text8(spec.lot),
                    "maxQty": "9000.00000000",
                    "stepSize": _text8(spec.lot),
                },
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER"],
        }

    def _book_ticker(self, request: web.Request, body: bytes) -> web.Response:
        params = self._params(request)
        if "symbol" in params:
            return self._answer(self.ticker(self._market(params).product_code))
        return self._answer([self.ticker(symbol) for symbol in self.engine.markets])

    # ----------------------------------------------------------- listenKey

    def _expire_keys(self) -> None:
        now = self.clock()
        for entry in self._listen_keys.values():
            if entry.active and now - entry.renewed > LISTEN_KEY_LIFETIME:
                self._end_key(entry, expired=True)

    def _end_key(self, entry: _ListenKey, *, expired: bool) -> None:
        entry.active = False
        if expired:
            logger.info("listenKey %s... expired", entry.key[:8])
            event = {"e": "listenKeyExpired", "E": self.now_ms(), "listenKey": entry.key}
            self._send_stream(entry.key, event)

    def _active_key(self) -> _ListenKey | None:
        return next((k for k in self._listen_keys.values() if k.active), None)

    def _user_stream(self, request: web.Request, body: bytes) -> web.Response:
        now = self.clock()
        method = request.method
        if method == "POST":
            entry = self._active_key()
            if entry is None:
                key = "".join(self._key_rng.choice(_KEY_CHARS) for _ in range(64))
                entry = self._listen_keys[key] = _ListenKey(key, now, now)
            entry.renewed = now
            self._user_requests.append(
                UserStreamRequest(method="POST", listen_key=entry.key, time=now, accepted=True)
            )
            return self._answer({"listenKey": entry.key})
        params = self._params(request)
        if not params and body:
            params = dict(parse_params(body.decode(errors="replace")))
        key = self._named_key(params)
        entry = self._listen_keys.get(key) if key else None
        accepted = entry is not None and entry.active
        self._user_requests.append(
            UserStreamRequest(method=method, listen_key=key, time=now, accepted=accepted)
        )
        if not key and self.listen_key_param:
            raise mandatory("listenKey")
        if entry is None or not entry.active:
            raise _bad(-1125, "This listenKey does not exist.")
        if method == "PUT":
            entry.renewed = now
            return self._answer(self._keepalive_answer(entry.key))
        self._end_key(entry, expired=False)
        return self._answer({})

    def _named_key(self, params: Mapping[str, str]) -> str:
        """The listenKey a PUT or DELETE names (spot: the ``listenKey`` parameter)."""
        return params.get("listenKey", "")

    def _keepalive_answer(self, key: str) -> dict[str, Any]:
        """The answer to a keep-alive (spot: ``{}``)."""
        return {}

    def user_stream_requests(self) -> tuple[UserStreamRequest, ...]:
        """Every listenKey request so far, oldest first."""
        return tuple(self._user_requests)

    def active_listen_keys(self) -> tuple[str, ...]:
        """The listenKeys alive now."""
        self._expire_keys()
        return tuple(k.key for k in self._listen_keys.values() if k.active)

    def expire_listen_key(self, key: str) -> None:
        """End ``key`` now as if its 60 minutes were up (``KeyError`` if never created)."""
        entry = self._listen_keys[key]
        if entry.active:
            self._end_key(entry, expired=True)

    # -------------------------------------------------------------- orders

    def _decimal(self, params: Mapping[str, str], name: str, step: Decimal, filt: str) -> Decimal:
        text = params.get(name, "")
        if not text:
            raise mandatory(name)
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise _bad(-1100, f"Illegal characters found in parameter '{name}'.") from None
        if not value.is_finite() or value <= 0:
            raise _bad(-1100, f"Illegal characters found in parameter '{name}'.")
        if value % step:
            raise _bad(-1013, f"Filter failure: {filt}")
        return value

    def _free(self, asset: str) -> Decimal:
        balance = self.engine.account.balances.get(asset, Decimal(0))
        return balance - self._locked().get(asset, Decimal(0))

    def _locked(self) -> dict[str, Decimal]:
        locked: dict[str, Decimal] = {}
        for order in self.engine.account.orders.values():
            if order.state != "ACTIVE" or order.type != "LIMIT":
                continue
            spec = self.engine.markets[order.symbol].spec
            left = order.size - order.executed_size
            asset, amount = (
                (spec.quote, left * order.price) if order.side == "BUY" else (spec.base, left)
            )
            locked[asset] = locked.get(asset, Decimal(0)) + amount
        return locked

    def _new_order(self, request: web.Request, body: bytes) -> web.Response:
        params = self._params(request)
        market = self._market(params)
        spec = market.spec
        side = params.get("side", "")
        if not side:
            raise mandatory("side")
        if side not in ("BUY", "SELL"):
            raise _bad(-1100, "Illegal characters found in parameter 'side'.")
        order_type = params.get("type", "")
        if not order_type:
            raise mandatory("type")
        if order_type not in ("LIMIT", "MARKET"):
            raise _bad(-1116, "Invalid orderType.")
        if order_type == "MARKET" and "quoteOrderQty" in params:
            raise _bad(-1104, "quoteOrderQty is not supported by the simulator.")
        qty = self._decimal(params, "quantity", spec.lot, "LOT_SIZE")
        price = Decimal(0)
        time_in_force = "GTC"
        if order_type == "LIMIT":
            time_in_force = params.get("timeInForce", "")
            if not time_in_force:
                raise mandatory("timeInForce")
            if time_in_force not in _TIME_IN_FORCE:
                raise _bad(-1115, "Invalid timeInForce.")
            price = self._decimal(params, "price", spec.tick, "PRICE_FILTER")
        elif "price" in params or "timeInForce" in params:
            raise _bad(-1106, "Parameter 'price' sent when not required.")
        response_type = params.get("newOrderRespType", self.default_response_type)
        if response_type not in ("ACK", "RESULT", "FULL"):
            raise _bad(-1100, "Illegal characters found in parameter 'newOrderRespType'.")
        account = self.engine.account
        number = account.next_number
        client_id = params.get("newClientOrderId", "") or f"sim{self.sim.seed}x{number:016d}"[:36]
        if len(client_id) > 36:
            raise _bad(-1100, "Illegal characters found in parameter 'newClientOrderId'.")
        existing = account.find(client_id=client_id)
        if existing is not None and existing.state == "ACTIVE":
            raise _bad(-2010, "Duplicate order sent.")
        self._check_funds(market, side, order_type, qty, price)
        now = self.sim._now()
        order = account.place(
            OrderRequest(
                symbol=market.product_code,
                side=side,
                type=order_type,
                size=qty,
                price=price,
                time_in_force=time_in_force,
                expire=float("inf"),
                order_id=str(number),
                client_id=client_id,
            ),
            now=now,
        )
        self.sim._counts["orders"] += 1
        logger.debug("order %s accepted", order.order_id)
        self._report(order, "NEW", None)
        accepted = self._order_row(order)
        fill = self.engine.match(order, now=now)
        fills = [fill] if fill is not None else []
        if fills:
            self._on_fills(fills, maker=False)
        elif time_in_force in ("IOC", "FOK"):
            account.cancel(order, now)
            self._report(order, "EXPIRED", None)
        return self._answer(self._order_answer(order, accepted, fills, response_type, now))

    def _check_funds(
        self, market: Market, side: str, order_type: str, qty: Decimal, price: Decimal
    ) -> None:
        """Refuse an order the free balance cannot pay for (spot)."""
        spec = market.spec
        cost_price = price if order_type == "LIMIT" else spec.price(market.best_ask)
        if side == "BUY" and self._free(spec.quote) < qty * cost_price:
            raise _bad(-2010, "Account has insufficient balance for requested action.")
        if side == "SELL" and self._free(spec.base) < qty:
            raise _bad(-2010, "Account has insufficient balance for requested action.")

    def _order_answer(
        self,
        order: Order,
        accepted: dict[str, Any],
        fills: list[Fill],
        response_type: str,
        now: float,
    ) -> dict[str, Any]:
        """The answer to a new order (``accepted``: its row before matching)."""
        spec = self.engine.markets[order.symbol].spec
        side = order.side
        row = self._order_row(order)
        if response_type == "ACK":
            return {
                "symbol": order.symbol,
                "orderId": int(order.order_id),
                "orderListId": -1,
                "clientOrderId": order.client_id,
                "transactTime": round(now * 1000),
            }
        result = {
            "symbol": order.symbol,
            "orderId": int(order.order_id),
            "orderListId": -1,
            "clientOrderId": order.client_id,
            "transactTime": round(now * 1000),
            **{k: row[k] for k in _RESULT_FIELDS},
        }
        if response_type == "FULL":
            result["fills"] = [
                {
                    "price": _text8(f.price),
                    "qty": _text8(f.size),
                    "commission": "0.00000000",
                    "commissionAsset": spec.base if side == "BUY" else spec.quote,
                    "tradeId": f.number,
                }
                for f in fills
            ]
        return result

    def _find(self, params: Mapping[str, str]) -> Order:
        market = self._market(params)
        account = self.engine.account
        order_id, client_id = params.get("orderId", ""), params.get("origClientOrderId", "")
        if order_id:
            order = account.find(order_id=order_id)
        elif client_id:
            order = account.find(client_id=client_id)
        else:
            raise _bad(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        if order is None or order.symbol != market.product_code:
            raise _bad(-2013, "Order does not exist.")
        return order

    def _cancel_order(self, request: web.Request, body: bytes) -> web.Response:
        params = self._params(request)
        try:
            order = self._find(params)
            self.engine.account.cancel(order, self.sim._now())
        except (RestError, OrderError):
            raise _bad(-2011, "Unknown order sent.") from None
        cancel_id = params.get("newClientOrderId", "") or f"cancel{order.order_id}"
        self._report(order, "CANCELED", None, cancel_id=cancel_id)
        spec = self.engine.markets[order.symbol].spec
        self._account_push([spec.quote, spec.base])
        return self._answer(self._cancel_answer(order, cancel_id))

    def _cancel_answer(self, order: Order, cancel_id: str) -> dict[str, Any]:
        """The answer to a cancel."""
        row = self._order_row(order)
        return {
            "symbol": order.symbol,
            "origClientOrderId": order.client_id,
            "orderId": int(order.order_id),
            "orderListId": -1,
            "clientOrderId": cancel_id,
            "transactTime": round(self.sim._now() * 1000),
            **{k: row[k] for k in _RESULT_FIELDS if k not in ("workingTime",)},
        }

    def _query_order(self, request: web.Request, body: bytes) -> web.Response:
        return self._answer(self._order_row(self._find(self._params(request))))

    def _open_orders(self, request: web.Request, body: bytes) -> web.Response:
        params = self._params(request)
        symbol = self._market(params).product_code if "symbol" in params else None
        rows = [
            self._order_row(o)
            for o in self.engine.account.orders.values()
            if o.state == "ACTIVE" and (symbol is None or o.symbol == symbol)
        ]
        return self._answer(rows)

    def _account(self, request: web.Request, body: bytes) -> web.Response:
        return self._answer(self.balance())

    # ============================================================= WebSocket

    def serves_ws(self, path: str) -> bool:
        """``/ws``, ``/stream`` and ``/ws/<stream>``."""
        if path in self.ws_paths:
            return True
        rest = path.removeprefix("/ws/")
        return rest != path and bool(rest) and "/" not in rest

    def on_open(self, conn: SimConnection, request: web.Request) -> None:
        """Subscribe the streams the URL names (``/ws/<name>``, ``/stream?streams=``)."""
        if request.path == "/stream":
            self._combined.add(conn._number)
            names = [n for n in request.query.get("streams", "").split("/") if n]
        elif request.path.startswith("/ws/"):
            names = [request.match_info.get("streams", "")]
        else:
            names = []
        for name in names:
            if self._stream_error(name) is None:
                self._subscribe_one(conn, name)
            else:
                logger.warning("connection #%d: no such stream %r", conn._number, name)

    def on_binary(self, conn: SimConnection, data: bytes) -> None:
        """Binary frames are not requests."""
        self._error(conn, 3, "Invalid JSON: binary frames are not requests", None)

    def _error(self, conn: SimConnection, code: int, message: str, request_id: Any) -> None:
        logger.warning("connection #%d: rejected request: %s", conn._number, message)
        reply: dict[str, Any] = {"code": code, "msg": message}
        if request_id is not None:
            reply["id"] = request_id
        conn._reply(dumps(reply))

    def on_text(self, conn: SimConnection, text: str) -> None:
        """One ``{"method": ..., "params": ..., "id": ...}`` request."""
        try:
            msg = json.loads(text)
        except ValueError:
            self._error(conn, 3, "Invalid JSON: expected value at line 1 column 1", None)
            return
        if not isinstance(msg, dict):
            self._error(conn, 3, "Invalid JSON: expected an object", None)
            return
        request_id = msg.get("id")
        if request_id is not None and not (
            (isinstance(request_id, int) and not isinstance(request_id, bool) and request_id >= 0)
            or (isinstance(request_id, str) and len(request_id) <= 36)
        ):
            self._error(conn, 1, "Invalid value type: expected u64 or string", None)
            return
        method = msg.get("method")
        params = msg.get("params", [])
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            self._subscribe(conn, method, params, request_id)
        elif method == "LIST_SUBSCRIPTIONS":
            conn._reply(dumps({"result": sorted(conn._subscriptions), "id": request_id}))
        elif method == "SET_PROPERTY":
            if (
                not isinstance(params, list)
                or len(params) != 2
                or params[0] != "combined"
                or not isinstance(params[1], bool)
            ):
                self._error(conn, 2, 'Invalid request: expected ["combined", bool]', request_id)
                return
            if params[1]:
                self._combined.add(conn._number)
            else:
                self._combined.discard(conn._number)
            conn._reply(dumps({"result": None, "id": request_id}))
        elif method == "GET_PROPERTY":
            if params != ["combined"]:
                self._error(conn, 0, "Unknown property", request_id)
                return
            combined = conn._number in self._combined
            conn._reply(dumps({"result": combined, "id": request_id}))
        else:
            self._error(conn, 2, "Invalid request: unknown method", request_id)

    def _stream_error(self, name: Any) -> str | None:
        """Why ``name`` is no stream here (``None`` if it is one)."""
        if not isinstance(name, str):
            return "Invalid value type: expected a string"
        if name in self._listen_keys:
            return None
        symbol_text, at, kind = name.partition("@")
        if not at or symbol_text not in self._by_stream:
            return f"Invalid request: unknown stream {name[:64]!r}"
        if kind in self.diff_streams or kind in self.other_streams:
            return None
        levels, _, speed = kind.removeprefix("depth").partition("@")
        if (
            kind.startswith("depth")
            and levels.isdigit()
            and int(levels) in self.partial_depths
            and speed in ("", "100ms")
        ):
            return None
        return f"Invalid request: unknown stream {name[:64]!r}"

    def _subscribe(self, conn: SimConnection, method: str, params: Any, request_id: Any) -> None:
        if not isinstance(params, list) or not params:
            self._error(conn, 1, "Invalid value type: expected a list of streams", request_id)
            return
        for name in params:
            error = self._stream_error(name)
            if error is not None:
                self._error(conn, 2, error, request_id)
                return
        conn._reply(dumps({"result": None, "id": request_id}))
        for name in params:
            if method == "UNSUBSCRIBE":
                conn._forget(name)
                conn._subscriptions.pop(name, None)
            elif name not in conn._subscriptions:
                self._subscribe_one(conn, name)

    def _subscribe_one(self, conn: SimConnection, name: str) -> None:
        conn._forget(name)
        conn._subscriptions[name] = None

    # ================================================================ market

    def _render(self, conn: SimConnection, stream: str, raw: str) -> str:
        if conn._number in self._combined:
            return f'{{"stream":{dumps(stream)},"data":{raw}}}'
        return raw

    def _subscribers(self, stream: str) -> list[SimConnection]:
        return [c for c in self.sim._connections if c._open and stream in c._subscriptions]

    def _send_stream(self, stream: str, event: Mapping[str, Any]) -> None:
        subscribers = self._subscribers(stream)
        if subscribers:
            raw = dumps(event)
            for conn in subscribers:
                conn._send(self._render(conn, stream, raw))

    def on_tick(self, result: TickResult) -> None:
        """Private pushes of the fills, then diffs, partial books, trades, book tickers."""
        self._expire_keys()
        if result.fills:
            self._on_fills(result.fills, maker=True)
        market = result.market
        symbol = market.product_code
        name = symbol.lower()
        spec = market.spec
        book = self._books[symbol]
        event = book.advance()
        now = self.now_ms()
        if event is not None:
            first, last, previous, bids, asks = event
            raw = dumps(
                self._depth_event(
                    symbol,
                    first,
                    last,
                    previous,
                    self._levels(spec, bids),
                    self._levels(spec, asks),
                )
            )
            for stream in (f"{name}@{kind}" for kind in self.diff_streams):
                for conn in self._subscribers(stream):
                    conn._send_diff(stream, self._render(conn, stream, raw))
            self._partial_books(market, book.last)
        for trade in result.data.trades:
            price, qty = self.price_text(spec, trade.price), self.size_text(spec, trade.size)
            stamp = round(trade.time * 1000)
            maker = trade.side == "SELL"
            self._send_stream(
                f"{name}@trade",
                {
                    "e": "trade",
                    "E": now,
                    "s": symbol,
                    "t": trade.id,
                    "p": price,
                    "q": qty,
                    "T": stamp,
                    "m": maker,
                    "M": True,
                },
            )
            self._send_stream(
                f"{name}@aggTrade",
                {
                    "e": "aggTrade",
                    "E": now,
                    "s": symbol,
                    "a": trade.id,
                    "p": price,
                    "q": qty,
                    "f": trade.id,
                    "l": trade.id,
                    "T": stamp,
                    "m": maker,
                    "M": True,
                },
            )
        top = self._top(market)
        if top != self._last_top[symbol]:
            self._last_top[symbol] = top
            self._send_stream(f"{name}@bookTicker", self._book_ticker_event(symbol))
        self._trades[symbol] += len(result.data.trades)
        if self._subscribers(f"{name}@ticker"):
            self._send_stream(f"{name}@ticker", self._ticker_event(market))
        self._more_streams(market)

    def _more_streams(self, market: Market) -> None:
        """Streams of one dialect only (USDⓈ-M's mark price)."""

    def _ticker_event(self, market: Market) -> dict[str, Any]:
        """The ``<symbol>@ticker`` event (``24hrTicker``) since the simulator started."""
        spec = market.spec
        symbol = market.product_code
        start = spec.ticks(spec.start_price)
        change = spec.price(market.ltp - start)
        volume = spec.size(market.volume)
        average = market.turnover / volume if volume else spec.price(market.ltp)
        trades = self._trades[symbol]
        now = self.now_ms()
        bid, bid_qty, ask, ask_qty = self._touch(symbol)
        return {
            "e": "24hrTicker",
            "E": now,
            "s": symbol,
            "p": self.price_text(spec, market.ltp - start),
            "P": format(change / spec.price(start) * 100, ".3f"),
            "w": self.price_text(spec, spec.ticks(average)),
            "x": self.price_text(spec, start),
            "c": self.price_text(spec, market.ltp),
            "Q": self.size_text(spec, market.last_size),
            "b": bid,
            "B": bid_qty,
            "a": ask,
            "A": ask_qty,
            "o": self.price_text(spec, start),
            "h": self.price_text(spec, market.high),
            "l": self.price_text(spec, market.low),
            "v": self.size_text(spec, market.volume),
            "q": self.price_text(spec, spec.ticks(market.turnover)),
            "O": round(self.sim._start_time * 1000),
            "C": now,
            "F": 1 if trades else -1,
            "L": trades if trades else -1,
            "n": trades,
        }

    def _depth_event(
        self,
        symbol: str,
        first: int,
        last: int,
        previous: int,
        bids: list[list[str]],
        asks: list[list[str]],
    ) -> dict[str, Any]:
        """One ``depthUpdate`` (spot: no ``T``, no ``pu``)."""
        return {
            "e": "depthUpdate",
            "E": self.now_ms(),
            "s": symbol,
            "U": first,
            "u": last,
            "b": bids,
            "a": asks,
        }

    def _top(self, market: Market) -> tuple[tuple[int, int], tuple[int, int]]:
        return (market.best_bid, market.bids[market.best_bid]), (
            market.best_ask,
            market.asks[market.best_ask],
        )

    def _partial_books(self, market: Market, last_id: int) -> None:
        symbol = market.product_code
        name = symbol.lower()
        for depth in self.partial_depths:
            streams = [f"{name}@depth{depth}", f"{name}@depth{depth}@100ms"]
            if not any(self._subscribers(s) for s in streams):
                continue
            bids, asks = market.levels(depth)
            event = {
                "lastUpdateId": last_id,
                "bids": self._levels(market.spec, bids),
                "asks": self._levels(market.spec, asks),
            }
            for stream in streams:
                self._send_stream(stream, event)

    # =============================================================== private

    def _user_connections(self) -> list[tuple[SimConnection, str]]:
        keys = [k.key for k in self._listen_keys.values() if k.active]
        return [
            (c, key)
            for key in keys
            for c in self.sim._connections
            if c._open and key in c._subscriptions
        ]

    def _push(self, event: Mapping[str, Any]) -> None:
        targets = self._user_connections()
        if targets:
            raw = dumps(event)
            for conn, key in targets:
                conn._send(self._render(conn, key, raw))

    def _report(
        self,
        order: Order,
        execution: str,
        fill: Fill | None,
        *,
        cancel_id: str = "",
        maker: bool = False,
    ) -> None:
        spec = self.engine.markets[order.symbol].spec
        now = self.now_ms()
        cumulative_quote = order.average_price * order.executed_size
        event: dict[str, Any] = {
            "e": "executionReport",
            "E": now,
            "s": order.symbol,
            "c": cancel_id or order.client_id,
            "S": order.side,
            "o": order.type,
            "f": order.time_in_force,
            "q": _text8(order.size),
            "p": _text8(order.price),
            "P": "0.00000000",
            "F": "0.00000000",
            "g": -1,
            "C": order.client_id if cancel_id else "",
            "x": execution,
            "X": _status(order),
            "r": "NONE",
            "i": int(order.order_id),
            "l": _text8(fill.size if fill else Decimal(0)),
            "z": _text8(order.executed_size),
            "L": _text8(fill.price if fill else Decimal(0)),
            "n": "0",
            "N": (spec.base if order.side == "BUY" else spec.quote) if fill else None,
            "T": round((fill.time if fill else order.updated) * 1000),
            "t": fill.number if fill else -1,
            "I": order.number * 2 + (1 if fill else 0),
            "w": order.state == "ACTIVE" and order.type == "LIMIT",
            "m": maker if fill else False,
            "M": False,
            "O": round(order.created * 1000),
            "Z": _text8(cumulative_quote),
            "Y": _text8(fill.price * fill.size if fill else Decimal(0)),
            "Q": "0.00000000",
            "W": round(order.created * 1000),
            "V": "EXPIRE_MAKER",
        }
        self._push(event)

    def _on_fills(self, fills: list[Fill], *, maker: bool) -> None:
        assets: list[str] = []
        for fill in fills:
            self._report(fill.order, "TRADE", fill, maker=maker)
            spec = self.engine.markets[fill.order.symbol].spec
            assets += [spec.base, spec.quote]
        self._account_push(assets)

    def _account_push(self, assets: list[str]) -> None:
        now = self.now_ms()
        self._account_update = now / 1000
        locked = self._locked()
        balances = self.engine.account.balances
        rows = [
            {
                "a": asset,
                "f": _text8(balances.get(asset, Decimal(0)) - locked.get(asset, Decimal(0))),
                "l": _text8(locked.get(asset, Decimal(0))),
            }
            for asset in dict.fromkeys(assets)
        ]
        self._push({"e": "outboundAccountPosition", "E": now, "u": now, "B": rows})

    def _order_row(self, order: Order) -> dict[str, Any]:
        created = round(order.created * 1000)
        return {
            "symbol": order.symbol,
            "orderId": int(order.order_id),
            "orderListId": -1,
            "clientOrderId": order.client_id,
            "price": _text8(order.price),
            "origQty": _text8(order.size),
            "executedQty": _text8(order.executed_size),
            "cummulativeQuoteQty": _text8(order.average_price * order.executed_size),
            "status": _status(order),
            "timeInForce": order.time_in_force,
            "type": order.type,
            "side": order.side,
            "stopPrice": "0.00000000",
            "icebergQty": "0.00000000",
            "time": created,
            "updateTime": round(order.updated * 1000),
            "isWorking": order.type == "LIMIT",
            "workingTime": created,
            "origQuoteOrderQty": "0.00000000",
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    # ============================================================== account

    def _touch(self, symbol: str) -> tuple[str, str, str, str]:
        """The best bid, its quantity, the best ask and its quantity, printed."""
        market = self.engine.markets[symbol]
        spec = market.spec
        (bid, bid_qty), (ask, ask_qty) = self._top(market)
        return (
            self.price_text(spec, bid),
            self.size_text(spec, bid_qty),
            self.price_text(spec, ask),
            self.size_text(spec, ask_qty),
        )

    def _book_ticker_event(self, symbol: str) -> dict[str, Any]:
        """The ``<symbol>@bookTicker`` event."""
        bid, bid_qty, ask, ask_qty = self._touch(symbol)
        return {
            "u": self._books[symbol].last,
            "s": symbol,
            "b": bid,
            "B": bid_qty,
            "a": ask,
            "A": ask_qty,
        }

    def ticker(self, symbol: str) -> Any:
        """A ``GET /api/v3/ticker/bookTicker`` row."""
        bid, bid_qty, ask, ask_qty = self._touch(symbol)
        return {
            "symbol": symbol,
            "bidPrice": bid,
            "bidQty": bid_qty,
            "askPrice": ask,
            "askQty": ask_qty,
        }

    def orders(self) -> list[Any]:
        """Every order (any status), newest first, as ``GET /api/v3/order`` rows."""
        return [self._order_row(o) for o in self.engine.account.newest_first()]

    def positions(self) -> list[Any]:
        """Binance Spot has no positions."""
        return []

    def balance(self) -> Any:
        """``GET /api/v3/account``."""
        locked = self._locked()
        balances = self.engine.account.balances
        return {
            "makerCommission": 0,
            "takerCommission": 0,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": "0.00000000",
                "taker": "0.00000000",
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": round(self._account_update * 1000),
            "accountType": "SPOT",
            "balances": [
                {
                    "asset": asset,
                    "free": _text8(amount - locked.get(asset, Decimal(0))),
                    "locked": _text8(locked.get(asset, Decimal(0))),
                }
                for asset, amount in sorted(balances.items())
            ],
            "permissions": ["SPOT"],
            "uid": 100000001,
        }


_RESULT_FIELDS: Final = (
    "price",
    "origQty",
    "executedQty",
    "cummulativeQuoteQty",
    "status",
    "timeInForce",
    "type",
    "side",
    "workingTime",
    "selfTradePreventionMode",
)


def _status(order: Order) -> str:
    if order.state == "COMPLETED":
        return "FILLED"
    if order.state == "CANCELED":
        return (
            "EXPIRED"
            if order.time_in_force in ("IOC", "FOK") and order.type == "LIMIT"
            else "CANCELED"
        )
    return "NEW"
