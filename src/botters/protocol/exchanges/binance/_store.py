"""Binance DataStores: pybotters 1.x ``BinanceSpotDataStore``, ``BinanceUSDSMDataStore``, ...

The three collections are ``BinanceSpotDataStore``, ``BinanceUSDSMDataStore``
and ``BinanceCOINMDataStore``.

Feeds: market streams (spot
https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams,
USDⓈ-M https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams,
COIN-M https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams)
and user data streams (spot
https://developers.binance.com/docs/binance-spot-api-docs/user-data-stream,
USDⓈ-M https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams,
COIN-M https://developers.binance.com/docs/derivatives/coin-margined-futures/user-data-streams).

Routing (as pybotters):

* a message with ``error`` (a refused subscription, a WebSocket API error) is
  logged; a message with ``result`` (a subscription ack, a WebSocket API
  reply) is ignored;
* a combined-stream message ``{"stream": ..., "data": ...}`` is unwrapped (and
  so is the WebSocket API's user-data push ``{"subscriptionId": ..., "event":
  ...}``);
* the event name is ``data["e"]``; a list (``!ticker@arr``,
  ``!markPrice@arr``) is routed element by element; a combined-stream name
  ending in ``bookTicker`` routes to ``bookticker`` (spot's bookTicker event
  has no ``e``);
* ``depthUpdate`` events of a combined stream named ``<symbol>@depth5``,
  ``@depth10`` or ``@depth20`` (futures partial book depth: top-N books, not
  diffs) are ignored with one warning per stream; pybotters applies them as
  diffs, which keeps levels that left the top N. (Without a stream name, on a
  raw ``/ws/`` connection, they cannot be told apart: subscribe the book
  through ``<symbol>@depth`` or ``@depth@100ms``.)
* ``listenKeyExpired`` is logged as a warning (the key shortened).

Stores, their keys and the events that feed them are pybotters' (see each
class). Events no store takes are logged once per event name and ignored.

``initialize`` takes the REST responses pybotters takes (see
:meth:`_BinanceDataStore._oninitialize`); a listenKey response starts its
keep-alive as a :class:`~botters.protocol.store.KeepAlive` request.
"""

from __future__ import annotations

import logging
import re
import reprlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Final
from urllib.parse import urlsplit

from botters.protocol.store import (
    DataStore,
    DataStoreCollection,
    InitializeError,
    Item,
    KeepAlive,
    MessageSink,
    RestResponse,
)

from ._book import COINMOrderBook, FuturesOrderBook, OrderBook, SpotOrderBook

__all__ = [
    "Account",
    "Balance",
    "BinanceCOINMDataStore",
    "BinanceSpotDataStore",
    "BinanceUSDSMDataStore",
    "BookTicker",
    "CompositeIndex",
    "ContinuousKline",
    "IndexPrice",
    "IndexPriceKline",
    "Kline",
    "Liquidation",
    "MarkPrice",
    "MarkPriceKline",
    "OCOOrder",
    "Order",
    "Position",
    "Ticker",
    "Trade",
]

logger = logging.getLogger("botters.store.binance")

_short = reprlib.Repr()
_short.maxstring = 120
_short.maxother = 120
_short.maxlist = 6
_short.maxdict = 8


class _Once:
    """Names already logged (bounded: past 1,024 distinct names nothing more is remembered)."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def first(self, name: str) -> bool:
        if name in self.seen or len(self.seen) >= 1024:
            return False
        self.seen.add(name)
        return True


def _dicts(rows: Any, what: str) -> list[Item]:
    """The dict elements of a list (others logged); a dict alone is a list of one."""
    if isinstance(rows, dict):
        return [rows]
    if not isinstance(rows, list):
        logger.warning("Binance %s: not a list; skipped: %s", what, _short.repr(rows))
        return []
    items = [row for row in rows if isinstance(row, dict)]
    if len(items) != len(rows):
        logger.warning(
            "Binance %s: skipped %d element(s) that are not objects", what, len(rows) - len(items)
        )
    return items


def _renamed(row: Mapping[str, Any], names: Iterable[tuple[str, str]]) -> Item:
    """``row`` with its REST field names renamed to the WebSocket ones (absent ones left out)."""
    return {ws: row[rest] for ws, rest in names if rest in row}


# ---------------------------------------------------------------------- market data


class Trade(DataStore):
    """``trade`` and ``aggTrade`` events as received; keeps the last 99,999.

    https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#trade-streams
    """

    _MAXLEN = 99999

    def _onmessage(self, data: Item, ws: Any = None) -> None:
        self._insert([data])


class Kline(DataStore):
    """Candles (the event's ``k``) keyed by ``(t, s, i)``, updated until closed (``x``).

    ``initialize`` with ``GET klines`` stores the REST rows in the same shape,
    with ``x`` true and ``f``/``L`` (first/last trade id) ``None``.
    https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#klinecandlestick-streams
    """

    _KEYS = ["t", "s", "i"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, data: Item, ws: Any = None) -> None:
        k = data.get("k")
        if isinstance(k, dict):
            self._update([self._candle(data, k)])
        else:
            logger.warning("Binance %s: no k; skipped: %s", data.get("e"), _short.repr(data))

    def _candle(self, data: Item, k: Item) -> Item:
        return k

    def _onresponse(self, rows: Any, symbol: str, interval: str) -> None:
        items: list[Item] = []
        for row in rows if isinstance(rows, list) else ():
            if not isinstance(row, list) or len(row) < 12:
                logger.warning("Binance klines: a row is not a kline array: %s", _short.repr(row))
                continue
            items.append(
                {
                    "t": row[0],
                    "T": row[6],
                    "s": symbol,
                    "i": interval,
                    "o": row[1],
                    "c": row[4],
                    "h": row[2],
                    "l": row[3],
                    "v": row[5],
                    "n": row[8],
                    "x": True,
                    "q": row[7],
                    "V": row[9],
                    "Q": row[10],
                    "B": row[11],
                    "f": None,
                    "L": None,
                }
            )
        self._update(items)


class IndexPriceKline(Kline):
    """COIN-M ``indexPrice_kline`` candles keyed by ``(t, s, i)``, ``s`` being the pair (``ps``).

    https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams/Index-Kline-Candlestick-Streams
    """

    def _candle(self, data: Item, k: Item) -> Item:
        item = dict(k)
        item["s"] = data.get("ps")
        return item


class MarkPriceKline(Kline):
    """COIN-M ``markPrice_kline`` candles keyed by ``(t, s, i)``.

    https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams/Mark-Price-Kline-Candlestick-Streams
    """


class ContinuousKline(DataStore):
    """``continuous_kline`` candles ``{ps, ct, **k}`` keyed by ``(ps, ct, t, i)``.

    https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Continuous-Contract-Kline-Candlestick-Streams
    """

    _KEYS = ["ps", "ct", "t", "i"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, data: Item, ws: Any = None) -> None:
        k = data.get("k")
        if isinstance(k, dict):
            self._update([{"ps": data.get("ps"), "ct": data.get("ct"), **k}])
        else:
            logger.warning("Binance continuous_kline: no k; skipped: %s", _short.repr(data))


class Ticker(DataStore):
    """``24hrTicker`` / ``24hrMiniTicker`` events per symbol ``s``, merged.

    https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#individual-symbol-ticker-streams
    """

    _KEYS = ["s"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, data: Item, ws: Any = None) -> None:
        self._update([data])


class BookTicker(DataStore):
    """Best bid/ask per symbol ``s`` (``bookTicker``), merged.

    https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#individual-symbol-book-ticker-streams
    """

    _KEYS = ["s"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, data: Item, ws: Any = None) -> None:
        self._update([data])


class MarkPrice(DataStore):
    """``markPriceUpdate`` events per symbol ``s``, merged.

    https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Mark-Price-Stream
    """

    _KEYS = ["s"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, data: Item, ws: Any = None) -> None:
        self._update([data])


class Liquidation(DataStore):
    """``forceOrder`` liquidations (the event's ``o``), inserted; keeps the last 9,999.

    https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Liquidation-Order-Streams
    """

    def _onmessage(self, data: Item, ws: Any = None) -> None:
        order = data.get("o")
        if isinstance(order, dict):
            self._insert([order])
        else:
            logger.warning("Binance forceOrder: no o; skipped: %s", _short.repr(data))


class CompositeIndex(DataStore):
    """USDⓈ-M composite indexes ``{s, p, E, c}`` per symbol ``s``, merged.

    ``initialize`` with ``GET /fapi/v1/indexInfo`` stores ``{s, p: None, E,
    c: [{b, q, w, W, i: None}]}``.
    https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Composite-Index-Symbol-Information-Streams
    """

    _KEYS = ["s"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, data: Item, ws: Any = None) -> None:
        self._update(
            [{"s": data.get("s"), "p": data.get("p"), "E": data.get("E"), "c": data.get("c")}]
        )

    def _onresponse(self, rows: list[Item]) -> None:
        items: list[Item] = []
        for row in rows:
            assets = row.get("baseAssetList")
            items.append(
                {
                    "s": row.get("symbol"),
                    "p": None,
                    "E": row.get("time"),
                    "c": [
                        {
                            "b": asset.get("baseAsset"),
                            "q": asset.get("quoteAsset"),
                            "w": asset.get("weightInQuantity"),
                            "W": asset.get("weightInPercentage"),
                            "i": None,
                        }
                        for asset in (assets if isinstance(assets, list) else ())
                        if isinstance(asset, dict)
                    ],
                }
            )
        self._update(items)


class IndexPrice(DataStore):
    """COIN-M ``indexPriceUpdate`` events per pair ``i``, merged.

    https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams/Index-Price-Stream
    """

    _KEYS = ["i"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, data: Item, ws: Any = None) -> None:
        self._update([data])


# ---------------------------------------------------------------------- user data

_CLOSED: Final = frozenset({"FILLED", "CANCELED", "EXPIRED", "EXPIRED_IN_MATCH", "REJECTED"})
"""Final order statuses: the order leaves the store.

https://developers.binance.com/docs/binance-spot-api-docs/enums#order-status;
pybotters does not know ``EXPIRED_IN_MATCH`` (self-trade prevention) and keeps
such orders for ever."""

_SPOT_ORDER: Final = (
    ("s", "symbol"),
    ("i", "orderId"),
    ("c", "clientOrderId"),
    ("p", "price"),
    ("q", "origQty"),
    ("z", "executedQty"),
    ("Z", "cummulativeQuoteQty"),
    ("f", "timeInForce"),
    ("o", "type"),
    ("S", "side"),
    ("P", "stopPrice"),
    ("F", "icebergQty"),
    ("E", "time"),
    ("T", "updateTime"),
    ("w", "isWorking"),
    ("Q", "origQuoteOrderQty"),
)
"""``GET /api/v3/openOrders`` row -> ``executionReport`` names (pybotters' table)."""

_FUTURES_ORDER: Final = (
    ("s", "symbol"),
    ("c", "clientOrderId"),
    ("S", "side"),
    ("o", "type"),
    ("f", "timeInForce"),
    ("q", "origQty"),
    ("p", "price"),
    ("ap", "avgPrice"),
    ("sp", "stopPrice"),
    ("X", "status"),
    ("i", "orderId"),
    ("z", "executedQty"),
    ("T", "updateTime"),
    ("R", "reduceOnly"),
    ("wt", "workingType"),
    ("ot", "origType"),
    ("ps", "positionSide"),
    ("cp", "closePosition"),
    ("pP", "priceProtect"),
)
"""``GET /fapi/v1/openOrders`` (``/dapi/v1/openOrders``) row -> ``ORDER_TRADE_UPDATE`` names."""


class Order(DataStore):
    """Open orders keyed by ``(s, i)``: ``executionReport`` (spot) or ``ORDER_TRADE_UPDATE`` ``o``.

    A final status (``FILLED``, ``CANCELED``, ``EXPIRED``,
    ``EXPIRED_IN_MATCH``, ``REJECTED``) removes the order; any other merges it.
    ``initialize`` with ``GET openOrders`` replaces the orders of the query's
    ``symbol`` (all orders without one) with the rows, renamed to the
    WebSocket field names (pybotters' tables; futures rows are recognised by
    ``positionSide``).
    https://developers.binance.com/docs/binance-spot-api-docs/user-data-stream#order-update,
    https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Order-Update
    """

    _KEYS = ["s", "i"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, item: Item, ws: Any = None) -> None:
        if item.get("X") in _CLOSED:
            self._delete([item])
        else:
            self._update([item])

    def _onresponse(self, rows: list[Item], symbol: str | None) -> None:
        if symbol is not None:
            self._delete(self.find({"s": symbol}))
        else:
            self._clear()
        items = []
        for row in rows:
            item = _renamed(row, _FUTURES_ORDER if "positionSide" in row else _SPOT_ORDER)
            if "s" not in item or "i" not in item:
                logger.warning(
                    "Binance openOrders: a row without symbol/orderId; skipped: %s",
                    _short.repr(row),
                )
                continue
            items.append(item)
        self._insert(items)


class Account(DataStore):
    """Spot balances ``{a, f, l}`` keyed by asset ``a`` (``outboundAccountPosition`` ``B``), merged.

    ``initialize`` with ``GET /api/v3/account`` stores its ``balances``.
    https://developers.binance.com/docs/binance-spot-api-docs/user-data-stream#account-update
    """

    _KEYS = ["a"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, data: Item, ws: Any = None) -> None:
        self._update(_dicts(data.get("B"), "outboundAccountPosition B"))

    def _onresponse(self, data: Item) -> None:
        rows = _dicts(data.get("balances"), "/api/v3/account balances")
        self._update(
            [_renamed(row, (("a", "asset"), ("f", "free"), ("l", "locked"))) for row in rows]
        )


class OCOOrder(DataStore):
    """Spot order lists (``listStatus``) keyed by ``(s, g)``; ``l == "ALL_DONE"`` removes one.

    ``initialize`` with ``GET /api/v3/openOrderList`` stores the rows in the
    event's shape (``E`` ``None``, ``r`` ``"NONE"``).
    https://developers.binance.com/docs/binance-spot-api-docs/user-data-stream#order-update
    """

    _KEYS = ["s", "g"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, data: Item, ws: Any = None) -> None:
        if data.get("l") == "ALL_DONE":
            self._delete([data])
        else:
            self._update([data])

    def _onresponse(self, rows: list[Item]) -> None:
        items: list[Item] = []
        for row in rows:
            orders = row.get("orders")
            items.append(
                {
                    "e": "listStatus",
                    "E": None,
                    "s": row.get("symbol"),
                    "g": row.get("orderListId"),
                    "c": row.get("contingencyType"),
                    "l": row.get("listStatusType"),
                    "L": row.get("listOrderStatus"),
                    "r": "NONE",
                    "C": row.get("listClientOrderId"),
                    "T": row.get("transactionTime"),
                    "O": [
                        {
                            "s": order.get("symbol"),
                            "i": order.get("orderId"),
                            "c": order.get("clientOrderId"),
                        }
                        for order in (orders if isinstance(orders, list) else ())
                        if isinstance(order, dict)
                    ],
                }
            )
        self._update(items)


class Balance(DataStore):
    """Futures balances ``{a, wb, cw, bc}`` keyed by asset ``a`` (``ACCOUNT_UPDATE`` ``a.B``).

    ``initialize`` with ``GET /fapi/v2/balance`` (or ``/fapi/v3/balance``,
    ``/dapi/v1/balance``) merges ``{a, wb, cw}``.
    https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Balance-and-Position-Update
    """

    _KEYS = ["a"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, rows: list[Item], ws: Any = None) -> None:
        self._update(rows)

    def _onresponse(self, rows: list[Item]) -> None:
        self._update(
            [
                _renamed(row, (("a", "asset"), ("wb", "balance"), ("cw", "crossWalletBalance")))
                for row in rows
            ]
        )


class Position(DataStore):
    """Futures positions keyed by ``(s, ps)`` (``ACCOUNT_UPDATE`` ``a.P``), merged.

    ``initialize`` with ``GET positionRisk`` merges ``{s, pa, ep, up, mt, iw, ps}``.
    https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Balance-and-Position-Update
    """

    _KEYS = ["s", "ps"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, rows: list[Item], ws: Any = None) -> None:
        self._update(rows)

    def _onresponse(self, rows: list[Item]) -> None:
        self._update(
            [
                _renamed(
                    row,
                    (
                        ("s", "symbol"),
                        ("pa", "positionAmt"),
                        ("ep", "entryPrice"),
                        ("up", "unRealizedProfit"),
                        ("mt", "marginType"),
                        ("iw", "isolatedWallet"),
                        ("ps", "positionSide"),
                    ),
                )
                for row in rows
            ]
        )


# ---------------------------------------------------------------------- collections

_Handler = Callable[[Item, Any], None]

_QUIET_EVENTS: Final = frozenset(
    {
        # Known events without a store (pybotters has none either): logged once at INFO.
        "balanceUpdate",
        "eventStreamTerminated",
        "externalLockUpdate",
        "serverShutdown",
        "MARGIN_CALL",
        "ACCOUNT_CONFIG_UPDATE",
        "TRADE_LITE",
        "STRATEGY_UPDATE",
        "GRID_UPDATE",
        "CONDITIONAL_ORDER_TRIGGER_REJECT",
        "avgPrice",
        "1hTicker",
        "4hTicker",
        "1dTicker",
        "contractInfo",
        "assetIndexUpdate",
    }
)


_PARTIAL_DEPTH: Final = re.compile(r"@depth(?:5|10|20)(?:@|$)")
"""A combined-stream name of a partial book depth stream (``btcusdt@depth20@100ms``)."""


def _mask(key: str) -> str:
    """A listenKey as logs show it: its first 4 characters."""
    return f"{key[:4]}..." if len(key) > 4 else "..."


class _BinanceDataStore(DataStoreCollection):
    """What the three Binance collections share: routing, listenKey, orders, klines, the book."""

    _MARKET: ClassVar[str] = "spot"
    _BOOK: ClassVar[type[OrderBook]] = SpotOrderBook
    _DEPTH: ClassVar[str] = "/api/v3/depth"
    _OPEN_ORDERS: ClassVar[str] = "/api/v3/openOrders"
    _LISTEN_KEY: ClassVar[str] = "/api/v3/userDataStream"
    _KLINES: ClassVar[str] = "/api/v3/klines"

    _listenkey: str | None
    _listenkey_keepalive: KeepAlive | None
    _routes: dict[str, _Handler]
    _unknown: _Once

    def _init(self) -> None:
        self._create("trade", datastore_class=Trade)
        self._create("kline", datastore_class=Kline)
        self._create("ticker", datastore_class=Ticker)
        self._create("bookticker", datastore_class=BookTicker)
        self._create("orderbook", datastore_class=self._BOOK)
        self._create("order", datastore_class=Order)
        self._init_market()
        self._listenkey = None
        self._listenkey_keepalive = None
        self._unknown = _Once()
        self._routes = {
            "trade": self._stores["trade"]._onmessage,  # type: ignore[attr-defined]
            "aggTrade": self._stores["trade"]._onmessage,  # type: ignore[attr-defined]
            "kline": self._stores["kline"]._onmessage,  # type: ignore[attr-defined]
            "24hrMiniTicker": self._stores["ticker"]._onmessage,  # type: ignore[attr-defined]
            "24hrTicker": self._stores["ticker"]._onmessage,  # type: ignore[attr-defined]
            "bookTicker": self._stores["bookticker"]._onmessage,  # type: ignore[attr-defined]
            "depthUpdate": self.orderbook._ondiff,
        }
        self._routes.update(self._market_routes())

    def _init_market(self) -> None:
        """Create the market's own stores."""

    def _market_routes(self) -> dict[str, _Handler]:
        return {}

    # ------------------------------------------------------------------ messages

    def _onmessage(self, msg: Any, ws: MessageSink | None = None) -> None:
        """Route one message (or each element of a list) by its event name ``e``."""
        if isinstance(msg, list):
            for element in msg:
                self._onmessage(element, ws)
            return
        if type(msg) is not dict:
            logger.warning("Binance: message is not an object; skipped: %s", _short.repr(msg))
            return
        if "error" in msg:
            logger.warning("Binance: error reply: %s", _short.repr(msg))
            return
        if "result" in msg:
            return  # a subscription ack or a WebSocket API reply
        stream = msg.get("stream")
        if "data" in msg and stream is not None:
            data = msg["data"]
        elif "event" in msg and "subscriptionId" in msg:
            data = msg["event"]  # WebSocket API user data stream push
        else:
            data = msg
        if isinstance(data, list):
            for element in data:
                self._route(element, stream, ws)
        else:
            self._route(data, stream, ws)

    def _route(self, data: Any, stream: Any, ws: Any) -> None:
        if type(data) is not dict:
            logger.warning("Binance: data is not an object; skipped: %s", _short.repr(data))
            return
        event = data.get("e")
        route = self._routes.get(event) if type(event) is str else None
        if type(stream) is str:
            if route is None and stream.endswith("bookTicker"):
                route = self._routes["bookTicker"]
            elif event == "depthUpdate" and _PARTIAL_DEPTH.search(stream):
                self._onpartial_depth(stream)
                return
        if route is not None:
            route(data, ws)
            return
        if event == "listenKeyExpired":
            self._onlistenkey_expired(data)
            return
        # (Never the stream name: a user data stream is named by its listenKey.)
        name = event if type(event) is str else "without e"
        if self._unknown.first(name):
            level = logging.INFO if event in _QUIET_EVENTS else logging.WARNING
            logger.log(
                level,
                "%s: no store for Binance event %s; such messages are ignored: %s",
                type(self).__name__,
                name,
                _short.repr(data),
            )

    def _onpartial_depth(self, stream: str) -> None:
        # Futures partial book depth (<symbol>@depth5/10/20) comes as depthUpdate
        # events, but each is a top-N book, not a diff: applying them as diffs
        # (what pybotters does) keeps levels that left the top N for ever.
        if self._unknown.first(f"partial depth {stream}"):
            logger.warning(
                "%s: %s is a partial book depth stream (top-N books, not diffs); the "
                "orderbook store takes <symbol>@depth / @depth@100ms only, so its "
                "messages are ignored",
                type(self).__name__,
                stream,
            )

    def _onlistenkey_expired(self, data: Item) -> None:
        key = data.get("listenKey")
        shown = _mask(key) if type(key) is str else "?"
        logger.warning(
            "%s: listenKey %s expired: its user data stream has ended; create a new one "
            "(POST %s) and give the response to initialize, or connect with "
            "token_flow=ListenKey(...) and the session replaces the key by itself",
            type(self).__name__,
            shown,
            self._LISTEN_KEY,
        )

    # ------------------------------------------------------------------ initialize

    def _oninitialize(self, response: RestResponse) -> None:
        """Apply one REST response (the endpoints pybotters' ``initialize`` takes).

        All markets: ``depth`` (the book of the query's ``symbol``),
        ``openOrders``, the listenKey endpoint and ``klines`` (query
        ``symbol`` and ``interval``). Spot adds ``/api/v3/account`` and
        ``/api/v3/openOrderList``; USDⓈ-M ``/fapi/v2/balance``,
        ``/fapi/v2/positionRisk`` (and their ``v3``) and ``/fapi/v1/indexInfo``;
        COIN-M ``/dapi/v1/balance``, ``/dapi/v1/positionRisk``,
        ``/dapi/v1/indexPriceKlines`` (query ``pair``) and
        ``/dapi/v1/markPriceKlines``.

        A Binance error body (``{"code": -1121, "msg": ...}``) raises
        :class:`~botters.protocol.store.InitializeError` after the other
        responses are applied.
        """
        path = response.path
        handler = self._initializers().get(path)
        if handler is None:
            super()._oninitialize(response)
            return
        data = response.data
        if (
            isinstance(data, dict)
            and "code" in data
            and "msg" in data
            and data.get("code") not in (0, 200)
        ):
            raise InitializeError(
                f"Binance {path}: code {_short.repr(data.get('code'))} "
                f"{_short.repr(data.get('msg'))}; response not applied"
            )
        handler(response)

    def _initializers(self) -> dict[str, Callable[[RestResponse], None]]:
        return {
            self._DEPTH: self._init_depth,
            self._OPEN_ORDERS: self._init_orders,
            self._LISTEN_KEY: self._init_listenkey,
            self._KLINES: lambda r: self._init_klines(r, self.kline, "symbol"),
        }

    def _rows(self, response: RestResponse) -> list[Item] | None:
        if not isinstance(response.data, list):
            logger.warning(
                "Binance %s: the body is not a list; skipped: %s",
                response.path,
                _short.repr(response.data),
            )
            return None
        return _dicts(response.data, response.path)

    def _init_depth(self, response: RestResponse) -> None:
        params = response.params
        symbol = params.get("symbol")
        if not symbol:
            logger.warning("Binance %s: no symbol in the query; skipped", response.path)
            return
        self.orderbook._onsnapshot(
            symbol.upper(), response.data, url=response.url, limit=params.get("limit")
        )

    def _init_orders(self, response: RestResponse) -> None:
        rows = self._rows(response)
        if rows is not None:
            self.order._onresponse(rows, response.params.get("symbol"))

    def _init_klines(self, response: RestResponse, store: Kline, symbol_param: str) -> None:
        params = response.params
        symbol = params.get(symbol_param)
        interval = params.get("interval")
        if not symbol or not interval:
            logger.warning(
                "Binance %s: no %s or interval in the query; skipped", response.path, symbol_param
            )
            return
        if self._rows(response) is not None:
            store._onresponse(response.data, symbol, interval)

    def _init_listenkey(self, response: RestResponse) -> None:
        data = response.data
        key = data.get("listenKey") if isinstance(data, dict) else None
        if type(key) is not str or not key:
            logger.warning("Binance %s: no listenKey in the body; skipped", response.path)
            return
        old = self._listenkey_keepalive
        if old is not None:
            old.stop()
        self._listenkey = key
        parts = urlsplit(response.url)
        request = KeepAlive(
            method="PUT",
            url=f"{parts.scheme}://{parts.netloc}{parts.path}",
            params={"listenKey": key} if self._MARKET == "spot" else {},
            interval=1800.0,
            first_delay=0.0,
            name="binance listenKey",
        )
        self._listenkey_keepalive = request
        logger.info(
            "%s: listenKey %s set; extended every 30 minutes", type(self).__name__, _mask(key)
        )
        self._keep_alive(request, response)

    # ------------------------------------------------------------------ stores

    @property
    def listenkey(self) -> str | None:
        """The listenKey of the last listenKey response given to ``initialize``."""
        return self._listenkey

    @property
    def trade(self) -> Trade:
        """``trade`` / ``aggTrade`` events."""
        return self._stores["trade"]  # type: ignore[return-value]

    @property
    def kline(self) -> Kline:
        """Candles (``kline``)."""
        return self._stores["kline"]  # type: ignore[return-value]

    @property
    def ticker(self) -> Ticker:
        """24 h tickers (``24hrTicker``, ``24hrMiniTicker``)."""
        return self._stores["ticker"]  # type: ignore[return-value]

    @property
    def bookticker(self) -> BookTicker:
        """Best bid/ask (``bookTicker``)."""
        return self._stores["bookticker"]  # type: ignore[return-value]

    @property
    def orderbook(self) -> OrderBook:
        """Order book levels (``depthUpdate`` and REST ``depth``)."""
        return self._stores["orderbook"]  # type: ignore[return-value]

    @property
    def order(self) -> Order:
        """Open orders."""
        return self._stores["order"]  # type: ignore[return-value]


class BinanceSpotDataStore(_BinanceDataStore):
    """Binance spot stores (pybotters 1.x ``BinanceSpotDataStore``).

    Stores: ``trade``, ``kline``, ``ticker``, ``bookticker``, ``orderbook``
    (:class:`~._book.SpotOrderBook`), ``order``, ``account``, ``ocoorder``;
    ``listenkey`` after ``initialize(client.post("/api/v3/userDataStream"))``.

    Differences from pybotters, on purpose:

    * the order book follows Binance's id chain and fetches its own snapshots
      (:class:`~._book.OrderBook`);
    * unknown events, malformed items and error bodies are logged and skipped
      (pybotters raises from ``onmessage`` for some); lists (``!ticker@arr``)
      update each element (pybotters raises for ticker lists);
    * ``EXPIRED_IN_MATCH`` removes an order as the other final statuses do;
    * WebSocket API user data pushes (``{"subscriptionId", "event"}``) are
      unwrapped, and partial depth streams are kept out of the book (see the
      module docstring);
    * a REST row missing fields is stored without them (pybotters raises);
      one without its key fields is skipped;
    * the listenKey keep-alive is a :class:`~botters.protocol.store.KeepAlive`
      carried by the client (pybotters spawned a task); a new listenKey stops
      the previous one's keep-alive;
    * ``initialize`` with a Binance error body raises
      :class:`~botters.protocol.store.InitializeError` (pybotters raises a
      ``TypeError`` or stores nothing).
    """

    def _init_market(self) -> None:
        self._create("account", datastore_class=Account)
        self._create("ocoorder", datastore_class=OCOOrder)

    def _market_routes(self) -> dict[str, _Handler]:
        return {
            "executionReport": self.order._onmessage,
            "outboundAccountPosition": self.account._onmessage,
            "listStatus": self.ocoorder._onmessage,
        }

    def _initializers(self) -> dict[str, Callable[[RestResponse], None]]:
        routes = super()._initializers()
        routes["/api/v3/account"] = self._init_account
        routes["/api/v3/openOrderList"] = self._init_ocoorder
        return routes

    def _init_account(self, response: RestResponse) -> None:
        if isinstance(response.data, dict):
            self.account._onresponse(response.data)
        else:
            logger.warning("Binance /api/v3/account: the body is not an object; skipped")

    def _init_ocoorder(self, response: RestResponse) -> None:
        rows = self._rows(response)
        if rows is not None:
            self.ocoorder._onresponse(rows)

    @property
    def account(self) -> Account:
        """Spot balances (``outboundAccountPosition``, ``/api/v3/account``)."""
        return self._stores["account"]  # type: ignore[return-value]

    @property
    def ocoorder(self) -> OCOOrder:
        """Order lists (``listStatus``, ``/api/v3/openOrderList``)."""
        return self._stores["ocoorder"]  # type: ignore[return-value]


class _FuturesDataStore(_BinanceDataStore):
    """What USDⓈ-M and COIN-M share."""

    _BALANCE: ClassVar[tuple[str, ...]] = ()
    _POSITION_RISK: ClassVar[tuple[str, ...]] = ()

    def _init_market(self) -> None:
        self._create("markprice", datastore_class=MarkPrice)
        self._create("continuouskline", datastore_class=ContinuousKline)
        self._create("liquidation", datastore_class=Liquidation)
        self._create("balance", datastore_class=Balance)
        self._create("position", datastore_class=Position)

    def _market_routes(self) -> dict[str, _Handler]:
        return {
            "ORDER_TRADE_UPDATE": self._onorder_update,
            "ACCOUNT_UPDATE": self._onaccount_update,
            "markPriceUpdate": self.markprice._onmessage,
            "continuous_kline": self.continuouskline._onmessage,
            "forceOrder": self.liquidation._onmessage,
        }

    def _onorder_update(self, data: Item, ws: Any) -> None:
        order = data.get("o")
        if isinstance(order, dict):
            self.order._onmessage(order, ws)
        else:
            logger.warning("Binance ORDER_TRADE_UPDATE: no o; skipped: %s", _short.repr(data))

    def _onaccount_update(self, data: Item, ws: Any) -> None:
        account = data.get("a")
        if not isinstance(account, dict):
            logger.warning("Binance ACCOUNT_UPDATE: no a; skipped: %s", _short.repr(data))
            return
        if "B" in account:
            self.balance._onmessage(_dicts(account["B"], "ACCOUNT_UPDATE a.B"), ws)
        if "P" in account:
            self.position._onmessage(_dicts(account["P"], "ACCOUNT_UPDATE a.P"), ws)

    def _initializers(self) -> dict[str, Callable[[RestResponse], None]]:
        routes = super()._initializers()
        for path in self._BALANCE:
            routes[path] = self._init_balance
        for path in self._POSITION_RISK:
            routes[path] = self._init_position
        return routes

    def _init_balance(self, response: RestResponse) -> None:
        rows = self._rows(response)
        if rows is not None:
            self.balance._onresponse(rows)

    def _init_position(self, response: RestResponse) -> None:
        rows = self._rows(response)
        if rows is not None:
            self.position._onresponse(rows)

    @property
    def markprice(self) -> MarkPrice:
        """Mark prices (``markPriceUpdate``)."""
        return self._stores["markprice"]  # type: ignore[return-value]

    @property
    def continuouskline(self) -> ContinuousKline:
        """Continuous-contract candles (``continuous_kline``)."""
        return self._stores["continuouskline"]  # type: ignore[return-value]

    @property
    def liquidation(self) -> Liquidation:
        """Liquidation orders (``forceOrder``)."""
        return self._stores["liquidation"]  # type: ignore[return-value]

    @property
    def balance(self) -> Balance:
        """Wallet balances (``ACCOUNT_UPDATE`` ``a.B``, ``balance``)."""
        return self._stores["balance"]  # type: ignore[return-value]

    @property
    def position(self) -> Position:
        """Positions (``ACCOUNT_UPDATE`` ``a.P``, ``positionRisk``)."""
        return self._stores["position"]  # type: ignore[return-value]


class BinanceUSDSMDataStore(_FuturesDataStore):
    """Binance USDⓈ-M futures stores (pybotters 1.x ``BinanceUSDSMDataStore``).

    Stores: ``trade``, ``kline``, ``ticker``, ``bookticker``, ``orderbook``
    (:class:`~._book.FuturesOrderBook`), ``order``, ``markprice``,
    ``continuouskline``, ``liquidation``, ``balance``, ``position``,
    ``compositeindex``; ``listenkey`` after
    ``initialize(client.post("/fapi/v1/listenKey"))``.

    Differences from pybotters: those of :class:`BinanceSpotDataStore`, plus
    ``initialize`` also takes ``/fapi/v3/balance`` and ``/fapi/v3/positionRisk``
    (rows without ``marginType``/``isolatedWallet`` are stored without them),
    and an ``ACCOUNT_UPDATE`` without ``P`` updates the balances (pybotters
    raises ``KeyError``).
    """

    _MARKET = "usdsm"
    _BOOK = FuturesOrderBook
    _DEPTH = "/fapi/v1/depth"
    _OPEN_ORDERS = "/fapi/v1/openOrders"
    _LISTEN_KEY = "/fapi/v1/listenKey"
    _KLINES = "/fapi/v1/klines"
    _BALANCE = ("/fapi/v2/balance", "/fapi/v3/balance")
    _POSITION_RISK = ("/fapi/v2/positionRisk", "/fapi/v3/positionRisk")

    def _init_market(self) -> None:
        super()._init_market()
        self._create("compositeindex", datastore_class=CompositeIndex)

    def _market_routes(self) -> dict[str, _Handler]:
        routes = super()._market_routes()
        routes["compositeIndex"] = self.compositeindex._onmessage
        return routes

    def _initializers(self) -> dict[str, Callable[[RestResponse], None]]:
        routes = super()._initializers()
        routes["/fapi/v1/indexInfo"] = self._init_compositeindex
        return routes

    def _init_compositeindex(self, response: RestResponse) -> None:
        rows = self._rows(response)
        if rows is not None:
            self.compositeindex._onresponse(rows)

    @property
    def compositeindex(self) -> CompositeIndex:
        """Composite indexes (``compositeIndex``, ``/fapi/v1/indexInfo``)."""
        return self._stores["compositeindex"]  # type: ignore[return-value]


class BinanceCOINMDataStore(_FuturesDataStore):
    """Binance COIN-M futures stores (pybotters 1.x ``BinanceCOINMDataStore``).

    Stores: ``trade``, ``kline``, ``ticker``, ``bookticker``, ``orderbook``
    (:class:`~._book.COINMOrderBook`), ``order``, ``markprice``,
    ``continuouskline``, ``liquidation``, ``balance``, ``position``,
    ``indexprice``, ``indexpricekline``, ``markpricekline``; ``listenkey``
    after ``initialize(client.post("/dapi/v1/listenKey"))``.

    Differences from pybotters: those of :class:`BinanceUSDSMDataStore`
    (except the ``v3`` endpoints, which COIN-M does not have).
    """

    _MARKET = "coinm"
    _BOOK = COINMOrderBook
    _DEPTH = "/dapi/v1/depth"
    _OPEN_ORDERS = "/dapi/v1/openOrders"
    _LISTEN_KEY = "/dapi/v1/listenKey"
    _KLINES = "/dapi/v1/klines"
    _BALANCE = ("/dapi/v1/balance",)
    _POSITION_RISK = ("/dapi/v1/positionRisk",)

    def _init_market(self) -> None:
        super()._init_market()
        self._create("indexprice", datastore_class=IndexPrice)
        self._create("indexpricekline", datastore_class=IndexPriceKline)
        self._create("markpricekline", datastore_class=MarkPriceKline)

    def _market_routes(self) -> dict[str, _Handler]:
        routes = super()._market_routes()
        routes["indexPriceUpdate"] = self.indexprice._onmessage
        routes["indexPrice_kline"] = self.indexpricekline._onmessage
        routes["markPrice_kline"] = self.markpricekline._onmessage
        return routes

    def _initializers(self) -> dict[str, Callable[[RestResponse], None]]:
        routes = super()._initializers()
        routes["/dapi/v1/indexPriceKlines"] = lambda r: self._init_klines(
            r, self.indexpricekline, "pair"
        )
        routes["/dapi/v1/markPriceKlines"] = lambda r: self._init_klines(
            r, self.markpricekline, "symbol"
        )
        return routes

    @property
    def indexprice(self) -> IndexPrice:
        """Index prices (``indexPriceUpdate``)."""
        return self._stores["indexprice"]  # type: ignore[return-value]

    @property
    def indexpricekline(self) -> IndexPriceKline:
        """Index price candles (``indexPrice_kline``, ``/dapi/v1/indexPriceKlines``)."""
        return self._stores["indexpricekline"]  # type: ignore[return-value]

    @property
    def markpricekline(self) -> MarkPriceKline:
        """Mark price candles (``markPrice_kline``, ``/dapi/v1/markPriceKlines``)."""
        return self._stores["markpricekline"]  # type: ignore[return-value]
