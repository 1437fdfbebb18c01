"""Bybit v5 DataStores: every pybotters 1.x ``BybitDataStore`` store, fed the same messages.

Feeds (https://bybit-exchange.github.io/docs/v5/ws/connect):
``wss://stream.bybit.com/v5/public/{spot,linear,inverse,option}`` for public
topics and ``wss://stream.bybit.com/v5/private`` for private ones. Every data
message is ``{"topic": ..., "data": ..., ...}``; the first ``.``-separated word
of the topic names the store, as in pybotters (``order.linear`` feeds
``order``, ``execution.fast`` feeds ``execution``).

Topics, their stores and the rule each applies (items are pybotters' dicts):

* ``orderbook.{depth}.{symbol}`` -> ``orderbook`` (:class:`~._book.OrderBook`):
  snapshots and deltas linked by ``u``
  (https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook).
* ``publicTrade.{symbol}`` -> ``publicTrade`` (:class:`Trade`): every trade
  inserted (https://bybit-exchange.github.io/docs/v5/websocket/public/trade).
* ``tickers.{symbol}`` -> ``tickers`` (:class:`Ticker`): snapshots and deltas
  merged per symbol; "if a response param is not found in the message, then
  its value has not changed"
  (https://bybit-exchange.github.io/docs/v5/websocket/public/ticker).
* ``kline.{interval}.{symbol}`` -> ``kline`` (:class:`Kline`): one item per
  ``(symbol, start, end)``, the symbol taken from the topic
  (https://bybit-exchange.github.io/docs/v5/websocket/public/kline).
* ``allLiquidation.{symbol}`` -> ``allLiquidation`` (:class:`AllLiquidation`)
  (https://bybit-exchange.github.io/docs/v5/websocket/public/all-liquidation)
  and the deprecated ``liquidation.{symbol}`` -> ``liquidation``
  (:class:`Liquidation`) (https://bybit-exchange.github.io/docs/v5/websocket/public/liquidation):
  every event inserted.
* Leveraged tokens: ``kline_lt.{interval}.{symbol}`` -> ``kline_lt``
  (:class:`LTKline`), ``tickers_lt.{symbol}`` -> ``tickers_lt``
  (:class:`LTTicker`), ``lt.{symbol}`` -> ``lt`` (:class:`LTNav`)
  (https://bybit-exchange.github.io/docs/v5/websocket/public/etp-kline,
  .../etp-ticker, .../etp-nav).
* Private (https://bybit-exchange.github.io/docs/v5/websocket/private/position,
  .../execution, .../fast-execution, .../order, .../wallet, .../greek):
  ``position`` (:class:`Position`), ``execution`` (:class:`Execution`),
  ``order`` (:class:`Order`), ``wallet`` (:class:`Wallet`), ``greeks``
  (:class:`Greek`).

Anything else (``dcp``, a topic of a future API, garbage) is logged once per
topic and ignored: pybotters raises ``KeyError`` from ``onmessage`` for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from botters.protocol.store import (
    DataStore,
    DataStoreCollection,
    InitializeError,
    Item,
    MessageSink,
    RestResponse,
)

from ._book import OrderBook
from ._common import Once, logger
from ._common import short as _short

__all__ = [
    "AllLiquidation",
    "BybitDataStore",
    "Execution",
    "Greek",
    "Kline",
    "LTKline",
    "LTNav",
    "LTTicker",
    "Liquidation",
    "Order",
    "OrderBook",
    "Position",
    "Ticker",
    "Trade",
    "Wallet",
]


def _items(data: Any, topic: str) -> list[Item]:
    """The object(s) of a message's ``data``: a dict, or the dicts of a list (others logged)."""
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        logger.warning(
            "Bybit %s: data is neither an object nor a list; skipped: %s", topic, _short.repr(data)
        )
        return []
    items = [item for item in data if isinstance(item, dict)]
    if len(items) != len(data):
        logger.warning(
            "Bybit %s: skipped %d element(s) of data that are not objects: %s",
            topic,
            len(data) - len(items),
            _short.repr(data),
        )
    return items


class Trade(DataStore):
    """Public trades ``{T, s, S, v, p, L, i, BT, ...}`` as received; keeps the last 99,999.

    https://bybit-exchange.github.io/docs/v5/websocket/public/trade
    """

    _MAXLEN = 99999

    def _onmessage(self, topic: str, msg: Mapping[str, Any], ws: Any = None) -> None:
        self._insert(_items(msg.get("data"), topic))


class Ticker(DataStore):
    """Latest ticker per ``symbol``: snapshots and deltas merged (a delta carries changes only).

    https://bybit-exchange.github.io/docs/v5/websocket/public/ticker
    """

    _KEYS = ["symbol"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, topic: str, msg: Mapping[str, Any], ws: Any = None) -> None:
        self._update(_items(msg.get("data"), topic))


class Kline(DataStore):
    """Candles keyed by ``(symbol, start, end)``: ``{"symbol": ..., **candle}``.

    The symbol comes from the topic (``kline.5.BTCUSDT``): Bybit's candle has
    none. A candle is updated until its ``confirm`` is true, then the next
    one starts. https://bybit-exchange.github.io/docs/v5/websocket/public/kline
    """

    _KEYS = ["symbol", "start", "end"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, topic: str, msg: Mapping[str, Any], ws: Any = None) -> None:
        parts = topic.split(".", 2)
        if len(parts) < 3 or not parts[2]:
            logger.warning("Bybit %s: no symbol in the topic; skipped", topic)
            return
        symbol = parts[2]
        self._update([{"symbol": symbol, **item} for item in _items(msg.get("data"), topic)])


class AllLiquidation(DataStore):
    """Liquidations ``{T, s, S, v, p}`` of ``allLiquidation.{symbol}``; keeps the last 99,999.

    https://bybit-exchange.github.io/docs/v5/websocket/public/all-liquidation
    """

    _MAXLEN = 99999

    def _onmessage(self, topic: str, msg: Mapping[str, Any], ws: Any = None) -> None:
        self._insert(_items(msg.get("data"), topic))


class Liquidation(DataStore):
    """Liquidations of the deprecated ``liquidation.{symbol}`` topic; keeps the last 99,999.

    https://bybit-exchange.github.io/docs/v5/websocket/public/liquidation
    """

    _MAXLEN = 99999

    def _onmessage(self, topic: str, msg: Mapping[str, Any], ws: Any = None) -> None:
        self._insert(_items(msg.get("data"), topic))


class LTKline(Kline):
    """Leveraged-token candles (``kline_lt.{interval}.{symbol}``), like :class:`Kline`.

    https://bybit-exchange.github.io/docs/v5/websocket/public/etp-kline
    """


class LTTicker(Ticker):
    """Leveraged-token tickers (``tickers_lt.{symbol}``), merged per ``symbol``.

    https://bybit-exchange.github.io/docs/v5/websocket/public/etp-ticker
    """


class LTNav(Ticker):
    """Leveraged-token net asset values (``lt.{symbol}``), merged per ``symbol``.

    https://bybit-exchange.github.io/docs/v5/websocket/public/etp-nav
    """


class Position(DataStore):
    """Positions keyed by ``(symbol, positionIdx)`` (one-way: 0; hedge: 1 buy, 2 sell), merged.

    A closed position stays with ``size`` ``"0"`` (Bybit pushes it so).
    https://bybit-exchange.github.io/docs/v5/websocket/private/position
    """

    _KEYS = ["symbol", "positionIdx"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, topic: str, msg: Mapping[str, Any], ws: Any = None) -> None:
        self._update(_items(msg.get("data"), topic))

    def _onresponse(self, rows: list[Item]) -> None:
        self._update(rows)


class Execution(DataStore):
    """The account's executions (``execution`` and ``execution.fast``); keeps the last 99,999.

    Both topics feed this store, as in pybotters: subscribe to one of them,
    or each fill appears twice (the fast one with fewer fields).
    https://bybit-exchange.github.io/docs/v5/websocket/private/execution,
    https://bybit-exchange.github.io/docs/v5/websocket/private/fast-execution
    """

    _MAXLEN = 99999

    def _onmessage(self, topic: str, msg: Mapping[str, Any], ws: Any = None) -> None:
        self._insert(_items(msg.get("data"), topic))


_OPEN: Final = frozenset({"Created", "New", "PartiallyFilled", "Untriggered", "Active"})
_CLOSED: Final = frozenset(
    {"Rejected", "Filled", "Cancelled", "PartiallyFilledCanceled", "Triggered", "Deactivated"}
)


class Order(DataStore):
    """Open orders keyed by ``orderId``.

    https://bybit-exchange.github.io/docs/v5/websocket/private/order and the
    statuses of https://bybit-exchange.github.io/docs/v5/enum#orderstatus:
    ``Created``, ``New``, ``PartiallyFilled``, ``Untriggered`` (and
    ``Active``) are open and merged into the stored order; ``Rejected``,
    ``Filled``, ``Cancelled``, ``PartiallyFilledCanceled``, ``Triggered`` and
    ``Deactivated`` close it: it is removed, and so is any order with the same
    non-empty ``orderLinkId`` (a client id is unique among open orders, so a
    stored one is stale). An unknown status changes nothing and is logged once.

    ``initialize`` with ``GET /v5/order/realtime`` replaces the stored orders
    its query covers (see :meth:`BybitDataStore.initialize`).
    """

    _KEYS = ["orderId"]  # noqa: RUF012 - pybotters' surface

    _unknown: Once

    def _init(self) -> None:
        self._unknown = Once()

    def _onmessage(self, topic: str, msg: Mapping[str, Any], ws: Any = None) -> None:
        for item in _items(msg.get("data"), topic):
            self._apply(item, topic, by_link=True)

    def _apply(self, item: Item, topic: str, *, by_link: bool) -> None:
        status = item.get("orderStatus")
        if type(status) is str and status in _OPEN:
            self._update([item])
        elif type(status) is str and status in _CLOSED:
            self._delete([item])
            link = item.get("orderLinkId")
            if by_link and link:
                self._delete(self.find({"orderLinkId": link}))
        elif self._unknown.first(status):
            logger.warning(
                "Bybit %s: order status %s is unknown; such orders are left as they are: %s",
                topic,
                _short.repr(status),
                _short.repr(item),
            )

    def _onresponse(self, rows: list[Item], params: Mapping[str, str]) -> None:
        category = params.get("category")
        if not category:
            logger.warning("Bybit /v5/order/realtime: no category in the query; response skipped")
            return
        rows = [{**row, "category": category} for row in rows]
        topic = "/v5/order/realtime"
        if params.get("openOnly", "0") not in ("", "0") or params.get("cursor"):
            # Closed records (openOnly=1/2) or a continuation page: the rows are
            # not the whole set of open orders the query covers, so only they
            # are applied. Closed rows are history: they close their own order,
            # never another with the same (since reused) orderLinkId.
            for row in rows:
                self._apply(row, topic, by_link=False)
            return
        covered = _covered(params)
        if covered is not None:
            self._delete(
                [
                    item
                    for item in self._data.values()
                    if item.get("category") == category and covered(item)
                ]
            )
        for row in rows:
            self._apply(row, topic, by_link=False)


def _covered(params: Mapping[str, str]) -> Callable[[Mapping[str, Any]], bool] | None:
    """Which stored orders (of the query's category) an open-orders query answers for.

    pybotters' rule: ``symbol`` (exact), else ``baseCoin`` (a symbol prefix),
    else ``settleCoin`` (a symbol suffix), else none. botters first honours a
    query for one order (``orderId``/``orderLinkId``): it answers for that
    order only (pybotters would drop every other order of the symbol).
    """
    order_id = params.get("orderId")
    link_id = params.get("orderLinkId")
    if order_id or link_id:
        return lambda item: (
            (bool(order_id) and item.get("orderId") == order_id)
            or (bool(link_id) and item.get("orderLinkId") == link_id)
        )
    if "symbol" in params:
        symbol = params["symbol"]
        return lambda item: item.get("symbol") == symbol
    if "baseCoin" in params:
        base = params["baseCoin"]
        return lambda item: isinstance(s := item.get("symbol"), str) and s.startswith(base)
    if "settleCoin" in params:
        settle = params["settleCoin"]
        return lambda item: isinstance(s := item.get("symbol"), str) and s.endswith(settle)
    return None


class Wallet(DataStore):
    """Wallets keyed by ``accountType`` (``UNIFIED``, ``CONTRACT``...).

    An update carries the coins that changed: the stored coins it does not
    list are kept (after the new ones), as pybotters does.
    https://bybit-exchange.github.io/docs/v5/websocket/private/wallet
    """

    _KEYS = ["accountType"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, topic: str, msg: Mapping[str, Any], ws: Any = None) -> None:
        self._merge(_items(msg.get("data"), topic))

    def _onresponse(self, rows: list[Item]) -> None:
        self._merge(rows)

    def _merge(self, items: Iterable[Item]) -> None:
        for item in items:
            coins = item.get("coin")
            stored = self.get(item)
            if stored is not None and type(coins) is list:
                old = stored.get("coin")
                if type(old) is list and old:
                    names = [c.get("coin") for c in coins if isinstance(c, dict)]
                    kept = [c for c in old if not (isinstance(c, dict) and c.get("coin") in names)]
                    if kept:
                        item = {**item, "coin": coins + kept}
            self._update([item])


class Greek(DataStore):
    """Option greeks per ``baseCoin``, merged.

    https://bybit-exchange.github.io/docs/v5/websocket/private/greek
    """

    _KEYS = ["baseCoin"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, topic: str, msg: Mapping[str, Any], ws: Any = None) -> None:
        self._update(_items(msg.get("data"), topic))


_Handler = Callable[[str, Mapping[str, Any], Any], None]


class BybitDataStore(DataStoreCollection):
    """Every Bybit v5 store, fed by ``onmessage`` (pybotters 1.x compatible).

    Connect to a public (``/v5/public/linear``...) or the private
    (``/v5/private``) stream, subscribe, and pass ``store.onmessage`` as the
    JSON handler. The stores, their names (``store["publicTrade"]``...) and the
    item dicts are pybotters'; see :mod:`botters.protocol.exchanges.bybit._store`
    for the topic of each.

    Use one collection per category connection (spot and linear share symbol
    names such as ``BTCUSDT``, and their books would collide), or one for
    public and private streams together.

    Differences from pybotters, on purpose:

    * Unknown topics (``dcp.*``, anything) are logged once per topic and
      ignored; pybotters raises ``KeyError`` out of ``onmessage``.
    * ``success: false`` and ``retCode != 0`` replies (a refused subscription,
      a rejected login, an order-entry error) are logged, one line each.
    * A malformed item (not an object, a key field missing) is logged and
      skipped; the rest of the message and the stream go on. pybotters raises
      on some (an order without ``orderStatus`` loses the rest of its message).
    * The order book follows Bybit's ``u`` chain and resyncs on a gap; see
      :class:`~._book.OrderBook` (one topic per symbol, deltas before a
      snapshot, zero sizes, the size bound).
    * ``initialize`` with a ``retCode != 0`` response applies every other
      response first, then raises :class:`~botters.protocol.store.InitializeError`
      (a ``ValueError``, as pybotters raises); pybotters raises at once,
      after whichever responses happened to finish first.
    * ``initialize`` with ``/v5/order/realtime``: a query for one order
      (``orderId``/``orderLinkId``) replaces only that order, a continuation
      page (``cursor``) and a query for closed orders (``openOnly`` 1 or 2)
      replace nothing, and a row with a closed status removes its order
      instead of being stored. pybotters drops every order of the query's
      symbol in all three cases, and stores closed rows as open orders.
    """

    def _init(self) -> None:
        self._create("orderbook", datastore_class=OrderBook)
        self._create("publicTrade", datastore_class=Trade)
        self._create("tickers", datastore_class=Ticker)
        self._create("kline", datastore_class=Kline)
        self._create("allLiquidation", datastore_class=AllLiquidation)
        self._create("kline_lt", datastore_class=LTKline)
        self._create("tickers_lt", datastore_class=LTTicker)
        self._create("lt", datastore_class=LTNav)
        self._create("liquidation", datastore_class=Liquidation)
        self._create("position", datastore_class=Position)
        self._create("execution", datastore_class=Execution)
        self._create("order", datastore_class=Order)
        self._create("wallet", datastore_class=Wallet)
        self._create("greeks", datastore_class=Greek)
        self._routes: dict[str, _Handler] = {
            name: store._onmessage  # type: ignore[attr-defined]
            for name, store in self._stores.items()
        }
        self._unknown_topics = Once()

    def _onmessage(self, msg: Any, ws: MessageSink | None = None) -> None:
        """Route one message by the first word of its ``topic``; log replies that report errors."""
        if type(msg) is not dict:
            logger.warning("Bybit: message is not an object; skipped: %s", _short.repr(msg))
            return
        topic = msg.get("topic")
        if topic is None:
            self._onreply(msg)
            return
        if type(topic) is not str:
            logger.warning("Bybit: topic is not a string; skipped: %s", _short.repr(msg))
            return
        route = self._routes.get(topic.partition(".")[0])
        if route is not None:
            route(topic, msg, ws)
        elif self._unknown_topics.first(topic):
            logger.warning("Bybit: no store for topic %r; its messages are ignored", topic)
        else:
            logger.debug("Bybit: ignored a message of topic %r", topic)

    def _onreply(self, msg: Mapping[str, Any]) -> None:
        # https://bybit-exchange.github.io/docs/v5/ws/connect: subscribe, auth and
        # ping replies carry "success"; order-entry replies carry "retCode"
        # (https://bybit-exchange.github.io/docs/v5/websocket/trade/guideline).
        if msg.get("success") is False:
            logger.warning(
                "Bybit %s refused: %s (%s)",
                msg.get("op", "request"),
                _short.repr(msg.get("ret_msg")),
                _short.repr(msg),
            )
        elif "retCode" in msg and msg["retCode"] != 0:
            logger.warning(
                "Bybit %s failed: retCode %s %s",
                msg.get("op", "request"),
                _short.repr(msg["retCode"]),
                _short.repr(msg.get("retMsg")),
            )

    # ------------------------------------------------------------------ initialize

    def _oninitialize(self, response: RestResponse) -> None:
        """Apply ``/v5/position/list``, ``/v5/order/realtime`` or ``/v5/account/wallet-balance``.

        https://bybit-exchange.github.io/docs/v5/position,
        https://bybit-exchange.github.io/docs/v5/order/open-order,
        https://bybit-exchange.github.io/docs/v5/account/wallet-balance: the
        rows are ``result.list`` of a ``retCode == 0`` body.
        """
        path = response.path
        if path not in _INITIALIZE:
            super()._oninitialize(response)
            return
        data = response.data
        if not isinstance(data, dict):
            logger.warning("Bybit %s: the body is not an object; skipped", path)
            return
        if data.get("retCode") != 0:
            raise InitializeError(
                f"Bybit {path}: retCode {_short.repr(data.get('retCode'))} "
                f"{_short.repr(data.get('retMsg'))}; response not applied"
            )
        result = data.get("result")
        rows = result.get("list") if isinstance(result, dict) else None
        if not isinstance(rows, list):
            logger.warning("Bybit %s: no result.list; skipped: %s", path, _short.repr(data))
            return
        items = _items(rows, path)
        if path == "/v5/position/list":
            self.position._onresponse(items)
        elif path == "/v5/order/realtime":
            self.order._onresponse(items, response.params)
        else:
            self.wallet._onresponse(items)

    # ------------------------------------------------------------------ stores

    @property
    def orderbook(self) -> OrderBook:
        """Order book levels (``orderbook.{depth}.{symbol}``)."""
        return self._stores["orderbook"]  # type: ignore[return-value]

    @property
    def trade(self) -> Trade:
        """Public trades (``publicTrade.{symbol}``)."""
        return self._stores["publicTrade"]  # type: ignore[return-value]

    @property
    def ticker(self) -> Ticker:
        """Tickers (``tickers.{symbol}``)."""
        return self._stores["tickers"]  # type: ignore[return-value]

    @property
    def kline(self) -> Kline:
        """Candles (``kline.{interval}.{symbol}``)."""
        return self._stores["kline"]  # type: ignore[return-value]

    @property
    def all_liquidation(self) -> AllLiquidation:
        """Liquidations (``allLiquidation.{symbol}``)."""
        return self._stores["allLiquidation"]  # type: ignore[return-value]

    @property
    def lt_kline(self) -> LTKline:
        """Leveraged-token candles (``kline_lt.{interval}.{symbol}``)."""
        return self._stores["kline_lt"]  # type: ignore[return-value]

    @property
    def lt_ticker(self) -> LTTicker:
        """Leveraged-token tickers (``tickers_lt.{symbol}``)."""
        return self._stores["tickers_lt"]  # type: ignore[return-value]

    @property
    def lt_nav(self) -> LTNav:
        """Leveraged-token net asset values (``lt.{symbol}``)."""
        return self._stores["lt"]  # type: ignore[return-value]

    @property
    def liquidation(self) -> Liquidation:
        """Liquidations of the deprecated ``liquidation.{symbol}`` topic."""
        return self._stores["liquidation"]  # type: ignore[return-value]

    @property
    def position(self) -> Position:
        """Positions (``position``, ``/v5/position/list``)."""
        return self._stores["position"]  # type: ignore[return-value]

    @property
    def execution(self) -> Execution:
        """Executions (``execution``, ``execution.fast``)."""
        return self._stores["execution"]  # type: ignore[return-value]

    @property
    def order(self) -> Order:
        """Open orders (``order``, ``/v5/order/realtime``)."""
        return self._stores["order"]  # type: ignore[return-value]

    @property
    def wallet(self) -> Wallet:
        """Wallets (``wallet``, ``/v5/account/wallet-balance``)."""
        return self._stores["wallet"]  # type: ignore[return-value]

    @property
    def greek(self) -> Greek:
        """Option greeks (``greeks``)."""
        return self._stores["greeks"]  # type: ignore[return-value]


_INITIALIZE: Final = frozenset(
    {"/v5/position/list", "/v5/order/realtime", "/v5/account/wallet-balance"}
)
