"""BybitDataStore, fed messages in Bybit v5's documented formats.

Message shapes follow the v5 WebSocket docs
(https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook, .../trade,
.../ticker, .../kline, .../all-liquidation, .../liquidation, .../etp-kline,
.../etp-ticker, .../etp-nav, .../private/position, .../execution,
.../fast-execution, .../order, .../wallet, .../greek) and REST
(/v5/position/list, /v5/order/realtime, /v5/account/wallet-balance). Expected
items were observed by running pybotters 1.11.2 on the same messages, except
where a test says botters deliberately differs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botters.protocol.exchanges.bybit import BybitDataStore
from botters.protocol.store import (
    BookState,
    InitializeError,
    RestResponse,
    Resubscribe,
    ResyncRequest,
)

API = "https://api.bybit.com"
BOOK = "orderbook.50.BTCUSDT"


def book_msg(
    kind: str,
    u: Any,
    bids: list[list[Any]] | None = None,
    asks: list[list[Any]] | None = None,
    topic: str = BOOK,
    symbol: str | None = None,
) -> dict[str, Any]:
    return {
        "topic": topic,
        "type": kind,
        "ts": 1687940967466,
        "data": {
            "s": symbol or topic.rsplit(".", 1)[1],
            "b": bids or [],
            "a": asks or [],
            "u": u,
            "seq": 7961638724,
        },
        "cts": 1687940967464,
    }


def lv(side: str, p: str, v: str, s: str = "BTCUSDT") -> dict[str, Any]:
    return {"s": s, "S": side, "p": p, "v": v}


class Conn:
    """A connection as the adapters give it: it carries resync requests and sends."""

    def __init__(self) -> None:
        self.requests: list[ResyncRequest] = []
        self.sent: list[Any] = []

    def request_resync(self, request: ResyncRequest) -> None:
        self.requests.append(request)

    def send_json_nowait(self, data: Any) -> None:
        self.sent.append(data)


def drain(stream: Any) -> list[tuple[str, Any, Any]]:
    return [(c.operation, c.source, c.data) for c in iter(stream.get_nowait, None)]


def resubscribe(topic: str, book: str, reason_part: str = "") -> Resubscribe:
    return Resubscribe(
        exchange="bybit",
        store="orderbook",
        book=book,
        reason=reason_part,
        messages=(
            {"op": "unsubscribe", "args": [topic]},
            {"op": "subscribe", "args": [topic]},
        ),
    )


def same_request(request: ResyncRequest, topic: str, book: str) -> bool:
    return (
        isinstance(request, Resubscribe)
        and request.exchange == "bybit"
        and request.store == "orderbook"
        and request.book == book
        and request.messages == resubscribe(topic, book).messages
    )


# ==================================================================== order book


def test_snapshot_then_delta_like_the_docs() -> None:
    # The docs' example: a 50-level snapshot, then a delta changing two asks.
    store = BybitDataStore()
    store.onmessage(
        book_msg(
            "snapshot",
            18521288,
            bids=[["30247.20", "30.028"], ["30245.40", "0.224"]],
            asks=[["30248.70", "0.803"], ["30252.20", "0.082"]],
        )
    )
    assert store.orderbook.is_synced("BTCUSDT")
    # pybotters' insertion order: asks first, then bids.
    assert store.orderbook.find() == [
        lv("a", "30248.70", "0.803"),
        lv("a", "30252.20", "0.082"),
        lv("b", "30247.20", "30.028"),
        lv("b", "30245.40", "0.224"),
    ]
    store.onmessage(
        book_msg(
            "delta",
            18521289,
            bids=[["30247.20", "0"]],
            asks=[["30248.70", "0"], ["30249.30", "0.892"], ["30252.20", "0.1"]],
        )
    )
    assert store.orderbook.sorted() == {
        "a": [lv("a", "30249.30", "0.892"), lv("a", "30252.20", "0.1")],
        "b": [lv("b", "30245.40", "0.224")],
    }
    assert store.orderbook.sorted({"s": "BTCUSDT"}, limit=1) == {
        "a": [lv("a", "30249.30", "0.892")],
        "b": [lv("b", "30245.40", "0.224")],
    }
    assert store.orderbook.sync_status("BTCUSDT").seq == 18521289
    assert store.orderbook.best_ask("BTCUSDT") == lv("a", "30249.30", "0.892")


def test_delta_changes_match_pybotters_order() -> None:
    # pybotters removes size-0 levels first (asks, bids), then updates (asks, bids):
    # "update" with the delta level as source for a known price, None for a new one.
    store = BybitDataStore()
    store.onmessage(book_msg("snapshot", 1, bids=[["100", "1"], ["99", "2"]], asks=[["101", "3"]]))
    stream = store.orderbook.watch()
    store.onmessage(
        book_msg("delta", 2, bids=[["98", "5"], ["100", "0"]], asks=[["101", "4"], ["555", "0"]])
    )
    assert drain(stream) == [
        ("delete", lv("b", "100", "0"), lv("b", "100", "1")),
        ("update", lv("a", "101", "4"), lv("a", "101", "4")),
        ("update", None, lv("b", "98", "5")),
    ]
    # A level keeps its place in find() when updated; new ones are appended.
    assert store.orderbook.find() == [lv("a", "101", "4"), lv("b", "99", "2"), lv("b", "98", "5")]


def test_a_new_snapshot_replaces_only_its_symbol() -> None:
    store = BybitDataStore()
    store.onmessage(book_msg("snapshot", 5, bids=[["1", "1"]], topic="orderbook.50.ETHUSDT"))
    store.onmessage(book_msg("snapshot", 9, bids=[["100", "1"]], asks=[["101", "1"]]))
    stream = store.orderbook.watch()
    store.onmessage(book_msg("snapshot", 3, bids=[["90", "2"], ["90", "7"]]))
    assert drain(stream) == [
        # Old levels are reported in store order (asks were stored first).
        ("delete", lv("a", "101", "1"), lv("a", "101", "1")),
        ("delete", lv("b", "100", "1"), lv("b", "100", "1")),
        ("insert", None, lv("b", "90", "2")),
        ("insert", None, lv("b", "90", "7")),
    ]
    # A price listed twice keeps its first place and its last size, as in pybotters.
    assert store.orderbook.find() == [lv("b", "1", "1", s="ETHUSDT"), lv("b", "90", "7")]
    assert store.orderbook.sync_status("BTCUSDT").seq == 3  # any snapshot resets, any u


@pytest.mark.parametrize("with_conn", [True, False])
def test_a_gap_drops_the_book_and_asks_to_resubscribe(with_conn: bool) -> None:
    store = BybitDataStore()
    conn = Conn() if with_conn else None
    store.onmessage(book_msg("snapshot", 10, bids=[["100", "1"]]), conn)
    store.onmessage(book_msg("delta", 11, bids=[["99", "1"]]), conn)
    store.onmessage(book_msg("delta", 13, bids=[["98", "1"]]), conn)  # 12 was lost
    assert not store.orderbook.is_synced("BTCUSDT")
    assert store.orderbook.sync_state("BTCUSDT") is BookState.RESYNCING
    assert store.orderbook.find() == []
    requests = conn.requests if conn is not None else store.take_resync_requests()
    assert len(requests) == 1
    assert same_request(requests[0], BOOK, "BTCUSDT")
    assert "13" in requests[0].reason
    assert "11" in requests[0].reason
    assert store.take_resync_requests() == []
    # Deltas are dropped until the snapshot the resubscription brings.
    store.onmessage(book_msg("delta", 14, bids=[["97", "1"]]), conn)
    assert store.orderbook.find() == []
    store.onmessage(book_msg("snapshot", 20, bids=[["95", "1"]]), conn)
    store.onmessage(book_msg("delta", 21, asks=[["96", "2"]]), conn)
    assert store.orderbook.is_synced("BTCUSDT")
    assert store.orderbook.find() == [lv("b", "95", "1"), lv("a", "96", "2")]
    status = store.orderbook.sync_status("BTCUSDT")
    assert (status.gaps, status.resyncs) == (1, 1)
    if conn is not None:
        assert len(conn.requests) == 1  # no repeated request without a clock
        assert conn.sent == []  # the store itself sends nothing


def test_duplicate_and_older_deltas_are_skipped() -> None:
    store = BybitDataStore()
    store.onmessage(book_msg("snapshot", 10, bids=[["100", "1"]]))
    store.onmessage(book_msg("delta", 11, bids=[["100", "2"]]))
    store.onmessage(book_msg("delta", 11, bids=[["100", "2"]]))  # duplicate
    store.onmessage(book_msg("delta", 9, bids=[["100", "0"]]))  # older than the snapshot
    assert store.orderbook.is_synced("BTCUSDT")
    assert store.orderbook.find() == [lv("b", "100", "2")]
    assert store.orderbook.sync_status("BTCUSDT").stale == 2
    assert store.take_resync_requests() == []


def test_u1_snapshot_after_a_restart_overwrites_the_book() -> None:
    # "Occasionally, you'll receive u=1, which is a snapshot data due to the restart
    # of the service. So please overwrite your local orderbook."
    store = BybitDataStore()
    store.onmessage(book_msg("snapshot", 500, bids=[["100", "1"]]))
    store.onmessage(book_msg("delta", 501, bids=[["101", "1"]]))
    store.onmessage(book_msg("snapshot", 1, asks=[["102", "3"]]))
    store.onmessage(book_msg("delta", 2, asks=[["103", "1"]]))
    assert store.orderbook.is_synced("BTCUSDT")
    assert store.orderbook.find() == [lv("a", "102", "3"), lv("a", "103", "1")]
    assert store.take_resync_requests() == []


def test_a_u1_delta_after_a_later_u_is_a_gap() -> None:
    store = BybitDataStore()
    store.onmessage(book_msg("snapshot", 500, bids=[["100", "1"]]))
    store.onmessage(book_msg("delta", 1, bids=[["101", "1"]]))
    assert not store.orderbook.is_synced("BTCUSDT")
    assert [r.book for r in store.take_resync_requests()] == ["BTCUSDT"]


def test_level1_repushes_its_snapshot_with_the_same_u() -> None:
    # Level 1 is snapshot-only and re-pushed with the same u when unchanged for 3 s.
    store = BybitDataStore()
    topic = "orderbook.1.BTCUSDT"
    msg = book_msg("snapshot", 77, bids=[["100", "1"]], asks=[["101", "2"]], topic=topic)
    for _ in range(3):
        store.onmessage(msg)
    store.onmessage(book_msg("snapshot", 78, bids=[["100", "5"]], asks=[["101", "2"]], topic=topic))
    assert store.orderbook.find() == [lv("a", "101", "2"), lv("b", "100", "5")]
    assert store.orderbook.is_synced("BTCUSDT")
    assert store.take_resync_requests() == []


def test_a_delta_without_a_snapshot_asks_for_one() -> None:
    # pybotters applies it to an empty book; botters asks for the snapshot instead.
    store = BybitDataStore()
    conn = Conn()
    store.onmessage(book_msg("delta", 11, bids=[["99", "1"]]), conn)
    assert store.orderbook.find() == []
    assert store.orderbook.sync_state("BTCUSDT") is BookState.RESYNCING
    assert len(conn.requests) == 1
    assert same_request(conn.requests[0], BOOK, "BTCUSDT")


def test_one_topic_owns_a_symbol(caplog: pytest.LogCaptureFixture) -> None:
    store = BybitDataStore()
    with caplog.at_level(logging.WARNING, logger="botters.store.bybit"):
        store.onmessage(book_msg("snapshot", 10, bids=[["100", "1"]]))
        for u in (1, 2, 3):
            other = book_msg("snapshot", u, bids=[["50", "9"]], topic="orderbook.1.BTCUSDT")
            store.onmessage(other)
            store.onmessage(book_msg("delta", u, asks=[["51", "9"]], topic="orderbook.1.BTCUSDT"))
        store.onmessage(book_msg("delta", 11, bids=[["100", "2"]]))
    assert store.orderbook.owner("BTCUSDT") == BOOK
    assert store.orderbook.find() == [lv("b", "100", "2")]
    assert store.orderbook.is_synced("BTCUSDT")
    warnings = [r.getMessage() for r in caplog.records if "are ignored" in r.getMessage()]
    assert len(warnings) == 1
    assert "orderbook.1.BTCUSDT" in warnings[0]
    assert BOOK in warnings[0]
    # After a feed interruption (a reconnect) the first topic to speak owns the book.
    store.feed_interrupted()
    assert store.orderbook.owner("BTCUSDT") is None
    store.onmessage(book_msg("snapshot", 4, bids=[["50", "9"]], topic="orderbook.1.BTCUSDT"))
    store.onmessage(book_msg("snapshot", 12, bids=[["100", "1"]]))
    assert store.orderbook.owner("BTCUSDT") == "orderbook.1.BTCUSDT"
    assert store.orderbook.find() == [lv("b", "50", "9")]


def test_a_malformed_message_claims_no_book() -> None:
    store = BybitDataStore()
    store.onmessage({"topic": "orderbook.1.BTCUSDT", "data": {"s": "BTCUSDT", "u": 1}})
    store.onmessage(book_msg("snapshot", 1, bids=[["1"]], topic="orderbook.1.BTCUSDT"))
    store.onmessage(book_msg("delta", "2", topic="orderbook.1.BTCUSDT"))
    assert store.orderbook.owner("BTCUSDT") is None
    store.onmessage(book_msg("snapshot", 10, bids=[["100", "1"]]))
    assert store.orderbook.owner("BTCUSDT") == BOOK
    assert store.orderbook.is_synced("BTCUSDT")


def test_gap_resync_asks_for_the_owning_topic() -> None:
    store = BybitDataStore()
    topic = "orderbook.200.ETHUSDT"
    store.onmessage(book_msg("snapshot", 1, bids=[["1", "1"]], topic=topic))
    store.onmessage(book_msg("delta", 3, bids=[["1", "2"]], topic=topic))
    (request,) = store.take_resync_requests()
    assert same_request(request, topic, "ETHUSDT")


def test_feed_interrupted_drops_books_and_keeps_other_stores() -> None:
    store = BybitDataStore()
    store.onmessage(book_msg("snapshot", 1, bids=[["100", "1"]]))
    store.onmessage(
        {"topic": "tickers.BTCUSDT", "type": "snapshot", "data": {"symbol": "BTCUSDT"}, "ts": 1}
    )
    store.feed_interrupted()
    assert not store.orderbook.is_synced("BTCUSDT")
    assert store.orderbook.find() == []
    assert store.ticker.find() == [{"symbol": "BTCUSDT"}]
    assert store.take_resync_requests() == []
    store.onmessage(book_msg("delta", 2, bids=[["99", "1"]]))  # the book must be re-snapshotted
    assert store.orderbook.find() == []
    assert [r.book for r in store.take_resync_requests()] == ["BTCUSDT"]


def test_zero_sizes_remove_levels() -> None:
    # pybotters compares v == "0" only and would keep a level of size "0.000".
    store = BybitDataStore()
    store.onmessage(book_msg("snapshot", 1, bids=[["100", "1"], ["99", "0"]], asks=[["101", "1"]]))
    assert store.orderbook.find() == [lv("a", "101", "1"), lv("b", "100", "1")]
    store.onmessage(book_msg("delta", 2, bids=[["100", "0.000"]], asks=[["101", "0.0"]]))
    assert store.orderbook.find() == []
    assert store.orderbook.is_synced("BTCUSDT")


def test_malformed_book_messages(caplog: pytest.LogCaptureFixture) -> None:
    store = BybitDataStore()
    conn = Conn()
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        store.onmessage(book_msg("snapshot", 1, bids=[["100"]]), conn)  # no size
        assert not store.orderbook.is_synced("BTCUSDT")
        assert store.orderbook.find() == []
        store.onmessage(book_msg("snapshot", "7", bids=[["100", "1"]]), conn)  # u not an int
        assert not store.orderbook.is_synced("BTCUSDT")
        store.onmessage(book_msg("snapshot", 7, bids=[["100", "1"]]), conn)
        assert store.orderbook.is_synced("BTCUSDT")
        for bad in (["nan", "1"], ["1e999", "1"], ["101", "-1"], [True, "1"], "101,1", ["x", "1"]):
            store.onmessage(book_msg("snapshot", 7, bids=[["100", "1"]]), conn)
            store.onmessage(book_msg("delta", 8, asks=[["101", "1"], bad]), conn)
            assert not store.orderbook.is_synced("BTCUSDT"), bad
            assert store.orderbook.find() == []  # the good level was not applied either
        store.onmessage(book_msg("snapshot", 7, bids=[["100", "1"]]), conn)
        store.onmessage(book_msg("strange", 8, bids=[["100", "2"]]), conn)
        assert not store.orderbook.is_synced("BTCUSDT")
        store.onmessage({"topic": BOOK, "type": "snapshot", "data": ["not", "an", "object"]})
        store.onmessage({"topic": BOOK, "type": "snapshot", "data": {"b": [], "a": []}})
        store.onmessage(book_msg("snapshot", 9, bids={"100": "1"}), conn)  # type: ignore[arg-type]
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)
    messages = [r.getMessage() for r in caplog.records]
    assert any("malformed snapshot" in m for m in messages)
    assert any("malformed delta" in m for m in messages)
    assert any("no data.s" in m for m in messages)
    assert all(same_request(r, BOOK, "BTCUSDT") for r in conn.requests)
    assert len(conn.requests) == 7


def test_past_its_bound_a_book_drops_its_deepest_levels() -> None:
    # pybotters drops the oldest levels past 9,999 (by first insert), whatever their price.
    store = BybitDataStore()
    store.orderbook._MAXLEN = 4
    store.onmessage(book_msg("snapshot", 1, bids=[["100", "1"], ["99", "1"]], asks=[["101", "1"]]))
    store.onmessage(book_msg("delta", 2, bids=[["98", "1"], ["100.5", "1"]]))
    assert store.orderbook.sorted() == {
        "a": [lv("a", "101", "1")],
        "b": [lv("b", "100.5", "1"), lv("b", "100", "1"), lv("b", "99", "1")],
    }


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_book_wait_wakes_on_a_delta(library: str) -> None:
    store = BybitDataStore()
    store.onmessage(book_msg("snapshot", 1, bids=[["100", "1"]]))
    seen: list[Any] = []

    async def bot() -> None:
        await store.orderbook.wait()
        seen.append(store.orderbook.sorted(limit=1)["b"])

    delta = book_msg("delta", 2, bids=[["100.5", "3"]])
    if library == "asyncio":

        async def main_asyncio() -> None:
            task = asyncio.create_task(bot())
            await asyncio.sleep(0)
            store.onmessage(delta)
            await task

        asyncio.run(main_asyncio())
    else:

        async def main_trio() -> None:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(bot)
                await trio.testing.wait_all_tasks_blocked()
                store.onmessage(delta)

        trio.run(main_trio)
    assert seen == [[lv("b", "100.5", "3")]]


# ==================================================================== public topics


def test_public_trades() -> None:
    store = BybitDataStore()
    trade = {
        "T": 1672304486865,
        "s": "BTCUSDT",
        "S": "Buy",
        "v": "0.001",
        "p": "16578.50",
        "L": "PlusTick",
        "i": "20f43950-d8dd-5b31-9112-a178eb6023af",
        "BT": False,
    }
    second = {**trade, "i": "second", "S": "Sell"}
    store.onmessage(
        {"topic": "publicTrade.BTCUSDT", "type": "snapshot", "ts": 1, "data": [trade, second]}
    )
    assert store.trade.find() == [trade, second]
    assert store["publicTrade"] is store.trade
    assert type(store.trade)._MAXLEN == 99999


def test_tickers_snapshot_then_delta_merge() -> None:
    store = BybitDataStore()
    snapshot = {
        "symbol": "BTCUSDT",
        "tickDirection": "PlusTick",
        "price24hPcnt": "0.017103",
        "lastPrice": "17216.00",
        "bid1Price": "17215.50",
        "bid1Size": "84.489",
        "ask1Price": "17216.00",
        "ask1Size": "83.020",
    }
    store.onmessage({"topic": "tickers.BTCUSDT", "type": "snapshot", "data": snapshot, "cs": 1})
    store.onmessage(
        {
            "topic": "tickers.BTCUSDT",
            "type": "delta",
            "data": {"symbol": "BTCUSDT", "bid1Price": "17215.00", "bid1Size": "84.9"},
            "cs": 2,
        }
    )
    store.onmessage(
        {"topic": "tickers.ETHUSDT", "type": "snapshot", "data": {"symbol": "ETHUSDT"}, "cs": 3}
    )
    assert store.ticker.find() == [
        {**snapshot, "bid1Price": "17215.00", "bid1Size": "84.9"},
        {"symbol": "ETHUSDT"},
    ]
    assert store.ticker.get({"symbol": "ETHUSDT"}) == {"symbol": "ETHUSDT"}


def test_kline_takes_its_symbol_from_the_topic() -> None:
    store = BybitDataStore()
    candle = {
        "start": 1672324800000,
        "end": 1672325099999,
        "interval": "5",
        "open": "16649.5",
        "close": "16677",
        "high": "16677",
        "low": "16608",
        "volume": "2.081",
        "turnover": "34666.4005",
        "confirm": False,
        "timestamp": 1672324988882,
    }
    store.onmessage({"topic": "kline.5.BTCUSDT", "data": [candle], "ts": 1, "type": "snapshot"})
    closed = {**candle, "close": "16680", "confirm": True}
    store.onmessage({"topic": "kline.5.BTCUSDT", "data": [closed], "ts": 2, "type": "snapshot"})
    assert store.kline.find() == [{"symbol": "BTCUSDT", **closed}]
    store.onmessage({"topic": "kline_lt.5.EOS3LUSDT", "data": [candle], "type": "snapshot"})
    assert store.lt_kline.find() == [{"symbol": "EOS3LUSDT", **candle}]


def test_liquidations() -> None:
    store = BybitDataStore()
    liq = {
        "price": "0.03803",
        "side": "Buy",
        "size": "1637",
        "symbol": "GALAUSDT",
        "updatedTime": 1673251091822,
    }
    store.onmessage({"data": liq, "topic": "liquidation.GALAUSDT", "ts": 1, "type": "snapshot"})
    assert store.liquidation.find() == [liq]
    all_liq = [{"T": 1739502302929, "s": "ROSEUSDT", "S": "Sell", "v": "20000", "p": "0.04499"}]
    store.onmessage({"topic": "allLiquidation.ROSEUSDT", "type": "snapshot", "data": all_liq})
    store.onmessage({"topic": "allLiquidation.ROSEUSDT", "type": "snapshot", "data": all_liq})
    assert store.all_liquidation.find() == all_liq * 2


def test_leveraged_token_ticker_and_nav() -> None:
    store = BybitDataStore()
    ticker = {"symbol": "EOS3LUSDT", "lastPrice": "0.41477848043290448", "price24hPcnt": "-0.0388"}
    nav = {
        "symbol": "EOS3LUSDT",
        "time": 1672325564554,
        "nav": "0.413517419653406162",
        "basketPosition": "1.261060779498318641",
        "leverage": "2.656197506416192150",
        "basketLoan": "-0.684866519289629374",
        "circulation": "72767.309468460367138199",
        "basket": "91764.000000292013277472",
    }
    store.onmessage({"topic": "tickers_lt.EOS3LUSDT", "type": "snapshot", "data": ticker})
    store.onmessage({"topic": "lt.EOS3LUSDT", "type": "snapshot", "data": nav})
    store.onmessage(
        {"topic": "lt.EOS3LUSDT", "type": "snapshot", "data": {"symbol": "EOS3LUSDT", "nav": "1"}}
    )
    assert store.lt_ticker.find() == [ticker]
    assert store.lt_nav.find() == [{**nav, "nav": "1"}]


# ==================================================================== private topics


def position(**fields: Any) -> dict[str, Any]:
    return {
        "positionIdx": 0,
        "tradeMode": 0,
        "riskId": 41,
        "symbol": "XRPUSDT",
        "side": "Buy",
        "size": "75",
        "entryPrice": "0.3615",
        "leverage": "10",
        "positionValue": "27.1125",
        "markPrice": "0.3374",
        "positionStatus": "Normal",
        "category": "linear",
        **fields,
    }


def test_positions_merge_per_symbol_and_index() -> None:
    store = BybitDataStore()
    store.onmessage({"id": "1", "topic": "position", "creationTime": 1, "data": [position()]})
    store.onmessage(
        {
            "topic": "position.linear",
            "data": [position(positionIdx=1, size="1"), position(positionIdx=2, side="Sell")],
        }
    )
    store.onmessage({"topic": "position", "data": [position(side="", size="0")]})
    assert store.position.find() == [
        position(side="", size="0"),  # a closed position stays, with size 0
        position(positionIdx=1, size="1"),
        position(positionIdx=2, side="Sell"),
    ]


def test_executions_and_fast_executions() -> None:
    store = BybitDataStore()
    execution = {
        "category": "linear",
        "symbol": "XRPUSDT",
        "execFee": "0.005061",
        "execId": "7e2ae69c-4edf-5800-a352-893d52b446aa",
        "execPrice": "0.3374",
        "execQty": "25",
        "execType": "Trade",
        "orderId": "f6e324ff-99c2-4e89-9739-3086e47f9381",
        "orderLinkId": "",
        "side": "Sell",
        "seq": 4688002127,
    }
    fast = {
        "category": "linear",
        "symbol": "ICPUSDT",
        "execId": "3510f361-0add-5c7b-a2e7-9679810944fc",
        "execPrice": "12.015",
        "execQty": "3000",
        "orderId": "443d63fa-b4c3-4297-b7b1-23bca88b04dc",
        "isMaker": False,
        "orderLinkId": "test-00001",
        "side": "Sell",
        "execTime": "1716800399334",
        "seq": 34771365464,
    }
    store.onmessage({"topic": "execution", "creationTime": 1, "data": [execution]})
    store.onmessage({"topic": "execution.fast", "creationTime": 2, "data": [fast]})
    assert store.execution.find() == [execution, fast]


def order(oid: str, status: str, link: str = "", **fields: Any) -> dict[str, Any]:
    return {
        "category": "linear",
        "symbol": "BTCUSDT",
        "orderId": oid,
        "orderLinkId": link,
        "side": "Buy",
        "orderType": "Limit",
        "price": "30000",
        "qty": "0.01",
        "orderStatus": status,
        **fields,
    }


def orders(*items: dict[str, Any], topic: str = "order") -> dict[str, Any]:
    return {"id": "x", "topic": topic, "creationTime": 1, "data": list(items)}


@pytest.mark.parametrize("status", ["Created", "New", "PartiallyFilled", "Untriggered", "Active"])
def test_open_statuses_store_the_order(status: str) -> None:
    store = BybitDataStore()
    store.onmessage(orders(order("1", status)))
    assert store.order.find() == [order("1", status)]


@pytest.mark.parametrize(
    "status",
    ["Rejected", "Filled", "Cancelled", "PartiallyFilledCanceled", "Triggered", "Deactivated"],
)
def test_closed_statuses_remove_the_order(status: str) -> None:
    store = BybitDataStore()
    store.onmessage(orders(order("1", "New"), order("2", "New")))
    store.onmessage(orders(order("1", status)))
    assert store.order.find() == [order("2", "New")]


def test_order_lifecycle_and_order_link_ids(caplog: pytest.LogCaptureFixture) -> None:
    store = BybitDataStore()
    stream = store.order.watch()
    store.onmessage(orders(order("a", "New", "L1"), order("b", "New", "L9"), order("c", "New")))
    store.onmessage(orders(order("a", "PartiallyFilled", "L1", cumExecQty="0.005")))
    with caplog.at_level(logging.WARNING, logger="botters.store.bybit"):
        store.onmessage(orders(order("c", "Mystery"), order("c", "Mystery")))
    assert sum("Mystery" in r.getMessage() for r in caplog.records) == 1
    # Closing "a" with link L9 removes "a" (by id) and "b" (same client id), in that order.
    store.onmessage(orders(order("a", "Filled", "L9"), topic="order.linear"))
    assert store.order.find() == [order("c", "New")]
    changes = drain(stream)
    assert changes[-2:] == [
        (
            "delete",
            order("a", "Filled", "L9"),
            order("a", "PartiallyFilled", "L1", cumExecQty="0.005"),
        ),
        ("delete", order("b", "New", "L9"), order("b", "New", "L9")),
    ]
    # An empty orderLinkId removes nothing else.
    store.onmessage(orders(order("z", "Cancelled")))
    assert store.order.find() == [order("c", "New")]


def test_order_without_status_is_skipped_and_the_rest_applied(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # pybotters raises KeyError here and loses the rest of the message.
    store = BybitDataStore()
    broken = order("x", "New")
    del broken["orderStatus"]
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        store.onmessage(orders(broken, "junk", order("y", "New"), {"orderStatus": "New"}))  # type: ignore[arg-type]
    assert store.order.find() == [order("y", "New")]
    messages = [r.getMessage() for r in caplog.records]
    assert any("not objects" in m for m in messages)
    assert any("without the key fields ['orderId']" in m for m in messages)


def wallet(equity: str, coins: list[tuple[str, str]], account: str = "UNIFIED") -> dict[str, Any]:
    return {
        "accountIMRate": "0.0001",
        "totalEquity": equity,
        "accountType": account,
        "coin": [
            {"coin": c, "equity": e, "walletBalance": e, "availableToWithdraw": ""}
            for c, e in coins
        ],
    }


def test_wallet_keeps_coins_an_update_does_not_list() -> None:
    store = BybitDataStore()
    store.onmessage(
        {"topic": "wallet", "data": [wallet("3.0", [("BTC", "1"), ("USDT", "2")])], "id": "w"}
    )
    store.onmessage({"topic": "wallet", "data": [wallet("4.0", [("USDT", "5"), ("ETH", "7")])]})
    store.onmessage({"topic": "wallet", "data": [wallet("1", [("USDC", "1")], "CONTRACT")]})
    expected = wallet("4.0", [("USDT", "5"), ("ETH", "7"), ("BTC", "1")])
    assert store.wallet.find() == [expected, wallet("1", [("USDC", "1")], "CONTRACT")]


def test_greeks_merge_per_base_coin() -> None:
    store = BybitDataStore()
    greeks = {
        "baseCoin": "ETH",
        "totalDelta": "0.06999986",
        "totalGamma": "-0.00000001",
        "totalVega": "-0.00000024",
        "totalTheta": "0.00001314",
    }
    store.onmessage({"id": "g", "topic": "greeks", "creationTime": 1, "data": [greeks]})
    store.onmessage({"topic": "greeks", "data": [{"baseCoin": "ETH", "totalDelta": "0.1"}]})
    assert store.greek.find() == [{**greeks, "totalDelta": "0.1"}]


def test_stores_names_keys_and_maxlen_are_pybotters() -> None:
    store = BybitDataStore()
    layout = {
        name: (type(s).__name__, list(s._keys), s._MAXLEN) for name, s in store._stores.items()
    }
    assert layout == {
        "orderbook": ("OrderBook", ["s", "S", "p"], 1_000_000),  # deliberate: see OrderBook
        "publicTrade": ("Trade", [], 99999),
        "tickers": ("Ticker", ["symbol"], 9999),
        "kline": ("Kline", ["symbol", "start", "end"], 9999),
        "allLiquidation": ("AllLiquidation", [], 99999),
        "kline_lt": ("LTKline", ["symbol", "start", "end"], 9999),
        "tickers_lt": ("LTTicker", ["symbol"], 9999),
        "lt": ("LTNav", ["symbol"], 9999),
        "liquidation": ("Liquidation", [], 99999),
        "position": ("Position", ["symbol", "positionIdx"], 9999),
        "execution": ("Execution", [], 99999),
        "order": ("Order", ["orderId"], 9999),
        "wallet": ("Wallet", ["accountType"], 9999),
        "greeks": ("Greek", ["baseCoin"], 9999),
    }
    props = {
        "orderbook": "orderbook",
        "trade": "publicTrade",
        "ticker": "tickers",
        "kline": "kline",
        "all_liquidation": "allLiquidation",
        "lt_kline": "kline_lt",
        "lt_ticker": "tickers_lt",
        "lt_nav": "lt",
        "liquidation": "liquidation",
        "position": "position",
        "execution": "execution",
        "order": "order",
        "wallet": "wallet",
        "greek": "greeks",
    }
    for prop, name in props.items():
        assert getattr(store, prop) is store[name]
        with pytest.raises(AttributeError):
            setattr(store, prop, None)


# ==================================================================== routing and replies


def test_unknown_topics_and_error_replies_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    store = BybitDataStore()
    with caplog.at_level(logging.DEBUG, logger="botters.store"):
        for _ in range(3):
            store.onmessage(
                {"topic": "dcp.future", "data": [{"product": "OPTIONS", "dcpStatus": "ON"}]}
            )
            store.onmessage({"topic": "fastExecution", "data": []})
        store.onmessage(
            {
                "success": False,
                "ret_msg": "error:handler not found",
                "op": "subscribe",
                "req_id": "",
            }
        )
        store.onmessage({"success": False, "ret_msg": "Params Error", "op": "auth"})
        store.onmessage({"retCode": 10404, "retMsg": "op not found", "op": "order.create"})
        store.onmessage({"success": True, "ret_msg": "", "op": "subscribe", "conn_id": "c"})
        store.onmessage({"success": True, "ret_msg": "pong", "op": "ping"})
        store.onmessage({"op": "pong", "args": ["1675418560633"], "conn_id": "c"})
        store.onmessage({"retCode": 0, "retMsg": "OK", "op": "auth"})
        store.onmessage([1, 2])
        store.onmessage({"topic": 7, "data": []})
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("'dcp.future'" in m for m in warnings) == 1
    assert sum("'fastExecution'" in m for m in warnings) == 1
    assert sum("subscribe refused" in m and "handler not found" in m for m in warnings) == 1
    assert sum("auth refused" in m for m in warnings) == 1
    assert sum("order.create failed: retCode 10404" in m for m in warnings) == 1
    assert any("not an object" in m for m in warnings)
    assert any("topic is not a string" in m for m in warnings)
    assert len(warnings) == 7
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)


def test_malformed_data_is_logged_and_the_stream_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    store = BybitDataStore()
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        store.onmessage({"topic": "publicTrade.BTCUSDT", "data": "junk"})
        store.onmessage({"topic": "publicTrade.BTCUSDT", "data": [1, {"i": "ok"}]})
        store.onmessage({"topic": "tickers.BTCUSDT", "data": {"no": "symbol"}})
        store.onmessage({"topic": "tickers.BTCUSDT", "data": {"symbol": ["unhashable"]}})
        store.onmessage({"topic": "kline.5", "data": [{"start": 1, "end": 2}]})
        store.onmessage({"topic": "wallet", "data": [{"accountType": "UNIFIED", "coin": "?"}]})
        store.onmessage({"topic": "wallet", "data": [{"accountType": "UNIFIED", "coin": [1]}]})
        store.onmessage({"topic": "order", "data": [{"orderId": "1", "orderStatus": ["New"]}]})
        store.onmessage({"topic": "position", "data": None})
    assert store.trade.find() == [{"i": "ok"}]
    assert store.ticker.find() == []
    assert store.kline.find() == []
    assert store.wallet.find() == [{"accountType": "UNIFIED", "coin": [1]}]
    assert store.order.find() == []
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)
    assert len(caplog.records) == 7


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)
TOPICS = st.sampled_from(
    [
        BOOK,
        "orderbook.1.BTCUSDT",
        "publicTrade.BTCUSDT",
        "tickers.BTCUSDT",
        "kline.5.BTCUSDT",
        "kline",
        "allLiquidation.X",
        "liquidation.X",
        "kline_lt.5.X",
        "tickers_lt.X",
        "lt.X",
        "position",
        "execution.fast",
        "order",
        "wallet",
        "greeks",
        "dcp.spot",
        "",
        ".",
    ]
) | st.text(max_size=10)
LEVEL = st.lists(st.sampled_from(["1", "2.5", "0", "-1", "x", 3, None, True]), max_size=3) | JSON
SHAPED = st.fixed_dictionaries(
    {"topic": TOPICS},
    optional={
        "type": st.sampled_from(["snapshot", "delta", "other"]) | JSON,
        "data": JSON
        | st.fixed_dictionaries(
            {},
            optional={
                "s": st.sampled_from(["BTCUSDT", "ETHUSDT"]) | JSON,
                "u": st.integers(0, 5) | JSON,
                "a": st.lists(LEVEL, max_size=3) | JSON,
                "b": st.lists(LEVEL, max_size=3) | JSON,
            },
        )
        | st.lists(
            st.dictionaries(
                st.sampled_from(
                    [
                        "symbol",
                        "orderId",
                        "orderStatus",
                        "orderLinkId",
                        "accountType",
                        "coin",
                        "positionIdx",
                        "baseCoin",
                        "start",
                        "end",
                        "category",
                    ]
                ),
                JSON | st.sampled_from(["New", "Filled", "L", "UNIFIED", "BTCUSDT"]),
                max_size=6,
            ),
            max_size=3,
        ),
        "success": JSON,
        "retCode": JSON,
    },
)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=st.lists(JSON | SHAPED, max_size=12))
def test_garbage_never_raises_nor_reaches_the_safety_net(messages: list[Any]) -> None:
    # onmessage never raises (the collection catches and logs with ERROR as a last
    # resort); garbage must be handled by the Bybit code itself: no ERROR record.
    handler = _Errors()
    logger = logging.getLogger("botters.store")
    logger.addHandler(handler)
    try:
        store = BybitDataStore()
        conn = Conn()
        for msg in messages:
            store.onmessage(msg, conn)
            store._onmessage(json.loads(json.dumps(msg)) if _jsonable(msg) else msg, None)
        store.feed_interrupted()
        store.take_resync_requests()
        for name in store:
            store[name].find()
        store.orderbook.sorted(limit=3)
    finally:
        logger.removeHandler(handler)
    assert handler.records == []


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


# ==================================================================== initialize


def ok(rows: list[Any], **result: Any) -> dict[str, Any]:
    return {
        "retCode": 0,
        "retMsg": "OK",
        "result": {"list": rows, "nextPageCursor": "", **result},
        "retExtInfo": {},
        "time": 1672280219169,
    }


def test_initialize_positions_and_wallet() -> None:
    store = BybitDataStore()
    store.onmessage({"topic": "position", "data": [position(symbol="ETHUSDT")]})
    store.onmessage({"topic": "wallet", "data": [wallet("1", [("BTC", "1")])]})
    row = position()
    del row["category"]  # REST rows have no category (it is in result)
    store.initialize_nowait(
        (f"{API}/v5/position/list?category=linear", ok([row], category="linear")),
        (
            f"{API}/v5/account/wallet-balance?accountType=UNIFIED",
            ok([wallet("2", [("USDT", "2")])]),
        ),
    )
    assert store.position.find() == [position(symbol="ETHUSDT"), row]
    assert store.wallet.find() == [wallet("2", [("USDT", "2"), ("BTC", "1")])]


def rest_order(oid: str, symbol: str, status: str = "New", link: str = "") -> dict[str, Any]:
    row = order(oid, status, link, symbol=symbol)
    del row["category"]
    return row


def stored(oid: str, symbol: str, category: str = "linear") -> dict[str, Any]:
    return {**rest_order(oid, symbol), "category": category}


PRE = [
    stored("1", "BTCUSDT"),
    stored("2", "ETHUSDT"),
    stored("3", "BTCPERP"),
    stored("4", "ETHBTC"),
    stored("5", "BTCUSDT", "spot"),
]


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        # pybotters' rules: symbol, else a baseCoin prefix, else a settleCoin suffix.
        ("category=linear&symbol=BTCUSDT", ["2", "3", "4", "5"]),
        ("category=linear&baseCoin=BTC", ["2", "4", "5"]),
        ("category=linear&settleCoin=USDT", ["3", "4", "5"]),
        ("category=linear&baseCoin=BTC&settleCoin=USDT", ["2", "4", "5"]),
        ("category=linear", ["1", "2", "3", "4", "5"]),
        ("category=spot&symbol=BTCUSDT", ["1", "2", "3", "4"]),
        # botters: a query for one order covers that order only.
        ("category=linear&symbol=BTCUSDT&orderId=1", ["2", "3", "4", "5"]),
        ("category=linear&symbol=ETHUSDT&orderId=1", ["2", "3", "4", "5"]),
        # botters: continuation pages and closed-order queries cover nothing.
        ("category=linear&symbol=BTCUSDT&cursor=page2", ["1", "2", "3", "4", "5"]),
        ("category=linear&symbol=BTCUSDT&openOnly=1", ["1", "2", "3", "4", "5"]),
    ],
)
def test_initialize_orders_replaces_what_the_query_covers(query: str, kept: list[str]) -> None:
    store = BybitDataStore()
    store.onmessage(orders(*PRE))
    category = "spot" if "spot" in query else "linear"
    store.initialize_nowait(
        (f"{API}/v5/order/realtime?{query}", ok([rest_order("9", "XRPUSDT")], category=category))
    )
    assert [o["orderId"] for o in store.order.find()] == [*kept, "9"]
    assert store.order.get({"orderId": "9"}) == stored("9", "XRPUSDT", category)


def test_initialize_orders_classifies_rows_by_status() -> None:
    # pybotters stores every row (a Filled row from openOnly=1 becomes an "open" order).
    store = BybitDataStore()
    store.onmessage(orders(stored("1", "BTCUSDT"), stored("2", "BTCUSDT")))
    store.initialize_nowait(
        (
            f"{API}/v5/order/realtime?category=linear&openOnly=1",
            ok([rest_order("1", "BTCUSDT", "Filled", link="L"), rest_order("3", "X", "New")]),
        )
    )
    assert [o["orderId"] for o in store.order.find()] == ["2", "3"]


def test_initialize_skips_bad_responses_and_applies_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # pybotters raises ValueError for retCode != 0 at once; botters applies the
    # others first, then raises InitializeError (a ValueError).
    store = BybitDataStore()
    with (
        caplog.at_level(logging.WARNING, logger="botters.store"),
        pytest.raises(InitializeError, match=r"position/list: retCode 10001 'bad'") as raised,
    ):
        store.initialize_nowait(
            (f"{API}/v5/position/list?category=linear", {"retCode": 10001, "retMsg": "bad"}),
            (f"{API}/v5/order/realtime?category=linear", ok([rest_order("1", "BTCUSDT")])),
            (f"{API}/v5/order/realtime?symbol=BTCUSDT", ok([rest_order("2", "BTCUSDT")])),
            (f"{API}/v5/account/wallet-balance", ["not", "an", "object"]),
            (f"{API}/v5/account/wallet-balance", {"retCode": 0, "result": {}}),
            (f"{API}/v5/market/orderbook?category=linear&symbol=BTCUSDT", ok([])),
            RestResponse(f"{API}/v5/position/list", ok([position(), "junk"])),
        )
    assert isinstance(raised.value, ValueError)
    assert [o["orderId"] for o in store.order.find()] == ["1"]
    assert store.position.find() == [position()]
    messages = [r.getMessage() for r in caplog.records]
    assert any("no category" in m for m in messages)
    assert any("not an object" in m for m in messages)
    assert any("no result.list" in m for m in messages)
    assert any("does not support" in m and "/v5/market/orderbook" in m for m in messages)
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_initialize_awaits_responses_under_both_frameworks(library: str) -> None:
    class Response:
        def __init__(self, url: str, body: Any) -> None:
            self.url = url
            self.body = body

        async def json(self) -> Any:
            return self.body

    async def fetch(url: str, body: Any) -> Response:
        return Response(url, body)

    store = BybitDataStore()

    async def main() -> None:
        await store.initialize(
            fetch(
                f"{API}/v5/order/realtime?category=linear&symbol=BTCUSDT",
                ok([rest_order("1", "BTCUSDT")]),
            ),
            fetch(f"{API}/v5/position/list?category=linear", ok([position()])),
        )

    if library == "asyncio":
        asyncio.run(main())
    else:
        trio.run(main)
    assert store.order.find() == [stored("1", "BTCUSDT")]
    assert store.position.find() == [position()]
