"""The Binance USDⓈ-M futures dialect: what differs from Spot (``_binance.py``).

Market streams (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams),
served as on Spot at ``/ws/<stream>``, ``/stream?streams=`` and ``/ws``:

* ``<symbol>@depth``, ``@depth@500ms``, ``@depth@100ms``: ``{"e":
  "depthUpdate", "E", "T", "s", "U", "u", "pu", "b", "a"}`` where ``pu`` is the
  previous event's ``u``, so a skipped diff (``Fault(skip_diff_after=...)``)
  shows as ``pu`` naming an event never seen. ``<symbol>@aggTrade`` and
  ``<symbol>@bookTicker`` (``{"e": "bookTicker", "u", "E", "T", "s", "b", "B",
  "a", "A"}``). The server PINGs every 3 minutes.
* ``GET /fapi/v1/depth`` (``limit`` up to 1000, 500 by default) answers
  ``{"lastUpdateId", "E", "T", "bids", "asks"}``, its id in the next event's
  ``[U; u)`` as on Spot, so Binance's futures rule (drop ``u < lastUpdateId``;
  the first event has ``U <= lastUpdateId <= u``; then ``pu`` links) holds
  (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/How-to-manage-a-local-order-book-correctly).

User data (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams):
``POST /fapi/v1/listenKey`` -> ``{"listenKey"}``; ``PUT`` (no parameter
needed) keeps the active key alive and answers ``{"listenKey"}``;
``DELETE`` closes it. Events: ``ORDER_TRADE_UPDATE`` (``{"e", "E", "T",
"o": {...}}``), ``ACCOUNT_UPDATE`` after fills (``{"e", "E", "T", "a": {"m":
"ORDER", "B": [...], "P": [...]}}``), ``listenKeyExpired``.

REST (SIGNED as on Spot): ``POST``/``DELETE``/``GET /fapi/v1/order`` (one-way
mode, ``positionSide: "BOTH"``; ``newOrderRespType`` ``ACK`` by default or
``RESULT``), ``GET /fapi/v1/openOrders``, ``GET /fapi/v2/account`` (and
``v3``), ``GET /fapi/v2/balance``, ``GET /fapi/v2/positionRisk`` (and
``v3``). Margin is not checked; fees are zero; positions are reported at
leverage 2 and marked at the mid price. Prices and quantities print with
the symbol's tick and lot decimals (``"65000.10"``, ``"0.001"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

from aiohttp import web

from ._account import LEVERAGE, Fill, Order
from ._binance import DEMO_APIS, Binance, _status
from ._dialect import Route, plain
from ._market import Market, MarketSpec

__all__ = ["MARKETS", "BinanceUsdm"]

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
            size_step="0.001",
            margin=True,
        ),
    }
)
"""USDⓈ-M perpetuals by symbol."""


def _fixed(value: Decimal, step: Decimal) -> str:
    """``value`` with as many decimals as ``step`` is written with."""
    exponent = step.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return format(value, f".{places}f")


class BinanceUsdm(Binance):
    """Binance USDⓈ-M futures: ``fapi.binance.com`` and ``fstream.binance.com``."""

    name = "binanceusdsm"
    api_name = "binance"
    hosts = ("fapi.binance.com", "fstream.binance.com")
    markets = MARKETS
    default_products = ("BTCUSDT",)
    demo_apis = DEMO_APIS
    ping_interval = 180.0
    user_stream_path = "/fapi/v1/listenKey"
    diff_streams = ("depth", "depth@500ms", "depth@100ms")
    other_streams = ("aggTrade", "bookTicker", "ticker", "markPrice", "markPrice@1s")
    partial_depths = ()
    max_depth_limit = 1000
    default_depth_limit = "500"
    default_response_type = "ACK"
    listen_key_param = False

    # ============================================================= printing

    def price_text(self, spec: MarketSpec, ticks: int) -> str:
        """With the tick's decimals: ``"65000.10"``."""
        return _fixed(spec.price(ticks), spec.tick)

    def size_text(self, spec: MarketSpec, lots: int) -> str:
        """With the lot's decimals: ``"0.001"``."""
        return _fixed(spec.size(lots), spec.lot)

    # ============================================================= REST

    def routes(self) -> list[Route]:
        """The ``/fapi`` endpoints served."""
        path = self.user_stream_path
        return [
            Route("GET", "/fapi/v1/depth", self._depth, private=False),
            Route("GET", "/fapi/v1/time", self._time, private=False),
            Route("GET", "/fapi/v1/ping", self._ping, private=False),
            Route("GET", "/fapi/v1/exchangeInfo", self._exchange_info, private=False),
            Route("GET", "/fapi/v1/ticker/bookTicker", self._book_ticker, private=False),
            Route("POST", path, self._user_stream),
            Route("PUT", path, self._user_stream),
            Route("DELETE", path, self._user_stream),
            Route("POST", "/fapi/v1/order", self._new_order),
            Route("DELETE", "/fapi/v1/order", self._cancel_order),
            Route("GET", "/fapi/v1/order", self._query_order),
            Route("GET", "/fapi/v1/openOrders", self._open_orders),
            Route("GET", "/fapi/v2/account", self._account),
            Route("GET", "/fapi/v3/account", self._account),
            Route("GET", "/fapi/v2/balance", self._balance),
            Route("GET", "/fapi/v2/positionRisk", self._position_risk),
            Route("GET", "/fapi/v3/positionRisk", self._position_risk),
        ]

    @staticmethod
    def _symbol_info(spec: MarketSpec) -> dict[str, Any]:
        tick, lot = _fixed(spec.tick, spec.tick), _fixed(spec.lot, spec.lot)
        return {
            "symbol": spec.product_code,
            "pair": spec.product_code,
            "contractType": "PERPETUAL",
            "status": "TRADING",
            "baseAsset": spec.base,
            "quoteAsset": spec.quote,
            "marginAsset": spec.quote,
            "pricePrecision": len(tick.partition(".")[2]),
            "quantityPrecision": len(lot.partition(".")[2]),
            "orderTypes": ["LIMIT", "MARKET"],
            "timeInForce": ["GTC", "IOC", "FOK"],
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": tick,
                    "maxPrice": "1000000",
                    "tickSize": tick,
                },
                {"filterType": "LOT_SIZE", "minQty": lot, "maxQty": "1000", "stepSize": lot},
            ],
        }

    def _snapshot_stamps(self) -> dict[str, int]:
        now = self.now_ms()
        return {"E": now, "T": now}

    def _named_key(self, params: Mapping[str, str]) -> str:
        """USDⓈ-M needs no parameter: the account's active key (or the one named)."""
        named = params.get("listenKey", "")
        if named:
            return named
        entry = self._active_key()
        return entry.key if entry is not None else ""

    def _keepalive_answer(self, key: str) -> dict[str, Any]:
        return {"listenKey": key}

    def _check_funds(
        self, market: Market, side: str, order_type: str, qty: Decimal, price: Decimal
    ) -> None:
        """Margin is not checked."""

    def _order_answer(
        self,
        order: Order,
        accepted: dict[str, Any],
        fills: list[Fill],
        response_type: str,
        now: float,
    ) -> dict[str, Any]:
        row = dict(accepted if response_type == "ACK" else self._order_row(order))
        del row["time"]
        row["cumQty"] = row["executedQty"]
        return row

    def _cancel_answer(self, order: Order, cancel_id: str) -> dict[str, Any]:
        row = self._order_row(order)
        del row["time"]
        row["cumQty"] = row["executedQty"]
        return row

    def _balance(self, request: web.Request, body: bytes) -> web.Response:
        account = self.balance()
        (asset,) = account["assets"]
        return self._answer(
            [
                {
                    "accountAlias": "SimFuturesAccount",
                    "asset": asset["asset"],
                    "balance": asset["walletBalance"],
                    "crossWalletBalance": asset["crossWalletBalance"],
                    "crossUnPnl": asset["crossUnPnl"],
                    "availableBalance": asset["availableBalance"],
                    "maxWithdrawAmount": asset["maxWithdrawAmount"],
                    "marginAvailable": True,
                    "updateTime": asset["updateTime"],
                }
            ]
        )

    def _position_risk(self, request: web.Request, body: bytes) -> web.Response:
        params = self._params(request)
        if "symbol" in params:
            markets = [self._market(params)]
        else:
            markets = list(self.engine.markets.values())
        return self._answer([self._position(m) for m in markets])

    # ============================================================= streams

    def _depth_event(
        self,
        symbol: str,
        first: int,
        last: int,
        previous: int,
        bids: list[list[str]],
        asks: list[list[str]],
    ) -> dict[str, Any]:
        now = self.now_ms()
        return {
            "e": "depthUpdate",
            "E": now,
            "T": now,
            "s": symbol,
            "U": first,
            "u": last,
            "pu": previous,
            "b": bids,
            "a": asks,
        }

    def _book_ticker_event(self, symbol: str) -> dict[str, Any]:
        bid, bid_qty, ask, ask_qty = self._touch(symbol)
        now = self.now_ms()
        return {
            "e": "bookTicker",
            "u": self._books[symbol].last,
            "E": now,
            "T": now,
            "s": symbol,
            "b": bid,
            "B": bid_qty,
            "a": ask,
            "A": ask_qty,
        }

    def _ticker_event(self, market: Market) -> dict[str, Any]:
        event = super()._ticker_event(market)
        for name in ("x", "b", "B", "a", "A"):  # not in USDⓈ-M's 24hrTicker
            del event[name]
        return event

    def _more_streams(self, market: Market) -> None:
        """``<symbol>@markPrice`` (and ``@1s``): ``markPriceUpdate`` at the mid price."""
        name = market.product_code.lower()
        streams = [f"{name}@markPrice", f"{name}@markPrice@1s"]
        if not any(self._subscribers(stream) for stream in streams):
            return
        spec = market.spec
        mark = self.price_text(spec, market.mid_price)
        now = self.now_ms()
        hour = 8 * 3600 * 1000
        event = {
            "e": "markPriceUpdate",
            "E": now,
            "s": market.product_code,
            "p": mark,
            "i": mark,
            "P": mark,
            "r": "0.00010000",
            "T": (now // hour + 1) * hour,
        }
        for stream in streams:
            self._send_stream(stream, event)

    def ticker(self, symbol: str) -> Any:
        """A ``GET /fapi/v1/ticker/bookTicker`` row."""
        bid, bid_qty, ask, ask_qty = self._touch(symbol)
        return {
            "symbol": symbol,
            "bidPrice": bid,
            "bidQty": bid_qty,
            "askPrice": ask,
            "askQty": ask_qty,
            "time": self.now_ms(),
            "lastUpdateId": self._books[symbol].last,
        }

    # =============================================================== private

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
        realized = fill.realized if fill is not None else Decimal(0)
        self._push(
            {
                "e": "ORDER_TRADE_UPDATE",
                "E": now,
                "T": now,
                "o": {
                    "s": order.symbol,
                    "c": order.client_id,
                    "S": order.side,
                    "o": order.type,
                    "f": order.time_in_force,
                    "q": self._qty(spec, order.size),
                    "p": self._px(spec, order.price),
                    "ap": self._px(spec, order.average_price),
                    "sp": "0",
                    "x": execution,
                    "X": _status(order),
                    "i": int(order.order_id),
                    "l": self._qty(spec, fill.size if fill else Decimal(0)),
                    "z": self._qty(spec, order.executed_size),
                    "L": self._px(spec, fill.price if fill else Decimal(0)),
                    "N": spec.quote,
                    "n": "0",
                    "T": round((fill.time if fill else order.updated) * 1000),
                    "t": fill.number if fill else 0,
                    "b": "0",
                    "a": "0",
                    "m": maker if fill else False,
                    "R": False,
                    "wt": "CONTRACT_PRICE",
                    "ot": order.type,
                    "ps": "BOTH",
                    "cp": False,
                    "rp": plain(realized),
                    "pP": False,
                    "si": 0,
                    "ss": 0,
                    "V": "EXPIRE_MAKER",
                    "pm": "NONE",
                    "gtd": 0,
                },
            }
        )

    def _on_fills(self, fills: list[Fill], *, maker: bool) -> None:
        for fill in fills:
            self._report(fill.order, "TRADE", fill, maker=maker)
        symbols = dict.fromkeys(f.order.symbol for f in fills)
        wallet = self._wallet()
        now = self.now_ms()
        self._account_update = now / 1000
        positions = []
        for symbol in symbols:
            row = self._position(self.engine.markets[symbol])
            positions.append(
                {
                    "s": symbol,
                    "pa": row["positionAmt"],
                    "ep": row["entryPrice"],
                    "bep": row["breakEvenPrice"],
                    "cr": plain(self.engine.account.realized.get(symbol, Decimal(0))),
                    "up": row["unRealizedProfit"],
                    "mt": "cross",
                    "iw": "0",
                    "ps": "BOTH",
                }
            )
        self._push(
            {
                "e": "ACCOUNT_UPDATE",
                "E": now,
                "T": now,
                "a": {
                    "m": "ORDER",
                    "B": [
                        {
                            "a": self.currency,
                            "wb": wallet["walletBalance"],
                            "cw": wallet["crossWalletBalance"],
                            "bc": "0",
                        }
                    ],
                    "P": positions,
                },
            }
        )

    def _account_push(self, assets: list[str]) -> None:
        """A cancel changes no balance on USDⓈ-M (margin is not reserved here)."""

    def _px(self, spec: MarketSpec, value: Decimal) -> str:
        return _fixed(value, spec.tick) if value else "0"

    def _qty(self, spec: MarketSpec, value: Decimal) -> str:
        return _fixed(value, spec.lot)

    def _order_row(self, order: Order) -> dict[str, Any]:
        spec = self.engine.markets[order.symbol].spec
        return {
            "orderId": int(order.order_id),
            "symbol": order.symbol,
            "status": _status(order),
            "clientOrderId": order.client_id,
            "price": self._px(spec, order.price),
            "avgPrice": self._px(spec, order.average_price),
            "origQty": self._qty(spec, order.size),
            "executedQty": self._qty(spec, order.executed_size),
            "cumQuote": plain(order.average_price * order.executed_size),
            "timeInForce": order.time_in_force,
            "type": order.type,
            "reduceOnly": False,
            "closePosition": False,
            "side": order.side,
            "positionSide": "BOTH",
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": order.type,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
            "time": round(order.created * 1000),
            "updateTime": round(order.updated * 1000),
        }

    def _position(self, market: Market) -> dict[str, Any]:
        account = self.engine.account
        symbol = market.product_code
        side, size, entry = account.net(symbol)
        signed = -size if side == "SELL" else size
        mark = market.spec.price(market.mid_price)
        spec = market.spec
        return {
            "symbol": symbol,
            "positionSide": "BOTH",
            "positionAmt": self._qty(spec, signed),
            "entryPrice": plain(entry),
            "breakEvenPrice": plain(entry),
            "markPrice": plain(mark),
            "unRealizedProfit": plain(account.open_pnl({symbol: mark}, symbol)),
            "liquidationPrice": "0",
            "isolatedMargin": "0",
            "notional": plain(signed * mark),
            "marginAsset": spec.quote,
            "isolatedWallet": "0",
            "initialMargin": plain(abs(signed * mark) / LEVERAGE),
            "maintMargin": "0",
            "positionInitialMargin": plain(abs(signed * mark) / LEVERAGE),
            "openOrderInitialMargin": "0",
            "adl": 0,
            "bidNotional": "0",
            "askNotional": "0",
            "leverage": str(LEVERAGE),
            "marginType": "cross",
            "updateTime": round(self._account_update * 1000),
        }

    def _wallet(self) -> dict[str, Any]:
        account = self.engine.account
        marks = self.engine.marks()
        wallet = account.collateral
        unrealized = account.open_pnl(marks)
        required = account.required()
        available = wallet + unrealized - required
        return {
            "asset": self.currency,
            "walletBalance": plain(wallet),
            "unrealizedProfit": plain(unrealized),
            "marginBalance": plain(wallet + unrealized),
            "maintMargin": "0",
            "initialMargin": plain(required),
            "positionInitialMargin": plain(required),
            "openOrderInitialMargin": "0",
            "crossWalletBalance": plain(wallet),
            "crossUnPnl": plain(unrealized),
            "availableBalance": plain(available),
            "maxWithdrawAmount": plain(available),
            "marginAvailable": True,
            "updateTime": round(self._account_update * 1000),
        }

    # ============================================================== account

    def positions(self) -> list[Any]:
        """Open positions, as ``GET /fapi/v2/positionRisk`` rows."""
        return [
            self._position(m)
            for m in self.engine.markets.values()
            if self.engine.account.symbol_lots(m.product_code)
        ]

    def balance(self) -> Any:
        """``GET /fapi/v2/account``."""
        wallet = self._wallet()
        return {
            "feeTier": 0,
            "feeBurn": False,
            "canTrade": True,
            "canDeposit": True,
            "canWithdraw": True,
            "updateTime": 0,
            "multiAssetsMargin": False,
            "tradeGroupId": -1,
            "totalInitialMargin": wallet["initialMargin"],
            "totalMaintMargin": "0",
            "totalWalletBalance": wallet["walletBalance"],
            "totalUnrealizedProfit": wallet["unrealizedProfit"],
            "totalMarginBalance": wallet["marginBalance"],
            "totalPositionInitialMargin": wallet["positionInitialMargin"],
            "totalOpenOrderInitialMargin": "0",
            "totalCrossWalletBalance": wallet["crossWalletBalance"],
            "totalCrossUnPnl": wallet["crossUnPnl"],
            "availableBalance": wallet["availableBalance"],
            "maxWithdrawAmount": wallet["maxWithdrawAmount"],
            "assets": [wallet],
            "positions": [self._position(m) for m in self.engine.markets.values()],
        }
