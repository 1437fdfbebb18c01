"""OKX v5 for the demo: a public and a private WebSocket, ``POST /api/v5/trade/order``.

https://www.okx.com/docs-v5/en/#overview-websocket: market data on
``wss://ws.okx.com:8443/ws/v5/public`` (``books``, ``tickers``, ``trades``),
the account on ``wss://ws.okx.com:8443/ws/v5/private`` after ``op: login``
(``orders``, ``positions``, ``account``). Orders:
https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order,
answered with ``data[0].ordId`` when ``code`` and ``data[0].sCode`` are ``"0"``.
The ``orders`` channel is also where OKX reports executions: a push with a
non-zero ``fillSz`` is one.
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

__all__ = ["Okx"]

# https://www.okx.com/docs-v5/en/#order-book-trading-trade-ws-order-channel (state)
_CLOSED: Final = frozenset({"filled", "canceled", "mmp_canceled"})


class Okx(Profile[botters.OKXDataStore]):
    """OKX v5, perpetual swaps in cross margin."""

    exchange = "okx"
    name = "OKX"
    default_product = "BTC-USDT-SWAP"
    rest_url = "https://www.okx.com"
    book_name = "books"
    book_key = "instId"
    book_sides = ("bids", "asks")
    level_fields = ("px", "sz")
    seq_name = "seqId"
    ticker_key = "instId"
    ticker_fields = ("last", "bidPx", "askPx", "vol24h")
    signature = (
        ("OK-ACCESS-KEY", "plain"),
        ("OK-ACCESS-TIMESTAMP", "plain"),
        ("OK-ACCESS-SIGN", "base64"),
        ("OK-ACCESS-PASSPHRASE", "secret"),
    )
    order_id_name = "ordId"
    events_name = "orders channel"
    accepted_what = "first orders channel event"
    done_what = "orders channel filled event"
    position_what = "positions channel update"

    def new_store(self) -> botters.OKXDataStore:
        return botters.OKXDataStore()

    def feeds(self, product: str, store: botters.OKXDataStore) -> list[Feed]:
        public = ("books", "tickers", "trades")
        private: list[dict[str, str]] = [
            {"channel": "orders", "instType": "SWAP"},
            {"channel": "positions", "instType": "SWAP"},
            {"channel": "account"},
        ]
        return [
            Feed(
                label="public",
                url="wss://ws.okx.com:8443/ws/v5/public",
                subscribe=[
                    {"op": "subscribe", "args": [{"channel": c, "instId": product} for c in public]}
                ],
                channels=public,
                confirmed=tuple(f"{c}:{product}" for c in public),
            ),
            Feed(
                label="private",
                url="wss://ws.okx.com:8443/ws/v5/private",
                subscribe=[{"op": "subscribe", "args": private}],
                channels=tuple(a["channel"] for a in private),
                confirmed=tuple(a["channel"] for a in private),
            ),
        ]

    def channel_of(self, msg: Any, product: str) -> str | None:
        if not isinstance(msg, dict) or "data" not in msg:
            return None  # {"event": ...} replies (and the text "pong")
        arg = msg.get("arg")
        channel = arg.get("channel") if isinstance(arg, dict) else None
        return channel if isinstance(channel, str) else None

    def book_store(self, store: botters.OKXDataStore) -> OrderBookStore:
        return store.books

    def ticker_store(self, store: botters.OKXDataStore) -> DataStore:
        return store.tickers

    def order(self, product: str, side: str, size: str) -> OrderCall:
        return OrderCall(
            path="/api/v5/trade/order",
            data={
                "instId": product,
                "tdMode": "cross",
                "side": side.lower(),
                "ordType": "market",
                "sz": size,
            },
        )

    def order_id(self, status: int, data: Any) -> str | None:
        if status != 200 or not isinstance(data, dict) or data.get("code") != "0":
            return None
        rows = data.get("data")
        row = rows[0] if isinstance(rows, list) and rows else None
        if not isinstance(row, dict) or row.get("sCode") != "0" or not row.get("ordId"):
            return None
        return str(row["ordId"])

    def events(self, msg: Any) -> Sequence[OrderEvent]:
        if not isinstance(msg, dict) or "data" not in msg:
            return ()
        arg = msg.get("arg")
        if not isinstance(arg, dict) or arg.get("channel") != "orders":
            return ()
        data = msg["data"]
        found = []
        for item in data if isinstance(data, list) else ():
            if not isinstance(item, dict):
                continue
            state = str(item.get("state"))
            fill = decimal(item.get("fillSz")) > 0
            if fill:
                detail = (
                    f"{item.get('side')} {size_text(item.get('fillSz'))} "
                    f"@ {price_text(item.get('fillPx'))} (tradeId {item.get('tradeId')}"
                    f"{', maker' if item.get('execType') == 'M' else ''})"
                )
            else:
                detail = f"{item.get('ordType')} {item.get('side')} {size_text(item.get('sz'))}"
            found.append(
                OrderEvent(
                    order_id=str(item.get("ordId")),
                    label=f"orders {state}",
                    detail=detail,
                    accepted=True,
                    fill=fill,
                    closed=state in _CLOSED,
                    filled=state == "filled",
                )
            )
        return found

    def positions(self, store: botters.OKXDataStore, product: str) -> list[Position]:
        # Net mode (posSide "net"): pos is signed; a closed position stays with pos "0".
        found = []
        for p in store.positions.find({"instId": product}):
            pos = decimal(p.get("pos"))
            if pos:
                found.append(
                    Position(
                        side="BUY" if pos > 0 else "SELL",
                        size=str(abs(pos)),
                        price=p.get("avgPx"),
                        extra=f"  ({p.get('mgnMode')}, upl {p.get('upl')})",
                    )
                )
        return found
