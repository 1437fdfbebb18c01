"""bitFlyer Lightning DataStores (JSON-RPC 2.0 Realtime API).

Feed: ``wss://ws.lightstream.bitflyer.com/json-rpc``. Every data message is
``{"jsonrpc": "2.0", "method": "channelMessage", "params": {"channel": ...,
"message": ...}}`` (https://bf-lightning-api.readme.io/docs/endpoint-json-rpc).

Channels and what they feed (item dicts are pybotters 1.x's, from the same
messages):

* ``lightning_board_snapshot_{product_code}`` and ``lightning_board_{product_code}``
  -> :class:`Board` (https://bf-lightning-api.readme.io/docs/realtime-board-snapshot,
  https://bf-lightning-api.readme.io/docs/realtime-board). A message is
  ``{"mid_price": n, "bids": [{"price", "size"}], "asks": [...]}``; in a diff a
  size of 0 removes the level. There is no sequence number or checksum, so a
  gap cannot be detected: the book is *synced* from a snapshot until the feed
  is interrupted.
* ``lightning_ticker_{product_code}`` -> :class:`Ticker`
  (https://bf-lightning-api.readme.io/docs/realtime-ticker).
* ``lightning_executions_{product_code}`` -> :class:`Executions`
  (https://bf-lightning-api.readme.io/docs/realtime-executions).
* ``child_order_events`` -> ``childorderevents``, :class:`ChildOrders`,
  :class:`Positions` (+ :class:`Collateral`), :class:`Balance`
  (https://bf-lightning-api.readme.io/docs/realtime-child-order-events).
* ``parent_order_events`` -> ``parentorderevents``, :class:`ParentOrders`
  (https://bf-lightning-api.readme.io/docs/realtime-parent-order-events).

Positions, collateral and balance are *computed* from executions, as in
pybotters: they drift from the exchange's own numbers (swap points, fees not
in the events) until re-initialized from REST.
"""

from __future__ import annotations

import logging
import math
import reprlib
from collections.abc import Hashable, Mapping
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any, Final

from botters.protocol.store import (
    DataStore,
    DataStoreCollection,
    Item,
    MessageSink,
    OrderBookStore,
    RestResponse,
    Resubscribe,
    ResyncRequest,
)

__all__ = [
    "Balance",
    "Board",
    "ChildOrderEvents",
    "ChildOrders",
    "Collateral",
    "Executions",
    "ParentOrderEvents",
    "ParentOrders",
    "Positions",
    "Ticker",
    "bitFlyerDataStore",
]

logger = logging.getLogger("botters.store.bitflyer")

_short = reprlib.Repr()
_short.maxstring = 120
_short.maxother = 120
_short.maxlist = 6
_short.maxdict = 8

_SNAPSHOT: Final = "lightning_board_snapshot_"
_BOARD: Final = "lightning_board_"
_TICKER: Final = "lightning_ticker_"
_EXECUTIONS: Final = "lightning_executions_"
_INF = math.inf
_size_of = itemgetter("size")


def _num(value: Any) -> Decimal:
    # Exact decimal arithmetic on JSON numbers or decimal strings: 0.3 - 0.1 is 0.2.
    return Decimal(str(value))


def _sub(a: Any, b: Any) -> int | float:
    """``a - b`` as pybotters computes sizes: int if both are ints, else exact then float."""
    if type(a) is int and type(b) is int:
        return a - b
    return float(_num(a) - _num(b))


def _dicts(message: Any, what: str) -> list[Item]:
    """The dict elements of a list message; anything else is logged and dropped."""
    if not isinstance(message, list):
        logger.warning("bitFlyer %s: expected a list, skipped: %s", what, _short.repr(message))
        return []
    items = [item for item in message if isinstance(item, dict)]
    if len(items) != len(message):
        logger.warning(
            "bitFlyer %s: skipped %d non-object element(s): %s",
            what,
            len(message) - len(items),
            _short.repr(message),
        )
    return items


class Board(OrderBookStore):
    """Order book levels ``{product_code, side: "asks"|"bids", price, size}``.

    ``sorted()`` returns ``{"asks": [...], "bids": [...]}`` best first.
    ``mid_price`` maps each product code to the last ``mid_price`` received.
    ``is_synced(product_code)`` says whether the book came from a snapshot
    and every diff since; diffs are ignored until a snapshot arrives (there
    is nothing to apply them to), and a feed interruption drops the book.

    After every message, levels on the wrong side of ``mid_price`` are
    removed (bids above it, asks at or below it): bitFlyer does not always
    send the removal of a level that the mid price has moved across.
    """

    _KEYS = ["product_code", "side", "price"]  # noqa: RUF012 - pybotters' surface
    _BOOK_KEYS = ("product_code",)
    _SIDE_KEY = "side"
    _PRICE_KEY = "price"
    _ASKS = "asks"
    _BIDS = "bids"

    mid_price: dict[str, Any]

    def _init(self) -> None:
        self.mid_price = {}

    def _onmessage(self, product_code: str, message: Item) -> None:
        """Apply one board message (levels, then mid-price pruning) unconditionally."""
        if self._apply(product_code, message) and self._waiters:
            self._set()

    def _onsnapshot(self, product_code: str, message: Any) -> None:
        if not isinstance(message, dict):
            logger.warning("bitFlyer board snapshot %s: not an object, skipped", product_code)
            return
        levels = self._snapshot_levels(product_code, message)
        changed = self._load_book(product_code, levels)
        if self._prune(product_code, message) and not changed and self._waiters:
            self._set()

    def _snapshot_levels(self, product_code: str, message: Mapping[str, Any]) -> list[Item]:
        """The snapshot's levels as items, asks then bids, read as a diff onto an empty book.

        A price listed twice keeps its first position and its last size, and
        a size of 0 removes it. Real snapshots list each price once with a
        size, so the items are built in one pass; anything else (a zero size,
        a malformed level) takes the careful way.
        """
        try:
            levels = [
                {
                    "product_code": product_code,
                    "side": side,
                    "price": lv["price"],
                    "size": lv["size"],
                }
                for side in ("asks", "bids")
                for lv in message.get(side) or ()
            ]
            if all(map(_size_of, levels)):
                return levels
        except (KeyError, TypeError):
            pass
        sizes: dict[tuple[str, Any], Any] = {}
        for side in ("asks", "bids"):
            entries = message.get(side)
            if not entries:
                continue
            if not isinstance(entries, list):
                self._bad_level(product_code, side, entries)
                continue
            for level in entries:
                try:
                    key = (side, level["price"])
                    size = level["size"]
                    if size:
                        sizes[key] = size
                    else:
                        sizes.pop(key, None)
                except (KeyError, TypeError):
                    self._bad_level(product_code, side, level)
        return [
            {"product_code": product_code, "side": side, "price": price, "size": size}
            for (side, price), size in sizes.items()
        ]

    def _ondiff(self, product_code: str, message: Any) -> None:
        # bitFlyer has no sequence numbers: nothing to link, no gap to find.
        # Diffs before the first snapshot are normal (the channels answer in
        # any order) and have nothing to apply to.
        if not self.is_synced(product_code):
            logger.debug("bitFlyer board %s: diff before snapshot, ignored", product_code)
            return
        if not isinstance(message, dict):
            logger.warning("bitFlyer board %s: diff is not an object, skipped", product_code)
            return
        self._touch(product_code)
        if self._apply(product_code, message) and self._waiters:
            self._set()

    def _resync_request(self, book: Hashable, reason: str) -> ResyncRequest | None:
        # Subscribing to the snapshot channel again brings a fresh board (the
        # store unsubscribes from it after each snapshot).
        return Resubscribe(
            exchange="bitflyer",
            store=self.name or "board",
            book=book,
            reason=reason,
            messages=({"method": "subscribe", "params": {"channel": f"{_SNAPSHOT}{book}"}},),
        )

    def _apply(self, product_code: str, message: Mapping[str, Any]) -> bool:
        book = self._book_for(product_code)
        watched = bool(self._streams)
        changed = False
        for side_name, side, sign in (("asks", book.asks, -1.0), ("bids", book.bids, 1.0)):
            levels = message.get(side_name)
            if not levels:
                continue
            for level in levels:
                try:
                    price = level["price"]
                    size = level["size"]
                    key = sign * float(price)
                except (KeyError, TypeError, ValueError, OverflowError):
                    self._bad_level(product_code, side_name, level)
                    continue
                if not -_INF < key < _INF or size is None:
                    self._bad_level(product_code, side_name, level)
                    continue
                if size:
                    item = {
                        "product_code": product_code,
                        "side": side_name,
                        "price": price,
                        "size": size,
                    }
                    self._put_level(side, (product_code, side_name, price), item, key)
                    changed = True
                else:
                    source = (
                        {
                            "product_code": product_code,
                            "side": side_name,
                            "price": price,
                            "size": size,
                        }
                        if watched
                        else level
                    )
                    if self._drop_level(side, (product_code, side_name, price), key, source):
                        changed = True
        return self._prune(product_code, message) or changed

    def _prune(self, product_code: str, message: Mapping[str, Any]) -> bool:
        """Record ``mid_price`` and drop the levels it has crossed; whether any was dropped."""
        book = self._book_for(product_code)
        changed = False
        mid = message.get("mid_price")
        try:
            bound = float(mid)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            bound = math.nan
        if bound == bound:
            self.mid_price[product_code] = mid
            # bids above the mid and asks at or below it are stale crossings.
            dropped: list[tuple[int, Item]] | None = [] if self._streams else None
            if self._drop_crossing(book.bids, bound, False, dropped):
                changed = True
            if self._drop_crossing(book.asks, -bound, True, dropped):
                changed = True
            if dropped:
                self._emit_deletes(dropped)
        else:
            logger.warning(
                "bitFlyer board %s: no usable mid_price (%s); crossed levels not pruned",
                product_code,
                _short.repr(mid),
            )
        return changed

    def _bad_snapshot_level(self, item: Any) -> None:
        self._bad_level(item.get("product_code"), item.get("side"), item)

    def _bad_level(self, product_code: str, side: str, level: Any) -> None:
        logger.warning(
            "bitFlyer board %s %s: skipped a level without a finite price and a size: %s",
            product_code,
            side,
            _short.repr(level),
        )

    def _feed_interrupted(self) -> None:
        super()._feed_interrupted()
        self.mid_price.clear()


class Ticker(DataStore):
    """Latest ticker per ``product_code`` (the channel's message, merged)."""

    _KEYS = ["product_code"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, message: Any) -> None:
        if not isinstance(message, dict):
            logger.warning("bitFlyer ticker: not an object, skipped: %s", _short.repr(message))
            return
        self._update([message])


class Executions(DataStore):
    """Public executions, each ``{"product_code": ..., **execution}``; keeps the last 99,999."""

    _MAXLEN = 99999

    def _onmessage(self, product_code: str, message: Any) -> None:
        self._insert(
            [{"product_code": product_code, **item} for item in _dicts(message, "executions")]
        )


class ChildOrderEvents(DataStore):
    """Every ``child_order_events`` event, as received."""

    def _onmessage(self, message: list[Item]) -> None:
        self._insert(message)


class ParentOrderEvents(DataStore):
    """Every ``parent_order_events`` event, as received."""

    def _onmessage(self, message: list[Item]) -> None:
        self._insert(message)


class ChildOrders(DataStore):
    """Open child orders keyed by ``child_order_acceptance_id``.

    ``ORDER`` adds the event; ``CANCEL``/``EXPIRE`` remove the order;
    ``EXECUTION`` lowers ``size`` by the executed size while
    ``outstanding_size`` is non-zero and removes the order when it is zero.
    """

    _KEYS = ["child_order_acceptance_id"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, message: list[Item]) -> None:
        for event in message:
            event_type = event.get("event_type")
            if event_type == "ORDER":
                self._insert([dict(event)])
            elif event_type in ("CANCEL", "EXPIRE"):
                self._delete([event])
            elif event_type == "EXECUTION":
                self._onexecution(event)

    def _onexecution(self, event: Item) -> None:
        stored = self.get(event)
        if stored is None:
            return
        outstanding = event.get("outstanding_size", None)
        try:
            size = _sub(stored["size"], event["size"])
        except (KeyError, TypeError, ValueError, InvalidOperation):
            logger.warning(
                "bitFlyer childorders: bad EXECUTION event skipped: %s", _short.repr(event)
            )
            return
        if outstanding is None:  # older feeds: infer it from the remaining size
            outstanding = size if size > 0 else 0
        if outstanding:
            key = event["child_order_acceptance_id"]
            self._update([{"child_order_acceptance_id": key, "size": size}])
        else:
            self._delete([event])

    def _onresponse(self, data: list[Item], product_code: str | None = None) -> None:
        _replace_products(self, data, product_code, "child_order_state", "getchildorders")


class ParentOrders(DataStore):
    """Open parent orders keyed by ``parent_order_acceptance_id``.

    ``ORDER`` adds the event; ``CANCEL``/``EXPIRE`` remove it; ``COMPLETE``
    removes it, except for IFD/IFDOCO orders whose first (IF) order
    completed (``parameter_index < 2``): those stay open for their second leg.
    """

    _KEYS = ["parent_order_acceptance_id"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, message: list[Item]) -> None:
        for event in message:
            event_type = event.get("event_type")
            if event_type == "ORDER":
                self._insert([dict(event)])
            elif event_type in ("CANCEL", "EXPIRE"):
                self._delete([event])
            elif event_type == "COMPLETE":
                stored = self.get(event)
                if stored is None:
                    continue
                if stored.get("parent_order_type") in ("IFD", "IFDOCO"):
                    index = event.get("parameter_index")
                    if not isinstance(index, int) or index < 2:
                        continue
                self._delete([event])

    def _onresponse(self, data: list[Item], product_code: str | None = None) -> None:
        _replace_products(self, data, product_code, "parent_order_state", "getparentorders")


def _replace_products(
    store: DataStore, data: Any, product_code: str | None, state_field: str, endpoint: str
) -> None:
    """Replace the orders of the products a REST order list covers by its ACTIVE rows.

    The products covered are the URL's ``product_code`` and those of the
    rows: an empty list for a product clears it (pybotters keeps stale rows).
    """
    rows = _dicts(data, endpoint)
    if not isinstance(data, list):
        return
    products = {row.get("product_code") for row in rows}
    if product_code:
        products.add(product_code)
    stale = [uid for uid, item in store._data.items() if item.get("product_code") in products]
    store._remove_ids(stale, True)
    store._insert([row for row in rows if row.get(state_field) == "ACTIVE"])


def _position_row(event: Mapping[str, Any], size: Any) -> Item:
    return {
        "product_code": event["product_code"],
        "side": event["side"],
        "price": event["price"],
        "size": size,
        "commission": event.get("commission", 0),
        "sfd": event.get("sfd", 0),
    }


def _is_derivative(product_code: Any) -> bool:
    # Positions exist for FX (Lightning FX/CFD) and the BTCJPY futures.
    return isinstance(product_code, str) and (
        product_code == "FX_BTC_JPY" or product_code.startswith("BTCJPY")
    )


class Positions(DataStore):
    """Open position lots ``{product_code, side, price, size, commission, sfd}``.

    For ``FX_BTC_JPY`` and the ``BTCJPY*`` futures. An execution on the side
    of the open lots (or with none open) adds a lot; an execution on the
    other side closes lots first-in first-out, books their P&L into
    :class:`Collateral`, and opens a lot with whatever size is left.

    Every lot has the same fields. (pybotters stores the whole raw execution
    event as the first lot of a product; botters does not.)
    """

    def _onmessage(self, message: list[Item], collateral: Collateral) -> None:
        for event in message:
            if event.get("event_type") == "EXECUTION" and _is_derivative(event.get("product_code")):
                try:
                    self._onexecution(event, collateral)
                except (KeyError, TypeError, ValueError, InvalidOperation):
                    logger.warning(
                        "bitFlyer positions: bad EXECUTION event skipped: %s", _short.repr(event)
                    )

    def _onexecution(self, event: Item, collateral: Collateral) -> None:
        product_code = event["product_code"]
        side = event["side"]
        size = event["size"]
        _num(event["price"])  # validate before touching anything
        lots = [
            (uid, lot) for uid, lot in self._data.items() if lot.get("product_code") == product_code
        ]
        if not lots or lots[0][1].get("side") == side:
            self._insert([_position_row(event, size)])
            return
        remaining: Any = size
        for uid, lot in lots:
            source = _position_row(event, remaining)
            lot_size = lot["size"]
            if _num(lot_size) <= _num(remaining):
                collateral._onexecution(side, lot["price"], event["price"], lot_size, source)
                self._remove_ids([uid], False)
                remaining = _sub(remaining, lot_size)
            else:
                collateral._onexecution(side, lot["price"], event["price"], remaining, source)
                lot["size"] = _sub(lot_size, remaining)
                remaining = _sub(remaining, remaining)
                self._put("update", _position_row(event, remaining), lot)
                self._set()
            if not _num(remaining) > 0:
                return
        self._insert([_position_row(event, remaining)])

    def _onresponse(self, data: Any, product_code: str | None = None) -> None:
        rows = _dicts(data, "getpositions")
        if not isinstance(data, list):
            return
        products = {row.get("product_code") for row in rows}
        if product_code:
            products.add(product_code)
        stale = [uid for uid, item in self._data.items() if item.get("product_code") in products]
        self._remove_ids(stale, True)
        try:
            self._insert([_position_row(row, row["size"]) for row in rows])
        except KeyError:
            logger.warning("bitFlyer getpositions: row without product_code/side/price/size")


class Collateral(DataStore):
    """The account's collateral (one item, from ``getcollateral``).

    Closed position lots add their P&L to ``collateral``: rounded down when
    an execution SELLs (closes a long), up when it BUYs (closes a short), per
    lot, as bitFlyer settles in whole yen.
    """

    def _onresponse(self, data: Any) -> None:
        if not isinstance(data, dict):
            logger.warning("bitFlyer getcollateral: not an object, skipped: %s", _short.repr(data))
            return
        current = next(iter(self._data.values()), None)
        if current is None:
            self._insert([data])
        else:
            current.update(data)
            self._put("update", data, current)
            self._set()

    def _onexecution(
        self, side: str, open_price: Any, close_price: Any, size: Any, source_item: Item
    ) -> None:
        current = next(iter(self._data.values()), None)
        if current is None or "collateral" not in current:
            return
        if side == "SELL":
            pnl = math.floor((_num(close_price) - _num(open_price)) * _num(size))
        else:
            pnl = math.ceil((_num(open_price) - _num(close_price)) * _num(size))
        current["collateral"] = float(_num(current["collateral"]) + pnl)
        self._put("update", source_item, current)
        self._set()


class Balance(DataStore):
    """Spot balances keyed by ``currency_code`` (from ``getbalance``).

    A spot execution (``BASE_QUOTE`` product codes) moves the base amount by
    ``±size - commission`` and the quote amount by ``∓size*price`` (JPY
    rounded against you: up when buying, down when selling) and sets
    ``available`` to ``None``, since open orders are not tracked here.
    """

    _KEYS = ["currency_code"]  # noqa: RUF012 - pybotters' surface

    def _onmessage(self, message: list[Item]) -> None:
        for event in message:
            if event.get("event_type") != "EXECUTION":
                continue
            product_code = event.get("product_code")
            if not isinstance(product_code, str) or product_code.count("_") != 1:
                continue
            try:
                self._onexecution(event, *product_code.split("_"))
            except (KeyError, TypeError, ValueError, InvalidOperation):
                logger.warning(
                    "bitFlyer balance: bad EXECUTION event skipped: %s", _short.repr(event)
                )

    def _onexecution(self, event: Item, base: str, quote: str) -> None:
        buy = event["side"] == "BUY"
        size = _num(event["size"])
        commission = _num(event.get("commission", 0))
        value = size * _num(event["price"])
        updates: list[Item] = []
        held = self.get({"currency_code": base})
        if held is not None:
            amount = _num(held["amount"]) + (size if buy else -size) - commission
            updates.append({"currency_code": base, "amount": float(amount), "available": None})
        paid = self.get({"currency_code": quote})
        if paid is not None:
            if quote == "JPY":
                value = Decimal(math.ceil(value) if buy else math.floor(value))
            amount = _num(paid["amount"]) + (-value if buy else value)
            updates.append({"currency_code": quote, "amount": float(amount), "available": None})
        self._update(updates)

    def _onresponse(self, data: Any) -> None:
        self._update(_dicts(data, "getbalance"))


class bitFlyerDataStore(DataStoreCollection):
    """Every bitFlyer Lightning store, fed by ``onmessage`` (pybotters-compatible).

    Subscribe to channels on ``wss://ws.lightstream.bitflyer.com/json-rpc`` and
    pass ``store.onmessage`` as the JSON handler. When a board snapshot
    arrives, the store asks the connection (``ws``, a :class:`MessageSink`)
    to unsubscribe from the snapshot channel, as pybotters does, and the
    diffs keep the book current. ``initialize`` accepts the responses of
    ``GET /v1/me/getchildorders``, ``getparentorders``, ``getpositions``,
    ``getcollateral`` and ``getbalance``.
    """

    def _init(self) -> None:
        self._create("board", datastore_class=Board)
        self._create("ticker", datastore_class=Ticker)
        self._create("executions", datastore_class=Executions)
        self._create("childorderevents", datastore_class=ChildOrderEvents)
        self._create("childorders", datastore_class=ChildOrders)
        self._create("parentorderevents", datastore_class=ParentOrderEvents)
        self._create("parentorders", datastore_class=ParentOrders)
        self._create("positions", datastore_class=Positions)
        self._create("collateral", datastore_class=Collateral)
        self._create("balance", datastore_class=Balance)
        self._unknown_channels: set[str] = set()
        self._sinkless_warned = False

    def _onmessage(self, msg: Any, ws: MessageSink | None = None) -> None:
        if not isinstance(msg, dict):
            logger.warning("bitFlyer: message is not an object, skipped: %s", _short.repr(msg))
            return
        if "error" in msg:
            logger.warning("bitFlyer error reply: %s", _short.repr(msg["error"]))
        params = msg.get("params")
        if msg.get("method") != "channelMessage" or not isinstance(params, dict):
            return  # replies to subscribe/auth requests carry no data
        channel = params.get("channel")
        message = params.get("message")
        if not isinstance(channel, str):
            logger.warning("bitFlyer: channelMessage without a channel: %s", _short.repr(msg))
            return
        if channel.startswith(_BOARD):
            if channel.startswith(_SNAPSHOT):
                product_code = channel[len(_SNAPSHOT) :]
                self.board._onsnapshot(product_code, message)
                self._unsubscribe(ws, channel)
            else:
                self.board._ondiff(channel[len(_BOARD) :], message)
        elif channel.startswith(_TICKER):
            self.ticker._onmessage(message)
        elif channel.startswith(_EXECUTIONS):
            self.executions._onmessage(channel[len(_EXECUTIONS) :], message)
        elif channel == "child_order_events":
            events = _dicts(message, channel)
            self.childorderevents._onmessage(events)
            self.childorders._onmessage(events)
            self.positions._onmessage(events, self.collateral)
            self.balance._onmessage(events)
        elif channel == "parent_order_events":
            events = _dicts(message, channel)
            self.parentorderevents._onmessage(events)
            self.parentorders._onmessage(events)
        elif channel not in self._unknown_channels:
            self._unknown_channels.add(channel)
            logger.warning("bitFlyer: no store for channel %r; its messages are ignored", channel)

    def _unsubscribe(self, ws: MessageSink | None, channel: str) -> None:
        # The diff channel keeps the book current; the snapshot channel would
        # resend the whole board every few seconds.
        if ws is None:
            return
        send = getattr(ws, "send_json_nowait", None)
        if send is None:
            if not self._sinkless_warned:
                self._sinkless_warned = True
                logger.warning(
                    "bitFlyer: the ws passed to onmessage has no send_json_nowait(); "
                    "cannot unsubscribe from %s (snapshots will keep replacing the board)",
                    channel,
                )
            return
        try:
            send({"method": "unsubscribe", "params": {"channel": channel}})
        except Exception:
            logger.exception("bitFlyer: could not queue the unsubscribe from %s", channel)

    def _oninitialize(self, response: RestResponse) -> None:
        path = response.path
        product_code = response.params.get("product_code")
        data = response.data
        if path == "/v1/me/getchildorders":
            self.childorders._onresponse(data, product_code)
        elif path == "/v1/me/getparentorders":
            self.parentorders._onresponse(data, product_code)
        elif path == "/v1/me/getpositions":
            self.positions._onresponse(data, product_code)
        elif path == "/v1/me/getcollateral":
            self.collateral._onresponse(data)
        elif path == "/v1/me/getbalance":
            self.balance._onresponse(data)
        else:
            super()._oninitialize(response)

    @property
    def board(self) -> Board:
        """Order book levels (``lightning_board[_snapshot]_{product_code}``)."""
        return self._stores["board"]  # type: ignore[return-value]

    @property
    def ticker(self) -> Ticker:
        """Tickers (``lightning_ticker_{product_code}``)."""
        return self._stores["ticker"]  # type: ignore[return-value]

    @property
    def executions(self) -> Executions:
        """Public executions (``lightning_executions_{product_code}``)."""
        return self._stores["executions"]  # type: ignore[return-value]

    @property
    def childorderevents(self) -> ChildOrderEvents:
        """Raw ``child_order_events``."""
        return self._stores["childorderevents"]  # type: ignore[return-value]

    @property
    def childorders(self) -> ChildOrders:
        """Open child orders."""
        return self._stores["childorders"]  # type: ignore[return-value]

    @property
    def parentorderevents(self) -> ParentOrderEvents:
        """Raw ``parent_order_events``."""
        return self._stores["parentorderevents"]  # type: ignore[return-value]

    @property
    def parentorders(self) -> ParentOrders:
        """Open parent orders."""
        return self._stores["parentorders"]  # type: ignore[return-value]

    @property
    def positions(self) -> Positions:
        """Open position lots (FX_BTC_JPY, BTCJPY futures)."""
        return self._stores["positions"]  # type: ignore[return-value]

    @property
    def collateral(self) -> Collateral:
        """Collateral (from ``getcollateral``, adjusted by closed lots)."""
        return self._stores["collateral"]  # type: ignore[return-value]

    @property
    def balance(self) -> Balance:
        """Spot balances (from ``getbalance``, adjusted by spot executions)."""
        return self._stores["balance"]  # type: ignore[return-value]
