"""The OKX v5 dialect: ``/ws/v5/public``, ``/ws/v5/private`` and signed REST under ``/api/v5/``.

WebSocket (https://www.okx.com/docs-v5/en/#overview-websocket):

* Text ``ping`` is answered with text ``pong``. ``{"op": "subscribe",
  "args": [{"channel": ..., "instId": ...}, ...]}`` is answered per argument:
  ``{"event": "subscribe", "arg": {...}, "connId": ...}``, or
  ``{"event": "error", "code": "60018", "msg": ..., "connId": ...}`` for a
  channel or instrument that does not exist here (``60012`` for a request
  that is not one, ``60011`` for a private channel before login).
* ``books`` (400 levels): ``action: "snapshot"`` with ``prevSeqId: -1`` on
  subscribing, then ``action: "update"`` whenever the book changes, each
  update's ``prevSeqId`` the previous message's ``seqId``; seqIds grow by
  random positive amounts (the market's sequence). Now and then (seeded) an
  update with empty ``asks`` and ``bids`` and ``seqId == prevSeqId``, as OKX
  sends when the book did not change. ``checksum`` is the CRC32 of
  ``_okx_shapes.checksum`` when ``okx_checksum`` is on, else ``0`` (as OKX
  sends since June 2026). ``books5``: the top five levels in full on
  subscribing and whenever they change (``instId``, ``ts``, ``seqId``; no
  action, checksum or prevSeqId). ``trades`` and ``tickers``.
* ``/ws/v5/private``: ``{"op": "login", ...}`` (see ``_okx_auth``),
  answered ``{"event": "login", "code": "0", "msg": "", "connId": ...}``;
  channels ``orders`` and ``positions`` (``instType`` required, ``instId``
  optional), ``account`` and ``balance_and_position``; all but ``orders``
  push their current state on subscribing.

REST (https://www.okx.com/docs-v5/en/#order-book-trading-trade): ``POST
/api/v5/trade/order``, ``POST /api/v5/trade/cancel-order``, ``GET
/api/v5/trade/orders-pending``, ``GET /api/v5/account/positions``, ``GET
/api/v5/account/balance`` (signed), ``GET /api/v5/market/books`` and ``GET
/api/v5/market/ticker`` (public). Answers are ``{"code": "0", "msg": "",
"data": [...]}``; a missing parameter is HTTP 400 ``50014``, a refused order
``{"code": "1", "data": [{"sCode": "51000", "sMsg": ...}]}``.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from functools import partial
from types import MappingProxyType
from typing import Any, Final

from aiohttp import web

from . import _okx_shapes as shapes
from ._account import Fill, Order, OrderError, OrderRequest
from ._books import BookView, Diff
from ._connection import SimConnection
from ._dialect import Dialect, RestError, Route, dumps, plain
from ._engine import TickResult
from ._market import Market, MarketSpec
from ._okx_auth import EXPIRES_AFTER, check_rest, check_ws_login

__all__ = ["DEMO_APIS", "MARKETS", "Okx"]

logger = logging.getLogger("botters.simulator")

DEMO_APIS: Final[Mapping[str, tuple[str, str, str]]] = MappingProxyType(
    {"okx": ("botters-okx-demo-key", "botters-okx-demo-secret", "botters-okx-demo-passphrase")}
)

MARKETS: Final[Mapping[str, MarketSpec]] = MappingProxyType(
    {
        "BTC-USDT-SWAP": MarketSpec(
            product_code="BTC-USDT-SWAP",
            start_price="65000.0",
            price_step="0.1",
            size_step="0.01",
            margin=True,
        ),
        "ETH-USDT-SWAP": MarketSpec(
            product_code="ETH-USDT-SWAP",
            start_price="3500.00",
            price_step="0.01",
            size_step="0.01",
            margin=True,
        ),
        "BTC-USDT": MarketSpec(
            product_code="BTC-USDT", start_price="65000.0", price_step="0.1", size_step="0.00001"
        ),
    }
)
"""OKX instruments by instId: two perpetual swaps and a spot pair."""

BOOK_DEPTH: Final = 400
IDLE_CHANCE: Final = 0.04
"""The chance per tick of an extra no-change ``books`` update."""
PUBLIC_CHANNELS: Final = ("books", "books5", "trades", "tickers")
PRIVATE_CHANNELS: Final = ("orders", "positions", "account", "balance_and_position")
_INST_TYPES: Final = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "ANY")
_ORD_TYPES: Final = {
    "market": ("MARKET", "IOC"),
    "limit": ("LIMIT", "GTC"),
    "post_only": ("LIMIT", "PostOnly"),
    "fok": ("LIMIT", "FOK"),
    "ioc": ("LIMIT", "IOC"),
}


class _Books:
    """One instrument's ``books`` stream: what it published and its last ``seqId``."""

    __slots__ = ("idle", "seq_id", "view")

    def __init__(self, view: BookView, seq_id: int, idle: random.Random) -> None:
        self.view = view
        self.seq_id = seq_id
        self.idle = idle


def key_of(arg: Mapping[str, Any]) -> str:
    """The subscription key of ``arg``: ``"books:BTC-USDT-SWAP"``, ``"orders"``."""
    inst_id = arg.get("instId")
    return f"{arg['channel']}:{inst_id}" if inst_id else str(arg["channel"])


class _OrderFailedError(RestError):
    """One order refused: ``code: "1"`` on top, the reason as ``sCode``/``sMsg`` in ``data``."""

    def __init__(self, s_code: str, s_msg: str) -> None:
        super().__init__(200, "1", s_msg)
        self.s_code = s_code


class Okx(Dialect):
    """OKX v5: public and private WebSockets, signed REST, book checksums."""

    name = "okx"
    hosts = ("www.okx.com", "ws.okx.com")
    ws_paths = ("/ws/v5/public", "/ws/v5/private")
    markets = MARKETS
    default_products = ("BTC-USDT-SWAP",)
    demo_apis = DEMO_APIS
    currency = "USDT"
    unified = True
    window = EXPIRES_AFTER

    def __init__(self, *args: Any, okx_checksum: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checksums = okx_checksum
        seed = self.sim.seed
        markets = self.engine.markets
        self._books = {
            symbol: _Books(
                BookView(m, BOOK_DEPTH), m.sequence, random.Random(f"{seed}:{symbol}:idle")
            )
            for symbol, m in markets.items()
        }
        self._top5 = {symbol: BookView(m, 5) for symbol, m in markets.items()}
        self._td_modes: dict[str, str] = {}
        self._last_trade = dict.fromkeys(markets, "")
        self._updated: dict[str, float] = {}
        self._pos_ids = {symbol: str(1_000_000_001 + i) for i, symbol in enumerate(markets)}

    # ============================================================= printing

    def price_text(self, spec: MarketSpec, ticks: int) -> str:
        """Without trailing zeros: ``"65000.1"``."""
        return shapes.px(spec, ticks)

    def size_text(self, spec: MarketSpec, lots: int) -> str:
        """Without trailing zeros: ``"0.125"``."""
        return shapes.sz(spec, lots)

    @staticmethod
    def _levels(spec: MarketSpec, levels: Iterable[tuple[int, int]]) -> list[list[str]]:
        return [shapes.level(spec, p, s) for p, s in levels]

    # ============================================================= REST

    def routes(self) -> list[Route]:
        """The v5 endpoints served."""
        return [
            Route("POST", "/api/v5/trade/order", self._order),
            Route("POST", "/api/v5/trade/cancel-order", self._cancel_order),
            Route("GET", "/api/v5/trade/orders-pending", self._orders_pending),
            Route("GET", "/api/v5/account/positions", self._account_positions),
            Route("GET", "/api/v5/account/balance", self._account_balance),
            Route("GET", "/api/v5/market/books", self._market_books, private=False),
            Route("GET", "/api/v5/market/ticker", self._market_ticker, private=False),
        ]

    def authenticate(self, request: web.Request, body: bytes) -> str:
        """The ``OK-ACCESS-*`` headers (see ``_okx_auth``)."""
        return check_rest(
            request.headers,
            request.method,
            request.raw_path,
            body,
            self.keys,
            now=self.clock(),
            window=self.window_for(self.window),
        )

    def error_response(self, error: RestError) -> web.Response:
        """``{"code", "msg", "data": []}``; a refused order carries its ``sCode`` in ``data``."""
        now = self._micros()
        if isinstance(error, _OrderFailedError):
            row = {
                "clOrdId": "",
                "ordId": "",
                "tag": "",
                "ts": str(now // 1000),
                "sCode": error.s_code,
                "sMsg": error.message,
            }
            body: dict[str, Any] = {"code": "1", "msg": "All operations failed", "data": [row]}
            body |= {"inTime": str(now), "outTime": str(now)}
        elif error.status == 401:
            body = {"msg": error.message, "code": str(error.code)}
        else:
            body = {"code": str(error.code), "msg": error.message, "data": []}
        return web.json_response(body, status=error.status, dumps=dumps)

    def fault_response(self, status: int) -> web.Response:
        """A ``RestFault(status=...)``: OKX's ``50001`` (service unavailable)."""
        return self.error_response(
            RestError(status, 50001, "Service temporarily unavailable (simulated failure)")
        )

    def _micros(self) -> int:
        return round(self.clock() * 1_000_000)

    def _answer(self, data: list[Any], *, timed: bool = False) -> web.Response:
        body: dict[str, Any] = {"code": "0", "msg": "", "data": data}
        if timed:
            now = str(self._micros())
            body |= {"inTime": now, "outTime": now}
        return web.json_response(body, dumps=dumps)

    @staticmethod
    def _body(body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body)
        except ValueError:
            raise RestError(400, 50002, "JSON syntax error") from None
        if not isinstance(data, dict):
            raise RestError(400, 50002, "JSON syntax error")
        return data

    @staticmethod
    def _required(params: Mapping[str, Any], *names: str) -> None:
        for name in names:
            if not params.get(name):
                raise RestError(400, 50014, f"Parameter {name} can not be empty.")

    def _instrument(self, inst_id: Any) -> Market:
        market = self.engine.markets.get(inst_id) if isinstance(inst_id, str) else None
        if market is None:
            raise _OrderFailedError("51001", "Instrument ID does not exist.")
        return market

    def _order(self, request: web.Request, body: bytes) -> web.Response:
        params = self._body(body)
        self._required(params, "instId", "tdMode", "side", "ordType", "sz")
        market = self._instrument(params["instId"])
        spec = market.spec
        td_mode = params["tdMode"]
        if td_mode not in (("cross", "isolated") if spec.margin else ("cash",)):
            raise _OrderFailedError("51000", "Parameter tdMode error")
        side = params["side"]
        if side not in ("buy", "sell"):
            raise _OrderFailedError("51000", "Parameter side error")
        if not isinstance(params["ordType"], str) or params["ordType"] not in _ORD_TYPES:
            raise _OrderFailedError("51000", "Parameter ordType error")
        order_type, time_in_force = _ORD_TYPES[params["ordType"]]
        size = self._number(params, "sz", spec.lot)
        price = Decimal(0) if order_type == "MARKET" else self._number(params, "px", spec.tick)
        cl_ord_id = params.get("clOrdId", "")
        account = self.engine.account
        if cl_ord_id != "" and not (
            isinstance(cl_ord_id, str) and len(cl_ord_id) <= 32 and cl_ord_id.isalnum()
        ):
            raise _OrderFailedError("51000", "Parameter clOrdId error")
        if cl_ord_id and account.find(client_id=cl_ord_id) is not None:
            raise _OrderFailedError("51016", "Duplicated clOrdId")
        now = self.sim._now()
        order = account.place(
            OrderRequest(
                symbol=market.product_code,
                side=side.upper(),
                type=order_type,
                size=size,
                price=price,
                time_in_force=time_in_force,
                expire=float("inf"),
                order_id=str(600_000_000_000_000_000 + account.next_number),
                client_id=cl_ord_id,
            ),
            now=now,
        )
        self._td_modes[order.order_id] = td_mode
        self.sim._counts["orders"] += 1
        logger.debug("order %s accepted", order.order_id)
        self._push_orders([(order, None)])
        fill = self.engine.match(order, now=now)
        if fill is not None:
            self._fills([fill], maker=False)
        row = {
            "clOrdId": order.client_id,
            "ordId": order.order_id,
            "tag": "",
            "ts": str(round(now * 1000)),
            "sCode": "0",
            "sMsg": "Order placed",
        }
        return self._answer([row], timed=True)

    @staticmethod
    def _number(params: Mapping[str, Any], name: str, step: Decimal) -> Decimal:
        value = params.get(name)
        try:
            number = Decimal(value) if isinstance(value, str) else Decimal("NaN")
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite() or number <= 0 or number % step:
            raise _OrderFailedError("51000", f"Parameter {name} error")
        return number

    def _cancel_order(self, request: web.Request, body: bytes) -> web.Response:
        params = self._body(body)
        self._required(params, "instId")
        market = self._instrument(params["instId"])
        account = self.engine.account
        ord_id, cl_ord_id = params.get("ordId"), params.get("clOrdId")
        if ord_id:
            order = account.find(order_id=str(ord_id))
        elif cl_ord_id:
            order = account.find(client_id=str(cl_ord_id))
        else:
            raise RestError(400, 50014, "Parameter ordId can not be empty.")
        failed = _OrderFailedError(
            "51400",
            "Order cancellation failed as the order has been filled, canceled or does not exist.",
        )
        if order is None or order.symbol != market.product_code:
            raise failed
        try:
            account.cancel(order, self.sim._now())
        except OrderError:
            raise failed from None
        self._push_orders([(order, None)])
        row = {
            "clOrdId": order.client_id,
            "ordId": order.order_id,
            "ts": str(round(order.updated * 1000)),
            "sCode": "0",
            "sMsg": "",
        }
        return self._answer([row], timed=True)

    def _orders_pending(self, request: web.Request, body: bytes) -> web.Response:
        query = request.query
        rows = [
            self._order_row(o)
            for o in self.engine.account.newest_first()
            if o.state == "ACTIVE" and self._matches(query, o.symbol)
        ]
        if "ordType" in query:
            rows = [r for r in rows if r["ordType"] == query["ordType"]]
        return self._answer(rows)

    def _account_positions(self, request: web.Request, body: bytes) -> web.Response:
        query = request.query
        return self._answer([p for p in self.positions() if self._matches(query, p["instId"])])

    def _account_balance(self, request: web.Request, body: bytes) -> web.Response:
        account = self.balance()
        ccy = request.query.get("ccy")
        if ccy:
            wanted = set(ccy.split(","))
            account["details"] = [d for d in account["details"] if d["ccy"] in wanted]
        return self._answer([account])

    def _market_books(self, request: web.Request, body: bytes) -> web.Response:
        query = request.query
        market = self.engine.markets.get(query.get("instId", ""))
        if market is None:
            raise RestError(400, 51001, "Instrument ID does not exist.")
        size_text = query.get("sz", "1")
        if not size_text.isdigit() or not 1 <= int(size_text) <= BOOK_DEPTH:
            raise RestError(400, 51000, "Parameter sz error")
        bids, asks = market.levels(int(size_text))
        spec = market.spec
        row = {
            "asks": self._levels(spec, asks),
            "bids": self._levels(spec, bids),
            "ts": str(self.now_ms()),
        }
        return self._answer([row])

    def _market_ticker(self, request: web.Request, body: bytes) -> web.Response:
        market = self.engine.markets.get(request.query.get("instId", ""))
        if market is None:
            raise RestError(400, 51001, "Instrument ID does not exist.")
        return self._answer([self.ticker(market.product_code)])

    def _matches(self, filters: Mapping[str, Any], symbol: str) -> bool:
        """Whether ``symbol`` passes ``instType``/``instId`` filters (REST query or WS arg)."""
        spec = self.engine.markets[symbol].spec
        inst_type = filters.get("instType", "ANY")
        inst_id = filters.get("instId")
        return inst_type in ("ANY", shapes.inst_type(spec)) and inst_id in (None, "", symbol)

    # ============================================================= WebSocket

    def on_binary(self, conn: SimConnection, data: bytes) -> None:
        """Binary frames are not requests."""
        self._error(conn, "60012", "Invalid request: binary frame", None)

    def on_text(self, conn: SimConnection, text: str) -> None:
        """Text ``ping``, or one ``{"op": ...}`` request."""
        if text == "ping":
            conn._reply("pong")
            return
        try:
            msg = json.loads(text)
        except ValueError:
            msg = None
        if not isinstance(msg, dict) or not isinstance(msg.get("args"), list):
            self._error(conn, "60012", f"Invalid request: {text}", None)
            return
        op, args, request_id = msg.get("op"), msg["args"], msg.get("id")
        if op == "login":
            self._login(conn, args, request_id)
        elif op in ("subscribe", "unsubscribe"):
            for arg in args:
                self._subscribe(conn, op, arg, request_id)
        else:
            self._error(conn, "60012", f"Invalid request: {text}", request_id)

    def _event(self, conn: SimConnection, event: dict[str, Any], request_id: Any) -> None:
        reply = {**event, "connId": conn.conn_id}
        if request_id is not None:
            reply["id"] = request_id
        conn._reply(dumps(reply))

    def _error(self, conn: SimConnection, code: str, message: str, request_id: Any) -> None:
        logger.warning("connection #%d: rejected request: %s", conn._number, message)
        self._event(conn, {"event": "error", "code": code, "msg": message}, request_id)

    def _login(self, conn: SimConnection, args: Any, request_id: Any) -> None:
        if conn._reject_login:
            self.login_rejected(conn)
            logger.warning("fault: connection #%d: login rejected on purpose", conn._number)
            self._event(
                conn, {"event": "error", "code": "60009", "msg": "Login failed."}, request_id
            )
            return
        key, code, message = check_ws_login(
            args, self.keys, now=self.clock(), window=self.window_for(self.window)
        )
        if key is None:
            self.login_rejected(conn)
            self._error(conn, code, message, request_id)
            return
        self.login_accepted(conn, key)
        logger.debug("connection #%d logged in", conn._number)
        self._event(conn, {"event": "login", "code": "0", "msg": ""}, request_id)

    def _arg_error(self, conn: SimConnection, arg: Any) -> tuple[str, str] | None:
        if not isinstance(arg, dict) or not isinstance(arg.get("channel"), str):
            return "60012", f"Invalid request: {dumps(arg)}"
        channel, inst_id = arg["channel"], arg.get("instId")
        private = conn.path == "/ws/v5/private"
        wrong = (
            "60018",
            f"Wrong URL or channel:{channel},instId:{inst_id} doesn't exist. "
            "Please use the correct URL, channel and parameters referring to API document.",
        )
        if inst_id is not None and not isinstance(inst_id, str):
            return wrong
        if channel in PUBLIC_CHANNELS and not private:
            return None if inst_id in self.engine.markets else wrong
        if channel not in PRIVATE_CHANNELS or not private:
            return wrong
        if conn._key is None:
            return "60011", "Please log in"
        if inst_id is not None and inst_id not in self.engine.markets:
            return wrong
        if channel in ("orders", "positions") and arg.get("instType") not in _INST_TYPES:
            return "60013", f"Invalid args: instType {arg.get('instType')!r}"
        return None

    def _subscribe(self, conn: SimConnection, op: str, arg: Any, request_id: Any) -> None:
        error = self._arg_error(conn, arg)
        if error is None and op == "unsubscribe" and key_of(arg) not in conn._subscriptions:
            error = ("60012", f"Invalid request: not subscribed to {dumps(arg)}")
        if error is not None:
            self._error(conn, *error, request_id)
            return
        key = key_of(arg)
        self._event(conn, {"event": op, "arg": arg}, request_id)
        conn._forget(key)
        if op == "unsubscribe":
            del conn._subscriptions[key]
            return
        conn._subscriptions[key] = arg
        self._on_subscribed(conn, arg)

    def _on_subscribed(self, conn: SimConnection, arg: dict[str, Any]) -> None:
        channel, symbol = arg["channel"], arg.get("instId", "")
        if channel == "books":
            conn._send(self._books_message(symbol, "snapshot", None, conn_arg=arg))
        elif channel == "books5":
            conn._send(self._books5_message(symbol))
        elif channel == "tickers":
            conn._send(self._push_text(arg, [self.ticker(symbol)]))
        elif channel == "positions":
            rows = [p for p in self.positions() if self._matches(arg, p["instId"])]
            conn._send(self._push_text(arg, rows))
        elif channel == "account":
            conn._send(self._push_text(arg, [self.balance()]))
        elif channel == "balance_and_position":
            conn._send(self._push_text(arg, [self._balance_and_position("snapshot", [])]))

    @staticmethod
    def _push_text(arg: Mapping[str, Any], data: list[Any], **extra: Any) -> str:
        private = arg["channel"] in PRIVATE_CHANNELS
        return dumps({"arg": {**arg, "uid": shapes.UID} if private else arg, **extra, "data": data})

    # ================================================================ market

    def _books_message(
        self,
        symbol: str,
        action: str,
        diff: Diff | None,
        *,
        prev: int = -1,
        conn_arg: Mapping[str, Any] | None = None,
        corrupt: bool = False,
    ) -> str:
        books = self._books[symbol]
        spec = books.view.market.spec
        bids, asks = books.view.levels()
        top_bids = self._levels(spec, bids[: shapes.CHECKSUM_DEPTH])
        top_asks = self._levels(spec, asks[: shapes.CHECKSUM_DEPTH])
        check = shapes.checksum(top_bids, top_asks) if self.checksums else 0
        if corrupt:
            check ^= 0x2A
        if diff is not None:
            bids, asks = diff.bids, diff.asks
        arg = conn_arg or {"channel": "books", "instId": symbol}
        data = {
            "asks": self._levels(spec, asks),
            "bids": self._levels(spec, bids),
            "ts": str(self.now_ms()),
            "checksum": check,
            "prevSeqId": prev,
            "seqId": books.seq_id,
        }
        return self._push_text(arg, [data], action=action)

    def _books5_message(self, symbol: str) -> str:
        view = self._top5[symbol]
        spec = view.market.spec
        bids, asks = view.levels()
        data = {
            "asks": self._levels(spec, asks),
            "bids": self._levels(spec, bids),
            "instId": symbol,
            "ts": str(self.now_ms()),
            "seqId": view.market.sequence,
        }
        return self._push_text({"channel": "books5", "instId": symbol}, [data])

    def _subscribers(self, key: str) -> list[SimConnection]:
        return [c for c in self.sim._connections if c._open and key in c._subscriptions]

    def on_tick(self, result: TickResult) -> None:
        """Private pushes of the fills, then books, books5, trades and tickers."""
        if result.fills:
            self._fills(result.fills, maker=True)
        market = result.market
        symbol = market.product_code
        books = self._books[symbol]
        diff = books.view.advance()
        idle = books.idle.random() < IDLE_CHANCE
        subscribers = self._subscribers(f"books:{symbol}")
        if diff is not None:
            prev, books.seq_id = books.seq_id, market.sequence
            self._send_books(subscribers, symbol, diff, prev)
        if idle:
            self._send_books(subscribers, symbol, Diff(bids=[], asks=[]), books.seq_id)
        if self._top5[symbol].advance() is not None:
            self._send_all(f"books5:{symbol}", lambda: self._books5_message(symbol))
        if result.data.trades:
            self._send_all(f"trades:{symbol}", lambda: self._trades_message(result))
        arg = {"channel": "tickers", "instId": symbol}
        self._send_all(f"tickers:{symbol}", lambda: self._push_text(arg, [self.ticker(symbol)]))

    def _send_books(
        self, subscribers: list[SimConnection], symbol: str, diff: Diff, prev: int
    ) -> None:
        if not subscribers:
            return
        text = self._books_message(symbol, "update", diff, prev=prev)
        corrupted: Callable[[], str] | None = None
        if self.checksums:
            corrupted = partial(
                self._books_message, symbol, "update", diff, prev=prev, corrupt=True
            )
        for conn in subscribers:
            conn._send_diff(f"books:{symbol}", text, corrupted)

    def _send_all(self, key: str, render: Callable[[], str]) -> None:
        subscribers = self._subscribers(key)
        if subscribers:
            text = render()
            for conn in subscribers:
                conn._send(text)

    def _trades_message(self, result: TickResult) -> str:
        market = result.market
        spec = market.spec
        symbol = market.product_code
        rows = [
            {
                "instId": symbol,
                "tradeId": str(100_000_000 + trade.id),
                "px": shapes.px(spec, trade.price),
                "sz": shapes.sz(spec, trade.size),
                "side": trade.side.lower(),
                "ts": str(round(trade.time * 1000)),
                "count": "1",
            }
            for trade in result.data.trades
        ]
        return self._push_text({"channel": "trades", "instId": symbol}, rows)

    # =============================================================== private

    def _private(self, channel: str) -> Iterable[tuple[SimConnection, dict[str, Any]]]:
        """Every logged-in subscription to ``channel``: ``(connection, its arg)``."""
        for conn in self.sim._connections:
            if not conn._open or conn._key is None:
                continue
            for arg in conn._subscriptions.values():
                if isinstance(arg, dict) and arg.get("channel") == channel:
                    yield conn, arg

    def _order_row(self, order: Order) -> dict[str, Any]:
        spec = self.engine.markets[order.symbol].spec
        return shapes.order_row(order, spec, td_mode=self._td_modes.get(order.order_id, ""))

    def _push_orders(self, events: list[tuple[Order, dict[str, str] | None]]) -> None:
        rows = [(o.symbol, {**self._order_row(o), **(extra or {})}) for o, extra in events]
        for conn, arg in self._private("orders"):
            data = [row for symbol, row in rows if self._matches(arg, symbol)]
            if data:
                conn._send(self._push_text(arg, data))

    def _fills(self, fills: list[Fill], *, maker: bool) -> None:
        """``orders``, ``positions``, ``account`` and ``balance_and_position`` for ``fills``."""
        self._push_orders(
            [(f.order, shapes.fill_fields(f, maker=maker, pnl=f.realized)) for f in fills]
        )
        markets = self.engine.markets
        symbols = sorted({f.order.symbol for f in fills if markets[f.order.symbol].spec.margin})
        for fill in fills:
            self._last_trade[fill.order.symbol] = str(fill.number)
            self._updated[fill.order.symbol] = fill.time
        positions = [self._position(markets[s]) for s in symbols]
        for conn, arg in self._private("positions"):
            data = [p for p in positions if self._matches(arg, p["instId"])]
            if data:
                conn._send(self._push_text(arg, data))
        account = self.balance()
        for conn, arg in self._private("account"):
            conn._send(self._push_text(arg, [account]))
        trades = [{"instId": f.order.symbol, "tradeId": str(f.number)} for f in fills]
        event = self._balance_and_position("filled", positions, trades)
        for conn, arg in self._private("balance_and_position"):
            conn._send(self._push_text(arg, [event]))

    def _position(self, market: Market) -> dict[str, Any]:
        symbol = market.product_code
        return shapes.position_row(
            self.engine.account,
            market,
            pos_id=self._pos_ids[symbol],
            trade_id=self._last_trade[symbol],
            updated=self._updated.get(symbol, self.sim._now()),
        )

    def _balance_and_position(
        self,
        event_type: str,
        positions: list[dict[str, Any]],
        trades: list[dict[str, str]] | None = None,
    ) -> dict[str, Any]:
        now = str(self.now_ms())
        if event_type == "snapshot":
            positions = self.positions()
        account = self.engine.account
        return {
            "pTime": now,
            "eventType": event_type,
            "balData": [
                {"ccy": ccy, "cashBal": plain(balance), "uTime": now}
                for ccy, balance in sorted(account.balances.items())
            ],
            "posData": [
                {
                    key: p[key]
                    for key in (
                        "posId",
                        "tradeId",
                        "instId",
                        "instType",
                        "mgnMode",
                        "posSide",
                        "pos",
                        "ccy",
                        "posCcy",
                        "avgPx",
                        "uTime",
                    )
                }
                for p in positions
            ],
            "trades": trades or [],
        }

    # ============================================================== account

    def ticker(self, symbol: str) -> Any:
        """A ``GET /api/v5/market/ticker`` row."""
        return shapes.ticker_row(self.engine.markets[symbol], self.now_ms())

    def orders(self) -> list[Any]:
        """Every order (any state), newest first, as ``orders-pending`` rows."""
        return [self._order_row(o) for o in self.engine.account.newest_first()]

    def positions(self) -> list[Any]:
        """Open swap positions, as ``GET /api/v5/account/positions`` rows."""
        account = self.engine.account
        return [
            self._position(m)
            for symbol, m in self.engine.markets.items()
            if m.spec.margin and account.symbol_lots(symbol)
        ]

    def balance(self) -> Any:
        """The trading account (the ``GET /api/v5/account/balance`` data entry)."""
        return shapes.account_row(self.engine.account, self.engine.marks(), updated=self.sim._now())
