"""Differential test: botters' Binance DataStores against the installed pybotters 1.11.2.

Random but valid message streams (the shapes of the Binance docs' examples) and
REST responses are fed to ``pybotters.Binance{Spot,USDSM,COINM}DataStore`` and
to ours. Every store's ``find()`` and ``watch()`` changes, and the book's
levels and ``sorted()``, must be equal.

Deliberate differences are kept out of the streams, each for its reason:

* the book stream is what one Binance connection delivers, complete and in
  order (plus re-deliveries of earlier diffs), and every snapshot can be
  linked to it: its ``lastUpdateId`` is at or after the id just before the
  first diff delivered, never inside a futures numbering gap, and no older
  than the snapshot before (botters checks ``U``/``pu`` and keeps a synced
  book over an older snapshot; pybotters applies whatever comes, so on such
  streams it would hold a wrong book);
* the book's ``find()`` order and ``watch()`` changes are not compared: a
  snapshot no newer than a synced book leaves botters' book untouched, while
  pybotters deletes and re-inserts every level (the levels are the same);
* snapshots carry no zero quantities (botters does not store them);
* ticker events come one at a time (pybotters raises for ``!ticker@arr``);
* no ``EXPIRED_IN_MATCH`` order status (botters removes the order, pybotters
  keeps it);
* every REST row has all its fields, every ``ACCOUNT_UPDATE`` has ``B`` and
  ``P`` and no unknown events (pybotters raises ``KeyError`` otherwise);
* fewer items than any store's size bound.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botters.protocol.exchanges.binance import (
    BinanceCOINMDataStore,
    BinanceSpotDataStore,
    BinanceUSDSMDataStore,
)
from botters.protocol.store import RestResponse

pybotters = pytest.importorskip("pybotters")

MARKETS = {
    "spot": (BinanceSpotDataStore, "BinanceSpotDataStore", "https://api.binance.com/api/v3"),
    "usdsm": (BinanceUSDSMDataStore, "BinanceUSDSMDataStore", "https://fapi.binance.com/fapi/v1"),
    "coinm": (BinanceCOINMDataStore, "BinanceCOINMDataStore", "https://dapi.binance.com/dapi/v1"),
}
# Disjoint price grids per symbol, so the merged no-query sorted() has no ties.
PRICES = {
    "BTCUSDT": ["30000", "30000.5", "30001", "30001.5", "29999.5", "29999", "29998"],
    "ETHUSDT": ["2000.01", "2000.02", "1999.99", "1999.98", "2000.1", "1999.9"],
}
SIZES = ["0.001", "1", "2.5", "17.25", "0.010"]
SYMBOL = st.sampled_from(["BTCUSDT", "ETHUSDT", "XRPUSDT"])
TEXT = st.sampled_from(["1", "2.5", "0.3", "x", ""])
SMALL = st.integers(1, 4)

Levels = dict[tuple[str, str], str]


# ---------------------------------------------------------------------- the book


class Venue:
    """One symbol's book on the exchange: events with their ids and the book after each."""

    def __init__(self, symbol: str, futures: bool, draw: st.DrawFn) -> None:
        self.symbol = symbol
        self.futures = futures
        level = st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(PRICES[symbol]))
        state: Levels = draw(st.dictionaries(level, st.sampled_from(SIZES), max_size=4))
        self.ids: list[tuple[int, int, int]] = [(1000, 1000, 999)]  # (U, u, pu) per event
        self.states: list[Levels] = [dict(state)]
        self.events: list[dict[str, Any]] = []
        for _ in range(draw(st.integers(0, 10))):
            changes: Levels = draw(
                st.dictionaries(level, st.sampled_from(["0", *SIZES]), max_size=4)
            )
            last = self.ids[-1][1]
            first = last + 1 + (draw(st.integers(0, 3)) if futures else 0)
            final = first + draw(st.integers(0, 3))
            for key, qty in changes.items():
                if qty == "0":
                    state.pop(key, None)
                else:
                    state[key] = qty
            self.ids.append((first, final, last))
            self.states.append(dict(state))
            msg: dict[str, Any] = {"e": "depthUpdate", "E": 1, "T": 1, "s": symbol}
            msg.update(U=first, u=final)
            if futures:
                msg["pu"] = last
            msg["b"] = [[p, q] for (side, p), q in changes.items() if side == "b"]
            msg["a"] = [[p, q] for (side, p), q in changes.items() if side == "a"]
            self.events.append(msg)

    def valid_ids(self, start: int) -> list[int]:
        """Snapshot ids that link to a stream whose first diff is event ``start + 1``."""
        out = [self.ids[start][1]]
        for first, final, _ in self.ids[start + 1 :]:
            low = first if self.futures else first - 1
            high = final if self.futures else final - 1
            out.extend(range(max(low, out[-1] + 1), high + 1))
            if not self.futures:
                out.append(final)
        return sorted(set(out))

    def snapshot(self, last: int) -> dict[str, Any]:
        index = max(i for i, (_, u, _) in enumerate(self.ids) if u <= last)
        state = self.states[index]
        return {
            "lastUpdateId": last,
            "E": 1,
            "T": 1,
            "bids": [[p, q] for (side, p), q in state.items() if side == "b"],
            "asks": [[p, q] for (side, p), q in state.items() if side == "a"],
        }


@st.composite
def book_stream(draw: st.DrawFn, market: str, base: str, symbol: str) -> list[tuple[str, Any]]:
    """One symbol's delivered diffs and snapshots, in delivery order."""
    venue = Venue(symbol, market != "spot", draw)
    start = draw(st.integers(0, len(venue.events)))
    delivered: list[tuple[str, Any]] = [("ws", m) for m in venue.events[start:]]
    for _ in range(draw(st.integers(0, 2))):  # re-deliveries of earlier diffs
        if delivered:
            i = draw(st.integers(0, len(delivered) - 1))
            j = draw(st.integers(i + 1, len(delivered)))
            delivered.insert(j, delivered[i])
    ids = venue.valid_ids(start)
    chosen = sorted(draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3)))
    places = sorted(draw(st.lists(st.integers(0, len(delivered)), min_size=3, max_size=3)))
    out = list(delivered)
    for offset, (last, place) in enumerate(zip(chosen, places, strict=False)):
        url = f"{base}/depth?symbol={symbol}&limit=1000"
        out.insert(place + offset, ("rest", (url, venue.snapshot(last))))
    return out


# ---------------------------------------------------------------------- other streams


def kline_body() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"t": st.integers(1, 3), "T": st.just(9), "s": SYMBOL, "i": st.sampled_from(["1m", "5m"])}
    ).flatmap(
        lambda k: st.fixed_dictionaries(
            {**{name: st.just(v) for name, v in k.items()}, "c": TEXT, "x": st.booleans()}
        )
    )


def common_events() -> st.SearchStrategy[dict[str, Any]]:
    trade = st.fixed_dictionaries(
        {"e": st.sampled_from(["trade", "aggTrade"]), "E": SMALL, "s": SYMBOL, "p": TEXT}
    )
    kline = st.fixed_dictionaries({"e": st.just("kline"), "E": SMALL, "k": kline_body()})
    ticker = st.fixed_dictionaries(
        {"e": st.sampled_from(["24hrTicker", "24hrMiniTicker"]), "E": SMALL, "s": SYMBOL}
        | {"c": TEXT}
    )
    book_ticker = st.fixed_dictionaries(
        {"u": SMALL, "s": SYMBOL, "b": TEXT, "B": TEXT, "a": TEXT, "A": TEXT}
    ).map(lambda d: {"stream": f"{d['s'].lower()}@bookTicker", "data": d})
    ack = st.just({"result": None, "id": 1})
    return trade | kline | ticker | book_ticker | ack


def spot_events() -> st.SearchStrategy[dict[str, Any]]:
    report = st.fixed_dictionaries(
        {
            "e": st.just("executionReport"),
            "E": SMALL,
            "s": SYMBOL,
            "i": SMALL,
            "X": st.sampled_from(["NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "EXPIRED"])
            | st.sampled_from(["REJECTED", "NEW"]),
            "z": TEXT,
        }
    )
    account = st.fixed_dictionaries(
        {
            "e": st.just("outboundAccountPosition"),
            "E": SMALL,
            "B": st.lists(
                st.fixed_dictionaries({"a": st.sampled_from(["BTC", "ETH"]), "f": TEXT}),
                max_size=2,
            ),
        }
    )
    status = st.fixed_dictionaries(
        {
            "e": st.just("listStatus"),
            "E": SMALL,
            "s": SYMBOL,
            "g": SMALL,
            "l": st.sampled_from(["RESPONSE", "EXEC_STARTED", "ALL_DONE"]),
            "L": st.sampled_from(["EXECUTING", "ALL_DONE"]),
        }
    )
    return common_events() | report | account | status


def futures_events(market: str) -> st.SearchStrategy[dict[str, Any]]:
    order = st.fixed_dictionaries(
        {
            "e": st.just("ORDER_TRADE_UPDATE"),
            "E": SMALL,
            "o": st.fixed_dictionaries(
                {
                    "s": SYMBOL,
                    "i": SMALL,
                    "X": st.sampled_from(
                        ["NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "EXPIRED"]
                    ),
                    "z": TEXT,
                }
            ),
        }
    )
    balance = st.fixed_dictionaries({"a": st.sampled_from(["USDT", "BTC"]), "wb": TEXT})
    position = st.fixed_dictionaries(
        {"s": SYMBOL, "ps": st.sampled_from(["BOTH", "LONG"]), "pa": TEXT}
    )
    account = st.fixed_dictionaries(
        {
            "e": st.just("ACCOUNT_UPDATE"),
            "E": SMALL,
            "a": st.fixed_dictionaries(
                {
                    "m": st.just("ORDER"),
                    "B": st.lists(balance, max_size=2),
                    "P": st.lists(position, max_size=2),
                }
            ),
        }
    )
    mark = st.fixed_dictionaries(
        {"e": st.just("markPriceUpdate"), "E": SMALL, "s": SYMBOL, "p": TEXT}
    )
    marks = st.lists(mark, min_size=1, max_size=3).map(
        lambda ms: {"stream": "!markPrice@arr", "data": ms}
    )
    continuous = st.fixed_dictionaries(
        {
            "e": st.just("continuous_kline"),
            "E": SMALL,
            "ps": SYMBOL,
            "ct": st.sampled_from(["PERPETUAL", "CURRENT_QUARTER"]),
            "k": st.fixed_dictionaries({"t": SMALL, "i": st.just("1m"), "c": TEXT}),
        }
    )
    force = st.fixed_dictionaries(
        {"e": st.just("forceOrder"), "E": SMALL, "o": st.fixed_dictionaries({"s": SYMBOL})}
    )
    events = common_events() | order | account | mark | marks | continuous | force
    if market == "usdsm":
        events |= st.fixed_dictionaries(
            {
                "e": st.just("compositeIndex"),
                "E": SMALL,
                "s": SYMBOL,
                "p": TEXT,
                "C": st.just("baseAsset"),
                "c": st.just([{"b": "BAL", "q": "USDT", "w": "1", "W": "2", "i": "3"}]),
            }
        )
    else:
        kline_event = st.fixed_dictionaries(
            {"e": st.sampled_from(["indexPrice_kline", "markPrice_kline"]), "E": SMALL}
            | {"ps": SYMBOL, "k": kline_body()}
        )
        index = st.fixed_dictionaries(
            {"e": st.just("indexPriceUpdate"), "E": SMALL, "i": SYMBOL, "p": TEXT}
        )
        events |= kline_event | index
    return events


def spot_order_row() -> st.SearchStrategy[dict[str, Any]]:
    names = ["clientOrderId", "price", "origQty", "executedQty", "cummulativeQuoteQty"]
    names += ["status", "timeInForce", "type", "side", "stopPrice", "icebergQty", "time"]
    names += ["updateTime", "isWorking", "workingTime", "origQuoteOrderQty", "orderListId"]
    return st.fixed_dictionaries({"symbol": SYMBOL, "orderId": SMALL, **dict.fromkeys(names, TEXT)})


def futures_order_row() -> st.SearchStrategy[dict[str, Any]]:
    names = ["avgPrice", "clientOrderId", "cumQuote", "executedQty", "origQty", "origType"]
    names += ["price", "reduceOnly", "side", "status", "stopPrice", "closePosition", "time"]
    names += ["timeInForce", "type", "updateTime", "workingType", "priceProtect", "priceRate"]
    return st.fixed_dictionaries(
        {
            "symbol": SYMBOL,
            "orderId": SMALL,
            "positionSide": st.sampled_from(["BOTH", "LONG"]),
            **dict.fromkeys(names, TEXT),
        }
    )


def kline_rows() -> st.SearchStrategy[list[list[Any]]]:
    row = st.tuples(st.integers(1, 3), TEXT, TEXT, TEXT, TEXT, TEXT, st.just(9), TEXT)
    row = row.map(lambda r: [*r, 5, "1", "2", "0"])
    return st.lists(row, max_size=3)


def rest_responses(market: str, base: str) -> st.SearchStrategy[tuple[str, Any]]:
    query = st.sampled_from(["", "?symbol=BTCUSDT", "?symbol=XRPUSDT"])
    order_row = spot_order_row() if market == "spot" else futures_order_row()
    kline_url = st.builds(
        lambda s, i: f"{base}/klines?symbol={s}&interval={i}", SYMBOL, st.sampled_from(["1m"])
    )
    out = st.tuples(
        query.map(lambda q: f"{base}/openOrders{q}"), st.lists(order_row, max_size=3)
    ) | st.tuples(kline_url, kline_rows())
    if market == "spot":
        balance = st.fixed_dictionaries(
            {"asset": st.sampled_from(["BTC", "ETH"]), "free": TEXT, "locked": TEXT}
        )
        order_list = st.fixed_dictionaries(
            {
                "orderListId": SMALL,
                "contingencyType": st.just("OCO"),
                "listStatusType": st.just("EXEC_STARTED"),
                "listOrderStatus": st.just("EXECUTING"),
                "listClientOrderId": TEXT,
                "transactionTime": SMALL,
                "symbol": SYMBOL,
                "orders": st.lists(
                    st.fixed_dictionaries(
                        {"symbol": SYMBOL, "orderId": SMALL, "clientOrderId": TEXT}
                    ),
                    max_size=2,
                ),
            }
        )
        out |= st.tuples(
            st.just(f"{base}/account"),
            st.fixed_dictionaries({"balances": st.lists(balance, max_size=2)}),
        ) | st.tuples(st.just(f"{base}/openOrderList"), st.lists(order_list, max_size=2))
        return out
    api = base.rsplit("/", 2)[0]
    prefix = "/fapi/v2" if market == "usdsm" else "/dapi/v1"
    balance = st.fixed_dictionaries(
        {"asset": st.sampled_from(["USDT", "BTC"]), "balance": TEXT, "crossWalletBalance": TEXT}
    )
    position = st.fixed_dictionaries(
        {
            "symbol": SYMBOL,
            "positionAmt": TEXT,
            "entryPrice": TEXT,
            "unRealizedProfit": TEXT,
            "marginType": st.sampled_from(["cross", "isolated"]),
            "isolatedWallet": TEXT,
            "positionSide": st.sampled_from(["BOTH", "LONG"]),
            "leverage": TEXT,
        }
    )
    out |= st.tuples(st.just(f"{api}{prefix}/balance"), st.lists(balance, max_size=2)) | st.tuples(
        st.just(f"{api}{prefix}/positionRisk"), st.lists(position, max_size=2)
    )
    if market == "usdsm":
        index = st.fixed_dictionaries(
            {
                "symbol": SYMBOL,
                "time": SMALL,
                "component": st.just("baseAsset"),
                "baseAssetList": st.just(
                    [
                        {
                            "baseAsset": "BAL",
                            "quoteAsset": "USDT",
                            "weightInQuantity": "1",
                            "weightInPercentage": "2",
                        }
                    ]
                ),
            }
        )
        out |= st.tuples(st.just(f"{base}/indexInfo"), st.lists(index, max_size=2))
    else:
        out |= st.tuples(
            st.builds(lambda s: f"{base}/indexPriceKlines?pair={s}&interval=1m", SYMBOL)
            | st.builds(lambda s: f"{base}/markPriceKlines?symbol={s}&interval=1m", SYMBOL),
            kline_rows(),
        )
    return out


# ---------------------------------------------------------------------- running both


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
    out = []
    while not stream._queue.empty():
        change = stream._queue.get_nowait()
        out.append((change.operation, change.source, change.data))
    return out


def _drain_botters(stream: Any) -> list[tuple[str, Any, Any]]:
    return [(c.operation, c.source, c.data) for c in iter(stream.get_nowait, None)]


def _levels(store: Any) -> list[tuple[str, str, str, str]]:
    return sorted((lv["s"], lv["S"], lv["p"], lv["q"]) for lv in store.orderbook.find())


def _assert_same(market: str, events: list[tuple[str, Any]]) -> None:
    ours_cls, their_name, _ = MARKETS[market]
    theirs = getattr(pybotters, their_name)()
    ours = ours_cls()
    names = [n for n in ours if n != "orderbook"]
    assert names == [n for n in theirs._stores if n != "orderbook"]
    their_streams = {n: theirs[n].watch() for n in names}
    our_streams = {n: ours[n].watch(maxsize=1_000_000) for n in names}
    their_changes: dict[str, list[Any]] = {n: [] for n in names}
    our_changes: dict[str, list[Any]] = {n: [] for n in names}

    async def main() -> None:
        for kind, payload in events:
            if kind == "ws":
                theirs.onmessage(copy.deepcopy(payload), None)
                ours.onmessage(copy.deepcopy(payload))
            else:
                url, body = payload
                await theirs.initialize(_resolved(_Response(url, body)))
                ours.initialize_nowait(RestResponse(url, copy.deepcopy(body)))
            for n in names:  # drain as we go: deep copies taken at the same moments
                their_changes[n] += _drain_pybotters(their_streams[n])
                our_changes[n] += _drain_botters(our_streams[n])

    asyncio.run(main())
    for name in names:
        assert ours[name].find() == theirs[name].find(), name
        assert our_changes[name] == their_changes[name], name
    assert _levels(ours) == _levels(theirs)
    for query in (None, {"s": "BTCUSDT"}, {"s": "ETHUSDT"}, {"S": "a"}):
        for limit in (None, 1, 3):
            assert ours.orderbook.sorted(query, limit) == theirs.orderbook.sorted(query, limit)


def _interleave(streams: list[list[tuple[str, Any]]], seed: Any) -> list[tuple[str, Any]]:
    queues = [list(s) for s in streams if s]
    merged: list[tuple[str, Any]] = []
    while queues:
        queue = queues[seed.randrange(len(queues))]
        merged.append(queue.pop(0))
        queues = [q for q in queues if q]
    return merged


_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenario(draw: st.DrawFn, market: str) -> list[tuple[str, Any]]:
    _, _, base = MARKETS[market]
    symbols = draw(st.lists(st.sampled_from(list(PRICES)), unique=True, max_size=2))
    books = [draw(book_stream(market, base, symbol)) for symbol in symbols]
    events = spot_events() if market == "spot" else futures_events(market)
    others = draw(
        st.lists(
            st.tuples(st.just("ws"), events)
            | st.tuples(st.just("rest"), rest_responses(market, base)),
            max_size=20,
        )
    )
    return _interleave([*books, others], draw(st.randoms(use_true_random=False)))


@_SETTINGS
@given(events=scenario("spot"))
def test_spot_same_as_pybotters(events: list[tuple[str, Any]]) -> None:
    _assert_same("spot", events)


@_SETTINGS
@given(events=scenario("usdsm"))
def test_usdsm_same_as_pybotters(events: list[tuple[str, Any]]) -> None:
    _assert_same("usdsm", events)


@_SETTINGS
@given(events=scenario("coinm"))
def test_coinm_same_as_pybotters(events: list[tuple[str, Any]]) -> None:
    _assert_same("coinm", events)


def test_issue_566_same_as_pybotters() -> None:
    # Initialize, newer diffs, an older (but not older than the last) snapshot again.
    url = "https://api.binance.com/api/v3/depth?symbol=BTCUSDT"
    diff = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": 101, "u": 101, "a": []}
    events: list[tuple[str, Any]] = [
        ("rest", (url, {"lastUpdateId": 100, "bids": [["30000", "1"]], "asks": []})),
        ("ws", dict(diff, b=[["29999", "2"]])),
        ("ws", dict(diff, U=102, u=103, b=[["30000", "0"], ["29998", "1"]])),
        ("rest", (url, {"lastUpdateId": 100, "bids": [["30000", "1"]], "asks": []})),
        ("ws", dict(diff, U=104, u=104, b=[["29999", "3"]])),
    ]
    _assert_same("spot", events)
