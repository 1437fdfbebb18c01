"""OKXDataStore (everything but the order book), fed OKX v5's documented message shapes.

Pushes follow the channel pages of https://www.okx.com/docs-v5/en/ (tickers, candlesticks,
trades, status, public-data channels, account, positions, balance_and_position, orders,
orders-algo, algo-advance, account-greeks, position-risk-warning) and the REST pages of
``/api/v5/trade/orders-pending`` and ``/api/v5/trade/orders-algo-pending``. Expected items
were observed by running pybotters 1.11.2 on the same messages, except where a test says
botters deliberately differs. Order books: ``test_okx_store_book.py``; differential tests
against pybotters: ``test_okx_store_diff.py``.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from botters.protocol.exchanges.okx import (
    Account,
    AccountGreeks,
    AlgoAdvance,
    BalanceAndPosition,
    Books,
    Candle,
    EstimatedPrice,
    FundingRate,
    IndexCandle,
    IndexTickers,
    Instruments,
    LiquidationWarning,
    MarkPrice,
    MarkPriceCandle,
    OKXDataStore,
    OpenInterest,
    OptSummary,
    Orders,
    OrdersAlgo,
    Positions,
    PriceLimit,
    Status,
    Tickers,
    Trades,
)
from botters.protocol.store import DataStore, RestResponse

API = "https://www.okx.com"


def push(channel: str, data: Any, **arg: Any) -> dict[str, Any]:
    return {"arg": {"channel": channel, **arg}, "data": data}


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records]


# ==================================================================== the collection


# (attribute, store name, class, keys, MAXLEN): pybotters 1.11.2's, read off its instances.
STORES = [
    ("instruments", "instruments", Instruments, ["instId"], 9999),
    ("tickers", "tickers", Tickers, ["instId"], 9999),
    ("openinterest", "open-interest", OpenInterest, ["instId"], 9999),
    ("candle", "candle", Candle, ["channel", "instId", "ts"], 9999),
    ("trades", "trades", Trades, [], 9999),
    ("estimatedprice", "estimated-price", EstimatedPrice, ["instId"], 9999),
    ("markprice", "mark-price", MarkPrice, ["instId"], 9999),
    ("markpricecandle", "mark-price-candle", MarkPriceCandle, ["channel", "instId", "ts"], 9999),
    ("pricelimit", "price-limit", PriceLimit, ["instId"], 9999),
    ("books", "books", Books, ["instId", "side", "px"], None),
    ("optsummary", "opt-summary", OptSummary, ["instId"], 9999),
    ("fundingrate", "funding-rate", FundingRate, ["instId"], 9999),
    ("indexcandle", "index-candle", IndexCandle, ["channel", "instId", "ts"], 9999),
    ("indextickers", "index-tickers", IndexTickers, ["instId"], 9999),
    ("status", "status", Status, [], 9999),
    ("account", "account", Account, [], 9999),
    ("positions", "positions", Positions, ["instId", "mgnMode", "posSide"], 9999),
    ("balance_and_position", "balance_and_position", BalanceAndPosition, [], 9999),
    ("orders", "orders", Orders, ["ordId"], 9999),
    ("ordersalgo", "orders-algo", OrdersAlgo, ["algoId"], 9999),
    ("algoadvance", "algo-advance", AlgoAdvance, ["algoId"], 9999),
    ("liquidationwarning", "liquidation-warning", LiquidationWarning, ["instId"], 9999),
    ("accountgreeks", "account-greeks", AccountGreeks, ["ccy"], 9999),
]


def test_every_pybotters_store_with_its_names_keys_and_bounds() -> None:
    store = OKXDataStore()
    assert list(store) == [name for _, name, *_ in STORES]
    for attribute, name, cls, keys, maxlen in STORES:
        sub = getattr(store, attribute)
        assert sub is store[name]
        assert type(sub) is cls
        assert list(sub._keys) == keys
        if maxlen is not None:
            assert maxlen == sub._MAXLEN
    # An order book is bounded by depth, not by insertion age (pybotters: 9999, oldest
    # first, which drops live levels of a deep book): the core's deepest-level bound.
    assert store.books._MAXLEN > 9999
    nested = store.balance_and_position
    assert list(nested.balance._keys) == ["ccy"]
    assert list(nested.position._keys) == ["instId", "mgnMode", "posSide"]
    with pytest.raises(AttributeError):
        store.tickers = store.tickers  # type: ignore[misc]


# ==================================================================== public channels


def test_tickers_merge_by_instrument() -> None:
    # https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-tickers-channel
    ticker = {
        "instType": "SWAP",
        "instId": "BTC-USD-SWAP",
        "last": "9999.99",
        "lastSz": "0.1",
        "askPx": "9999.99",
        "askSz": "11",
        "bidPx": "8888.88",
        "bidSz": "5",
        "open24h": "9000",
        "high24h": "10000",
        "low24h": "8888.88",
        "volCcy24h": "2222",
        "vol24h": "2222",
        "sodUtc0": "2222",
        "sodUtc8": "2222",
        "ts": "1597026383085",
    }
    store = OKXDataStore()
    store.onmessage(push("tickers", [dict(ticker)], instId="BTC-USD-SWAP"))
    store.onmessage(push("tickers", [{"instId": "BTC-USD-SWAP", "last": "10000"}]))
    store.onmessage(push("tickers", [{"instId": "ETH-USD-SWAP", "last": "1"}]))
    assert store.tickers.get({"instId": "BTC-USD-SWAP"}) == {**ticker, "last": "10000"}
    assert [t["instId"] for t in store.tickers] == ["BTC-USD-SWAP", "ETH-USD-SWAP"]


@pytest.mark.parametrize(
    ("channel", "attribute"),
    [
        ("instruments", "instruments"),
        ("open-interest", "openinterest"),
        ("estimated-price", "estimatedprice"),
        ("mark-price", "markprice"),
        ("price-limit", "pricelimit"),
        ("opt-summary", "optsummary"),
        ("funding-rate", "fundingrate"),
        ("index-tickers", "indextickers"),
        ("liquidation-warning", "liquidationwarning"),
    ],
)
def test_instrument_keyed_stores_merge(channel: str, attribute: str) -> None:
    store = OKXDataStore()
    store.onmessage(
        push(
            channel,
            [
                {"instType": "SWAP", "instId": "BTC-USDT-SWAP", "a": "1", "b": "2"},
                {"instType": "SWAP", "instId": "ETH-USDT-SWAP", "a": "1"},
            ],
            instType="SWAP",
        )
    )
    store.onmessage(push(channel, [{"instId": "BTC-USDT-SWAP", "a": "3"}], instType="SWAP"))
    assert getattr(store, attribute).find() == [
        {"instType": "SWAP", "instId": "BTC-USDT-SWAP", "a": "3", "b": "2"},
        {"instType": "SWAP", "instId": "ETH-USDT-SWAP", "a": "1"},
    ]


def test_candles_zip_the_row_after_the_arg_and_merge_by_bar() -> None:
    # https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-candlesticks-channel
    # rows are [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]; pybotters keeps seven.
    store = OKXDataStore()
    row = ["1597026383085", "8533.02", "8553.74", "8527.17", "8548.26", "45247", "529.5858061"]
    store.onmessage(push("candle1D", [[*row, "529.5858061", "0"]], instId="BTC-USDT"))
    store.onmessage(push("candle1D", [["1597026383085", "8534"]], instId="BTC-USDT"))
    store.onmessage(push("candle1m", [[*row, "1", "1"]], instId="BTC-USDT"))
    fields = dict(zip(("ts", "o", "h", "l", "c", "vol", "volCcy"), row, strict=True))
    assert store.candle.find() == [
        {"channel": "candle1D", "instId": "BTC-USDT", **fields, "o": "8534"},
        {"channel": "candle1m", "instId": "BTC-USDT", **fields},
    ]


@pytest.mark.parametrize(
    ("channel", "attribute"),
    [("mark-price-candle1m", "markpricecandle"), ("index-candle30m", "indexcandle")],
)
def test_price_candles_keep_five_fields(channel: str, attribute: str) -> None:
    # https://www.okx.com/docs-v5/en/#public-data-websocket-mark-price-candlesticks-channel:
    # rows are [ts, o, h, l, c, confirm].
    store = OKXDataStore()
    store.onmessage(
        push(channel, [["1597026383085", "3.721", "3.743", "3.677", "3.708", "0"]], instId="X")
    )
    assert getattr(store, attribute).find() == [
        {
            "channel": channel,
            "instId": "X",
            "ts": "1597026383085",
            "o": "3.721",
            "h": "3.743",
            "l": "3.677",
            "c": "3.708",
        }
    ]
    assert store.candle.find() == []


def test_trades_and_status_keep_every_item() -> None:
    # https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-trades-channel
    trade = {
        "instId": "BTC-USDT",
        "tradeId": "130639474",
        "px": "42219.9",
        "sz": "0.12060306",
        "side": "buy",
        "ts": "1630048897897",
        "count": "3",
        "source": "0",
        "seqId": 1234,
    }
    store = OKXDataStore()
    store.onmessage(push("trades", [dict(trade)], instId="BTC-USDT"))
    store.onmessage(push("trades", [dict(trade)], instId="BTC-USDT"))
    assert store.trades.find() == [trade, trade]
    notice = {"title": "Spot System Upgrade", "state": "scheduled", "begin": "1610019546"}
    store.onmessage(push("status", [dict(notice)]))
    store.onmessage(push("status", [dict(notice)]))
    assert store.status.find() == [notice, notice]
    assert Trades._MAXLEN == 9999  # pybotters' bound for OKX trades (not 99,999)


# ==================================================================== private channels


def test_account_is_replaced_by_each_push() -> None:
    # https://www.okx.com/docs-v5/en/#trading-account-websocket-account-channel
    store = OKXDataStore()
    account = {"uTime": "1597026383085", "totalEq": "41624.32", "details": [{"ccy": "BTC"}]}
    store.onmessage(push("account", [account], uid="77982378738415879"))
    store.onmessage(push("account", [{"uTime": "2", "totalEq": "2"}, {"uTime": "3"}]))
    assert store.account.find() == [{"uTime": "2", "totalEq": "2"}, {"uTime": "3"}]
    store.onmessage(push("account", []))
    assert store.account.find() == []


def test_positions_merge_and_keep_closed_ones() -> None:
    # https://www.okx.com/docs-v5/en/#trading-account-websocket-positions-channel
    store = OKXDataStore()
    long = {"instId": "BTC-USDT-SWAP", "mgnMode": "cross", "posSide": "long", "pos": "1"}
    short = {**long, "posSide": "short", "pos": "2"}
    store.onmessage(push("positions", [dict(long), dict(short)], instType="ANY"))
    store.onmessage(push("positions", [{**long, "pos": "0", "upl": "5"}], instType="ANY"))
    assert store.positions.find() == [{**long, "pos": "0", "upl": "5"}, short]


def bp_push() -> dict[str, Any]:
    # https://www.okx.com/docs-v5/en/#trading-account-websocket-balance-and-position-channel
    return push(
        "balance_and_position",
        [
            {
                "pTime": "1597026383085",
                "eventType": "snapshot",
                "balData": [{"ccy": "BTC", "cashBal": "1", "uTime": "1597026383085"}],
                "posData": [
                    {
                        "posId": "1111111111",
                        "tradeId": "2",
                        "instId": "BTC-USD-191018",
                        "instType": "FUTURES",
                        "mgnMode": "cross",
                        "posSide": "long",
                        "pos": "10",
                        "ccy": "BTC",
                        "posCcy": "",
                        "avgPx": "3320",
                        "uTime": "1597026383085",
                    }
                ],
                "trades": [{"instId": "BTC-USD-191018", "tradeId": "2"}],
            }
        ],
        uid="77982378738415879",
    )


def test_balance_and_position_keeps_raw_pushes_and_merges_nested_stores() -> None:
    store = OKXDataStore()
    first = bp_push()
    received = copy.deepcopy(first["data"][0])
    store.onmessage(first)
    update = {
        "pTime": "1597026383999",
        "eventType": "filled",
        "balData": [{"ccy": "BTC", "cashBal": "0.5", "uTime": "1597026383999"}],
        "posData": [
            {
                "posId": "1111111111",
                "instId": "BTC-USD-191018",
                "mgnMode": "cross",
                "posSide": "long",
                "pos": "5",
            }
        ],
        "trades": [{"instId": "BTC-USD-191018", "tradeId": "3"}],
    }
    store.onmessage(push("balance_and_position", [copy.deepcopy(update)]))
    bp = store.balance_and_position
    # Deliberate difference: pybotters' nested stores share the raw push's dicts, so this
    # update rewrites the first stored push (its balData shows cashBal "0.5").
    assert bp.find() == [received, update]
    assert bp.balance.find() == [{"ccy": "BTC", "cashBal": "0.5", "uTime": "1597026383999"}]
    assert bp.position.find() == [{**received["posData"][0], "pos": "5"}]


def test_balance_and_position_pushes_may_carry_only_one_side(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # "Only balData will be pushed if only the account balance changes; only posData will
    # be pushed if only the position changes." pybotters raises KeyError('balData') on the
    # second push and so never applies its posData.
    store = OKXDataStore()
    store.onmessage(bp_push())
    position = {"instId": "BTC-USD-191018", "mgnMode": "cross", "posSide": "long", "pos": "7"}
    with caplog.at_level(logging.WARNING):
        store.onmessage(push("balance_and_position", [{"pTime": "2", "posData": [position]}]))
        store.onmessage(push("balance_and_position", [{"pTime": "3", "balData": "junk"}]))
    assert store.balance_and_position.position.find()[0]["pos"] == "7"
    assert store.balance_and_position.balance.find()[0]["cashBal"] == "1"
    assert len(store.balance_and_position) == 3
    assert any("balData is not an array" in m for m in messages(caplog))


def order(n: int, state: str, **fields: Any) -> dict[str, Any]:
    return {"instType": "SPOT", "instId": "BTC-USDT", "ordId": str(n), "state": state, **fields}


def test_orders_are_kept_while_live_or_partially_filled() -> None:
    # https://www.okx.com/docs-v5/en/#order-book-trading-trade-ws-order-channel
    store = OKXDataStore()
    store.onmessage(
        push("orders", [order(1, "live", px="1"), order(2, "live"), order(3, "live")], uid="7")
    )
    store.onmessage(
        push(
            "orders",
            [
                order(1, "partially_filled", fillSz="0.1"),
                order(2, "filled"),
                order(3, "canceled"),
                order(4, "mmp_canceled"),
                order(5, "live"),
            ],
        )
    )
    assert store.orders.find() == [
        order(1, "partially_filled", px="1", fillSz="0.1"),
        order(5, "live"),
    ]


ALGO_STATES = [
    "live",
    "pause",
    "partially_effective",
    "effective",
    "canceled",
    "order_failed",
    "partially_failed",
]


def algo(n: int, state: str, **fields: Any) -> dict[str, Any]:
    return {"instId": "BTC-USDT", "algoId": str(n), "state": state, **fields}


def test_algo_orders_follow_okx_states() -> None:
    # https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-ws-algo-orders-channel
    store = OKXDataStore()
    store.onmessage(push("orders-algo", [algo(n, s) for n, s in enumerate(ALGO_STATES)]))
    # Deliberate difference: pybotters keeps only "live" and "order_failed".
    assert [o["state"] for o in store.ordersalgo] == ["live", "pause", "partially_effective"]
    store.onmessage(push("orders-algo", [algo(0, "effective"), algo(1, "canceled")]))
    assert [o["algoId"] for o in store.ordersalgo] == ["2"]


def test_advance_algo_orders_follow_okx_states() -> None:
    # https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-ws-advance-algo-orders-channel
    store = OKXDataStore()
    states = [*ALGO_STATES, "partially_filled"]
    store.onmessage(push("algo-advance", [algo(n, s) for n, s in enumerate(states)]))
    # Deliberate difference: pybotters keeps only "live" and "partially_filled", so a
    # paused or part-executed iceberg order disappears from its store.
    assert [o["state"] for o in store.algoadvance] == [
        "live",
        "pause",
        "partially_effective",
        "partially_filled",
    ]


def test_orders_without_a_state_are_logged_and_the_rest_applied(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # pybotters raises KeyError('state') and drops the rest of the push.
    store = OKXDataStore()
    with caplog.at_level(logging.WARNING):
        store.onmessage(push("orders", [order(1, "live"), {"ordId": "2"}, order(3, "live")]))
        store.onmessage(push("orders", [{"state": "live"}]))
    assert [o["ordId"] for o in store.orders] == ["1", "3"]
    assert sum("without a state" in m for m in messages(caplog)) == 1
    assert any("without the key fields" in m for m in messages(caplog))


def test_account_greeks_merge_by_currency() -> None:
    # https://www.okx.com/docs-v5/en/#trading-account-websocket-account-greeks-channel
    store = OKXDataStore()
    store.onmessage(push("account-greeks", [{"ccy": "BTC", "deltaBS": "1", "ts": "1"}]))
    store.onmessage(push("account-greeks", [{"ccy": "BTC", "deltaBS": "2"}]))
    assert store.accountgreeks.find() == [{"ccy": "BTC", "deltaBS": "2", "ts": "1"}]


# ==================================================================== routing and errors


def test_unknown_channels_are_logged_once_each(caplog: pytest.LogCaptureFixture) -> None:
    # pybotters raises KeyError('bbo-tbt') (and 'trades-all', ...) out of onmessage.
    store = OKXDataStore()
    bbo = push("bbo-tbt", [{"asks": [["1", "1", "0", "1"]], "bids": [], "ts": "1"}], instId="X")
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            store.onmessage(bbo)
            store.onmessage(push("trades-all", [{"instId": "X", "tradeId": "1"}], instId="X"))
    store.onmessage(push("tickers", [{"instId": "X", "last": "1"}]))
    logged = [m for m in messages(caplog) if "no store for channel" in m]
    assert logged == [
        "OKX: no store for channel 'bbo-tbt'; its pushes are ignored",
        "OKX: no store for channel 'trades-all'; its pushes are ignored",
    ]
    assert store.books.find() == []
    assert store.trades.find() == []
    assert store.tickers.find() == [{"instId": "X", "last": "1"}]


def test_error_replies_are_logged_each_and_never_raise(caplog: pytest.LogCaptureFixture) -> None:
    store = OKXDataStore()
    # https://www.okx.com/docs-v5/en/#overview-websocket-subscribe (failure example)
    error = {
        "id": "1512",
        "event": "error",
        "code": "60012",
        "msg": 'Invalid request: {"op": "subscribe", "argss":[{ "channel" : "books"}]}',
        "connId": "a4d3ae55",
    }
    # https://www.okx.com/docs-v5/en/#order-book-trading-trade-ws-place-order (failure)
    failed_order = {
        "id": "1512",
        "op": "order",
        "code": "1",
        "msg": "",
        "data": [{"clOrdId": "", "ordId": "", "tag": "", "sCode": "5XXXX", "sMsg": "not exist"}],
        "inTime": "1695190491421339",
        "outTime": "1695190491423240",
    }
    ok_order = {**failed_order, "code": "0", "data": [{"ordId": "1", "sCode": "0", "sMsg": ""}]}
    with caplog.at_level(logging.DEBUG, logger="botters.store.okx"):
        store.onmessage(error)
        store.onmessage(error)
        store.onmessage(failed_order)
        store.onmessage(ok_order)
        store.onmessage({"event": "subscribe", "arg": {"channel": "tickers"}, "connId": "a"})
        store.onmessage({"event": "login", "code": "0", "msg": "", "connId": "a"})
        store.onmessage({"event": "notice", "code": "64008", "msg": "The connection will soon"})
        store.onmessage(
            {"event": "channel-conn-count-error", "channel": "orders", "connCount": "30"}
        )
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("OKX error reply: code=60012" in m for m in warnings) == 2
    assert [m for m in warnings if "order reply failed" in m] == [
        "OKX order reply failed: code=1 msg='' (id 1512); 5XXXX not exist"
    ]
    assert any("unexpected event 'channel-conn-count-error'" in m for m in warnings)
    assert len(warnings) == 4
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert infos == ["OKX notice: code=64008 msg='The connection will soon'"]


def test_a_push_marked_as_error_is_still_applied() -> None:
    store = OKXDataStore()
    store.onmessage({**push("orders", [order(1, "live")]), "event": "error"})
    assert store.orders.find() == [order(1, "live")]


def test_malformed_messages_are_logged_and_the_rest_applied(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = OKXDataStore()
    with caplog.at_level(logging.WARNING):
        store.onmessage(None)
        store.onmessage([1, 2])
        store.onmessage("pong")  # the keepalive answer: not logged
        store.onmessage({"arg": "tickers", "data": []})
        store.onmessage({"arg": {"channel": 5}, "data": []})
        store.onmessage(push("tickers", None))
        store.onmessage(push("tickers", {"instId": "X"}))
        store.onmessage(push("tickers", [1, {"instId": "A", "last": "1"}, "x"]))
        store.onmessage(push("candle1m", ["junk", ["1", "2"]], instId="X"))
        store.onmessage(push("tickers", [{"last": "no instId"}]))
    logged = messages(caplog)
    assert sum("not an object" in m for m in logged) == 2
    assert sum("without an arg.channel" in m for m in logged) == 2
    assert sum("data is not an array" in m for m in logged) == 2
    assert any("skipped 2 non-object element(s)" in m for m in logged)
    assert any("candle row is not an array" in m for m in logged)
    assert any("without the key fields" in m for m in logged)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert store.tickers.find() == [{"instId": "A", "last": "1"}]
    assert store.candle.find() == [{"channel": "candle1m", "instId": "X", "ts": "1", "o": "2"}]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
CHANNELS = st.sampled_from(
    [name for _, name, *_ in STORES]
    + ["books5", "books-l2-tbt", "candle1m", "mark-price-candle1D", "index-candle1m", "bbo-tbt"]
)
ARGS = st.fixed_dictionaries(
    {"channel": CHANNELS},
    optional={"instId": st.sampled_from(["BTC-USDT", "X"]) | JSON, "instType": JSON},
)
FIELDS = [
    *("instId", "ordId", "algoId", "state", "ccy", "asks", "bids", "seqId", "prevSeqId"),
    *("checksum", "ts", "balData", "posData", "mgnMode", "posSide", "ordType"),
]
ELEMENTS = st.lists(
    JSON
    | st.dictionaries(
        st.sampled_from(FIELDS),
        JSON | st.lists(st.lists(JSON, max_size=5), max_size=3),
        max_size=6,
    ),
    max_size=4,
)
MESSAGES = (
    JSON
    | st.fixed_dictionaries(
        {"arg": ARGS | JSON, "data": ELEMENTS | JSON},
        optional={"action": st.sampled_from(["snapshot", "update"]) | JSON, "event": JSON},
    )
    | st.fixed_dictionaries({"event": JSON}, optional={"arg": ARGS | JSON, "code": JSON})
    | st.fixed_dictionaries({"op": JSON, "code": JSON}, optional={"data": JSON, "id": JSON})
)


@settings(max_examples=400, deadline=None)
@given(stream=st.lists(MESSAGES, max_size=12))
def test_garbage_never_raises_inside_the_store(stream: list[Any]) -> None:
    # onmessage itself never raises (the core catches and logs); this asserts the OKX code
    # handles garbage on its own paths: no "failed to apply a message" record, ever.
    store = OKXDataStore()
    handler = _Collect()
    logger = logging.getLogger("botters.store")
    logger.addHandler(handler)
    try:
        for msg in stream:
            store.onmessage(msg)
            store.take_resync_requests()
        store.feed_interrupted()
        for msg in stream:
            store.onmessage(msg)
    finally:
        logger.removeHandler(handler)
    assert not [r for r in handler.records if r.levelno >= logging.ERROR], [
        r.getMessage() for r in handler.records if r.levelno >= logging.ERROR
    ]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_feed_interrupted_keeps_items_of_plain_stores() -> None:
    store = OKXDataStore()
    store.onmessage(push("tickers", [{"instId": "X", "last": "1"}]))
    store.onmessage(push("orders", [order(1, "live")]))
    store.feed_interrupted()
    assert store.tickers.find() == [{"instId": "X", "last": "1"}]
    assert store.orders.find() == [order(1, "live")]


# ==================================================================== initialize


def rest(path: str, data: Any, code: Any = "0", **query: str) -> RestResponse:
    url = API + path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    return RestResponse(url, {"code": code, "msg": "", "data": data})


def test_initialize_orders_pending_merges_into_orders() -> None:
    store = OKXDataStore()
    store.onmessage(push("orders", [order(1, "live", a="1")]))
    store.initialize_nowait(
        rest(
            "/api/v5/trade/orders-pending",
            [{"ordId": "1", "b": "2"}, order(2, "partially_filled")],
            instType="SPOT",
        )
    )
    assert store.orders.find() == [order(1, "live", a="1", b="2"), order(2, "partially_filled")]


def test_initialize_algo_orders_are_filed_by_order_type(caplog: pytest.LogCaptureFixture) -> None:
    rows = [
        algo(n, "live", ordType=kind)
        for n, kind in enumerate(
            ["conditional", "oco", "trigger", "chase", "iceberg", "twap", "move_order_stop"]
        )
    ]
    store = OKXDataStore()
    with caplog.at_level(logging.WARNING):

        async def main() -> None:
            await store.initialize(
                rest("/api/v5/trade/orders-algo-pending", rows, ordType="conditional"),
                rest("/api/v5/trade/orders-algo-pending", [algo(9, "live", ordType="grid")]),
            )

        trio.run(main)
    # "chase" is an orders-algo type (the channel's ordType list); pybotters drops it.
    assert [o["ordType"] for o in store.ordersalgo] == ["conditional", "oco", "trigger", "chase"]
    assert [o["ordType"] for o in store.algoadvance] == ["iceberg", "twap", "move_order_stop"]
    assert any("no store for ordType 'grid'" in m for m in messages(caplog))


def test_initialize_warns_on_error_codes_and_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    store = OKXDataStore()
    with caplog.at_level(logging.WARNING):
        store.initialize_nowait(
            rest("/api/v5/trade/orders-pending", [order(1, "live")], code="50001"),
            RestResponse(API + "/api/v5/trade/orders-pending", {"msg": "no code", "data": []}),
            rest("/api/v5/trade/orders-pending", None, code="50011"),
            rest("/api/v5/trade/orders-pending", {"not": "a list"}),
            RestResponse(API + "/api/v5/trade/orders-algo-pending", ["not", "an", "object"]),
            rest("/api/v5/account/balance", [{"totalEq": "1"}]),
            rest("/api/v5/trade/orders-pending", [order(2, "live")]),
        )
    logged = messages(caplog)
    assert sum("error response" in m for m in logged) == 3
    assert any("data is not an array" in m for m in logged)
    assert any("orders-algo-pending: not an object" in m for m in logged)
    assert any("does not support" in m and "/api/v5/account/balance" in m for m in logged)
    assert [o["ordId"] for o in store.orders] == ["1", "2"]


def test_every_store_is_a_datastore() -> None:
    store = OKXDataStore()
    assert all(isinstance(store[name], DataStore) for name in store)
