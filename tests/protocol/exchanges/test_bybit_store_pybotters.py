"""Differential test: botters' BybitDataStore against the installed pybotters 1.11.2.

Random but valid message streams (what Bybit v5 sends, per
https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook and the
other topic pages) and REST responses are fed to both. Every store's
``find()``, the book's ``sorted()`` and every store's ``watch()`` changes must
be equal.

Deliberate differences are kept out of the streams, each for its reason:

* order-book deltas always follow their book's snapshot with the next ``u``
  (botters links deltas by ``u`` and drops a delta it cannot link or that
  arrives before a snapshot; pybotters applies anything);
* one depth per symbol (botters ignores a second depth's messages);
* sizes are ``"0"`` or non-zero; snapshots carry no size-0 level (botters
  treats ``"0.000"`` as zero and does not store size-0 snapshot levels);
* every order item has an ``orderId`` and an ``orderStatus`` (pybotters raises
  without one);
* no unknown topics (pybotters raises ``KeyError``);
* ``/v5/order/realtime`` queries have no ``orderId``/``orderLinkId``/``cursor``/
  ``openOnly`` and return rows with open statuses (botters narrows what such
  queries replace and does not store closed rows);
* fewer items than any store's size bound (botters' order book drops its
  deepest levels past its bound, pybotters the oldest of 9,999).
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botters.protocol.exchanges.bybit import BybitDataStore
from botters.protocol.store import RestResponse

pybotters = pytest.importorskip("pybotters")

API = "https://api.bybit.com"
NAMES = [
    "orderbook",
    "publicTrade",
    "tickers",
    "kline",
    "allLiquidation",
    "kline_lt",
    "tickers_lt",
    "lt",
    "liquidation",
    "position",
    "execution",
    "order",
    "wallet",
    "greeks",
]
# Disjoint price grids per symbol, so the merged no-query sorted() has no ties
# between books (their order among equal prices is not a Bybit concern).
PRICES = {
    "BTCUSDT": ["30000", "30000.5", "30001", "30001.5", "29999.5", "29999", "29998"],
    "ETHUSDT": ["2000.01", "2000.02", "1999.99", "1999.98", "2000.1", "1999.9"],
}
SIZES = st.sampled_from(["0.001", "1", "2.5", "17.25", "0.010"])


def levels(symbol: str, zero: bool) -> st.SearchStrategy[list[list[str]]]:
    size = st.sampled_from(["0"]) | SIZES if zero else SIZES
    return st.lists(st.tuples(st.sampled_from(PRICES[symbol]), size).map(list), max_size=5)


@st.composite
def book_ops(draw: st.DrawFn) -> list[tuple[str, str, Any, Any]]:
    ops = []
    for _ in range(draw(st.integers(0, 12))):
        symbol = draw(st.sampled_from(list(PRICES)))
        kind = draw(st.sampled_from(["snapshot", "delta", "delta", "delta", "restart"]))
        zero = kind == "delta"
        ops.append((kind, symbol, draw(levels(symbol, zero)), draw(levels(symbol, zero))))
    return ops


def book_messages(ops: list[tuple[str, str, Any, Any]], jumps: list[int]) -> list[dict]:
    u: dict[str, int] = {}
    out = []
    for i, (kind, symbol, bids, asks) in enumerate(ops):
        if kind == "delta" and symbol not in u:
            kind = "snapshot"  # no delta before its book's snapshot; no size 0 in a snapshot
            bids = [level for level in bids if level[1] != "0"]
            asks = [level for level in asks if level[1] != "0"]
        if kind == "restart":
            u[symbol] = 1
            kind = "snapshot"
        elif kind == "snapshot":
            u[symbol] = u.get(symbol, 100) + jumps[i % len(jumps)]  # a snapshot may jump
        else:
            u[symbol] += 1
        out.append(
            {
                "topic": f"orderbook.50.{symbol}",
                "type": kind,
                "ts": 1,
                "data": {"s": symbol, "b": bids, "a": asks, "u": u[symbol], "seq": 1},
                "cts": 1,
            }
        )
    return out


TEXT = st.sampled_from(["1", "2.5", "0.3", "x", ""])
SYMBOL = st.sampled_from(["BTCUSDT", "ETHUSDT", "XRPUSDT"])


def trade() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "T": st.integers(1, 10),
            "s": SYMBOL,
            "S": st.sampled_from(["Buy", "Sell"]),
            "v": TEXT,
            "p": TEXT,
            "i": st.text("abc", min_size=1, max_size=3),
            "BT": st.booleans(),
        }
    )


def public_messages() -> st.SearchStrategy[dict[str, Any]]:
    ticker_fields = st.dictionaries(
        st.sampled_from(["lastPrice", "bid1Price", "ask1Size", "fundingRate", "markPrice"]),
        TEXT,
        max_size=4,
    )
    candle = st.fixed_dictionaries(
        {
            "start": st.sampled_from([0, 60000]),
            "end": st.sampled_from([59999, 119999]),
            "interval": st.just("1"),
            "close": TEXT,
            "confirm": st.booleans(),
        }
    )
    return st.one_of(
        st.builds(
            lambda s, data: {"topic": f"publicTrade.{s}", "type": "snapshot", "data": data},
            SYMBOL,
            st.lists(trade(), max_size=3),
        ),
        st.builds(
            lambda s, kind, fields: {
                "topic": f"tickers.{s}",
                "type": kind,
                "data": {"symbol": s, **fields},
                "cs": 1,
                "ts": 1,
            },
            SYMBOL,
            st.sampled_from(["snapshot", "delta"]),
            ticker_fields,
        ),
        st.builds(
            lambda name, i, s, data: {
                "topic": f"{name}.{i}.{s}",
                "type": "snapshot",
                "data": data,
            },
            st.sampled_from(["kline", "kline_lt"]),
            st.sampled_from(["1", "5"]),
            SYMBOL,
            st.lists(candle, max_size=2),
        ),
        st.builds(
            lambda s, data: {"topic": f"allLiquidation.{s}", "type": "snapshot", "data": data},
            SYMBOL,
            st.lists(trade(), max_size=2),
        ),
        st.builds(
            lambda s, size: {
                "topic": f"liquidation.{s}",
                "type": "snapshot",
                "data": {"symbol": s, "side": "Buy", "size": size, "price": "1"},
            },
            SYMBOL,
            TEXT,
        ),
        st.builds(
            lambda name, s, fields: {
                "topic": f"{name}.{s}",
                "type": "snapshot",
                "data": {"symbol": s, **fields},
            },
            st.sampled_from(["tickers_lt", "lt"]),
            st.sampled_from(["BTC3LUSDT", "EOS3SUSDT"]),
            st.dictionaries(st.sampled_from(["nav", "lastPrice", "leverage"]), TEXT, max_size=3),
        ),
    )


STATUSES = [
    "Created",
    "New",
    "PartiallyFilled",
    "Untriggered",
    "Active",
    "Rejected",
    "Filled",
    "Cancelled",
    "PartiallyFilledCanceled",
    "Triggered",
    "Deactivated",
    "SomethingNew",
]
OPEN = ["Created", "New", "PartiallyFilled", "Untriggered", "Active"]
ORDER_SYMBOLS = st.sampled_from(["BTCUSDT", "ETHUSDT", "BTCPERP", "ETHBTC"])


def order(statuses: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "orderId": st.sampled_from(["o1", "o2", "o3", "o4", "o5"]),
            "orderLinkId": st.sampled_from(["", "", "L1", "L2"]),
            "orderStatus": st.sampled_from(statuses),
            "symbol": ORDER_SYMBOLS,
        },
        optional={
            "category": st.sampled_from(["linear", "spot"]),
            "cumExecQty": TEXT,
            "price": TEXT,
        },
    )


def position() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"symbol": ORDER_SYMBOLS, "positionIdx": st.sampled_from([0, 1, 2])},
        optional={"size": TEXT, "side": st.sampled_from(["Buy", "Sell", ""]), "category": TEXT},
    )


def wallet() -> st.SearchStrategy[dict[str, Any]]:
    coin = st.fixed_dictionaries(
        {"coin": st.sampled_from(["BTC", "USDT", "ETH"])}, optional={"equity": TEXT}
    )
    # Bybit always sends "coin" (pybotters raises KeyError without it).
    return st.fixed_dictionaries(
        {
            "accountType": st.sampled_from(["UNIFIED", "CONTRACT"]),
            "coin": st.lists(coin, max_size=3),
        },
        optional={"totalEquity": TEXT},
    )


def private_messages() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.builds(
            lambda t, data: {"topic": t, "creationTime": 1, "data": data},
            st.sampled_from(["order", "order.linear", "order.spot"]),
            st.lists(order(STATUSES), max_size=3),
        ),
        st.builds(
            lambda t, data: {"topic": t, "data": data},
            st.sampled_from(["position", "position.linear"]),
            st.lists(position(), max_size=3),
        ),
        st.builds(
            lambda t, data: {"topic": t, "data": data},
            st.sampled_from(["execution", "execution.fast", "execution.spot"]),
            st.lists(trade(), max_size=2),
        ),
        st.builds(lambda data: {"topic": "wallet", "data": data}, st.lists(wallet(), max_size=2)),
        st.builds(
            lambda data: {"topic": "greeks", "data": data},
            st.lists(
                st.fixed_dictionaries(
                    {"baseCoin": st.sampled_from(["BTC", "ETH"])},
                    optional={"totalDelta": TEXT, "totalGamma": TEXT},
                ),
                max_size=2,
            ),
        ),
    )


def ok(rows: list[Any], **result: Any) -> dict[str, Any]:
    return {"retCode": 0, "retMsg": "OK", "result": {"list": rows, **result}, "time": 1}


def rest_responses() -> st.SearchStrategy[tuple[str, Any]]:
    order_query = st.sampled_from(
        [
            "category=linear&symbol=BTCUSDT",
            "category=linear&symbol=ETHBTC",
            "category=linear&baseCoin=BTC",
            "category=linear&settleCoin=USDT",
            "category=spot&settleCoin=BTC",
            "category=spot",
            "category=linear",
        ]
    )
    rest_order = order(OPEN).map(lambda o: {k: v for k, v in o.items() if k != "category"})
    return st.one_of(
        st.builds(
            lambda q, rows: (f"{API}/v5/order/realtime?{q}", ok(rows)),
            order_query,
            st.lists(rest_order, max_size=3),
        ),
        st.builds(
            lambda rows: (f"{API}/v5/position/list?category=linear", ok(rows)),
            st.lists(position(), max_size=3),
        ),
        st.builds(
            lambda rows: (f"{API}/v5/account/wallet-balance?accountType=UNIFIED", ok(rows)),
            st.lists(wallet(), max_size=2),
        ),
    )


class _Response:
    """What pybotters' initialize awaits: a response with ``.url`` and ``async json()``."""

    def __init__(self, url: str, body: Any) -> None:
        import yarl

        self.url = yarl.URL(url)
        self._body = body

    async def json(self) -> Any:
        return copy.deepcopy(self._body)


async def _resolved(response: _Response) -> _Response:
    return response


def _drain_pybotters(stream: Any) -> list[tuple[str, Any, Any]]:
    # pybotters' StoreStream wraps an unbounded asyncio.Queue (inventory §1.8).
    out = []
    while not stream._queue.empty():
        change = stream._queue.get_nowait()
        out.append((change.operation, change.source, change.data))
    return out


def _drain_botters(stream: Any) -> list[tuple[str, Any, Any]]:
    return [(c.operation, c.source, c.data) for c in iter(stream.get_nowait, None)]


def _run_both(events: list[tuple[str, Any]]) -> tuple[Any, BybitDataStore, dict, dict]:
    theirs = pybotters.BybitDataStore()
    ours = BybitDataStore()
    their_streams = {n: theirs[n].watch() for n in NAMES}
    our_streams = {n: ours[n].watch(maxsize=1_000_000) for n in NAMES}
    their_changes: dict[str, list[Any]] = {n: [] for n in NAMES}
    our_changes: dict[str, list[Any]] = {n: [] for n in NAMES}

    async def main() -> None:
        for kind, payload in events:
            if kind == "ws":
                theirs.onmessage(copy.deepcopy(payload))
                ours.onmessage(copy.deepcopy(payload))
            else:
                url, body = payload
                await theirs.initialize(_resolved(_Response(url, body)))
                ours.initialize_nowait(RestResponse(url, copy.deepcopy(body)))
            for n in NAMES:  # drain as we go: deep copies taken at the same moments
                their_changes[n] += _drain_pybotters(their_streams[n])
                our_changes[n] += _drain_botters(our_streams[n])

    asyncio.run(main())
    return theirs, ours, their_changes, our_changes


def _assert_same(events: list[tuple[str, Any]]) -> None:
    theirs, ours, their_changes, our_changes = _run_both(events)
    for name in NAMES:
        assert ours[name].find() == theirs[name].find(), name
        assert len(ours[name]) == len(theirs[name]), name
        assert our_changes[name] == their_changes[name], name
    for query in (None, {"s": "BTCUSDT"}, {"s": "ETHUSDT"}, {"S": "a"}):
        for limit in (None, 1, 3):
            assert ours.orderbook.sorted(query, limit) == theirs.orderbook.sorted(query, limit)


EVENTS = st.lists(
    st.tuples(st.just("ws"), public_messages() | private_messages())
    | st.tuples(st.just("rest"), rest_responses()),
    max_size=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=book_ops(),
    jumps=st.lists(st.integers(0, 50), min_size=1, max_size=4),
    others=EVENTS,
    seed=st.randoms(use_true_random=False),
)
def test_same_stores_as_pybotters(
    ops: list[Any], jumps: list[int], others: list[tuple[str, Any]], seed: Any
) -> None:
    # Interleave the book stream with the rest, keeping each stream's order.
    book: list[tuple[str, Any]] = [("ws", m) for m in book_messages(ops, jumps)]
    rest = list(others)
    merged: list[tuple[str, Any]] = []
    while book or rest:
        source = book if book and (not rest or seed.random() < 0.5) else rest
        merged.append(source.pop(0))
    _assert_same(merged)


def test_documented_examples_match_pybotters() -> None:
    # A hand-written stream of the docs' examples, one per topic, through both.
    snapshot = {
        "topic": "orderbook.50.BTCUSDT",
        "type": "snapshot",
        "ts": 1672304484978,
        "data": {
            "s": "BTCUSDT",
            "b": [["16493.50", "0.006"], ["16493.00", "0.100"]],
            "a": [["16611.00", "0.029"], ["16612.00", "0.213"]],
            "u": 18521288,
            "seq": 7961638724,
        },
        "cts": 1672304484976,
    }
    delta = copy.deepcopy(snapshot)
    delta["type"] = "delta"
    delta["data"].update(b=[["16493.50", "0"], ["16490.00", "1"]], a=[["16611.00", "0.5"]])
    delta["data"]["u"] += 1
    events: list[tuple[str, Any]] = [
        ("ws", snapshot),
        ("ws", delta),
        (
            "ws",
            {
                "topic": "tickers.BTCUSDT",
                "type": "snapshot",
                "data": {"symbol": "BTCUSDT", "lastPrice": "17216.00", "bid1Price": "17215.50"},
                "cs": 24987956059,
                "ts": 1673272861686,
            },
        ),
        (
            "ws",
            {
                "topic": "tickers.BTCUSDT",
                "type": "delta",
                "data": {"symbol": "BTCUSDT", "bid1Price": "17216.00"},
                "cs": 24987956060,
                "ts": 1673272861687,
            },
        ),
        (
            "ws",
            {
                "topic": "order",
                "data": [
                    {"orderId": "a", "orderLinkId": "L", "orderStatus": "New", "symbol": "X"},
                    {"orderId": "b", "orderLinkId": "L", "orderStatus": "New", "symbol": "X"},
                    {"orderId": "c", "orderLinkId": "", "orderStatus": "New", "symbol": "X"},
                ],
            },
        ),
        (
            "ws",
            {
                "topic": "order",
                "data": [{"orderId": "a", "orderLinkId": "L", "orderStatus": "Filled"}],
            },
        ),
        (
            "ws",
            {
                "topic": "wallet",
                "data": [
                    {"accountType": "UNIFIED", "coin": [{"coin": "BTC"}, {"coin": "USDT"}]},
                    {"accountType": "UNIFIED", "coin": [{"coin": "ETH"}, {"coin": "BTC", "x": 1}]},
                ],
            },
        ),
        ("rest", (f"{API}/v5/order/realtime?category=linear&symbol=X", ok([]))),
    ]
    _assert_same(events)
    _, ours, _, _ = _run_both(events)
    assert [o["orderId"] for o in ours.order.find()] == ["c"]  # no category: not covered
    assert len(ours.orderbook.find()) == 4
