"""The exchanges the book scenarios run against: URLs, subscriptions, store, and the book's truth.

Each :class:`Venue` describes one simulator dialect the way a bot sees the
exchange: its production URLs (pinned to the simulator), the subscriptions of
a public (order book) and a private feed, the pybotters-style store both feed,
and how to read that store's book as ``(bids, asks)`` lists of ``(price,
size)`` strings, the shape of :meth:`~botters.simulator.Simulator.book_levels`.

bitFlyer is not here: it has no sequence numbers, so a lost diff cannot be
detected (its drop scenarios are in ``test_drops.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botters import BybitDataStore, DataStoreCollection, OKXDataStore
from botters.protocol.store import OrderBookStore
from botters.simulator import Fault

Levels = tuple[list[tuple[str, str]], list[tuple[str, str]]]


@dataclass(frozen=True, kw_only=True)
class Venue:
    """One exchange as the scenarios use it."""

    exchange: str
    symbol: str
    public_url: str
    private_url: str
    public: list[dict[str, Any]]
    """The public feed's subscriptions (the order book first)."""
    private: list[dict[str, Any]]
    book_topic: str
    """The book's subscription as ``Simulator.wait_for_subscription`` spells it."""
    private_topic: str
    store: Callable[[], DataStoreCollection]
    book: Callable[[Any], OrderBookStore]
    levels: Callable[[Any], Levels]
    gaps: tuple[Fault, ...]
    """Faults that break the book's sequence (each must make the store resync)."""
    sim_options: dict[str, Any]


def _bybit_levels(store: BybitDataStore) -> Levels:
    book = store.orderbook.sorted({"s": "BTCUSDT"})
    return (
        [(lv["p"], lv["v"]) for lv in book["b"]],
        [(lv["p"], lv["v"]) for lv in book["a"]],
    )


def _okx_levels(store: OKXDataStore) -> Levels:
    book = store.books.sorted({"instId": "BTC-USDT-SWAP"})
    return (
        [(lv["px"], lv["sz"]) for lv in book["bids"]],
        [(lv["px"], lv["sz"]) for lv in book["asks"]],
    )


BYBIT = Venue(
    exchange="bybit",
    symbol="BTCUSDT",
    public_url="wss://stream.bybit.com/v5/public/linear",
    private_url="wss://stream.bybit.com/v5/private",
    public=[
        {"op": "subscribe", "args": ["orderbook.50.BTCUSDT"], "req_id": "book"},
        {"op": "subscribe", "args": ["tickers.BTCUSDT", "publicTrade.BTCUSDT"]},
    ],
    private=[{"op": "subscribe", "args": ["order", "execution", "position", "wallet"]}],
    book_topic="orderbook.50.BTCUSDT",
    private_topic="order",
    store=BybitDataStore,
    book=lambda store: store.orderbook,
    levels=_bybit_levels,
    gaps=(Fault(skip_diff_after=0), Fault(reorder_diff_after=0)),
    sim_options={},
)

OKX = Venue(
    exchange="okx",
    symbol="BTC-USDT-SWAP",
    public_url="wss://ws.okx.com:8443/ws/v5/public",
    private_url="wss://ws.okx.com:8443/ws/v5/private",
    public=[
        {
            "op": "subscribe",
            "args": [
                {"channel": "books", "instId": "BTC-USDT-SWAP"},
                {"channel": "tickers", "instId": "BTC-USDT-SWAP"},
                {"channel": "trades", "instId": "BTC-USDT-SWAP"},
            ],
        }
    ],
    private=[
        {
            "op": "subscribe",
            "args": [
                {"channel": "orders", "instType": "ANY"},
                {"channel": "positions", "instType": "ANY"},
                {"channel": "account"},
            ],
        }
    ],
    book_topic="books:BTC-USDT-SWAP",
    private_topic="orders",
    store=OKXDataStore,
    book=lambda store: store.books,
    levels=_okx_levels,
    gaps=(
        Fault(skip_diff_after=0),
        Fault(reorder_diff_after=0),
        Fault(corrupt_checksum_after=0),
    ),
    sim_options={"okx_checksum": True},
)

VENUES = {venue.exchange: venue for venue in (BYBIT, OKX)}
