"""Binance DataStores: routing, every store, initialize endpoints, listenKey and the order book.

Messages are the examples of the Binance docs (spot
https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams and
.../user-data-stream; USDⓈ-M and COIN-M .../websocket-market-streams and
.../user-data-streams), trimmed where a field does not matter.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest

from botters.protocol.exchanges.binance import (
    BinanceCOINMDataStore,
    BinanceSpotDataStore,
    BinanceUSDSMDataStore,
)
from botters.protocol.store import (
    BookState,
    FetchSnapshot,
    InitializeError,
    KeepAlive,
    RestResponse,
    ResyncRequest,
)

SPOT = "https://api.binance.com"
FAPI = "https://fapi.binance.com"
DAPI = "https://dapi.binance.com"


class Recorder:
    """The part of a connection the store uses to ask for a resync."""

    def __init__(self) -> None:
        self.requests: list[ResyncRequest] = []

    def request_resync(self, request: ResyncRequest) -> None:
        self.requests.append(request)


class Carrier:
    """A client that carries keep-alive requests (what both botters clients are)."""

    def __init__(self) -> None:
        self.requests: list[KeepAlive] = []

    def keep_alive(self, request: KeepAlive) -> None:
        self.requests.append(request)


def depth(U: int, u: int, b: Any = (), a: Any = (), s: str = "BNBBTC", pu: int | None = None):
    msg: dict[str, Any] = {"e": "depthUpdate", "E": 1, "s": s, "U": U, "u": u}
    if pu is not None:
        msg["pu"] = pu
    msg["b"] = [list(level) for level in b]
    msg["a"] = [list(level) for level in a]
    return msg


def snapshot(last: int, bids: Any = (), asks: Any = ()) -> dict[str, Any]:
    return {
        "lastUpdateId": last,
        "bids": [list(level) for level in bids],
        "asks": [list(level) for level in asks],
    }


def book(store: Any, symbol: str = "BNBBTC") -> dict[str, list[tuple[str, str]]]:
    levels = store.orderbook.sorted({"s": symbol})
    return {side: [(lv["p"], lv["q"]) for lv in levels[side]] for side in ("a", "b")}


# ---------------------------------------------------------------------- routing


def test_store_names_and_keys_are_pybotters() -> None:
    spot = BinanceSpotDataStore()
    usdsm = BinanceUSDSMDataStore()
    coinm = BinanceCOINMDataStore()
    common = ["trade", "kline", "ticker", "bookticker", "orderbook", "order"]
    futures = [*common, "markprice", "continuouskline", "liquidation", "balance", "position"]
    assert list(spot) == [*common, "account", "ocoorder"]
    assert list(usdsm) == [*futures, "compositeindex"]
    assert list(coinm) == [*futures, "indexprice", "indexpricekline", "markpricekline"]
    keys = {
        "trade": (),
        "kline": ("t", "s", "i"),
        "ticker": ("s",),
        "bookticker": ("s",),
        "orderbook": ("s", "S", "p"),
        "order": ("s", "i"),
        "account": ("a",),
        "ocoorder": ("s", "g"),
        "markprice": ("s",),
        "continuouskline": ("ps", "ct", "t", "i"),
        "liquidation": (),
        "balance": ("a",),
        "position": ("s", "ps"),
        "compositeindex": ("s",),
        "indexprice": ("i",),
        "indexpricekline": ("t", "s", "i"),
        "markpricekline": ("t", "s", "i"),
    }
    for collection in (spot, usdsm, coinm):
        for name in collection:
            assert collection[name]._keys == keys[name], name
            assert getattr(collection, name) is collection[name]
        assert collection.listenkey is None
    assert spot.trade._MAXLEN == 99999
    assert usdsm.liquidation._MAXLEN == 9999


TRADE = {
    "e": "trade",
    "E": 1672515782136,
    "s": "BNBBTC",
    "t": 12345,
    "p": "0.001",
    "q": "100",
    "T": 1672515782136,
    "m": True,
    "M": True,
}
AGG = {
    "e": "aggTrade",
    "E": 1672515782136,
    "s": "BNBBTC",
    "a": 12345,
    "p": "0.001",
    "q": "100",
    "f": 100,
    "l": 105,
    "T": 1672515782136,
    "m": True,
    "M": True,
}


def test_trades_raw_and_combined() -> None:
    store = BinanceSpotDataStore()
    store.onmessage(TRADE)
    store.onmessage({"stream": "bnbbtc@aggTrade", "data": AGG})
    store.onmessage({"result": None, "id": 1})
    assert store.trade.find() == [TRADE, AGG]


def test_kline_updates_until_closed() -> None:
    k = {
        "t": 1672515780000,
        "T": 1672515839999,
        "s": "BNBBTC",
        "i": "1m",
        "f": 100,
        "L": 200,
        "o": "0.0010",
        "c": "0.0020",
        "h": "0.0025",
        "l": "0.0015",
        "v": "1000",
        "n": 100,
        "x": False,
        "q": "1.0000",
        "V": "500",
        "Q": "0.500",
        "B": "123456",
    }
    store = BinanceSpotDataStore()
    store.onmessage({"e": "kline", "E": 1, "s": "BNBBTC", "k": k})
    closed = dict(k, c="0.0030", x=True)
    store.onmessage({"e": "kline", "E": 2, "s": "BNBBTC", "k": closed})
    assert store.kline.find() == [closed]


def test_tickers_single_and_arrays() -> None:
    mini = {"e": "24hrMiniTicker", "E": 1, "s": "BNBBTC", "c": "0.0025", "o": "0.0010"}
    store = BinanceSpotDataStore()
    store.onmessage(dict(mini))  # (stored by reference, as pybotters: the store merges into it)
    store.onmessage({"stream": "!ticker@arr", "data": [dict(mini, e="24hrTicker", s="ETHBTC")]})
    store.onmessage([dict(mini, s="BNBBTC", c="0.0030")])
    assert store.ticker.find() == [
        dict(mini, c="0.0030"),
        dict(mini, e="24hrTicker", s="ETHBTC"),
    ]


def test_bookticker_spot_by_stream_name_and_futures_by_event() -> None:
    spot = {"u": 400900217, "s": "BNBUSDT", "b": "25.35", "B": "31.21", "a": "25.36", "A": "40.66"}
    store = BinanceSpotDataStore()
    store.onmessage({"stream": "bnbusdt@bookTicker", "data": spot})
    assert store.bookticker.find() == [spot]
    futures = {"e": "bookTicker", "u": 400900217, "E": 1568014460893, "T": 1568014460891}
    futures.update(s="BNBUSDT", b="25.35", B="31.21", a="25.36", A="40.66")
    usdsm = BinanceUSDSMDataStore()
    usdsm.onmessage(futures)
    assert usdsm.bookticker.find() == [futures]


def test_futures_market_streams() -> None:
    mark = {
        "e": "markPriceUpdate",
        "E": 1562305380000,
        "s": "BTCUSDT",
        "p": "11794.15000000",
        "i": "11784.62659091",
        "P": "11784.25641265",
        "r": "0.00038167",
        "T": 1562306400000,
    }
    ck = {
        "e": "continuous_kline",
        "E": 1607443058651,
        "ps": "BTCUSDT",
        "ct": "PERPETUAL",
        "k": {"t": 1607443020000, "T": 1607443079999, "i": "1m", "o": "18787.00", "x": False},
    }
    force = {
        "e": "forceOrder",
        "E": 1568014460893,
        "o": {"s": "BTCUSDT", "S": "SELL", "o": "LIMIT", "q": "0.014", "p": "9910"},
    }
    composite = {
        "e": "compositeIndex",
        "E": 1602310596000,
        "s": "DEFIUSDT",
        "p": "554.41604065",
        "C": "baseAsset",
        "c": [{"b": "BAL", "q": "USDT", "w": "1.04884844", "W": "0.01457800", "i": "24.33"}],
    }
    store = BinanceUSDSMDataStore()
    store.onmessage({"stream": "!markPrice@arr", "data": [mark, dict(mark, s="ETHUSDT")]})
    store.onmessage(ck)
    store.onmessage(force)
    store.onmessage(composite)
    assert store.markprice.find() == [mark, dict(mark, s="ETHUSDT")]
    assert store.continuouskline.find() == [{"ps": "BTCUSDT", "ct": "PERPETUAL", **ck["k"]}]
    assert store.liquidation.find() == [force["o"]]
    assert store.compositeindex.find() == [
        {"s": "DEFIUSDT", "p": "554.41604065", "E": 1602310596000, "c": composite["c"]}
    ]


def test_coinm_index_and_mark_price_streams() -> None:
    index = {"e": "indexPriceUpdate", "E": 1591261236000, "i": "BTCUSD", "p": "9636.57860000"}
    k = {"t": 1591267020000, "T": 1591267079999, "s": "0", "i": "1m", "o": "9542.2", "x": False}
    store = BinanceCOINMDataStore()
    store.onmessage(index)
    store.onmessage({"e": "indexPrice_kline", "E": 1, "ps": "BTCUSD", "k": k})
    mark_k = dict(k, s="BTCUSD_PERP")
    store.onmessage({"e": "markPrice_kline", "E": 1, "ps": "BTCUSD", "k": mark_k})
    assert store.indexprice.find() == [index]
    assert store.indexpricekline.find() == [dict(k, s="BTCUSD")]
    assert store.markpricekline.find() == [mark_k]
    assert store.kline.find() == []


def test_errors_unknown_events_and_garbage_are_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = BinanceSpotDataStore()
    with caplog.at_level(logging.INFO, logger="botters.store"):
        store.onmessage({"error": {"code": 2, "msg": "Invalid request"}, "id": 2})
        for _ in range(3):
            store.onmessage({"e": "newEventType", "E": 1})
        store.onmessage({"e": "markPriceUpdate", "s": "BTCUSDT"})  # a futures event on spot
        store.onmessage("garbage")
        store.onmessage([1, {"e": "trade", "s": "X"}])
        store.onmessage({"lastUpdateId": 160, "bids": [], "asks": []})  # a partial depth stream
        store.onmessage({"e": "listenKeyExpired", "E": 1, "listenKey": "SECRETKEY123456"})
    text = caplog.text
    assert "Invalid request" in text
    assert text.count("no store for Binance event newEventType") == 1
    assert "markPriceUpdate" in text
    assert "SECRETKEY123456" not in text
    assert store.trade.find() == [{"e": "trade", "s": "X"}]


def test_partial_depth_streams_are_not_applied_as_diffs(caplog: pytest.LogCaptureFixture) -> None:
    # Futures partial depth (btcusdt@depth5@100ms) pushes depthUpdate events that are
    # top-5 books, not diffs.
    store = BinanceUSDSMDataStore()
    store.initialize_nowait((f"{FAPI}/fapi/v1/depth?symbol=BTCUSDT", snapshot(100)))
    partial = depth(101, 102, pu=100, b=[("1", "1")], s="BTCUSDT")
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        for _ in range(2):
            store.onmessage({"stream": "btcusdt@depth5@100ms", "data": partial})
        store.onmessage({"stream": "btcusdt@depth20", "data": partial})
    assert store.orderbook.find() == []
    assert caplog.text.count("partial book depth") == 2
    store.onmessage({"stream": "btcusdt@depth@100ms", "data": partial})
    assert book(store, "BTCUSDT")["b"] == [("1", "1")]


def test_listenkey_expired_is_a_warning_without_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"
    store = BinanceUSDSMDataStore()
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        store.onmessage(
            {"stream": key, "data": {"e": "listenKeyExpired", "E": 1, "listenKey": key}}
        )
    assert "pqia... expired" in caplog.text
    assert "/fapi/v1/listenKey" in caplog.text
    assert key not in caplog.text


def test_user_data_stream_stream_name_is_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    key = "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"
    store = BinanceSpotDataStore()
    with caplog.at_level(logging.DEBUG, logger="botters.store"):
        store.onmessage({"stream": key, "data": {"x": 1}})
    assert key not in caplog.text


# ---------------------------------------------------------------------- user data

EXECUTION_REPORT = {
    "e": "executionReport",
    "E": 1499405658658,
    "s": "ETHBTC",
    "c": "mUvoqJxFIILMdfAW5iGSOW",
    "S": "BUY",
    "o": "LIMIT",
    "f": "GTC",
    "q": "1.00000000",
    "p": "0.10264410",
    "x": "NEW",
    "X": "NEW",
    "i": 4293153,
    "z": "0.00000000",
    "T": 1499405658657,
}


@pytest.mark.parametrize(
    ("status", "kept"),
    [
        ("NEW", True),
        ("PARTIALLY_FILLED", True),
        ("PENDING_CANCEL", True),
        ("FILLED", False),
        ("CANCELED", False),
        ("EXPIRED", False),
        ("EXPIRED_IN_MATCH", False),
        ("REJECTED", False),
    ],
)
def test_spot_execution_report(status: str, kept: bool) -> None:
    store = BinanceSpotDataStore()
    store.onmessage(EXECUTION_REPORT)
    update = dict(EXECUTION_REPORT, X=status, x="TRADE")
    store.onmessage({"stream": "listenkey", "data": update})
    assert store.order.find() == ([update] if kept else [])


def test_ws_api_user_data_push_is_unwrapped() -> None:
    store = BinanceSpotDataStore()
    store.onmessage({"subscriptionId": 0, "event": EXECUTION_REPORT})
    assert store.order.find() == [EXECUTION_REPORT]


def test_spot_account_and_list_status() -> None:
    store = BinanceSpotDataStore()
    store.onmessage(
        {
            "e": "outboundAccountPosition",
            "E": 1564034571105,
            "u": 1564034571073,
            "B": [{"a": "ETH", "f": "10000.000000", "l": "0.000000"}],
        }
    )
    assert store.account.find() == [{"a": "ETH", "f": "10000.000000", "l": "0.000000"}]
    status = {
        "e": "listStatus",
        "E": 1564035303637,
        "s": "ETHBTC",
        "g": 2,
        "c": "OCO",
        "l": "EXEC_STARTED",
        "L": "EXECUTING",
        "r": "NONE",
        "C": "F4QN4G8DlFATFlIUQ0cjdD",
        "T": 1564035303625,
        "O": [{"s": "ETHBTC", "i": 17, "c": "AJYsMjErWJesZvqlJCTUgL"}],
    }
    store.onmessage(status)
    assert store.ocoorder.find() == [status]
    store.onmessage(dict(status, l="ALL_DONE", L="ALL_DONE"))
    assert store.ocoorder.find() == []


ORDER_TRADE_UPDATE = {
    "e": "ORDER_TRADE_UPDATE",
    "E": 1568879465651,
    "T": 1568879465650,
    "o": {
        "s": "BTCUSDT",
        "c": "TEST",
        "S": "SELL",
        "o": "TRAILING_STOP_MARKET",
        "q": "0.001",
        "x": "NEW",
        "X": "NEW",
        "i": 8886774,
        "ps": "LONG",
    },
}


@pytest.mark.parametrize("cls", [BinanceUSDSMDataStore, BinanceCOINMDataStore])
def test_futures_order_and_account_update(cls: Any) -> None:
    store = cls()
    store.onmessage(ORDER_TRADE_UPDATE)
    assert store.order.find() == [ORDER_TRADE_UPDATE["o"]]
    store.onmessage({**ORDER_TRADE_UPDATE, "o": dict(ORDER_TRADE_UPDATE["o"], X="FILLED")})
    assert store.order.find() == []
    update = {
        "e": "ACCOUNT_UPDATE",
        "E": 1564745798939,
        "T": 1564745798938,
        "a": {
            "m": "ORDER",
            "B": [{"a": "USDT", "wb": "122624.12345678", "cw": "100.12345678", "bc": "50.1"}],
            "P": [
                {"s": "BTCUSDT", "pa": "0", "ep": "0.00000", "up": "0", "mt": "isolated"}
                | {"iw": "0.00000000", "ps": "BOTH"},
                {"s": "BTCUSDT", "pa": "20", "ep": "6563.66500", "up": "2850.21200"}
                | {"mt": "isolated", "iw": "13200.70726908", "ps": "LONG"},
            ],
        },
    }
    store.onmessage(update)
    assert store.balance.find() == update["a"]["B"]
    assert store.position.find() == update["a"]["P"]
    store.onmessage({"e": "ACCOUNT_UPDATE", "E": 2, "a": {"m": "DEPOSIT", "B": [{"a": "USDT"}]}})
    assert store.balance.find() == update["a"]["B"]  # merged; no P is fine


# ---------------------------------------------------------------------- initialize


def test_initialize_spot_open_orders_account_and_order_lists() -> None:
    store = BinanceSpotDataStore()
    store.onmessage(dict(EXECUTION_REPORT, s="LTCBTC", i=9))
    store.onmessage(dict(EXECUTION_REPORT, s="ETHBTC", i=8))
    row = {
        "symbol": "LTCBTC",
        "orderId": 1,
        "orderListId": -1,
        "clientOrderId": "myOrder1",
        "price": "0.1",
        "origQty": "1.0",
        "executedQty": "0.0",
        "cummulativeQuoteQty": "0.0",
        "status": "NEW",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "side": "BUY",
        "stopPrice": "0.0",
        "icebergQty": "0.0",
        "time": 1499827319559,
        "updateTime": 1499827319560,
        "isWorking": True,
        "workingTime": 1499827319559,
        "origQuoteOrderQty": "0.000000",
        "selfTradePreventionMode": "NONE",
    }
    store.initialize_nowait(
        (f"{SPOT}/api/v3/openOrders?symbol=LTCBTC", [row]),
        (
            f"{SPOT}/api/v3/account",
            {"balances": [{"asset": "BTC", "free": "4723846.89208129", "locked": "0.0"}]},
        ),
        (
            f"{SPOT}/api/v3/openOrderList",
            [
                {
                    "orderListId": 31,
                    "contingencyType": "OCO",
                    "listStatusType": "EXEC_STARTED",
                    "listOrderStatus": "EXECUTING",
                    "listClientOrderId": "wuB13fmulKj3YjdqWEcsnp",
                    "transactionTime": 1565246080644,
                    "symbol": "LTCBTC",
                    "orders": [{"symbol": "LTCBTC", "orderId": 4, "clientOrderId": "r3EH"}],
                }
            ],
        ),
    )
    assert [o["s"] for o in store.order.find()] == ["ETHBTC", "LTCBTC"]
    assert store.order.get({"s": "LTCBTC", "i": 1}) == {
        "s": "LTCBTC",
        "i": 1,
        "c": "myOrder1",
        "p": "0.1",
        "q": "1.0",
        "z": "0.0",
        "Z": "0.0",
        "f": "GTC",
        "o": "LIMIT",
        "S": "BUY",
        "P": "0.0",
        "F": "0.0",
        "E": 1499827319559,
        "T": 1499827319560,
        "w": True,
        "Q": "0.000000",
    }
    assert store.account.find() == [{"a": "BTC", "f": "4723846.89208129", "l": "0.0"}]
    assert store.ocoorder.find() == [
        {
            "e": "listStatus",
            "E": None,
            "s": "LTCBTC",
            "g": 31,
            "c": "OCO",
            "l": "EXEC_STARTED",
            "L": "EXECUTING",
            "r": "NONE",
            "C": "wuB13fmulKj3YjdqWEcsnp",
            "T": 1565246080644,
            "O": [{"s": "LTCBTC", "i": 4, "c": "r3EH"}],
        }
    ]
    store.initialize_nowait((f"{SPOT}/api/v3/openOrders", []))
    assert store.order.find() == []


FUTURES_ORDER_ROW = {
    "avgPrice": "0.00000",
    "clientOrderId": "abc",
    "cumQuote": "0",
    "executedQty": "0",
    "orderId": 1917641,
    "origQty": "0.40",
    "origType": "TRAILING_STOP_MARKET",
    "price": "0",
    "reduceOnly": False,
    "side": "BUY",
    "positionSide": "SHORT",
    "status": "NEW",
    "stopPrice": "9300",
    "closePosition": False,
    "symbol": "BTCUSDT",
    "time": 1579276756075,
    "timeInForce": "GTC",
    "type": "TRAILING_STOP_MARKET",
    "updateTime": 1579276756076,
    "workingType": "CONTRACT_PRICE",
    "priceProtect": False,
}


def test_initialize_usdsm() -> None:
    store = BinanceUSDSMDataStore()
    store.initialize_nowait(
        (f"{FAPI}/fapi/v1/openOrders", [FUTURES_ORDER_ROW]),
        (
            f"{FAPI}/fapi/v2/balance",
            [{"asset": "USDT", "balance": "122607.35", "crossWalletBalance": "23.72"}],
        ),
        (
            f"{FAPI}/fapi/v2/positionRisk",
            [
                {
                    "entryPrice": "0.00000",
                    "marginType": "isolated",
                    "isolatedWallet": "0",
                    "positionAmt": "0.000",
                    "symbol": "BTCUSDT",
                    "unRealizedProfit": "0.00000000",
                    "positionSide": "BOTH",
                    "leverage": "10",
                }
            ],
        ),
        (
            f"{FAPI}/fapi/v1/indexInfo",
            [
                {
                    "symbol": "DEFIUSDT",
                    "time": 1589437530011,
                    "component": "baseAsset",
                    "baseAssetList": [
                        {
                            "baseAsset": "BAL",
                            "quoteAsset": "USDT",
                            "weightInQuantity": "1.04406228",
                            "weightInPercentage": "0.02783900",
                        }
                    ],
                }
            ],
        ),
        (
            f"{FAPI}/fapi/v1/klines?symbol=BTCUSDT&interval=1m",
            [
                [1499040000000, "1", "2", "0.5", "1.5", "148976", 1499644799999, "2434", 308, "1"],
                [1499040060000, "1", "2", "0.5", "1.5", "1", 1499040119999, "2", 3, "4", "5", "0"],
            ],
        ),
    )
    assert store.order.find() == [
        {
            "s": "BTCUSDT",
            "c": "abc",
            "S": "BUY",
            "o": "TRAILING_STOP_MARKET",
            "f": "GTC",
            "q": "0.40",
            "p": "0",
            "ap": "0.00000",
            "sp": "9300",
            "X": "NEW",
            "i": 1917641,
            "z": "0",
            "T": 1579276756076,
            "R": False,
            "wt": "CONTRACT_PRICE",
            "ot": "TRAILING_STOP_MARKET",
            "ps": "SHORT",
            "cp": False,
            "pP": False,
        }
    ]
    assert store.balance.find() == [{"a": "USDT", "wb": "122607.35", "cw": "23.72"}]
    assert store.position.find() == [
        {"s": "BTCUSDT", "pa": "0.000", "ep": "0.00000", "up": "0.00000000"}
        | {"mt": "isolated", "iw": "0", "ps": "BOTH"}
    ]
    assert store.compositeindex.find() == [
        {
            "s": "DEFIUSDT",
            "p": None,
            "E": 1589437530011,
            "c": [{"b": "BAL", "q": "USDT", "w": "1.04406228", "W": "0.02783900", "i": None}],
        }
    ]
    # The short row is not a kline array; the full one is stored in the WS shape.
    assert store.kline.find() == [
        {
            "t": 1499040060000,
            "T": 1499040119999,
            "s": "BTCUSDT",
            "i": "1m",
            "o": "1",
            "c": "1.5",
            "h": "2",
            "l": "0.5",
            "v": "1",
            "n": 3,
            "x": True,
            "q": "2",
            "V": "4",
            "Q": "5",
            "B": "0",
            "f": None,
            "L": None,
        }
    ]


def test_initialize_coinm_klines_go_to_their_stores() -> None:
    row = [1591256400000, "9653.3", "9680.2", "9653.3", "9680.2", "0", 1591256459999, "0"]
    row += [60, "0", "0", "0"]
    store = BinanceCOINMDataStore()
    store.initialize_nowait(
        (f"{DAPI}/dapi/v1/klines?symbol=BTCUSD_PERP&interval=1m", [row]),
        (f"{DAPI}/dapi/v1/indexPriceKlines?pair=BTCUSD&interval=1m", [row]),
        (f"{DAPI}/dapi/v1/markPriceKlines?symbol=BTCUSD_PERP&interval=1m", [row]),
        (f"{DAPI}/dapi/v1/balance", [{"asset": "BTC", "balance": "1", "crossWalletBalance": "1"}]),
    )
    assert [k["s"] for k in store.kline.find()] == ["BTCUSD_PERP"]
    assert [k["s"] for k in store.indexpricekline.find()] == ["BTCUSD"]
    assert [k["s"] for k in store.markpricekline.find()] == ["BTCUSD_PERP"]
    assert store.balance.find() == [{"a": "BTC", "wb": "1", "cw": "1"}]


def test_initialize_error_body_raises_after_the_others(caplog: pytest.LogCaptureFixture) -> None:
    store = BinanceSpotDataStore()
    with pytest.raises(InitializeError, match="-2015"):
        store.initialize_nowait(
            (f"{SPOT}/api/v3/openOrders", {"code": -2015, "msg": "Invalid API-key"}),
            (f"{SPOT}/api/v3/account", {"balances": [{"asset": "A", "free": "1", "locked": "0"}]}),
        )
    assert store.account.find() == [{"a": "A", "f": "1", "l": "0"}]
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        store.initialize_nowait(
            (f"{SPOT}/api/v3/klines?interval=1m", []),
            (f"{SPOT}/api/v3/depth", snapshot(1)),
            (f"{SPOT}/api/v3/openOrders", [{"symbol": "A"}]),
            (f"{SPOT}/api/v3/unknown", {}),
        )
    assert "no symbol or interval" in caplog.text
    assert "no symbol in the query" in caplog.text
    assert "without symbol/orderId" in caplog.text
    assert "does not support" in caplog.text


# ---------------------------------------------------------------------- listenKey


@pytest.mark.parametrize(
    ("cls", "url", "params"),
    [
        (BinanceSpotDataStore, f"{SPOT}/api/v3/userDataStream", True),
        (BinanceUSDSMDataStore, f"{FAPI}/fapi/v1/listenKey", False),
        (BinanceCOINMDataStore, f"{DAPI}/dapi/v1/listenKey", False),
    ],
)
def test_listenkey_keep_alive(
    cls: Any, url: str, params: bool, caplog: pytest.LogCaptureFixture
) -> None:
    key = "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"
    store = cls()
    carrier = Carrier()
    with caplog.at_level(logging.DEBUG, logger="botters.store"):
        store.initialize_nowait(RestResponse(url, {"listenKey": key}, carrier))
    assert store.listenkey == key
    (first,) = carrier.requests
    assert (first.method, first.url, dict(first.params)) == (
        "PUT",
        url,
        {"listenKey": key} if params else {},
    )
    assert (first.interval, first.first_delay, first.name) == (1800.0, 0.0, "binance listenKey")
    assert not first.stopped
    # A response from no botters client: the request waits for the caller.
    store.initialize_nowait(RestResponse(url, {"listenKey": key + "2"}))
    assert first.stopped
    assert store.listenkey == key + "2"
    (second,) = store.take_keepalive_requests()
    assert not second.stopped
    assert key not in caplog.text
    assert key not in repr(first) + repr(store)


# ---------------------------------------------------------------------- order book


def test_spot_book_as_binance_documents() -> None:
    ws = Recorder()
    store = BinanceSpotDataStore()
    store.onmessage(depth(157, 160, b=[("0.0024", "10")], a=[("0.0026", "100")]), ws)
    store.onmessage(depth(161, 165, b=[("0.0024", "0"), ("0.0023", "5")]), ws)
    assert store.orderbook.find() == []
    assert store.orderbook.sync_state("BNBBTC") is BookState.RESYNCING
    (request,) = ws.requests
    assert isinstance(request, FetchSnapshot)
    assert request.url == f"{SPOT}/api/v3/depth?symbol=BNBBTC&limit=1000"
    # The snapshot is at 162: the first diff is stale, the second straddles it.
    request.deliver(snapshot(162, bids=[("0.0024", "9"), ("0.0022", "1")], asks=[("0.0026", "1")]))
    assert store.orderbook.is_synced("BNBBTC")
    assert book(store) == {
        "a": [("0.0026", "1")],
        "b": [("0.0023", "5"), ("0.0022", "1")],
    }
    assert store.orderbook.sync_status("BNBBTC").seq == 165
    store.onmessage(depth(166, 166, a=[("0.0025", "2")]), ws)
    store.onmessage(depth(160, 166, a=[("0.0025", "7")]), ws)  # old: ignored
    assert book(store)["a"] == [("0.0025", "2"), ("0.0026", "1")]
    store.onmessage(depth(168, 170, a=[("0.0027", "2")]), ws)  # 167 was missed
    assert store.orderbook.find() == []
    assert store.orderbook.sync_status("BNBBTC").gaps == 1
    assert len(ws.requests) == 2
    ws.requests[1].deliver(snapshot(169, bids=[("0.0020", "1")]))
    assert book(store) == {"a": [("0.0027", "2")], "b": [("0.0020", "1")]}
    assert store.orderbook.sync_status("BNBBTC").seq == 170


def test_spot_snapshot_older_than_the_buffer_is_fetched_again() -> None:
    ws = Recorder()
    store = BinanceSpotDataStore()
    store.onmessage(depth(157, 160, b=[("1", "1")]), ws)
    store.initialize_nowait((f"{SPOT}/api/v3/depth?symbol=BNBBTC&limit=5000", snapshot(150)))
    # Still waiting for the snapshot the store asked for: that one comes next.
    assert store.orderbook.sync_state("BNBBTC") is BookState.RESYNCING
    (request,) = ws.requests
    request.deliver(snapshot(155))  # also too old: asked again (kept until a ws carries it)
    assert store.orderbook.sync_state("BNBBTC") is BookState.RESYNCING
    store.onmessage(depth(161, 161, b=[("2", "1")]), ws)
    assert len(ws.requests) == 2
    # The user's initialize URL (a limit of 5000) is what the store now fetches.
    assert ws.requests[1].url == f"{SPOT}/api/v3/depth?symbol=BNBBTC&limit=5000"
    ws.requests[1].deliver(snapshot(158, bids=[("3", "1")]))
    assert book(store) == {"a": [], "b": [("3", "1"), ("2", "1"), ("1", "1")]}


def test_reinitializing_with_an_older_snapshot_keeps_the_newer_diffs() -> None:
    # pybotters #566: initialize, newer diffs, initialize again with an older snapshot.
    for cls, base, extra in (
        (BinanceSpotDataStore, f"{SPOT}/api/v3/depth", {}),
        (BinanceUSDSMDataStore, f"{FAPI}/fapi/v1/depth", {"pu": 0}),
        (BinanceCOINMDataStore, f"{DAPI}/dapi/v1/depth", {"pu": 0}),
    ):
        store = cls()
        url = f"{base}?symbol=BNBBTC"
        store.initialize_nowait((url, snapshot(100, bids=[("1", "1")])))
        pu = 100
        for u in (101, 102, 103):
            msg = depth(u, u, b=[(str(u), "1")])
            if extra:
                msg["pu"] = pu
                pu = u
            store.onmessage(msg)
        store.initialize_nowait((url, snapshot(100, bids=[("1", "1")])))
        assert book(store)["b"] == [("103", "1"), ("102", "1"), ("101", "1"), ("1", "1")], cls
        assert store.orderbook.is_synced("BNBBTC")


def test_futures_book_links_by_pu() -> None:
    ws = Recorder()
    store = BinanceUSDSMDataStore()
    store.onmessage(depth(150, 157, pu=149, b=[("1", "1")], s="BTCUSDT"), ws)
    store.onmessage(depth(158, 165, pu=157, b=[("2", "1")], s="BTCUSDT"), ws)
    store.onmessage(depth(170, 171, pu=165, b=[("3", "1")], s="BTCUSDT"), ws)
    (request,) = ws.requests
    assert request.url == f"{FAPI}/fapi/v1/depth?symbol=BTCUSDT&limit=1000"
    # lastUpdateId 160: u < 160 dropped, the first applied has U <= 160 <= u.
    request.deliver(snapshot(160, bids=[("9", "1")]))
    assert book(store, "BTCUSDT")["b"] == [("9", "1"), ("3", "1"), ("2", "1")]
    assert store.orderbook.sync_status("BTCUSDT").seq == 171
    store.onmessage(depth(172, 173, pu=171, b=[("9", "0")], s="BTCUSDT"), ws)
    store.onmessage(depth(172, 173, pu=171, b=[("9", "5")], s="BTCUSDT"), ws)  # duplicate
    assert book(store, "BTCUSDT")["b"] == [("3", "1"), ("2", "1")]
    store.onmessage(depth(180, 181, pu=175, s="BTCUSDT"), ws)  # pu != 173: a gap
    assert not store.orderbook.is_synced("BTCUSDT")
    assert len(ws.requests) == 2


def test_futures_first_diff_may_start_right_after_the_snapshot() -> None:
    store = BinanceCOINMDataStore()
    url = f"{DAPI}/dapi/v1/depth?symbol=BTCUSD_PERP&limit=100"
    store.initialize_nowait((url, snapshot(160, asks=[("10", "1")])))
    store.onmessage(depth(165, 170, pu=160, a=[("11", "2")], s="BTCUSD_PERP"))
    assert store.orderbook.is_synced("BTCUSD_PERP")
    assert book(store, "BTCUSD_PERP")["a"] == [("10", "1"), ("11", "2")]
    store.onmessage(depth(175, 176, pu=172, s="BTCUSD_PERP"))
    (request,) = store.take_resync_requests()
    assert isinstance(request, FetchSnapshot)
    assert request.url == f"{DAPI}/dapi/v1/depth?symbol=BTCUSD_PERP&limit=100"


def test_buffer_overflow_is_logged_and_loses_nothing_silently(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = BinanceSpotDataStore()
    store.orderbook._BUFFER_MAX = 5
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        for u in range(101, 111):
            store.onmessage(depth(u, u, b=[(str(u), "1")]))
    assert caplog.text.count("diffs buffered and still no snapshot") == 1
    # 101..105 are gone: a snapshot at 100 cannot be linked and is not applied.
    store.initialize_nowait((f"{SPOT}/api/v3/depth?symbol=BNBBTC", snapshot(100)))
    assert store.orderbook.find() == []
    store.initialize_nowait((f"{SPOT}/api/v3/depth?symbol=BNBBTC", snapshot(105)))
    assert book(store)["b"] == [(str(u), "1") for u in range(110, 105, -1)]


def test_feed_interrupted_unsyncs_and_a_late_fetch_is_ignored() -> None:
    ws = Recorder()
    store = BinanceSpotDataStore()
    store.onmessage(depth(101, 101, b=[("1", "1")]), ws)
    (request,) = ws.requests
    store.feed_interrupted()
    assert store.orderbook.sync_state("BNBBTC") is BookState.UNSYNCED
    request.deliver(snapshot(100, bids=[("5", "5")]))
    assert store.orderbook.find() == []
    store.initialize_nowait((f"{SPOT}/api/v3/depth?symbol=BNBBTC", snapshot(100, [("5", "5")])))
    assert store.orderbook.is_synced("BNBBTC")
    store.feed_interrupted()
    assert store.orderbook.find() == []
    assert not store.orderbook.is_synced("BNBBTC")


def test_malformed_diffs_and_snapshots(caplog: pytest.LogCaptureFixture) -> None:
    store = BinanceSpotDataStore()
    url = f"{SPOT}/api/v3/depth?symbol=BNBBTC"
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        store.initialize_nowait((url, {"lastUpdateId": "1", "bids": [], "asks": []}))
        store.initialize_nowait((url, {"lastUpdateId": 1, "bids": [["x", "1"]], "asks": []}))
        assert not store.orderbook.is_synced("BNBBTC")
        store.initialize_nowait((url, snapshot(1, bids=[("1", "1"), ("0.5", "0")])))
        assert book(store)["b"] == [("1", "1")]  # a zero-quantity snapshot level is not a level
        store.onmessage(depth(2, 2, b=[("nan", "1")]))
    assert "malformed" in caplog.text
    assert not store.orderbook.is_synced("BNBBTC")
    futures = BinanceUSDSMDataStore()
    futures.initialize_nowait((f"{FAPI}/fapi/v1/depth?symbol=BNBBTC", snapshot(1)))
    futures.onmessage(depth(1, 2))  # no pu
    assert not futures.orderbook.is_synced("BNBBTC")


def test_watch_changes_of_a_diff() -> None:
    store = BinanceSpotDataStore()
    store.initialize_nowait(
        (f"{SPOT}/api/v3/depth?symbol=BNBBTC", snapshot(100, bids=[("3", "1")], asks=[("4", "1")]))
    )
    stream = store.orderbook.watch()
    store.onmessage(depth(101, 101, b=[("1", "1"), ("3", "0")], a=[("4", "0"), ("6", "1")]))
    changes = [(c.operation, c.source, c.data) for c in iter(stream.get_nowait, None)]
    level = {"s": "BNBBTC"}
    assert changes == [
        ("delete", level | {"S": "a", "p": "4"}, level | {"S": "a", "p": "4", "q": "1"}),
        ("update", None, level | {"S": "a", "p": "6", "q": "1"}),
        ("update", None, level | {"S": "b", "p": "1", "q": "1"}),
        ("delete", level | {"S": "b", "p": "3"}, level | {"S": "b", "p": "3", "q": "1"}),
    ]


def test_symbols_are_separate_books_and_the_query_symbol_is_upper_cased() -> None:
    store = BinanceSpotDataStore()
    store.initialize_nowait(
        (f"{SPOT}/api/v3/depth?symbol=btcusdt", snapshot(10, bids=[("1", "1")])),
        (f"{SPOT}/api/v3/depth?symbol=ETHUSDT", snapshot(20, asks=[("2", "1")])),
    )
    store.onmessage(depth(11, 11, b=[("1.5", "1")], s="BTCUSDT"))
    assert store.orderbook.sorted() == {
        "a": [{"s": "ETHUSDT", "S": "a", "p": "2", "q": "1"}],
        "b": [
            {"s": "BTCUSDT", "S": "b", "p": "1.5", "q": "1"},
            {"s": "BTCUSDT", "S": "b", "p": "1", "q": "1"},
        ],
    }
    assert copy.deepcopy(store.orderbook.sorted({"s": "ETHUSDT"}, limit=1))["b"] == []
