"""OKX v5 DataStores: every store of pybotters' ``OKXDataStore``, fed by ``onmessage``.

Feed: ``wss://ws.okx.com:8443/ws/v5/public``, ``/private`` and ``/business``.
A data push is ``{"arg": {"channel": ..., ...}, "data": [...]}`` (books add
``"action"``); replies are ``{"event": "subscribe" | "unsubscribe" | "login" |
"error" | "notice" | "channel-conn-count", ...}`` and WebSocket trading
answers are ``{"id", "op", "code", "msg", "data"}``
(https://www.okx.com/docs-v5/en/#overview-websocket-subscribe,
https://www.okx.com/docs-v5/en/#overview-websocket-notification-of-service-upgrade).

Routing (pybotters'): by ``arg.channel`` for every message with both ``arg``
and ``data``. Channels starting with ``candle``, ``mark-price-candle``,
``index-candle`` and ``books`` go to :class:`Candle`, :class:`MarkPriceCandle`,
:class:`IndexCandle` and :class:`~._book.Books`; every other channel goes to
the store of the same name.

Item dicts are pybotters 1.x's for the same messages, except where this
package deliberately differs (each is documented on its class and in
``docs/okx.rst``):

* unknown channels (``bbo-tbt``, ``trades-all``, ...) are logged once per
  channel and ignored (pybotters raises ``KeyError`` from ``onmessage``);
* malformed pushes and items are logged and skipped, and the rest of the
  message is applied; nothing raises out of ``onmessage``;
* order books follow OKX's ``seqId``/``prevSeqId`` chain and checksum and
  resubscribe a book that broke it; one channel owns each instId's book; diffs
  before a snapshot are not applied (see :mod:`._book`);
* ``balance_and_position`` keeps each push as received: its ``.balance`` and
  ``.position`` stores hold copies, so their updates no longer rewrite earlier
  raw pushes (pybotters shares the dicts);
* ``orders-algo`` and ``algo-advance`` keep the states OKX documents as still
  working (``pause`` and ``partially_effective`` too) and drop ``order_failed``;
  ``initialize`` also files ``chase`` algo orders.
"""

from __future__ import annotations

import logging
import reprlib
from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple

from botters.protocol.store import (
    DataStore,
    DataStoreCollection,
    Item,
    MessageSink,
    RestResponse,
)

from ._book import Books

__all__ = [
    "Account",
    "AccountGreeks",
    "AlgoAdvance",
    "BalanceAndPosition",
    "Books",
    "Candle",
    "EstimatedPrice",
    "FundingRate",
    "IndexCandle",
    "IndexTickers",
    "Instruments",
    "LiquidationWarning",
    "MarkPrice",
    "MarkPriceCandle",
    "OKXDataStore",
    "OpenInterest",
    "OptSummary",
    "Orders",
    "OrdersAlgo",
    "Positions",
    "PriceLimit",
    "Status",
    "Tickers",
    "Trades",
]

logger = logging.getLogger("botters.store.okx")

_short = reprlib.Repr()
_short.maxstring = 120
_short.maxother = 120
_short.maxlist = 6
_short.maxdict = 8

_CANDLE_FIELDS: Final = ("ts", "o", "h", "l", "c", "vol", "volCcy")
_PRICE_CANDLE_FIELDS: Final = ("ts", "o", "h", "l", "c")


def _state_of(item: Item, channel: str) -> Any:
    state = item.get("state")
    if state is None:
        logger.warning("OKX %s: item without a state, skipped: %s", channel, _short.repr(item))
    return state


class _Keyed(DataStore):
    """A store merged by key (``instId`` unless a subclass says) with its channel's items."""

    _KEYS = ["instId"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, arg: Mapping[str, Any], data: list[Item]) -> None:
        self._update(data)


class Instruments(_Keyed):
    """Instruments by ``instId`` (``instruments``; merged).

    https://www.okx.com/docs-v5/en/#public-data-websocket-instruments-channel
    """


class Tickers(_Keyed):
    """Latest ticker by ``instId`` (``tickers``; merged).

    https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-tickers-channel
    """


class OpenInterest(_Keyed):
    """Open interest by ``instId`` (``open-interest``; merged).

    https://www.okx.com/docs-v5/en/#public-data-websocket-open-interest-channel
    """


class EstimatedPrice(_Keyed):
    """Estimated delivery/exercise price by ``instId`` (``estimated-price``; merged).

    https://www.okx.com/docs-v5/en/#public-data-websocket-estimated-delivery-exercise-price-channel
    """


class MarkPrice(_Keyed):
    """Mark price by ``instId`` (``mark-price``; merged).

    https://www.okx.com/docs-v5/en/#public-data-websocket-mark-price-channel
    """


class PriceLimit(_Keyed):
    """Price limits by ``instId`` (``price-limit``; merged).

    https://www.okx.com/docs-v5/en/#public-data-websocket-price-limit-channel
    """


class OptSummary(_Keyed):
    """Option summary by ``instId`` (``opt-summary``; merged).

    https://www.okx.com/docs-v5/en/#public-data-websocket-option-summary-channel
    """


class FundingRate(_Keyed):
    """Funding rate by ``instId`` (``funding-rate``; merged).

    https://www.okx.com/docs-v5/en/#public-data-websocket-funding-rate-channel
    """


class IndexTickers(_Keyed):
    """Index ticker by ``instId`` (``index-tickers``; merged).

    https://www.okx.com/docs-v5/en/#public-data-websocket-index-tickers-channel
    """


class LiquidationWarning(_Keyed):
    """Positions at liquidation risk by ``instId`` (``liquidation-warning``; merged).

    Keyed by ``instId`` alone, as in pybotters (two positions of one instrument
    share a row).
    https://www.okx.com/docs-v5/en/#trading-account-websocket-position-risk-warning
    """


class AccountGreeks(_Keyed):
    """Account greeks by ``ccy`` (``account-greeks``; merged).

    https://www.okx.com/docs-v5/en/#trading-account-websocket-account-greeks-channel
    """

    _KEYS = ["ccy"]  # noqa: RUF012 - pybotters' surface


class _CandleStore(DataStore):
    """Candles ``{**arg, ts, o, h, l, c, ...}`` by ``(channel, instId, ts)``.

    A push's rows are arrays; pybotters zips them with its field names (fewer
    fields for a shorter row, later fields such as ``confirm`` dropped) and
    merges the subscription ``arg`` in front, so the channel (``candle1m``,
    ``candle1D``...) tells the bar size.
    """

    _KEYS = ["channel", "instId", "ts"]  # noqa: RUF012 - pybotters' surface
    _FIELDS: tuple[str, ...] = _CANDLE_FIELDS

    def _onmessage(self, arg: Mapping[str, Any], data: list[Any]) -> None:
        items: list[Item] = []
        for row in data:
            if not isinstance(row, list):
                logger.warning(
                    "OKX %s: candle row is not an array, skipped: %s",
                    arg.get("channel"),
                    _short.repr(row),
                )
                continue
            item: Item = dict(arg)
            item.update(zip(self._FIELDS, row, strict=False))
            items.append(item)
        self._update(items)


class Candle(_CandleStore):
    """Candles of ``candle*`` channels (``ts, o, h, l, c, vol, volCcy``; merged).

    https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-candlesticks-channel
    """


class MarkPriceCandle(_CandleStore):
    """Candles of ``mark-price-candle*`` channels (``ts, o, h, l, c``; merged).

    https://www.okx.com/docs-v5/en/#public-data-websocket-mark-price-candlesticks-channel
    """

    _FIELDS = _PRICE_CANDLE_FIELDS


class IndexCandle(_CandleStore):
    """Candles of ``index-candle*`` channels (``ts, o, h, l, c``; merged).

    https://www.okx.com/docs-v5/en/#public-data-websocket-index-candlesticks-channel
    """

    _FIELDS = _PRICE_CANDLE_FIELDS


class Trades(DataStore):
    """Public trades as received (``trades``), the last 9,999 (pybotters' bound).

    https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-trades-channel
    """

    def _onmessage(self, arg: Mapping[str, Any], data: list[Item]) -> None:
        self._insert(data)


class Status(DataStore):
    """System maintenance notices as received (``status``).

    https://www.okx.com/docs-v5/en/#status-ws-status-channel
    """

    def _onmessage(self, arg: Mapping[str, Any], data: list[Item]) -> None:
        self._insert(data)


class Account(DataStore):
    """The account (``account``): each push replaces the store's items.

    https://www.okx.com/docs-v5/en/#trading-account-websocket-account-channel
    """

    def _onmessage(self, arg: Mapping[str, Any], data: list[Item]) -> None:
        self._clear()
        self._insert(data)


class Positions(DataStore):
    """Positions by ``(instId, mgnMode, posSide)`` (``positions``; merged).

    A closed position stays with ``pos: "0"``, as OKX pushes it and as in
    pybotters.
    https://www.okx.com/docs-v5/en/#trading-account-websocket-positions-channel
    """

    _KEYS = ["instId", "mgnMode", "posSide"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, arg: Mapping[str, Any], data: list[Item]) -> None:
        self._update(data)


class _AndBalance(DataStore):
    """Balances by ``ccy`` from ``balance_and_position`` pushes (merged)."""

    _KEYS = ["ccy"]  # noqa: RUF012 - pybotters' surface


class _AndPosition(DataStore):
    """Positions by ``(instId, mgnMode, posSide)`` from ``balance_and_position`` (merged)."""

    _KEYS = ["instId", "mgnMode", "posSide"]  # noqa: RUF012 - pybotters' surface


class BalanceAndPosition(DataStore):
    """Every ``balance_and_position`` push as received, plus ``.balance`` and ``.position``.

    ``balance`` (by ``ccy``) merges each push's ``balData`` and ``position``
    (by ``instId, mgnMode, posSide``) its ``posData``.

    Unlike pybotters, the nested stores hold *copies* of the rows: in
    pybotters they hold the very dicts inside the raw push, so a later
    balance update silently rewrites the ``balData`` of the push stored here.
    https://www.okx.com/docs-v5/en/#trading-account-websocket-balance-and-position-channel
    """

    balance: _AndBalance
    position: _AndPosition

    def _init(self) -> None:
        self.balance = _AndBalance("balance_and_position.balance")
        self.position = _AndPosition("balance_and_position.position")

    def _onmessage(self, arg: Mapping[str, Any], data: list[Item]) -> None:
        self._insert(data)
        for push in data:
            self.balance._update(_rows(push, "balData"))
            self.position._update(_rows(push, "posData"))


def _rows(push: Item, field: str) -> list[Item]:
    rows = push.get(field)
    if rows is None:
        return []
    if not isinstance(rows, list):
        logger.warning(
            "OKX balance_and_position: %s is not an array, skipped: %s", field, _short.repr(rows)
        )
        return []
    kept = [dict(row) for row in rows if isinstance(row, dict)]
    if len(kept) != len(rows):
        logger.warning(
            "OKX balance_and_position: skipped %d non-object %s row(s)",
            len(rows) - len(kept),
            field,
        )
    return kept


class _StatefulOrders(DataStore):
    """Orders kept while their ``state`` is one of ``_OPEN``; removed otherwise."""

    _OPEN: frozenset[str] = frozenset()

    def _onmessage(self, arg: Mapping[str, Any], data: list[Item]) -> None:
        channel = str(arg.get("channel"))
        open_ = self._OPEN
        for item in data:
            state = _state_of(item, channel)
            if state is None:
                continue
            if isinstance(state, str) and state in open_:
                self._update([item])
            else:
                self._delete([item])

    def _onresponse(self, rows: list[Item]) -> None:
        self._update(rows)


class Orders(_StatefulOrders):
    """Open orders by ``ordId`` (``orders``): ``live`` and ``partially_filled`` are kept.

    Any other state (``filled``, ``canceled``, ``mmp_canceled``) removes the
    order. https://www.okx.com/docs-v5/en/#order-book-trading-trade-ws-order-channel
    """

    _KEYS = ["ordId"]  # noqa: RUF012 - pybotters' surface
    _OPEN = frozenset({"live", "partially_filled"})


class OrdersAlgo(_StatefulOrders):
    """Working algo orders by ``algoId`` (``orders-algo``: conditional, oco, trigger, chase).

    Kept while OKX documents them as working: ``live`` ("to be effective"),
    ``pause`` and ``partially_effective``; ``effective``, ``canceled``,
    ``order_failed`` and ``partially_failed`` remove them.
    pybotters keeps ``live`` and ``order_failed`` (so failed orders stay
    forever) and drops ``partially_effective`` orders that are still working.
    https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-ws-algo-orders-channel
    """

    _KEYS = ["algoId"]  # noqa: RUF012 - pybotters' surface
    _OPEN = frozenset({"live", "pause", "partially_effective"})


class AlgoAdvance(_StatefulOrders):
    """Working advance algo orders by ``algoId`` (``algo-advance``: iceberg, twap, trailing).

    Kept in the working states OKX documents: ``live``, ``pause`` and
    ``partially_effective`` (an iceberg or TWAP order part-way through);
    ``effective``, ``canceled`` and ``order_failed`` remove them.
    pybotters keeps ``live`` and ``partially_filled`` (not a state of this
    channel), so a running iceberg order vanished from its store.
    https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-ws-advance-algo-orders-channel
    """

    _KEYS = ["algoId"]  # noqa: RUF012 - pybotters' surface
    _OPEN = frozenset({"live", "pause", "partially_effective", "partially_filled"})


_ALGO_TYPES: Final = frozenset({"conditional", "oco", "trigger", "chase"})
_ADVANCE_TYPES: Final = frozenset({"iceberg", "twap", "move_order_stop"})

_STORES: Final[tuple[tuple[str, type[DataStore]], ...]] = (
    ("instruments", Instruments),
    ("tickers", Tickers),
    ("open-interest", OpenInterest),
    ("candle", Candle),
    ("trades", Trades),
    ("estimated-price", EstimatedPrice),
    ("mark-price", MarkPrice),
    ("mark-price-candle", MarkPriceCandle),
    ("price-limit", PriceLimit),
    ("books", Books),
    ("opt-summary", OptSummary),
    ("funding-rate", FundingRate),
    ("index-candle", IndexCandle),
    ("index-tickers", IndexTickers),
    ("status", Status),
    ("account", Account),
    ("positions", Positions),
    ("balance_and_position", BalanceAndPosition),
    ("orders", Orders),
    ("orders-algo", OrdersAlgo),
    ("algo-advance", AlgoAdvance),
    ("liquidation-warning", LiquidationWarning),
    ("account-greeks", AccountGreeks),
)

_PREFIXES: Final = ("candle", "mark-price-candle", "index-candle", "books")
"""Channel-name prefixes routed to the store of that name (``candle1m`` -> ``candle``)."""

_MAX_UNKNOWN: Final = 1024
"""Distinct channel names remembered (for routing and for logging unknown ones once)."""


class _Route(NamedTuple):
    handler: Callable[[Mapping[str, Any], list[Any]], None]
    raw: bool
    """Give the handler ``data`` as received (candle rows are arrays), not only its objects."""


_BOOKS: Final = _Route(lambda arg, data: None, False)

_QUIET_EVENTS: Final = frozenset({"subscribe", "unsubscribe", "login", "channel-conn-count"})


class OKXDataStore(DataStoreCollection):
    """Every OKX v5 store, fed by ``onmessage`` (pybotters-compatible).

    Pass ``store.onmessage`` as the JSON handler of ``/ws/v5/public``,
    ``/ws/v5/private`` and ``/ws/v5/business`` connections (one store may
    serve all three). The stores and their names are pybotters 1.11.2's; see
    the properties. ``initialize`` accepts the responses of
    ``GET /api/v5/trade/orders-pending`` and
    ``GET /api/v5/trade/orders-algo-pending``.

    Differences from pybotters, on purpose (details on each store and in
    ``docs/okx.rst``):

    * Nothing raises out of ``onmessage``: an unknown channel (``bbo-tbt``,
      ``trades-all``...) is logged once per channel, an ``event: error`` or a
      failed WebSocket trading reply once per message, a malformed push or
      item once per occurrence; the rest of the message is still applied.
    * ``books`` checks OKX's ``seqId`` chain and (non-zero) checksums: a book
      that misses a diff or disagrees with a checksum is dropped, marked
      unsynced and resubscribed; a diff before the first snapshot is not
      applied. One channel owns each instId's book.
    * ``balance_and_position`` no longer rewrites stored pushes through its
      nested stores; ``orders-algo``/``algo-advance`` follow OKX's order states.
    """

    def _init(self) -> None:
        for name, store_class in _STORES:
            self._create(name, datastore_class=store_class)
        self._routes: dict[str, _Route | None] = {}
        self._unknown_channels: set[str] = set()

    # ------------------------------------------------------------------ messages

    def _onmessage(self, msg: Any, ws: MessageSink | None = None) -> None:
        if not isinstance(msg, dict):
            if msg != "pong":  # the keepalive answer is not JSON; a handler may still see it
                logger.warning("OKX: message is not an object, skipped: %s", _short.repr(msg))
            return
        event = msg.get("event")
        if event is not None:
            self._onevent(event, msg)
        elif "op" in msg and "code" in msg:
            self._onreply(msg)
        if "arg" not in msg or "data" not in msg:
            return
        arg = msg["arg"]
        channel = arg.get("channel") if isinstance(arg, dict) else None
        if not isinstance(channel, str):
            logger.warning("OKX: push without an arg.channel, skipped: %s", _short.repr(msg))
            return
        try:
            route = self._routes[channel]
        except KeyError:
            route = self._route(channel)
        if route is None:
            return
        data = msg["data"]
        if not isinstance(data, list):
            logger.warning("OKX %s: data is not an array, skipped: %s", channel, _short.repr(data))
            return
        if route is _BOOKS:
            self.books._onmessage(arg, msg.get("action"), _objects(data, channel), ws)
        elif route.raw:
            route.handler(arg, data)
        else:
            route.handler(arg, _objects(data, channel))

    def _route(self, channel: str) -> _Route | None:
        """Where pushes of ``channel`` go (pybotters' routing), remembered per known channel."""
        name = channel
        for prefix in _PREFIXES:
            if channel.startswith(prefix):
                name = prefix
                break
        store = self._stores.get(name)
        if store is None:
            if channel not in self._unknown_channels and len(self._unknown_channels) < _MAX_UNKNOWN:
                self._unknown_channels.add(channel)
                logger.warning("OKX: no store for channel %r; its pushes are ignored", channel)
            return None
        if name == "books":
            route = _BOOKS
        else:
            handler = store._onmessage  # type: ignore[attr-defined]
            route = _Route(handler, isinstance(store, _CandleStore))
        if len(self._routes) < _MAX_UNKNOWN:
            self._routes[channel] = route
        return route

    def _onevent(self, event: Any, msg: Item) -> None:
        # https://www.okx.com/docs-v5/en/#overview-websocket-subscribe (event replies)
        if not isinstance(event, str):
            logger.warning("OKX: unexpected event %s", _short.repr(msg))
        elif event == "error":
            logger.warning(
                "OKX error reply: code=%s msg=%s%s",
                msg.get("code"),
                _short.repr(msg.get("msg")),
                f" (id {msg['id']})" if "id" in msg else "",
            )
        elif event == "notice":  # e.g. 64008: the connection closes soon for an upgrade
            logger.info("OKX notice: code=%s msg=%s", msg.get("code"), _short.repr(msg.get("msg")))
        elif event in _QUIET_EVENTS:
            logger.debug("OKX %s: %s", event, _short.repr(msg.get("arg", msg)))
            arg = msg.get("arg")
            if event == "unsubscribe" and isinstance(arg, dict):
                channel = arg.get("channel")
                if isinstance(channel, str) and channel.startswith("books"):
                    self.books._onunsubscribed(arg)
        else:
            logger.warning("OKX: unexpected event %r: %s", event, _short.repr(msg))

    def _onreply(self, msg: Item) -> None:
        # WebSocket trading answers (https://www.okx.com/docs-v5/en/#order-book-trading-trade-ws-place-order):
        # code "0" is success; "1"/"2" mean some or all requests failed, with sCode/sMsg per item.
        code = msg.get("code")
        if code == "0":
            return
        data = msg.get("data")
        failures = [
            f"{item.get('sCode')} {item.get('sMsg')}"
            for item in (data if isinstance(data, list) else ())
            if isinstance(item, dict) and item.get("sCode") not in (None, "0")
        ]
        logger.warning(
            "OKX %s reply failed: code=%s msg=%s%s%s",
            msg.get("op"),
            code,
            _short.repr(msg.get("msg")),
            f" (id {msg['id']})" if "id" in msg else "",
            f"; {'; '.join(failures)}" if failures else "",
        )

    # ------------------------------------------------------------------ initial data

    def _oninitialize(self, response: RestResponse) -> None:
        # GET /api/v5/trade/orders-pending
        # (https://www.okx.com/docs-v5/en/#order-book-trading-trade-get-order-list) and
        # GET /api/v5/trade/orders-algo-pending
        # (https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-get-algo-order-list):
        # {"code": "0", "msg": "", "data": [...]}; rows are filed by ordType, as in pybotters.
        path = response.path
        if path not in ("/api/v5/trade/orders-pending", "/api/v5/trade/orders-algo-pending"):
            super()._oninitialize(response)
            return
        body = response.data
        if not isinstance(body, dict):
            logger.warning("OKX %s: not an object, skipped: %s", path, _short.repr(body))
            return
        if body.get("code") != "0":
            # As pybotters: warn and still apply whatever data came back.
            logger.warning("OKX %s: error response: %s", path, _short.repr(body))
        rows = body.get("data")
        if not isinstance(rows, list):
            if rows is not None:
                logger.warning("OKX %s: data is not an array: %s", path, _short.repr(rows))
            return
        items = _objects(rows, path)
        if path == "/api/v5/trade/orders-pending":
            self.orders._onresponse(items)
            return
        algo: list[Item] = []
        advance: list[Item] = []
        for item in items:
            kind = item.get("ordType")
            if not isinstance(kind, str):
                kind = repr(kind)
            if kind in _ALGO_TYPES:
                algo.append(item)
            elif kind in _ADVANCE_TYPES:
                advance.append(item)
            else:
                logger.warning(
                    "OKX %s: no store for ordType %r, skipped: %s", path, kind, _short.repr(item)
                )
        self.ordersalgo._onresponse(algo)
        self.algoadvance._onresponse(advance)

    # ------------------------------------------------------------------ stores

    @property
    def instruments(self) -> Instruments:
        """Instruments (``instruments``)."""
        return self._stores["instruments"]  # type: ignore[return-value]

    @property
    def tickers(self) -> Tickers:
        """Tickers (``tickers``)."""
        return self._stores["tickers"]  # type: ignore[return-value]

    @property
    def openinterest(self) -> OpenInterest:
        """Open interest (``open-interest``)."""
        return self._stores["open-interest"]  # type: ignore[return-value]

    @property
    def candle(self) -> Candle:
        """Candles (``candle*``)."""
        return self._stores["candle"]  # type: ignore[return-value]

    @property
    def trades(self) -> Trades:
        """Public trades (``trades``)."""
        return self._stores["trades"]  # type: ignore[return-value]

    @property
    def estimatedprice(self) -> EstimatedPrice:
        """Estimated delivery/exercise prices (``estimated-price``)."""
        return self._stores["estimated-price"]  # type: ignore[return-value]

    @property
    def markprice(self) -> MarkPrice:
        """Mark prices (``mark-price``)."""
        return self._stores["mark-price"]  # type: ignore[return-value]

    @property
    def markpricecandle(self) -> MarkPriceCandle:
        """Mark-price candles (``mark-price-candle*``)."""
        return self._stores["mark-price-candle"]  # type: ignore[return-value]

    @property
    def pricelimit(self) -> PriceLimit:
        """Price limits (``price-limit``)."""
        return self._stores["price-limit"]  # type: ignore[return-value]

    @property
    def books(self) -> Books:
        """Order books (``books``, ``books5``, ``books-l2-tbt``, ``books50-l2-tbt``)."""
        return self._stores["books"]  # type: ignore[return-value]

    @property
    def optsummary(self) -> OptSummary:
        """Option summaries (``opt-summary``)."""
        return self._stores["opt-summary"]  # type: ignore[return-value]

    @property
    def fundingrate(self) -> FundingRate:
        """Funding rates (``funding-rate``)."""
        return self._stores["funding-rate"]  # type: ignore[return-value]

    @property
    def indexcandle(self) -> IndexCandle:
        """Index candles (``index-candle*``)."""
        return self._stores["index-candle"]  # type: ignore[return-value]

    @property
    def indextickers(self) -> IndexTickers:
        """Index tickers (``index-tickers``)."""
        return self._stores["index-tickers"]  # type: ignore[return-value]

    @property
    def status(self) -> Status:
        """System status notices (``status``)."""
        return self._stores["status"]  # type: ignore[return-value]

    @property
    def account(self) -> Account:
        """The account (``account``)."""
        return self._stores["account"]  # type: ignore[return-value]

    @property
    def positions(self) -> Positions:
        """Positions (``positions``)."""
        return self._stores["positions"]  # type: ignore[return-value]

    @property
    def balance_and_position(self) -> BalanceAndPosition:
        """Raw ``balance_and_position`` pushes, with ``.balance`` and ``.position``."""
        return self._stores["balance_and_position"]  # type: ignore[return-value]

    @property
    def orders(self) -> Orders:
        """Open orders (``orders``)."""
        return self._stores["orders"]  # type: ignore[return-value]

    @property
    def ordersalgo(self) -> OrdersAlgo:
        """Working algo orders (``orders-algo``)."""
        return self._stores["orders-algo"]  # type: ignore[return-value]

    @property
    def algoadvance(self) -> AlgoAdvance:
        """Working advance algo orders (``algo-advance``)."""
        return self._stores["algo-advance"]  # type: ignore[return-value]

    @property
    def liquidationwarning(self) -> LiquidationWarning:
        """Liquidation warnings (``liquidation-warning``)."""
        return self._stores["liquidation-warning"]  # type: ignore[return-value]

    @property
    def accountgreeks(self) -> AccountGreeks:
        """Account greeks (``account-greeks``)."""
        return self._stores["account-greeks"]  # type: ignore[return-value]


def _objects(data: list[Any], where: str) -> list[Item]:
    """The dict elements of ``data``; other elements are logged and dropped."""
    items = [item for item in data if isinstance(item, dict)]
    if len(items) != len(data):
        logger.warning(
            "OKX %s: skipped %d non-object element(s): %s",
            where,
            len(data) - len(items),
            _short.repr(data),
        )
    return items
