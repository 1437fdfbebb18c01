"""The bitFlyer Lightning dialect: REST at ``/v1/...``, JSON-RPC Realtime API at ``/json-rpc``.

Shapes follow bitFlyer's documentation:

* REST: https://lightning.bitflyer.com/docs (ticker, board, markets,
  send/cancel child order, child orders, positions, collateral); errors are
  ``{"status": <negative code>, "error_message": ..., "data": null}``.
* Realtime API (https://bf-lightning-api.readme.io/docs): JSON-RPC 2.0
  ``auth``, ``subscribe``, ``unsubscribe``; channels
  ``lightning_board_snapshot_{product}``, ``lightning_board_{product}``,
  ``lightning_ticker_{product}``, ``lightning_executions_{product}`` and,
  after ``auth``, ``child_order_events`` and ``parent_order_events`` (never
  sent). Notifications (requests without ``id``) get no response.

Prices are JSON numbers (integers for yen products), sizes floats, a removed
level ``size: 0``. Board diffs carry ``mid_price = (best_bid + best_ask) // 2``,
so the bitFlyer store's pruning of crossed levels never removes anything.
There are no sequence numbers: ``Fault(skip_diff_after=...)`` loses one board
diff without a trace, which is the gap bitFlyer clients cannot detect.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

from aiohttp import web

from ._account import LEVERAGE, Fill, Order, OrderError, OrderRequest
from ._bitflyer_auth import NonceRegistry, check_rest, check_ws_auth
from ._connection import SimConnection
from ._dialect import Dialect, RestError, Route, dumps
from ._engine import TickResult
from ._market import DEFAULT_MARKETS, Market, MarketSpec, compact_date, iso_date

__all__ = ["DEMO_APIS", "HOSTS", "BitFlyer"]

logger = logging.getLogger("botters.simulator")

DEMO_APIS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {"bitflyer": ("botters-demo-key", "botters-demo-secret")}
)
"""Credentials the simulator accepts by default (``apis=`` shape of botters and pybotters)."""

HOSTS: Final = ("api.bitflyer.com", "ws.lightstream.bitflyer.com")

_PRIVATE_CHANNELS: Final = frozenset({"child_order_events", "parent_order_events"})
_PUBLIC_PREFIXES: Final = (
    "lightning_board_snapshot_",
    "lightning_board_",
    "lightning_ticker_",
    "lightning_executions_",
)
_JSONRPC: Final = "2.0"
_NO_REPLY: Final[Any] = object()


def _num(value: Decimal) -> int | float:
    # JSON numbers as bitFlyer prints them: integers stay integers.
    return int(value) if value == value.to_integral_value() else float(value)


def _channel_message(channel: str, message: Any) -> str:
    return dumps(
        {
            "jsonrpc": _JSONRPC,
            "method": "channelMessage",
            "params": {"channel": channel, "message": message},
        }
    )


def _positive_number(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise OrderError(f"{name} must be a number")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise OrderError(f"{name} must be a number") from None
    if not number.is_finite() or number <= 0:
        raise OrderError(f"{name} must be a positive number")
    return number


def parse_order(body: Any, *, products: set[str], now: float, number: int) -> OrderRequest:
    """Validate a ``sendchildorder`` body (its ids come from the order ``number``).

    Raises:
        OrderError: the body is not a valid order.
    """
    if not isinstance(body, dict):
        raise OrderError("the body must be a JSON object")
    product_code = body.get("product_code")
    if not isinstance(product_code, str) or product_code not in products:
        raise OrderError(f"unknown product_code {product_code!r}")
    side = body.get("side")
    if side not in ("BUY", "SELL"):
        raise OrderError("side must be BUY or SELL")
    order_type = body.get("child_order_type")
    if order_type not in ("LIMIT", "MARKET"):
        raise OrderError("child_order_type must be LIMIT or MARKET")
    size = _positive_number(body.get("size"), "size")
    price = Decimal(0)
    if order_type == "LIMIT":
        price = _positive_number(body.get("price"), "price")
    minutes = body.get("minute_to_expire", 43200)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise OrderError("minute_to_expire must be a positive integer")
    time_in_force = body.get("time_in_force", "GTC")
    if time_in_force not in ("GTC", "IOC", "FOK"):
        raise OrderError("time_in_force must be GTC, IOC or FOK")
    date = compact_date(now)
    return OrderRequest(
        symbol=product_code,
        side=side,
        type=order_type,
        size=size,
        price=price,
        time_in_force=time_in_force,
        expire=now + 60 * minutes,
        order_id=f"JOR{date}-{number:06d}",
        client_id=f"JRF{date}-{number:06d}",
    )


def order_row(order: Order) -> dict[str, Any]:
    """The ``GET /v1/me/getchildorders`` row."""
    canceled = order.size - order.executed_size if order.state == "CANCELED" else Decimal(0)
    return {
        "id": order.number,
        "child_order_id": order.order_id,
        "product_code": order.symbol,
        "side": order.side,
        "child_order_type": order.type,
        "price": _num(order.price),
        "average_price": _num(order.average_price),
        "size": _num(order.size),
        "child_order_state": order.state,
        "expire_date": iso_date(order.expire)[:19],
        "child_order_date": iso_date(order.created)[:19],
        "child_order_acceptance_id": order.client_id,
        "outstanding_size": _num(order.outstanding_size),
        "cancel_size": _num(canceled),
        "executed_size": _num(order.executed_size),
        "total_commission": 0,
        "time_in_force": order.time_in_force,
    }


def _event(order: Order, event_type: str, now: float) -> dict[str, Any]:
    return {
        "product_code": order.symbol,
        "child_order_id": order.order_id,
        "child_order_acceptance_id": order.client_id,
        "event_date": iso_date(now),
        "event_type": event_type,
    }


def order_event(order: Order, now: float) -> dict[str, Any]:
    """The ``ORDER`` event of a new order."""
    return {
        **_event(order, "ORDER", now),
        "child_order_type": order.type,
        "side": order.side,
        "price": _num(order.price),
        "size": _num(order.size),
        "expire_date": iso_date(order.expire)[:19],
    }


def cancel_event(order: Order, now: float) -> dict[str, Any]:
    """The ``CANCEL`` event of a canceled order."""
    return {
        **_event(order, "CANCEL", now),
        "price": _num(order.price),
        "size": _num(order.size - order.executed_size),
    }


def execution_event(fill: Fill) -> dict[str, Any]:
    """The ``EXECUTION`` event of a fill."""
    return {
        **_event(fill.order, "EXECUTION", fill.time),
        "exec_id": fill.number,
        "side": fill.order.side,
        "price": _num(fill.price),
        "size": _num(fill.size),
        "commission": 0,
        "sfd": 0,
        "outstanding_size": 0,
    }


def board_message(market: Market) -> dict[str, Any]:
    """The whole book as a snapshot message (and ``GET /v1/getboard``)."""
    spec = market.spec
    bids, asks = market.levels()
    return {
        "mid_price": _num(spec.price(market.mid_price)),
        "bids": [{"price": _num(spec.price(p)), "size": _size(spec, s)} for p, s in bids],
        "asks": [{"price": _num(spec.price(p)), "size": _size(spec, s)} for p, s in asks],
    }


def board_diff(market: Market, bids: dict[int, int], asks: dict[int, int]) -> dict[str, Any]:
    """A tick's board message: only the changed levels, ``size: 0`` removed."""
    spec = market.spec
    return {
        "mid_price": _num(spec.price(market.mid_price)),
        "bids": [
            {"price": _num(spec.price(p)), "size": _size(spec, s)}
            for p, s in sorted(bids.items(), reverse=True)
        ],
        "asks": [
            {"price": _num(spec.price(p)), "size": _size(spec, s)} for p, s in sorted(asks.items())
        ],
    }


def _size(spec: MarketSpec, lots: int) -> int | float:
    return 0 if lots == 0 else float(spec.size(lots))


def ticker_message(market: Market, now: float) -> dict[str, Any]:
    """The ticker message (and ``GET /v1/getticker``)."""
    spec = market.spec
    best_bid, best_ask = market.best_bid, market.best_ask
    volume = float(spec.size(market.volume))
    return {
        "product_code": market.product_code,
        "state": "RUNNING",
        "timestamp": iso_date(now),
        "tick_id": market.tick_id,
        "best_bid": _num(spec.price(best_bid)),
        "best_ask": _num(spec.price(best_ask)),
        "best_bid_size": float(spec.size(market.bids[best_bid])),
        "best_ask_size": float(spec.size(market.asks[best_ask])),
        "total_bid_depth": float(spec.size(sum(market.bids.values()))),
        "total_ask_depth": float(spec.size(sum(market.asks.values()))),
        "market_bid_size": 0.0,
        "market_ask_size": 0.0,
        "ltp": _num(spec.price(market.ltp)),
        "volume": volume,
        "volume_by_product": volume,
    }


def executions_message(market: Market, result: TickResult) -> list[dict[str, Any]]:
    """A tick's public executions."""
    spec = market.spec
    out = []
    for trade in result.data.trades:
        date = compact_date(trade.time)
        n = trade.id
        out.append(
            {
                "id": n,
                "side": trade.side,
                "price": _num(spec.price(trade.price)),
                "size": float(spec.size(trade.size)),
                "exec_date": iso_date(trade.time),
                "buy_child_order_acceptance_id": f"JRF{date}-{2 * n:06d}",
                "sell_child_order_acceptance_id": f"JRF{date}-{2 * n + 1:06d}",
            }
        )
    return out


class BitFlyer(Dialect):
    """bitFlyer Lightning: the simulator's original (and default) exchange."""

    name = "bitflyer"
    hosts = HOSTS
    ws_paths = ("/json-rpc",)
    markets = DEFAULT_MARKETS
    default_products = ("FX_BTC_JPY",)
    demo_apis = DEMO_APIS
    currency = "JPY"
    unified = False
    whole_units = True
    window = 60.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._nonces = NonceRegistry()
        self._secrets = {key: s.secret for key, s in self.keys.items()}

    # ================================================================== REST

    def routes(self) -> list[Route]:
        """The REST paths (``/v1/markets`` is ``/v1/getmarkets``' alias)."""
        return [
            Route("GET", "/v1/getticker", self._getticker, private=False),
            Route("GET", "/v1/getboard", self._getboard, private=False),
            Route("GET", "/v1/getmarkets", self._getmarkets, private=False),
            Route("GET", "/v1/markets", self._getmarkets, private=False),
            Route("POST", "/v1/me/sendchildorder", self._sendchildorder),
            Route("POST", "/v1/me/cancelchildorder", self._cancelchildorder),
            Route("GET", "/v1/me/getchildorders", self._getchildorders),
            Route("GET", "/v1/me/getpositions", self._getpositions),
            Route("GET", "/v1/me/getcollateral", self._getcollateral),
        ]

    def authenticate(self, request: web.Request, body: bytes) -> str:
        """``ACCESS-KEY``, ``ACCESS-TIMESTAMP`` and ``ACCESS-SIGN`` (see ``_bitflyer_auth``)."""
        key, reason = check_rest(
            request.headers,
            request.method,
            request.raw_path,
            body,
            self._secrets,
            now=self.clock(),
            window=self.window_for(self.window),
        )
        if key is None:
            raise RestError(401, -500, f"authentication failed: {reason}")
        return key

    def error_response(self, error: RestError) -> web.Response:
        """The error body (the negative codes below -500 are the simulator's own)."""
        return web.json_response(
            {"status": error.code, "error_message": error.message, "data": None},
            status=error.status,
        )

    def _product_param(self, request: web.Request, *, required: bool) -> str | None:
        code = request.query.get("product_code")
        if code is None:
            if required:
                return next(iter(self.engine.markets))
            return None
        if code not in self.engine.markets:
            raise RestError(400, -120, f"unknown product_code {code!r}")
        return code

    def _market_param(self, request: web.Request) -> Market:
        code = self._product_param(request, required=True)
        assert code is not None
        return self.engine.markets[code]

    def _getticker(self, request: web.Request, body: bytes) -> web.Response:
        return web.json_response(ticker_message(self._market_param(request), self.sim._now()))

    def _getboard(self, request: web.Request, body: bytes) -> web.Response:
        return web.json_response(board_message(self._market_param(request)))

    def _getmarkets(self, request: web.Request, body: bytes) -> web.Response:
        return web.json_response(
            [
                {"product_code": code, "market_type": "FX" if m.spec.margin else "Spot"}
                for code, m in self.engine.markets.items()
            ]
        )

    @staticmethod
    def _json_body(body: bytes) -> Any:
        try:
            return json.loads(body)
        except ValueError:
            raise RestError(400, -100, "the body is not JSON") from None

    def _sendchildorder(self, request: web.Request, body: bytes) -> web.Response:
        now = self.sim._now()
        try:
            order_request = parse_order(
                self._json_body(body),
                products=set(self.engine.markets),
                now=now,
                number=self.engine.account.next_number,
            )
        except OrderError as exc:
            raise RestError(400, -106, str(exc)) from None
        order, fill = self.engine.place(order_request, now=now)
        self.sim._counts["orders"] += 1
        logger.debug("order %s accepted", order.client_id)
        self._emit([order_event(order, now)])
        if fill is not None:
            self._emit([execution_event(fill)])
        return web.json_response({"child_order_acceptance_id": order.client_id})

    def _find(self, body: Any) -> Order:
        if not isinstance(body, dict):
            raise OrderError("the body must be a JSON object")
        acceptance_id = body.get("child_order_acceptance_id")
        order_id = body.get("child_order_id")
        account = self.engine.account
        if isinstance(acceptance_id, str):
            order = account.find(client_id=acceptance_id)
        elif isinstance(order_id, str):
            order = account.find(order_id=order_id)
        else:
            raise OrderError("child_order_acceptance_id or child_order_id is required")
        if order is None or order.symbol != body.get("product_code"):
            raise OrderError("order not found")
        return order

    def _cancelchildorder(self, request: web.Request, body: bytes) -> web.Response:
        now = self.sim._now()
        try:
            order = self._find(self._json_body(body))
            self.engine.account.cancel(order, now)
        except OrderError as exc:
            raise RestError(400, -111, str(exc)) from None
        self._emit([cancel_event(order, now)])
        return web.Response(status=200)

    def _getchildorders(self, request: web.Request, body: bytes) -> web.Response:
        query = request.query
        count_text = query.get("count", "100")
        if not count_text.isdigit() or int(count_text) < 1:
            raise RestError(400, -100, "count must be a positive integer")
        state = query.get("child_order_state")
        if state is not None and state not in (
            "ACTIVE",
            "COMPLETED",
            "CANCELED",
            "EXPIRED",
            "REJECTED",
        ):
            raise RestError(400, -100, f"unknown child_order_state {state!r}")
        code = self._product_param(request, required=False)
        acceptance_id = query.get("child_order_acceptance_id")
        order_id = query.get("child_order_id")
        rows = [
            order_row(o)
            for o in self.engine.account.newest_first()
            if (code is None or o.symbol == code)
            and (state is None or o.state == state)
            and (acceptance_id is None or o.client_id == acceptance_id)
            and (order_id is None or o.order_id == order_id)
        ]
        return web.json_response(rows[: int(count_text)])

    def _getpositions(self, request: web.Request, body: bytes) -> web.Response:
        code = self._product_param(request, required=False)
        if code is None or not self.engine.markets[code].spec.margin:
            raise RestError(400, -100, "product_code must name a margin product, e.g. FX_BTC_JPY")
        return web.json_response(self._positions(code))

    def _getcollateral(self, request: web.Request, body: bytes) -> web.Response:
        return web.json_response(self.balance())

    def _positions(self, code: str | None) -> list[dict[str, Any]]:
        account = self.engine.account
        marks = self.engine.marks()
        return [
            {
                "product_code": lot.symbol,
                "side": lot.side,
                "price": _num(lot.price),
                "size": _num(lot.size),
                "commission": 0,
                "swap_point_accumulate": 0,
                "require_collateral": _num(lot.price * lot.size / LEVERAGE),
                "open_date": iso_date(lot.open_date)[:23],
                "leverage": LEVERAGE,
                "pnl": _num(account.pnl(lot, marks.get(lot.symbol))),
                "sfd": 0,
            }
            for lot in account.symbol_lots(code)
        ]

    # ============================================================= WebSocket

    def on_binary(self, conn: SimConnection, data: bytes) -> None:
        """Binary frames are not JSON-RPC."""
        self._reject(conn, None, -32700, "Parse error: binary frames are not JSON")

    def on_text(self, conn: SimConnection, text: str) -> None:
        """One JSON-RPC request or notification."""
        try:
            msg = json.loads(text)
        except ValueError:
            self._reject(conn, None, -32700, "Parse error")
            return
        if not isinstance(msg, dict):
            self._reject(conn, None, -32600, "Invalid Request")
            return
        has_id = "id" in msg
        request_id = msg.get("id")
        method = msg.get("method")
        params = msg.get("params")

        def reply(result: Any) -> None:
            if has_id:
                conn._reply(dumps({"jsonrpc": _JSONRPC, "id": request_id, "result": result}))

        def error(code: int, message: str) -> None:
            # JSON-RPC 2.0: notifications (no "id") get no response, not even an error.
            self._reject(conn, request_id if has_id else _NO_REPLY, code, message)

        if method == "auth":
            if conn._reject_login:
                self.login_rejected(conn)
                logger.warning("fault: connection #%d: login rejected on purpose", conn._number)
                if has_id:
                    conn._reply(
                        dumps(
                            {
                                "jsonrpc": _JSONRPC,
                                "id": request_id,
                                "error": {"code": -32000, "message": "authentication rejected"},
                            }
                        )
                    )
                return
            key, reason = check_ws_auth(
                params,
                self._secrets,
                self._nonces,
                now=self.clock(),
                window=self.window_for(self.window),
            )
            if key is None:
                self.login_rejected(conn)
                error(-32000, f"authentication failed: {reason}")
                return
            self.login_accepted(conn, key)
            logger.debug("connection #%d authenticated", conn._number)
            reply(True)
        elif method in ("subscribe", "unsubscribe"):
            channel = params.get("channel") if isinstance(params, dict) else None
            if not isinstance(channel, str):
                error(-32602, "Invalid params: params.channel must be a string")
                return
            if method == "unsubscribe":
                conn._subscriptions.pop(channel, None)
                conn._forget(channel)
                reply(True)
                return
            product = self._channel_product(channel)
            if product is None:
                error(-32602, f"Invalid params: unknown channel {channel!r}")
                return
            if channel in _PRIVATE_CHANNELS and conn._key is None:
                error(-32001, f"authentication required to subscribe to {channel}")
                return
            conn._subscriptions[channel] = None
            reply(True)
            self._on_subscribed(conn, channel, product)
        else:
            error(-32601, f"Method not found: {method!r}")

    def _channel_product(self, channel: str) -> str | None:
        """The product a public channel names, ``""`` for a private channel, else ``None``."""
        if channel in _PRIVATE_CHANNELS:
            return ""
        for prefix in _PUBLIC_PREFIXES:
            if channel.startswith(prefix):
                code = channel[len(prefix) :]
                return code if code in self.engine.markets else None
        return None

    def _on_subscribed(self, conn: SimConnection, channel: str, product: str) -> None:
        # A snapshot goes out on subscribing to the snapshot channel, and again
        # on subscribing to the diff channel while subscribed to the snapshot
        # channel: then the diffs that follow always apply to the last
        # snapshot, whatever the order of the two subscriptions and however
        # the ticks fall between them.
        snapshot_channel = f"lightning_board_snapshot_{product}"
        if channel == snapshot_channel or (
            channel == f"lightning_board_{product}" and snapshot_channel in conn._subscriptions
        ):
            conn._forget(f"lightning_board_{product}")
            market = self.engine.markets[product]
            conn._send(_channel_message(snapshot_channel, board_message(market)))
        elif channel == f"lightning_ticker_{product}":
            market = self.engine.markets[product]
            conn._send(_channel_message(channel, ticker_message(market, self.sim._now())))

    def _reject(self, conn: SimConnection, request_id: Any, code: int, message: str) -> None:
        logger.warning("connection #%d: rejected request: %s", conn._number, message)
        if request_id is _NO_REPLY:
            return
        conn._reply(
            dumps(
                {
                    "jsonrpc": _JSONRPC,
                    "id": request_id,
                    "error": {"code": code, "message": message},
                }
            )
        )

    # ================================================================ market

    def on_tick(self, result: TickResult) -> None:
        """Child order events of the fills, then board diff, snapshot, ticker, executions."""
        if result.fills:
            self._emit([execution_event(fill) for fill in result.fills])
        market = result.market
        code = market.product_code
        diff_channel = f"lightning_board_{code}"
        snapshot_channel = f"lightning_board_snapshot_{code}"
        ticker_channel = f"lightning_ticker_{code}"
        executions_channel = f"lightning_executions_{code}"
        every = self.sim._snapshot_every
        periodic = every is not None and self.sim._ticks % every == 0
        frames: dict[str, str] = {}

        def frame(channel: str, build: Any) -> str:
            if channel not in frames:
                frames[channel] = _channel_message(channel, build())
            return frames[channel]

        data = result.data
        for conn in self.sim._connections:
            if not conn._open:
                continue
            subs = conn._subscriptions
            if diff_channel in subs:
                conn._send_diff(
                    diff_channel,
                    frame(diff_channel, lambda: board_diff(market, data.bids, data.asks)),
                )
            if periodic and snapshot_channel in subs:
                conn._send(frame(snapshot_channel, lambda: board_message(market)))
            if ticker_channel in subs:
                conn._send(frame(ticker_channel, lambda: ticker_message(market, self.sim._now())))
            if data.trades and executions_channel in subs:
                conn._send(frame(executions_channel, lambda: executions_message(market, result)))

    def _emit(self, events: list[dict[str, Any]]) -> None:
        frame = _channel_message("child_order_events", events)
        for conn in self.sim._connections:
            if conn._open and conn._key is not None and "child_order_events" in conn._subscriptions:
                conn._send(frame)

    def price_text(self, spec: MarketSpec, ticks: int) -> str:
        """The JSON number: ``10000000``."""
        return dumps(_num(spec.price(ticks)))

    def size_text(self, spec: MarketSpec, lots: int) -> str:
        """The JSON number: ``0.01``."""
        return dumps(_size(spec, lots))

    # ============================================================== account

    def ticker(self, symbol: str) -> Any:
        """``GET /v1/getticker``."""
        return ticker_message(self.engine.market(symbol), self.sim._now())

    def orders(self) -> list[Any]:
        """``GET /v1/me/getchildorders`` rows, newest first."""
        return [order_row(o) for o in self.engine.account.newest_first()]

    def positions(self) -> list[Any]:
        """Open position lots (``GET /v1/me/getpositions`` rows, all products)."""
        return self._positions(None)

    def balance(self) -> Any:
        """``GET /v1/me/getcollateral``."""
        account = self.engine.account
        marks = self.engine.marks()
        open_pnl = account.open_pnl(marks)
        required = account.required()
        keep_rate = (account.collateral + open_pnl) / required if required else Decimal(0)
        return {
            "collateral": _num(account.collateral),
            "open_position_pnl": _num(open_pnl.quantize(Decimal(1))),
            "require_collateral": _num(required.quantize(Decimal(1))),
            "keep_rate": float(round(keep_rate, 6)),
            "margin_call_amount": 0,
            "margin_call_due_date": None,
        }
