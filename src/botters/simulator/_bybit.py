"""The Bybit v5 dialect: public and private WebSockets, signed REST under ``/v5/``.

WebSocket (https://bybit-exchange.github.io/docs/v5/ws/connect):

* ``/v5/public/linear`` serves the margin products, ``/v5/public/spot`` the
  others: ``{"op": "subscribe", "args": [topic, ...], "req_id": ...}`` is
  answered ``{"success": true, "ret_msg": "", "conn_id": ..., "req_id": ...,
  "op": "subscribe"}`` (``req_id`` only when the request had one); a bad
  topic fails the whole request (``success: false``). ``{"op": "ping"}`` is
  answered ``{"success": true, "ret_msg": "pong", "conn_id": ..., "op": "ping"}``.
* Topics: ``orderbook.{1|50|200|1000}.{symbol}``
  (https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook): a
  ``snapshot`` on subscribing, then a ``delta`` whenever the top ``depth``
  levels change, each with ``u`` one more than the topic's last message and
  ``seq`` (the market's cross sequence), ``ts`` and ``cts``; a delta carries
  levels entering the top ``depth`` and ``"0"`` for levels leaving it, so a
  client never holds more than ``depth`` levels. Depth 1 is snapshot-only,
  as Bybit documents. ``publicTrade.{symbol}`` and ``tickers.{symbol}``
  (linear: a snapshot, then deltas of the changed fields; spot: snapshots).
* ``/v5/private``: ``{"op": "auth", "args": [key, expires, signature]}``
  first (see ``_bybit_auth``), answered ``{"success": true, "ret_msg": "",
  "op": "auth", "conn_id": ...}``; then topics ``order``, ``execution``,
  ``position`` and ``wallet``, pushed as ``{"id", "topic", "creationTime",
  "data": [...]}`` when orders placed over REST change. ``{"op": "ping"}``
  there is answered ``{"op": "pong", "args": [ms], "conn_id": ...}``.

REST (https://bybit-exchange.github.io/docs/v5/intro): ``POST
/v5/order/create``, ``POST /v5/order/cancel``, ``GET /v5/order/realtime``,
``GET /v5/position/list``, ``GET /v5/account/wallet-balance`` (signed), ``GET
/v5/market/orderbook`` and ``GET /v5/market/tickers`` (public). Every answer
is ``{"retCode", "retMsg", "result", "retExtInfo": {}, "time"}``; parameter
errors are ``10001``, signature errors as in ``_bybit_auth``, an unknown order
``110001``, a reused ``orderLinkId`` ``110072``. Sizes are in the base coin
(a market BUY on spot too).
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Final

from aiohttp import web

from . import _bybit_shapes as shapes
from ._account import Fill, Order, OrderError, OrderRequest
from ._books import BookView, Diff
from ._bybit_auth import check_rest, check_ws_auth
from ._connection import SimConnection
from ._dialect import Dialect, RestError, Route, dumps
from ._engine import TickResult
from ._market import Market, MarketSpec

__all__ = ["DEMO_APIS", "MARKETS", "Bybit"]

logger = logging.getLogger("botters.simulator")

DEMO_APIS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {"bybit": ("botters-bybit-demo-key", "botters-bybit-demo-secret")}
)

MARKETS: Final[Mapping[str, MarketSpec]] = MappingProxyType(
    {
        "BTCUSDT": MarketSpec(
            product_code="BTCUSDT",
            start_price="65000.00",
            price_step="0.10",
            size_step="0.001",
            margin=True,
        ),
        "ETHUSDT": MarketSpec(
            product_code="ETHUSDT",
            start_price="3500.00",
            price_step="0.01",
            size_step="0.01",
            margin=True,
        ),
        "BTCUSDC": MarketSpec(
            product_code="BTCUSDC", start_price="65000.00", price_step="0.01", size_step="0.000001"
        ),
    }
)
"""Bybit products by symbol: two linear perpetuals and a spot pair."""

DEPTHS: Final = (1, 50, 200, 1000)
PRIVATE_TOPICS: Final = ("order", "execution", "position", "wallet")
_PRIVATE_PATH: Final = "/v5/private"
_CATEGORIES: Final = {"/v5/public/linear": "linear", "/v5/public/spot": "spot"}
_SIDES: Final = {"Buy": "BUY", "Sell": "SELL"}
_TYPES: Final = {"Market": "MARKET", "Limit": "LIMIT"}
_TIME_IN_FORCE: Final = ("GTC", "IOC", "FOK", "PostOnly")


class _Book:
    """One ``orderbook.{depth}.{symbol}`` topic: what it published and its update id."""

    __slots__ = ("topic", "u", "view")

    def __init__(self, topic: str, view: BookView, u: int) -> None:
        self.topic = topic
        self.view = view
        self.u = u


def _bad(message: str) -> RestError:
    return RestError(200, 10001, f"params error: {message}")


def _decimal_param(body: Mapping[str, Any], name: str, step: Decimal) -> Decimal:
    value = body.get(name)
    if not isinstance(value, str):
        raise _bad(f"{name} must be a decimal string")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _bad(f"{name} invalid") from None
    if not number.is_finite() or number <= 0 or number % step:
        raise _bad(f"{name} must be a positive multiple of {step}")
    return number


class Bybit(Dialect):
    """Bybit v5: public linear and spot streams, the private stream, signed REST."""

    name = "bybit"
    hosts = ("api.bybit.com", "stream.bybit.com")
    ws_paths = ("/v5/public/linear", "/v5/public/spot", _PRIVATE_PATH)
    markets = MARKETS
    default_products = ("BTCUSDT",)
    demo_apis = DEMO_APIS
    currency = "USDT"
    unified = True
    window = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        seed = self.sim.seed
        self._books: dict[str, _Book] = {}
        for symbol, market in self.engine.markets.items():
            for depth in DEPTHS:
                topic = f"orderbook.{depth}.{symbol}"
                u = random.Random(f"{seed}:{topic}").randint(10**5, 10**7)
                self._books[topic] = _Book(topic, BookView(market, depth), u)
        self._direction = dict.fromkeys(self.engine.markets, "ZeroPlusTick")
        self._last_price = {symbol: m.ltp for symbol, m in self.engine.markets.items()}
        self._tickers = {symbol: self._ticker(m) for symbol, m in self.engine.markets.items()}
        self._updated: dict[str, float] = {}
        self._pushes = 0

    # ============================================================= printing

    def price_text(self, spec: MarketSpec, ticks: int) -> str:
        """With the tick's decimals: ``"65000.10"``."""
        return shapes.price_text(spec, ticks)

    def size_text(self, spec: MarketSpec, lots: int) -> str:
        """With the lot's decimals: ``"0.125"``."""
        return shapes.size_text(spec, lots)

    def _levels(self, spec: MarketSpec, levels: list[tuple[int, int]]) -> list[list[str]]:
        return [[shapes.price_text(spec, p), shapes.size_text(spec, s)] for p, s in levels]

    def _ticker(self, market: Market) -> dict[str, str]:
        if market.spec.margin:
            return shapes.linear_ticker(market, self.now_ms(), self._direction[market.product_code])
        return shapes.spot_ticker(market)

    # ============================================================= REST

    def routes(self) -> list[Route]:
        """The v5 endpoints served."""
        return [
            Route("POST", "/v5/order/create", self._create),
            Route("POST", "/v5/order/cancel", self._cancel),
            Route("GET", "/v5/order/realtime", self._realtime),
            Route("GET", "/v5/position/list", self._position_list),
            Route("GET", "/v5/account/wallet-balance", self._wallet_balance),
            Route("GET", "/v5/market/orderbook", self._orderbook, private=False),
            Route("GET", "/v5/market/tickers", self._market_tickers, private=False),
        ]

    def authenticate(self, request: web.Request, body: bytes) -> str:
        """The ``X-BAPI-*`` headers (see ``_bybit_auth``)."""
        if request.method == "GET":
            payload = request.rel_url.raw_query_string
        else:
            try:
                payload = body.decode()
            except UnicodeDecodeError:
                raise _bad("the body is not UTF-8") from None
        window = self.sim._window
        return check_rest(request.headers, payload, self.keys, now=self.clock(), window=window)

    def error_response(self, error: RestError) -> web.Response:
        """``{"retCode", "retMsg", "result": {}, ...}`` with the error's HTTP status."""
        return self._answer({}, code=int(error.code), message=error.message, status=error.status)

    def fault_response(self, status: int) -> web.Response:
        """A ``RestFault(status=...)``: Bybit's server error ``10016``."""
        return self.error_response(RestError(status, 10016, "Server error (simulated failure)"))

    def _answer(
        self, result: Any, *, code: int = 0, message: str = "OK", status: int = 200
    ) -> web.Response:
        return web.json_response(
            {
                "retCode": code,
                "retMsg": message,
                "result": result,
                "retExtInfo": {},
                "time": round(self.clock() * 1000),
            },
            status=status,
            dumps=dumps,
        )

    @staticmethod
    def _body(body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body)
        except ValueError:
            raise _bad("the body is not JSON") from None
        if not isinstance(data, dict):
            raise _bad("the body must be a JSON object")
        return data

    def _market_of(self, params: Mapping[str, Any], *, required: bool = True) -> Market | None:
        """The market ``category`` and ``symbol`` name (``None`` if no symbol, when allowed)."""
        category = params.get("category")
        if category not in ("linear", "spot"):
            raise _bad("category invalid")
        symbol = params.get("symbol")
        if symbol is None and not required:
            return None
        market = self.engine.markets.get(symbol) if isinstance(symbol, str) else None
        if market is None or shapes.category(market.spec) != category:
            raise _bad(f"symbol invalid: {symbol!r} is not a {category} symbol")
        return market

    def _in_category(self, category: str) -> list[Market]:
        return [m for m in self.engine.markets.values() if shapes.category(m.spec) == category]

    def _create(self, request: web.Request, body: bytes) -> web.Response:
        params = self._body(body)
        market = self._market_of(params)
        assert market is not None
        spec = market.spec
        side = _lookup(_SIDES, params.get("side"))
        order_type = _lookup(_TYPES, params.get("orderType"))
        if side is None:
            raise _bad("side invalid")
        if order_type is None:
            raise _bad("orderType invalid")
        qty = _decimal_param(params, "qty", spec.lot)
        price = Decimal(0)
        if order_type == "LIMIT":
            price = _decimal_param(params, "price", spec.tick)
        default_tif = "IOC" if order_type == "MARKET" else "GTC"
        time_in_force = params.get("timeInForce", default_tif)
        if time_in_force not in _TIME_IN_FORCE:
            raise _bad("timeInForce invalid")
        link_id = params.get("orderLinkId", "")
        if not isinstance(link_id, str) or len(link_id) > 36:
            raise _bad("orderLinkId must be a string of at most 36 characters")
        account = self.engine.account
        if link_id and account.find(client_id=link_id) is not None:
            raise RestError(200, 110072, "OrderLinkedID is duplicate")
        now = self.sim._now()
        number = account.next_number
        order_request = OrderRequest(
            symbol=market.product_code,
            side=side,
            type=order_type,
            size=qty,
            price=price,
            time_in_force=time_in_force,
            expire=float("inf"),
            order_id=shapes.uuid_for(0x5EED, number),
            client_id=link_id,
        )
        order = account.place(order_request, now=now)
        self.sim._counts["orders"] += 1
        logger.debug("order %s accepted", order.order_id)
        self._push("order", [self._order_event(order)])
        fill = self.engine.match(order, now=now)
        if fill is not None:
            self._fills([fill], maker=False)
        return self._answer({"orderId": order.order_id, "orderLinkId": order.client_id})

    def _find(self, params: Mapping[str, Any]) -> Order:
        market = self._market_of(params)
        order_id, link_id = params.get("orderId"), params.get("orderLinkId")
        account = self.engine.account
        if isinstance(order_id, str) and order_id:
            order = account.find(order_id=order_id)
        elif isinstance(link_id, str) and link_id:
            order = account.find(client_id=link_id)
        else:
            raise _bad("orderId or orderLinkId is required")
        if order is None or market is None or order.symbol != market.product_code:
            raise RestError(200, 110001, "order not exists or too late to cancel")
        return order

    def _cancel(self, request: web.Request, body: bytes) -> web.Response:
        order = self._find(self._body(body))
        try:
            self.engine.account.cancel(order, self.sim._now())
        except OrderError:
            raise RestError(200, 110001, "order not exists or too late to cancel") from None
        self._push("order", [self._order_event(order)])
        return self._answer({"orderId": order.order_id, "orderLinkId": order.client_id})

    def _realtime(self, request: web.Request, body: bytes) -> web.Response:
        query = request.query
        market = self._market_of(query, required=False)
        category = query["category"]
        limit_text = query.get("limit", "20")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 50:
            raise _bad("limit must be 1 to 50")
        order_id, link_id = query.get("orderId"), query.get("orderLinkId")
        closed = query.get("openOnly", "0") != "0"
        rows = []
        for order in self.engine.account.newest_first():
            spec = self.engine.markets[order.symbol].spec
            if shapes.category(spec) != category:
                continue
            if market is not None and order.symbol != market.product_code:
                continue
            if order_id or link_id:
                if order.order_id != order_id and order.client_id != link_id:
                    continue
            elif (order.state != "ACTIVE") != closed:
                continue
            rows.append(self._order_row(order))
        return self._answer(
            {"list": rows[: int(limit_text)], "nextPageCursor": "", "category": category}
        )

    def _position_list(self, request: web.Request, body: bytes) -> web.Response:
        query = request.query
        if query.get("category") != "linear":
            raise _bad("category invalid: positions are linear")
        market = self._market_of(query, required=False)
        if market is not None:
            markets = [market]
        else:
            markets = [m for m in self._in_category("linear") if self._has_position(m)]
        rows = [self._position(m, rest=True) for m in markets]
        return self._answer({"list": rows, "nextPageCursor": "", "category": "linear"})

    def _wallet_balance(self, request: web.Request, body: bytes) -> web.Response:
        query = request.query
        if query.get("accountType") != "UNIFIED":
            raise _bad("accountType only support UNIFIED")
        wallet = self.balance()
        coins = query.get("coin")
        if coins:
            wanted = set(coins.split(","))
            wallet["coin"] = [c for c in wallet["coin"] if c["coin"] in wanted]
        return self._answer({"list": [wallet]})

    def _orderbook(self, request: web.Request, body: bytes) -> web.Response:
        query = request.query
        market = self._market_of(query)
        assert market is not None
        most, default = (500, "25") if market.spec.margin else (200, "1")
        limit_text = query.get("limit", default)
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= most:
            raise _bad(f"limit must be 1 to {most}")
        bids, asks = market.levels(int(limit_text))
        spec = market.spec
        now = self.now_ms()
        return self._answer(
            {
                "s": market.product_code,
                "b": self._levels(spec, bids),
                "a": self._levels(spec, asks),
                "ts": now,
                "u": self._books[f"orderbook.1000.{market.product_code}"].u,
                "seq": market.sequence,
                "cts": now,
            }
        )

    def _market_tickers(self, request: web.Request, body: bytes) -> web.Response:
        query = request.query
        market = self._market_of(query, required=False)
        category = query["category"]
        markets = [market] if market is not None else self._in_category(category)
        rows = [self._tickers[m.product_code] for m in markets]
        return self._answer({"category": category, "list": rows})

    # ============================================================= WebSocket

    def on_binary(self, conn: SimConnection, data: bytes) -> None:
        """Binary frames are not requests."""
        self._refuse(conn, "", None, "error:binary frames are not requests")

    def on_text(self, conn: SimConnection, text: str) -> None:
        """One ``{"op": ...}`` request."""
        try:
            msg = json.loads(text)
        except ValueError:
            self._refuse(conn, "", None, "error:request is not JSON")
            return
        if not isinstance(msg, dict):
            self._refuse(conn, "", None, "error:request must be a JSON object")
            return
        op = msg.get("op")
        req_id = msg.get("req_id")
        private = conn.path == _PRIVATE_PATH
        if op == "ping":
            pong: dict[str, Any]
            if private:
                pong = {"op": "pong", "args": [str(self.now_ms())], "conn_id": conn.conn_id}
            else:
                pong = {"success": True, "ret_msg": "pong", "conn_id": conn.conn_id, "op": "ping"}
            conn._reply(dumps(_with_req_id(pong, req_id)))
        elif op == "auth" and private:
            self._auth(conn, msg.get("args"), req_id)
        elif op in ("subscribe", "unsubscribe"):
            self._subscribe(conn, op, msg.get("args"), req_id)
        else:
            self._refuse(conn, str(op), req_id, "error:invalid op")

    def _reply(self, conn: SimConnection, op: str, req_id: Any, *, ok: bool, msg: str) -> None:
        reply = {"success": ok, "ret_msg": msg, "conn_id": conn.conn_id, "op": op}
        conn._reply(dumps(_with_req_id(reply, req_id)))

    def _refuse(self, conn: SimConnection, op: str, req_id: Any, message: str) -> None:
        logger.warning("connection #%d: rejected request: %s", conn._number, message)
        self._reply(conn, op, req_id, ok=False, msg=message)

    def _auth(self, conn: SimConnection, args: Any, req_id: Any) -> None:
        if conn._reject_login:
            self.login_rejected(conn)
            logger.warning("fault: connection #%d: login rejected on purpose", conn._number)
            self._reply(conn, "auth", req_id, ok=False, msg="Request not authorized")
            return
        key, reason = check_ws_auth(args, self.keys, now=self.clock())
        if key is None:
            self.login_rejected(conn)
            self._refuse(conn, "auth", req_id, reason)
            return
        self.login_accepted(conn, key)
        logger.debug("connection #%d authenticated", conn._number)
        self._reply(conn, "auth", req_id, ok=True, msg="")

    def _topic_error(self, conn: SimConnection, topic: Any) -> str | None:
        """Why ``conn`` may not subscribe to ``topic`` (``None`` if it may)."""
        if not isinstance(topic, str):
            return "error:topics must be strings"
        if conn.path == _PRIVATE_PATH:
            if topic not in PRIVATE_TOPICS:
                return f"error:handler not found,topic:{topic}"
            if conn._key is None:
                return "Request not authorized"
            return None
        category = _CATEGORIES[conn.path]
        kind, _, rest = topic.partition(".")
        if kind == "orderbook":
            depth, _, symbol = rest.partition(".")
            if not depth.isdigit() or int(depth) not in DEPTHS:
                return f"error:handler not found,topic:{topic}"
        elif kind in ("publicTrade", "tickers"):
            symbol = rest
        else:
            return f"error:handler not found,topic:{topic}"
        market = self.engine.markets.get(symbol)
        if market is None or shapes.category(market.spec) != category:
            return f"error:handler not found,topic:{topic}"
        return None

    def _subscribe(self, conn: SimConnection, op: str, args: Any, req_id: Any) -> None:
        if not isinstance(args, list) or not args:
            self._refuse(conn, op, req_id, "error:args must be a list of topics")
            return
        seen: set[str] = set()
        for topic in args:
            if not isinstance(topic, str):
                error: str | None = "error:topics must be strings"
            elif topic in seen:
                error = f"error:duplicate topic,topic:{topic}"
            elif op == "unsubscribe":
                error = None if topic in conn._subscriptions else f"error:not subscribed,{topic}"
            elif topic in conn._subscriptions:
                error = f"error:already subscribed,topic:{topic}"
            else:
                error = self._topic_error(conn, topic)
            if error is not None:
                self._refuse(conn, op, req_id, error)
                return
            seen.add(topic)
        self._reply(conn, op, req_id, ok=True, msg="")
        for topic in args:
            conn._forget(topic)
            if op == "unsubscribe":
                del conn._subscriptions[topic]
                continue
            conn._subscriptions[topic] = None
            self._on_subscribed(conn, topic)

    def _on_subscribed(self, conn: SimConnection, topic: str) -> None:
        book = self._books.get(topic)
        if book is not None:
            conn._send(self._book_message(book, "snapshot", None))
        elif topic.startswith("tickers."):
            symbol = topic.partition(".")[2]
            conn._send(self._ticker_message(topic, "snapshot", self._tickers[symbol], symbol))

    # ================================================================ market

    def _book_message(self, book: _Book, kind: str, diff: Diff | None) -> str:
        market = book.view.market
        spec = market.spec
        bids, asks = (diff.bids, diff.asks) if diff is not None else book.view.levels()
        now = self.now_ms()
        return dumps(
            {
                "topic": book.topic,
                "type": kind,
                "ts": now,
                "data": {
                    "s": market.product_code,
                    "b": self._levels(spec, bids),
                    "a": self._levels(spec, asks),
                    "u": book.u,
                    "seq": market.sequence,
                },
                "cts": now,
            }
        )

    def _ticker_message(self, topic: str, kind: str, data: dict[str, str], symbol: str) -> str:
        market = self.engine.markets[symbol]
        return dumps(
            {"topic": topic, "type": kind, "ts": self.now_ms(), "cs": market.sequence, "data": data}
        )

    def _subscribers(self, topic: str) -> list[SimConnection]:
        return [c for c in self.sim._connections if c._open and topic in c._subscriptions]

    def on_tick(self, result: TickResult) -> None:
        """Private pushes of the fills, then books, trades and tickers."""
        if result.fills:
            self._fills(result.fills, maker=True)
        market = result.market
        symbol = market.product_code
        for depth in DEPTHS:
            book = self._books[f"orderbook.{depth}.{symbol}"]
            diff = book.view.advance()
            if diff is None:
                continue
            book.u += 1
            subscribers = self._subscribers(book.topic)
            if not subscribers:
                continue
            if depth == 1:
                text = self._book_message(book, "snapshot", None)
                for conn in subscribers:
                    conn._send(text)
            else:
                text = self._book_message(book, "delta", diff)
                for conn in subscribers:
                    conn._send_diff(book.topic, text)
        if result.data.trades:
            self._trades(market, result)
        self._ticker_tick(market)

    def _trades(self, market: Market, result: TickResult) -> None:
        spec = market.spec
        symbol = market.product_code
        previous = self._last_price[symbol]
        rows = []
        for trade in result.data.trades:
            direction = self._direction[symbol]
            if trade.price > previous:
                direction = "PlusTick"
            elif trade.price < previous:
                direction = "MinusTick"
            elif direction in ("PlusTick", "MinusTick"):
                direction = "Zero" + direction
            self._direction[symbol] = direction
            previous = trade.price
            rows.append(
                {
                    "T": round(trade.time * 1000),
                    "s": symbol,
                    "S": "Buy" if trade.side == "BUY" else "Sell",
                    "v": shapes.size_text(spec, trade.size),
                    "p": shapes.price_text(spec, trade.price),
                    "L": direction,
                    "i": shapes.uuid_for(0x7ADE, trade.id),
                    "BT": False,
                    "seq": market.sequence,
                }
            )
        self._last_price[symbol] = previous
        topic = f"publicTrade.{symbol}"
        subscribers = self._subscribers(topic)
        if subscribers:
            text = dumps({"topic": topic, "type": "snapshot", "ts": self.now_ms(), "data": rows})
            for conn in subscribers:
                conn._send(text)

    def _ticker_tick(self, market: Market) -> None:
        symbol = market.product_code
        new = self._ticker(market)
        old = self._tickers[symbol]
        self._tickers[symbol] = new
        topic = f"tickers.{symbol}"
        subscribers = self._subscribers(topic)
        if not subscribers:
            return
        if market.spec.margin:
            changed = {k: v for k, v in new.items() if old.get(k) != v}
            if not changed:
                return
            text = self._ticker_message(topic, "delta", {"symbol": symbol, **changed}, symbol)
        else:
            text = self._ticker_message(topic, "snapshot", new, symbol)
        for conn in subscribers:
            conn._send(text)

    # =============================================================== private

    def _push(self, topic: str, data: list[dict[str, Any]]) -> None:
        subscribers = [c for c in self._subscribers(topic) if c._key is not None]
        self._pushes += 1
        if not subscribers:
            return
        text = dumps(
            {
                "id": f"sim-{self._pushes}",
                "topic": topic,
                "creationTime": self.now_ms(),
                "data": data,
            }
        )
        for conn in subscribers:
            conn._send(text)

    def _order_row(self, order: Order) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        last = shapes.price_text(market.spec, market.ltp)
        return shapes.order_row(order, market.spec, last_price=last)

    def _order_event(self, order: Order) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        return {"category": shapes.category(market.spec), **self._order_row(order)}

    def _fills(self, fills: list[Fill], *, maker: bool) -> None:
        """``execution``, ``order``, ``position`` (linear) and ``wallet`` pushes for ``fills``."""
        markets = self.engine.markets
        executions = [
            shapes.execution_row(f, markets[f.order.symbol], maker=maker, seq=self._seq(f))
            for f in fills
        ]
        self._push("execution", executions)
        self._push("order", [self._order_event(f.order) for f in fills])
        symbols = sorted({f.order.symbol for f in fills if markets[f.order.symbol].spec.margin})
        for symbol in symbols:
            self._updated[symbol] = fills[-1].time
        if symbols:
            self._push("position", [self._position(markets[s], rest=False) for s in symbols])
        self._push("wallet", [self.balance()])

    def _seq(self, fill: Fill) -> int:
        return self.engine.markets[fill.order.symbol].sequence

    def _has_position(self, market: Market) -> bool:
        return bool(self.engine.account.symbol_lots(market.product_code))

    def _position(self, market: Market, *, rest: bool) -> dict[str, Any]:
        symbol = market.product_code
        return shapes.position_row(
            self.engine.account,
            market,
            updated=self._updated.get(symbol, self.sim._now()),
            seq=market.sequence,
            rest=rest,
        )

    # ============================================================== account

    def ticker(self, symbol: str) -> Any:
        """A ``GET /v5/market/tickers`` row (a copy)."""
        return dict(self._tickers[symbol])

    def orders(self) -> list[Any]:
        """Every order (any status), newest first, as ``GET /v5/order/realtime`` rows."""
        return [self._order_row(o) for o in self.engine.account.newest_first()]

    def positions(self) -> list[Any]:
        """Open linear positions, as ``GET /v5/position/list`` rows."""
        return [
            self._position(m, rest=True)
            for m in self._in_category("linear")
            if self._has_position(m)
        ]

    def balance(self) -> Any:
        """The unified account (a ``GET /v5/account/wallet-balance`` list entry)."""
        return shapes.wallet_row(self.engine.account, self.engine.marks())


def _lookup(table: Mapping[str, str], value: Any) -> str | None:
    return table.get(value) if isinstance(value, str) else None


def _with_req_id(reply: dict[str, Any], req_id: Any) -> dict[str, Any]:
    return reply if req_id is None else {**reply, "req_id": req_id}
