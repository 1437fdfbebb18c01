"""bitFlyer Lightning for the demo: one JSON-RPC WebSocket, ``sendchildorder``.

https://bf-lightning-api.readme.io/docs/endpoint-json-rpc: the board snapshot
and diffs, the ticker and the private ``child_order_events`` (after ``auth``)
on ``wss://ws.lightstream.bitflyer.com/json-rpc``; orders are ``POST
/v1/me/sendchildorder`` and answered with a ``child_order_acceptance_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import botters
from botters.protocol.store import DataStore, OrderBookStore

from ._profile import (
    Feed,
    OrderCall,
    OrderEvent,
    Position,
    Profile,
    price_text,
    size_text,
)

__all__ = ["BitFlyer"]

_CLOSED = frozenset({"CANCEL", "EXPIRE", "REJECT", "ORDER_FAILED", "CANCEL_FAILED"})


class BitFlyer(Profile[botters.bitFlyerDataStore]):
    """bitFlyer: the default exchange of ``botters demo``."""

    exchange = "bitflyer"
    name = "bitFlyer"
    default_product = "FX_BTC_JPY"
    rest_url = "https://api.bitflyer.com"
    book_name = "board"
    book_key = "product_code"
    book_sides = ("bids", "asks")
    level_fields = ("price", "size")
    ticker_key = "product_code"
    ticker_fields = ("ltp", "best_bid", "best_ask", "volume")
    signature = (("ACCESS-KEY", "plain"), ("ACCESS-TIMESTAMP", "plain"), ("ACCESS-SIGN", "hex"))
    order_id_name = "child_order_acceptance_id"
    events_name = "child_order_events"
    accepted_what = "child_order_events ORDER event"
    done_what = "child_order_events EXECUTION event"
    position_what = "position"

    def new_store(self) -> botters.bitFlyerDataStore:
        return botters.bitFlyerDataStore()

    def feeds(self, product: str, store: botters.bitFlyerDataStore) -> list[Feed]:
        channels = (
            f"lightning_board_snapshot_{product}",
            f"lightning_board_{product}",
            f"lightning_ticker_{product}",
            "child_order_events",
        )
        return [
            Feed(
                label="Realtime",
                url="wss://ws.lightstream.bitflyer.com/json-rpc",
                subscribe=[
                    {"method": "subscribe", "params": {"channel": c}, "id": i}
                    for i, c in enumerate(channels, 1)
                ],
                channels=tuple(c.removesuffix(f"_{product}") for c in channels),
                # The store unsubscribes the snapshot channel once it has a
                # snapshot, so that one may be gone already; the private
                # channel is granted only after the login succeeded.
                confirmed=channels[1:],
            )
        ]

    def channel_of(self, msg: Any, product: str) -> str | None:
        params = msg.get("params") if isinstance(msg, dict) else None
        channel = params.get("channel") if isinstance(params, dict) else None
        return channel.removesuffix(f"_{product}") if isinstance(channel, str) else None

    def book_store(self, store: botters.bitFlyerDataStore) -> OrderBookStore:
        return store.board

    def ticker_store(self, store: botters.bitFlyerDataStore) -> DataStore:
        return store.ticker

    def order(self, product: str, side: str, size: str) -> OrderCall:
        return OrderCall(
            path="/v1/me/sendchildorder",
            data={
                "product_code": product,
                "child_order_type": "MARKET",
                "side": side,
                "size": float(size),
            },
        )

    def order_id(self, status: int, data: Any) -> str | None:
        if status != 200 or not isinstance(data, dict):
            return None
        found = data.get("child_order_acceptance_id")
        return str(found) if found else None

    def events(self, msg: Any) -> Sequence[OrderEvent]:
        params = msg.get("params") if isinstance(msg, dict) else None
        if not isinstance(params, dict) or params.get("channel") != "child_order_events":
            return ()
        message = params.get("message")
        found = []
        for event in message if isinstance(message, list) else ():
            if not isinstance(event, dict):
                continue
            kind = str(event.get("event_type"))
            if kind == "EXECUTION":
                detail = (
                    f"{event.get('side')} {size_text(event.get('size'))} "
                    f"@ {price_text(event.get('price'))}"
                )
            else:
                detail = (
                    f"{event.get('child_order_type', '')} {event.get('side', '')} "
                    f"{size_text(event.get('size'))}"
                ).strip()
            # An EXECUTION that leaves nothing outstanding ends the order.
            done = kind == "EXECUTION" and not event.get("outstanding_size")
            found.append(
                OrderEvent(
                    order_id=str(event.get("child_order_acceptance_id")),
                    label=kind,
                    detail=detail,
                    accepted=kind == "ORDER",
                    fill=kind == "EXECUTION",
                    closed=done or kind in _CLOSED,
                    filled=done,
                )
            )
        return found

    def positions(self, store: botters.bitFlyerDataStore, product: str) -> list[Position]:
        return [
            Position(side=str(p.get("side")), size=p.get("size"), price=p.get("price"))
            for p in store.positions.find({"product_code": product})
        ]
