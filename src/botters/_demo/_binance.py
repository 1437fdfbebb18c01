"""Binance Spot for the demo: a listenKey first, two WebSockets, ``POST /api/v3/order``.

https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams:
market data on one combined stream,
``wss://stream.binance.com:9443/stream?streams=<symbol>@depth@100ms/...``
(each event wrapped ``{"stream", "data"}``; the streams are named in the URL,
so nothing is sent after connecting). The book's starting point is a REST
snapshot (``GET /api/v3/depth``), which the store fetches itself through the
connection when the first diff finds no book.

The account (https://developers.binance.com/docs/binance-spot-api-docs/user-data-stream)
comes on ``wss://stream.binance.com:9443/ws/<listenKey>``: there is no login,
the listenKey is the key to the stream. It comes from ``POST
/api/v3/userDataStream`` (``X-MBX-APIKEY`` only), given to
``store.initialize`` as pybotters users do, which sets ``store.listenkey``;
the demo also initializes the balances (signed ``GET /api/v3/account``), so
that it can show what the order changed. The stream carries
``executionReport`` (one per order event: ``x`` what happened, ``X`` the
order's status after it) and ``outboundAccountPosition`` (the balances an
event changed).

Orders: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/trading-endpoints#new-order-trade,
the parameters in the form body, ``timestamp`` and the hex HMAC ``signature``
appended to the query by the signer; answered with ``orderId``. Spot has no
position: a MARKET BUY turns quote into base, which is what the demo shows.

Binance prints every price and quantity with eight decimals
(``"65000.01000000"``); the demo shows them without the zeros past the
product's tick (two decimals for a price), so that the book's columns line up.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import botters
from botters.protocol.store import DataStore, OrderBookStore
from botters.simulator import DEFAULT_MARKETS_BY_EXCHANGE

from ._profile import (
    Feed,
    OrderCall,
    OrderEvent,
    Position,
    Profile,
    SetupCall,
    price_text,
    size_text,
)

__all__ = ["Binance"]

_STREAMS: Final = ("depth@100ms", "ticker", "trade")
"""The market streams, after ``<symbol>@``: book diffs, the 24 h ticker, trades."""
_USER_DATA: Final = "userData"
"""The summary's name of the user data stream (its messages are counted by event name)."""
# https://developers.binance.com/docs/binance-spot-api-docs/enums#order-status-status
_CLOSED: Final = frozenset({"FILLED", "CANCELED", "REJECTED", "EXPIRED", "EXPIRED_IN_MATCH"})


def _trimmed(value: Any, keep: int) -> Any:
    """A decimal string without trailing zeros past ``keep`` decimals; anything else as is."""
    if not isinstance(value, str):
        return value
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    if not number.is_finite():
        return value
    number = number.normalize()
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -keep:
        number = number.quantize(Decimal(1).scaleb(-keep))
    return format(number, "f")


def _mask(key: str) -> str:
    """A listenKey as the demo prints it: its first 4 characters, as the store's logs do."""
    return f"{key[:4]}..."


class Binance(Profile[botters.BinanceSpotDataStore]):
    """Binance Spot."""

    exchange = "binance"
    name = "Binance Spot"
    default_product = "BTCUSDT"
    rest_url = "https://api.binance.com"
    subscriptions = "streams"
    book_name = "depth"
    book_key = "s"
    book_sides = ("b", "a")
    level_fields = ("p", "q")
    seq_name = "u"
    ticker_key = "s"
    ticker_fields = ("c", "b", "a", "v")
    ticker_labels = ("last", "volume")
    signature = (("X-MBX-APIKEY", "plain"),)
    signature_params = (("timestamp", "plain"), ("signature", "hex"))
    login = False
    spot = True
    order_id_name = "orderId"
    events_name = "executionReport events"
    accepted_what = "executionReport NEW"
    done_what = "executionReport FILLED"
    position_what = "outboundAccountPosition"

    def new_store(self) -> botters.BinanceSpotDataStore:
        return botters.BinanceSpotDataStore()

    def setup(self, product: str) -> list[SetupCall]:
        return [
            SetupCall(method="POST", path="/api/v3/userDataStream"),
            SetupCall(method="GET", path="/api/v3/account"),
        ]

    def feeds(self, product: str, store: botters.BinanceSpotDataStore) -> list[Feed]:
        key = store.listenkey
        if key is None:
            raise LookupError("no listenKey: POST /api/v3/userDataStream did not give one")
        streams = tuple(f"{product.lower()}@{s}" for s in _STREAMS)
        user_url = "wss://stream.binance.com:9443/ws/"
        return [
            Feed(
                label="public",
                url="wss://stream.binance.com:9443/stream?streams=" + "/".join(streams),
                subscribe=[],
                channels=_STREAMS,
                confirmed=streams,
            ),
            Feed(
                label="private",
                url=user_url + key,
                shown=user_url + _mask(key),
                subscribe=[],
                channels=(_USER_DATA,),
                confirmed=(key,),
            ),
        ]

    def channel_of(self, msg: Any, product: str) -> str | None:
        if not isinstance(msg, dict):
            return None
        stream = msg.get("stream")
        if isinstance(stream, str) and "data" in msg:
            return stream.removeprefix(f"{product.lower()}@")
        event = msg.get("e")
        # The user data stream is a raw one: its events come unwrapped, named by ``e``.
        return event if isinstance(event, str) else None

    def book_store(self, store: botters.BinanceSpotDataStore) -> OrderBookStore:
        return store.orderbook

    def ticker_store(self, store: botters.BinanceSpotDataStore) -> DataStore:
        return store.ticker

    def order(self, product: str, side: str, size: str) -> OrderCall:
        return OrderCall(
            path="/api/v3/order",
            data={"symbol": product, "side": side, "type": "MARKET", "quantity": size},
        )

    def order_id(self, status: int, data: Any) -> str | None:
        if status != 200 or not isinstance(data, dict):
            return None
        found = data.get("orderId")
        return str(found) if isinstance(found, int) and not isinstance(found, bool) else None

    def events(self, msg: Any) -> Sequence[OrderEvent]:
        if not isinstance(msg, dict) or msg.get("e") != "executionReport":
            return ()
        kind, status = str(msg.get("x")), str(msg.get("X"))
        side = msg.get("S")
        if kind == "TRADE":
            detail = (
                f"{side} {self.show_size(msg.get('l'))} @ {self.show_price(msg.get('L'))} "
                f"(tradeId {msg.get('t')}{', maker' if msg.get('m') else ''}), {status}"
            )
        else:
            detail = f"{msg.get('o')} {side} {self.show_size(msg.get('q'))}"
            if status in _CLOSED:
                detail += f", {status}"
                if msg.get("r") not in (None, "NONE"):
                    detail += f" ({msg.get('r')})"
        return [
            OrderEvent(
                order_id=str(msg.get("i")),
                label=f"executionReport {kind}",
                detail=detail,
                accepted=kind != "REJECTED",
                fill=kind == "TRADE",
                closed=status in _CLOSED,
                filled=status == "FILLED",
            )
        ]

    def positions(self, store: botters.BinanceSpotDataStore, product: str) -> list[Position]:
        return []  # spot: see balances()

    def balances(self, store: botters.BinanceSpotDataStore, product: str) -> dict[str, str]:
        spec = DEFAULT_MARKETS_BY_EXCHANGE[self.exchange][product]
        found = {}
        for asset in (spec.base, spec.quote):
            row = store.account.get({"a": asset})
            if row is not None:
                found[asset] = str(row.get("f"))
        return found

    def show_price(self, value: Any) -> str:
        return price_text(_trimmed(value, 2))

    def show_size(self, value: Any) -> str:
        return size_text(_trimmed(value, 0))
