"""Bybit v5 for the demo: a public and a private WebSocket, ``POST /v5/order/create``.

https://bybit-exchange.github.io/docs/v5/ws/connect: market data on
``wss://stream.bybit.com/v5/public/linear`` (``orderbook.50.{symbol}``,
``tickers.{symbol}``, ``publicTrade.{symbol}``), the account on
``wss://stream.bybit.com/v5/private`` after ``op: auth`` (``order``,
``execution``, ``position``, ``wallet``). Orders:
https://bybit-exchange.github.io/docs/v5/order/create-order, answered with
``result.orderId`` when ``retCode`` is 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import botters
from botters.protocol.store import DataStore, OrderBookStore

from ._profile import (
    Feed,
    OrderCall,
    OrderEvent,
    Position,
    Profile,
    decimal,
    price_text,
    size_text,
)

__all__ = ["Bybit"]

_DEPTH: Final = 50
# https://bybit-exchange.github.io/docs/v5/enum#orderstatus
_CLOSED: Final = frozenset(
    {"Rejected", "Filled", "Cancelled", "PartiallyFilledCanceled", "Deactivated"}
)
_SIDES: Final = {"BUY": "Buy", "SELL": "Sell"}


class Bybit(Profile[botters.BybitDataStore]):
    """Bybit v5, linear perpetuals."""

    exchange = "bybit"
    name = "Bybit"
    default_product = "BTCUSDT"
    rest_url = "https://api.bybit.com"
    subscriptions = "topics"
    book_name = f"orderbook.{_DEPTH}"
    book_key = "s"
    book_sides = ("b", "a")
    level_fields = ("p", "v")
    seq_name = "u"
    ticker_key = "symbol"
    ticker_fields = ("lastPrice", "bid1Price", "ask1Price", "volume24h")
    signature = (
        ("X-BAPI-API-KEY", "plain"),
        ("X-BAPI-TIMESTAMP", "plain"),
        ("X-BAPI-SIGN", "hex"),
    )
    order_id_name = "orderId"
    events_name = "order and execution topics"
    accepted_what = "first order topic event"
    done_what = "order topic Filled event and its execution"
    position_what = "position topic update"

    def new_store(self) -> botters.BybitDataStore:
        return botters.BybitDataStore()

    def feeds(self, product: str, store: botters.BybitDataStore) -> list[Feed]:
        public = (f"orderbook.{_DEPTH}.{product}", f"tickers.{product}", f"publicTrade.{product}")
        private = ("order", "execution", "position", "wallet")
        return [
            Feed(
                label="public",
                url="wss://stream.bybit.com/v5/public/linear",
                subscribe=[{"op": "subscribe", "args": list(public)}],
                channels=tuple(t.removesuffix(f".{product}") for t in public),
                confirmed=public,
            ),
            Feed(
                label="private",
                url="wss://stream.bybit.com/v5/private",
                subscribe=[{"op": "subscribe", "args": list(private)}],
                channels=private,
                confirmed=private,
            ),
        ]

    def channel_of(self, msg: Any, product: str) -> str | None:
        topic = msg.get("topic") if isinstance(msg, dict) else None
        return topic.removesuffix(f".{product}") if isinstance(topic, str) else None

    def book_store(self, store: botters.BybitDataStore) -> OrderBookStore:
        return store.orderbook

    def ticker_store(self, store: botters.BybitDataStore) -> DataStore:
        return store.ticker

    def order(self, product: str, side: str, size: str) -> OrderCall:
        return OrderCall(
            path="/v5/order/create",
            data={
                "category": "linear",
                "symbol": product,
                "side": _SIDES[side],
                "orderType": "Market",
                "qty": size,
            },
        )

    def order_id(self, status: int, data: Any) -> str | None:
        if status != 200 or not isinstance(data, dict) or data.get("retCode") != 0:
            return None
        result = data.get("result")
        found = result.get("orderId") if isinstance(result, dict) else None
        return str(found) if found else None

    def events(self, msg: Any) -> Sequence[OrderEvent]:
        if not isinstance(msg, dict):
            return ()
        topic = msg.get("topic")
        # "order.linear" and "execution.fast" are the same events, per category or faster.
        kind = topic.partition(".")[0] if isinstance(topic, str) else None
        if kind not in ("order", "execution"):
            return ()
        data = msg.get("data")
        found = []
        for item in data if isinstance(data, list) else ():
            if not isinstance(item, dict):
                continue
            side = item.get("side")
            if kind == "execution":
                found.append(
                    OrderEvent(
                        order_id=str(item.get("orderId")),
                        label=f"execution {item.get('execType')}",
                        detail=(
                            f"{side} {size_text(item.get('execQty'))} "
                            f"@ {price_text(item.get('execPrice'))}"
                            f"{' (maker)' if item.get('isMaker') else ''}"
                        ),
                        fill=True,
                    )
                )
                continue
            status = str(item.get("orderStatus"))
            detail = f"{item.get('orderType')} {side} {size_text(item.get('qty'))}"
            if status == "Filled":
                detail += f", avgPrice {price_text(item.get('avgPrice'))}"
            elif status in _CLOSED and item.get("rejectReason") not in (None, "", "EC_NoError"):
                detail += f", {item.get('rejectReason')}"
            found.append(
                OrderEvent(
                    order_id=str(item.get("orderId")),
                    label=f"order {status}",
                    detail=detail,
                    accepted=status != "Rejected",
                    closed=status in _CLOSED,
                    filled=status == "Filled",
                )
            )
        return found

    def positions(self, store: botters.BybitDataStore, product: str) -> list[Position]:
        # One-way mode: one row per symbol, side "" and size "0" once closed.
        return [
            Position(
                side=str(p.get("side")).upper(),
                size=p.get("size"),
                price=p.get("entryPrice"),
                extra=f"  unrealisedPnl {p.get('unrealisedPnl')}",
            )
            for p in store.position.find({"symbol": product})
            if p.get("side") in ("Buy", "Sell") and decimal(p.get("size"))
        ]
