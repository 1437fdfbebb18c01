"""bitFlyerDataStore, fed messages in bitFlyer's documented JSON-RPC formats.

Message shapes follow the Lightning Realtime API docs
(https://bf-lightning-api.readme.io/docs/realtime-board-snapshot, .../realtime-board,
.../realtime-ticker, .../realtime-executions, .../realtime-child-order-events,
.../realtime-parent-order-events) and REST (/v1/me/getchildorders, getparentorders,
getpositions, getcollateral, getbalance). Expected items and numbers were
observed by running pybotters 1.11.2 on the same messages, except where a test
says botters deliberately differs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from botters.protocol.exchanges.bitflyer import bitFlyerDataStore
from botters.protocol.exchanges.bitflyer._store import Executions
from botters.protocol.store import RestResponse

API = "https://api.bitflyer.com"


def rpc(channel: str, message: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "channelMessage",
        "params": {"channel": channel, "message": message},
    }


def board_msg(mid: Any, bids: list[tuple[Any, Any]], asks: list[tuple[Any, Any]]) -> dict[str, Any]:
    return {
        "mid_price": mid,
        "bids": [{"price": p, "size": s} for p, s in bids],
        "asks": [{"price": p, "size": s} for p, s in asks],
    }


def lv(side: str, price: Any, size: Any, pc: str = "BTC_JPY") -> dict[str, Any]:
    return {"product_code": pc, "side": side, "price": price, "size": size}


def child(n: int, event_type: str, pc: str = "FX_BTC_JPY", **fields: Any) -> dict[str, Any]:
    return {
        "product_code": pc,
        "child_order_id": f"JOR20240101-000000-{n:06d}",
        "child_order_acceptance_id": f"JRF20240101-000000-{n:06d}",
        "event_date": "2024-01-01T00:00:00.1234567Z",
        "event_type": event_type,
        **fields,
    }


def order(n: int, side: str = "BUY", price: Any = 30000, size: Any = 0.3, **kw: Any) -> dict:
    return child(
        n,
        "ORDER",
        child_order_type="LIMIT",
        side=side,
        price=price,
        size=size,
        expire_date="2024-02-01T00:00:00",
        **kw,
    )


def execution(n: int, side: str, price: Any, size: Any, outstanding: Any = 0, **kw: Any) -> dict:
    fields: dict[str, Any] = {
        "exec_id": 1000 + n,
        "side": side,
        "price": price,
        "size": size,
        "commission": 0,
        "sfd": 0,
    }
    fields.update(kw)
    if outstanding is not None:
        fields["outstanding_size"] = outstanding
    return child(n, "EXECUTION", **fields)


def parent(n: int, event_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "product_code": "FX_BTC_JPY",
        "parent_order_id": f"JCP20240101-000000-{n:06d}",
        "parent_order_acceptance_id": f"JRF20240101-000000-{n:06d}",
        "event_date": "2024-01-01T00:00:00.1234567Z",
        "event_type": event_type,
        **fields,
    }


def position(side: str, price: Any, size: Any, pc: str = "FX_BTC_JPY") -> dict[str, Any]:
    return {
        "product_code": pc,
        "side": side,
        "price": price,
        "size": size,
        "commission": 0,
        "swap_point_accumulate": -35,
        "require_collateral": 120000,
        "open_date": "2015-11-03T10:04:45.011",
        "leverage": 3,
        "pnl": 965,
        "sfd": -0.5,
    }


class Sink:
    """A MessageSink that queues, as the adapters do."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send_json_nowait(self, data: Any) -> None:
        self.sent.append(data)


def drain(stream: Any) -> list[tuple[str, Any, Any]]:
    return [(c.operation, c.source, c.data) for c in iter(stream.get_nowait, None)]


# ==================================================================== board


def test_snapshot_is_applied_without_a_connection() -> None:
    # pybotters ignores a snapshot unless handed its own ws type; botters applies it.
    store = bitFlyerDataStore()
    assert not store.board.is_synced("BTC_JPY")
    store.onmessage(
        rpc(
            "lightning_board_snapshot_BTC_JPY",
            board_msg(100, [(99, 1), (98, 0), (97, 2)], [(101, 2), (102, 0.5)]),
        )
    )
    assert store.board.is_synced("BTC_JPY")
    assert store.board.find() == [
        lv("asks", 101, 2),
        lv("asks", 102, 0.5),
        lv("bids", 99, 1),
        lv("bids", 97, 2),
    ]
    assert store.board.sorted(limit=1) == {
        "asks": [lv("asks", 101, 2)],
        "bids": [lv("bids", 99, 1)],
    }
    assert store.board.mid_price == {"BTC_JPY": 100}


def test_snapshot_asks_the_connection_to_unsubscribe() -> None:
    store = bitFlyerDataStore()
    sink = Sink()
    store.onmessage(rpc("lightning_board_snapshot_FX_BTC_JPY", board_msg(10, [(9, 1)], [])), sink)
    assert sink.sent == [
        {"method": "unsubscribe", "params": {"channel": "lightning_board_snapshot_FX_BTC_JPY"}}
    ]
    store.onmessage(rpc("lightning_board_FX_BTC_JPY", board_msg(10, [(8, 1)], [])), sink)
    assert len(sink.sent) == 1  # diffs need nothing sent


def test_a_ws_without_send_json_nowait_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    class Legacy:
        async def send_json(self, data: Any) -> None:  # pragma: no cover - never called
            raise AssertionError

    class Failing:
        def send_json_nowait(self, data: Any) -> None:
            raise RuntimeError("closed")

    store = bitFlyerDataStore()
    msg = rpc("lightning_board_snapshot_BTC_JPY", board_msg(10, [(9, 1)], []))
    with caplog.at_level(logging.WARNING, logger="botters.store.bitflyer"):
        store.onmessage(msg, Legacy())  # type: ignore[arg-type]
        store.onmessage(msg, Legacy())  # type: ignore[arg-type]
        store.onmessage(msg, Failing())
    assert store.board.find() == [lv("bids", 9, 1)]
    messages = [r.getMessage() for r in caplog.records]
    assert sum("no send_json_nowait" in m for m in messages) == 1
    assert sum("could not queue the unsubscribe" in m for m in messages) == 1


def test_diffs_before_the_snapshot_are_ignored() -> None:
    store = bitFlyerDataStore()
    store.onmessage(rpc("lightning_board_BTC_JPY", board_msg(100, [(99, 1)], [(101, 2)])))
    assert store.board.find() == []
    assert not store.board.is_synced("BTC_JPY")


def test_diff_sequence_matches_pybotters_changes() -> None:
    store = bitFlyerDataStore()
    store.onmessage(
        rpc(
            "lightning_board_snapshot_BTC_JPY",
            board_msg(100, [(99, 1), (98, 1)], [(101, 2), (102, 0.5)]),
        )
    )
    stream = store.board.watch()
    store.onmessage(
        rpc("lightning_board_BTC_JPY", board_msg(100, [(98, 0), (97, 1)], [(103, 3), (101, 0)]))
    )
    # Level by level, asks first; a size of 0 deletes (source: the level as an item).
    assert drain(stream) == [
        ("insert", None, lv("asks", 103, 3)),
        ("delete", lv("asks", 101, 0), lv("asks", 101, 2)),
        ("delete", lv("bids", 98, 0), lv("bids", 98, 1)),
        ("insert", None, lv("bids", 97, 1)),
    ]
    store.onmessage(
        rpc("lightning_board_BTC_JPY", board_msg(100, [(96, 0), (96, 2)], [(104, 3), (104, 0)]))
    )
    assert drain(stream) == [
        ("insert", None, lv("asks", 104, 3)),
        ("delete", lv("asks", 104, 0), lv("asks", 104, 3)),
        ("insert", None, lv("bids", 96, 2)),
    ]
    store.onmessage(rpc("lightning_board_BTC_JPY", board_msg(100.0, [(99.0, 7)], [])))
    # 99.0 is the key 99: replaced in place, keeping its position in find().
    assert store.board.find() == [
        lv("asks", 102, 0.5),
        lv("bids", 99.0, 7),
        lv("asks", 103, 3),
        lv("bids", 97, 1),
        lv("bids", 96, 2),
    ]


def test_levels_crossed_by_the_mid_price_are_pruned_per_product() -> None:
    store = bitFlyerDataStore()
    store.onmessage(rpc("lightning_board_snapshot_BTC_JPY", board_msg(100, [(99, 1)], [(101, 2)])))
    store.onmessage(rpc("lightning_board_snapshot_ETH_JPY", board_msg(10, [(9, 1)], [(11, 2)])))
    stream = store.board.watch()
    store.onmessage(
        rpc("lightning_board_BTC_JPY", board_msg(100.5, [(100, 1)], [(100.5, 3), (103, 1)]))
    )
    # the ask at the mid (100.5) is crossed; the bid below it (100) is not
    assert store.board.sorted({"product_code": "BTC_JPY"}) == {
        "asks": [lv("asks", 101, 2), lv("asks", 103, 1)],
        "bids": [lv("bids", 100, 1), lv("bids", 99, 1)],
    }
    assert drain(stream)[-1] == ("delete", lv("asks", 100.5, 3), lv("asks", 100.5, 3))
    store.onmessage(rpc("lightning_board_ETH_JPY", board_msg(200, [], [])))
    assert store.board.sorted({"product_code": "ETH_JPY"}) == {
        "asks": [],
        "bids": [lv("bids", 9, 1, "ETH_JPY")],
    }
    store.onmessage(rpc("lightning_board_ETH_JPY", board_msg(1, [], [])))
    assert store.board.sorted({"product_code": "ETH_JPY"}) == {"asks": [], "bids": []}
    assert store.board.mid_price == {"BTC_JPY": 100.5, "ETH_JPY": 1}
    assert len(store.board.sorted({"product_code": "BTC_JPY"})["asks"]) == 2


def test_a_new_snapshot_replaces_only_its_product() -> None:
    store = bitFlyerDataStore()
    store.onmessage(rpc("lightning_board_snapshot_BTC_JPY", board_msg(100, [(99, 1)], [(101, 2)])))
    store.onmessage(rpc("lightning_board_snapshot_ETH_JPY", board_msg(10, [(9, 1)], [(11, 2)])))
    stream = store.board.watch()
    store.onmessage(rpc("lightning_board_snapshot_BTC_JPY", board_msg(50, [(49, 1)], [(51, 2)])))
    assert store.board.find() == [
        lv("asks", 11, 2, "ETH_JPY"),
        lv("bids", 9, 1, "ETH_JPY"),
        lv("asks", 51, 2),
        lv("bids", 49, 1),
    ]
    assert drain(stream) == [
        ("delete", lv("asks", 101, 2), lv("asks", 101, 2)),
        ("delete", lv("bids", 99, 1), lv("bids", 99, 1)),
        ("insert", None, lv("asks", 51, 2)),
        ("insert", None, lv("bids", 49, 1)),
    ]


def test_feed_interrupted_drops_the_book_until_a_new_snapshot() -> None:
    store = bitFlyerDataStore()
    store.onmessage(rpc("lightning_board_snapshot_BTC_JPY", board_msg(100, [(99, 1)], [(101, 2)])))
    store.feed_interrupted()
    assert not store.board.is_synced("BTC_JPY")
    assert store.board.find() == []
    assert store.board.mid_price == {}
    store.onmessage(rpc("lightning_board_BTC_JPY", board_msg(100, [(98, 1)], [])))
    assert store.board.find() == []  # a diff onto an unknown book is not a book
    store.onmessage(rpc("lightning_board_snapshot_BTC_JPY", board_msg(100, [(97, 1)], [])))
    assert store.board.is_synced("BTC_JPY")
    assert store.board.find() == [lv("bids", 97, 1)]


def test_bad_levels_and_messages_are_logged_and_the_rest_applied(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = bitFlyerDataStore()
    with caplog.at_level(logging.WARNING, logger="botters.store.bitflyer"):
        store.onmessage(
            rpc(
                "lightning_board_snapshot_BTC_JPY",
                {
                    "mid_price": 100,
                    "bids": [{"price": 99}, {"price": "abc", "size": 1}, {"price": 98, "size": 1}],
                    "asks": [{"size": 1}, "junk", {"price": float("inf"), "size": 1}],
                },
            )
        )
        store.onmessage(rpc("lightning_board_BTC_JPY", {"bids": [{"price": 97, "size": 1}]}))
        store.onmessage(rpc("lightning_board_BTC_JPY", ["not", "an", "object"]))
        store.onmessage(rpc("lightning_board_snapshot_ETH_JPY", None))
    assert store.board.find() == [lv("bids", 98, 1), lv("bids", 97, 1)]
    messages = [r.getMessage() for r in caplog.records]
    assert sum("skipped a level" in m for m in messages) == 5
    assert any("no usable mid_price" in m for m in messages)
    assert any("diff is not an object" in m for m in messages)
    assert any("snapshot ETH_JPY: not an object" in m for m in messages)


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_board_wait_wakes_on_a_diff(library: str) -> None:
    store = bitFlyerDataStore()
    store.onmessage(rpc("lightning_board_snapshot_BTC_JPY", board_msg(100, [(99, 1)], [(101, 2)])))
    seen: list[Any] = []

    async def bot() -> None:
        await store.board.wait()
        seen.append(store.board.sorted(limit=1)["bids"])

    diff = rpc("lightning_board_BTC_JPY", board_msg(100, [(99.5, 3)], []))
    if library == "asyncio":

        async def main_asyncio() -> None:
            task = asyncio.create_task(bot())
            await asyncio.sleep(0)
            store.onmessage(diff)
            await task

        asyncio.run(main_asyncio())
    else:

        async def main_trio() -> None:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(bot)
                await trio.testing.wait_all_tasks_blocked()
                store.onmessage(diff)

        trio.run(main_trio)
    assert seen == [[lv("bids", 99.5, 3)]]


# ==================================================================== public channels


def test_ticker_merges_per_product() -> None:
    store = bitFlyerDataStore()
    ticker = {
        "product_code": "BTC_JPY",
        "state": "RUNNING",
        "timestamp": "2019-04-11T05:14:12.3739915Z",
        "tick_id": 25965446,
        "best_bid": 580006,
        "best_ask": 580771,
        "best_bid_size": 2.00000013,
        "best_ask_size": 0.4,
        "total_bid_depth": 1581.64414981,
        "total_ask_depth": 1415.32079982,
        "market_bid_size": 0,
        "market_ask_size": 0,
        "ltp": 580790,
        "volume": 6703.96837634,
        "volume_by_product": 6703.96837634,
    }
    store.onmessage(rpc("lightning_ticker_BTC_JPY", ticker))
    store.onmessage(rpc("lightning_ticker_BTC_JPY", {"product_code": "BTC_JPY", "ltp": 580800}))
    store.onmessage(rpc("lightning_ticker_FX_BTC_JPY", {"product_code": "FX_BTC_JPY", "ltp": 1}))
    assert store.ticker.get({"product_code": "BTC_JPY"}) == {**ticker, "ltp": 580800}
    assert len(store.ticker) == 2


def test_executions_get_their_product_code() -> None:
    store = bitFlyerDataStore()
    trade = {
        "id": 39361,
        "side": "SELL",
        "price": 35100,
        "size": 0.01,
        "exec_date": "2015-07-07T10:44:33.547Z",
        "buy_child_order_acceptance_id": "JRF20150707-014356-184990",
        "sell_child_order_acceptance_id": "JRF20150707-104433-186048",
    }
    store.onmessage(rpc("lightning_executions_BTC_JPY", [trade, {**trade, "id": 39362}]))
    assert store.executions.find() == [
        {"product_code": "BTC_JPY", **trade},
        {"product_code": "BTC_JPY", **trade, "id": 39362},
    ]
    assert Executions._MAXLEN == 99999


# ==================================================================== private channels


def test_child_order_lifecycle() -> None:
    store = bitFlyerDataStore()
    store.onmessage(rpc("child_order_events", [order(n) for n in range(1, 6)]))
    store.onmessage(
        rpc(
            "child_order_events",
            [
                child(1, "CANCEL"),
                child(2, "EXPIRE"),
                child(3, "ORDER_FAILED", reason="INSUFFICIENT_FUNDS"),
                child(4, "CANCEL_FAILED"),
            ],
        )
    )
    assert [o["child_order_acceptance_id"][-1] for o in store.childorders] == ["3", "4", "5"]
    store.onmessage(rpc("child_order_events", [execution(5, "BUY", 30000, 0.1, 0.2)]))
    assert store.childorders.get(child(5, "x"))["size"] == 0.2  # exact: not 0.19999999999999998
    assert store.childorderevents.find()[0]["size"] == 0.3  # the event itself is untouched
    store.onmessage(rpc("child_order_events", [execution(5, "BUY", 30000, 0.2, 0)]))
    assert store.childorders.get(child(5, "x")) is None
    assert len(store.childorderevents) == 11


def test_child_order_size_arithmetic_like_pybotters() -> None:
    store = bitFlyerDataStore()
    store.onmessage(
        rpc("child_order_events", [order(6, size=3), order(7, size=3.0), order(8, size="0.3")])
    )
    store.onmessage(
        rpc(
            "child_order_events",
            [
                execution(6, "BUY", 1, 1, 2),
                execution(7, "BUY", 1, 1, 2),
                execution(8, "BUY", 1, 0.1, 1),
            ],
        )
    )
    sizes = [o["size"] for o in store.childorders]
    assert sizes == [2, 2.0, 0.2]
    assert [type(s) for s in sizes] == [int, float, float]
    store.onmessage(rpc("child_order_events", [execution(99, "BUY", 1, 1, 1)]))  # unknown order
    assert len(store.childorders) == 3


def test_execution_without_outstanding_size_is_inferred() -> None:
    # pybotters raises KeyError here; botters infers it from the remaining size.
    store = bitFlyerDataStore()
    store.onmessage(rpc("child_order_events", [order(1, size=0.3), order(2, size=0.3)]))
    store.onmessage(
        rpc(
            "child_order_events",
            [
                execution(1, "BUY", 1, 0.1, outstanding=None),
                execution(2, "BUY", 1, 0.3, outstanding=None),
            ],
        )
    )
    assert [(o["child_order_acceptance_id"][-1], o["size"]) for o in store.childorders] == [
        ("1", 0.2)
    ]


def test_parent_order_lifecycle() -> None:
    store = bitFlyerDataStore()
    kinds = {1: "STOP", 2: "IFD", 3: "IFDOCO", 4: "OCO", 5: "IFD", 6: "STOP"}
    store.onmessage(
        rpc(
            "parent_order_events",
            [parent(n, "ORDER", parent_order_type=t, expire_date="x") for n, t in kinds.items()],
        )
    )

    def open_ids() -> list[int]:
        return [int(o["parent_order_acceptance_id"][-1]) for o in store.parentorders]

    complete = {"child_order_acceptance_id": "JRF20240101-000000-999999"}
    store.onmessage(
        rpc(
            "parent_order_events",
            [
                parent(1, "COMPLETE", parameter_index=1, **complete),
                parent(2, "COMPLETE", parameter_index=1, **complete),
                parent(3, "COMPLETE", parameter_index=1, **complete),
            ],
        )
    )
    assert open_ids() == [2, 3, 4, 5, 6]  # IFD/IFDOCO stay open after their first leg
    store.onmessage(
        rpc(
            "parent_order_events",
            [
                parent(2, "COMPLETE", parameter_index=2, **complete),
                parent(3, "COMPLETE", parameter_index=3, **complete),
                parent(
                    4,
                    "TRIGGER",
                    parameter_index=1,
                    child_order_type="LIMIT",
                    side="BUY",
                    price=1,
                    size=1,
                    expire_date="x",
                    **complete,
                ),
            ],
        )
    )
    assert open_ids() == [4, 5, 6]
    store.onmessage(
        rpc(
            "parent_order_events",
            [parent(4, "CANCEL"), parent(5, "EXPIRE"), parent(6, "ORDER_FAILED", reason="x")],
        )
    )
    assert open_ids() == [6]
    assert len(store.parentorderevents) == 15


# ==================================================================== positions and collateral


def with_account(
    collateral: Any = 100000, positions: list[dict[str, Any]] | None = None
) -> bitFlyerDataStore:
    store = bitFlyerDataStore()
    store.initialize_nowait(
        (
            f"{API}/v1/me/getcollateral",
            {
                "collateral": collateral,
                "open_position_pnl": 0,
                "require_collateral": 0,
                "keep_rate": 5.0,
            },
        ),
        (f"{API}/v1/me/getpositions?product_code=FX_BTC_JPY", positions or []),
    )
    return store


def lot(
    side: str, price: Any, size: Any, commission: Any = 0, sfd: Any = 0, pc: str = "FX_BTC_JPY"
) -> dict:
    return {
        "product_code": pc,
        "side": side,
        "price": price,
        "size": size,
        "commission": commission,
        "sfd": sfd,
    }


@pytest.mark.parametrize(
    ("lot_side", "open_price", "exec_side", "close_price", "size", "collateral"),
    [
        ("BUY", 100, "SELL", 100.3, 10, 100003.0),  # exact: float math gives 2.99999...
        ("SELL", 100.3, "BUY", 100, 10, 100003.0),
        ("BUY", 100.3, "SELL", 100, 10, 99997.0),
        ("BUY", 100, "SELL", 100.5, 1, 100000.0),  # +0.5 closing a long: floor
        ("SELL", 100, "BUY", 100.5, 1, 100000.0),  # -0.5 closing a short: ceil
        ("BUY", 100.5, "SELL", 100, 1, 99999.0),  # -0.5: floor
        ("SELL", 100.5, "BUY", 100, 1, 100001.0),  # +0.5: ceil
    ],
)
def test_closing_a_lot_books_rounded_pnl(
    lot_side: str, open_price: Any, exec_side: str, close_price: Any, size: Any, collateral: float
) -> None:
    store = with_account(positions=[position(lot_side, open_price, size)])
    store.onmessage(rpc("child_order_events", [execution(1, exec_side, close_price, size)]))
    assert store.positions.find() == []
    assert store.collateral.find()[0]["collateral"] == collateral


def test_pnl_is_rounded_per_lot_fifo() -> None:
    store = with_account(1000, [position("BUY", 100, 1), position("BUY", 100, 1)])
    stream = store.collateral.watch()
    store.onmessage(rpc("child_order_events", [execution(1, "SELL", 100.5, 2)]))
    assert store.collateral.find()[0]["collateral"] == 1000.0  # 0 + 0, not floor(1.0)
    assert [c[1]["size"] for c in drain(stream)] == [2, 1]  # source: the size still to close


def test_netting_partial_and_reversing_executions() -> None:
    store = with_account(1000, [position("BUY", 100, 3), position("BUY", 100, 2)])
    store.onmessage(rpc("child_order_events", [execution(1, "SELL", 110, 1)]))
    assert store.positions.find() == [lot("BUY", 100, 2, sfd=-0.5), lot("BUY", 100, 2, sfd=-0.5)]
    store.onmessage(
        rpc("child_order_events", [execution(2, "SELL", 110, 6, commission=0.0001, sfd=3)])
    )
    # both lots closed, the rest opens a short carrying the execution's commission and sfd
    assert store.positions.find() == [lot("SELL", 110, 2, commission=0.0001, sfd=3)]
    assert store.collateral.find()[0]["collateral"] == 1050.0
    store.onmessage(rpc("child_order_events", [execution(3, "SELL", 120, 0.5)]))
    assert store.positions.find()[-1] == lot("SELL", 120, 0.5)  # same side: a new lot
    store.onmessage(rpc("child_order_events", [execution(4, "BUY", 100, 0.3)]))
    assert store.positions.find()[0]["size"] == 1.7  # exact decimal arithmetic
    assert store.collateral.find()[0]["collateral"] == 1053.0  # ceil((110 - 100) * 0.3)


def test_positions_are_per_product_and_derivatives_only() -> None:
    store = with_account(1000, [position("BUY", 100, 1)])
    store.onmessage(
        rpc(
            "child_order_events",
            [
                execution(1, "SELL", 110, 0.5, pc="BTCJPY29MAR2024"),
                execution(2, "SELL", 110, 0.5, pc="BTC_JPY"),
                execution(3, "SELL", 110, 0.5),
            ],
        )
    )
    assert store.positions.find() == [
        lot("BUY", 100, 0.5, sfd=-0.5),
        lot("SELL", 110, 0.5, pc="BTCJPY29MAR2024"),  # pybotters stores the raw event here
    ]
    assert store.collateral.find()[0]["collateral"] == 1005.0


def test_collateral_untouched_until_initialized() -> None:
    store = bitFlyerDataStore()
    store.initialize_nowait(
        (f"{API}/v1/me/getpositions?product_code=FX_BTC_JPY", [position("BUY", 100, 1)])
    )
    store.onmessage(rpc("child_order_events", [execution(1, "SELL", 101, 1)]))
    assert store.positions.find() == []
    assert store.collateral.find() == []


# ==================================================================== balance


@pytest.mark.parametrize(
    ("side", "price", "size", "jpy", "btc"),
    [
        ("SELL", 60, 0.01, 1000.0, 0.99),  # +0.6 -> floor
        ("BUY", 60, 0.01, 999.0, 1.01),  # -0.6 -> ceil
        ("SELL", 150, 0.01, 1001.0, 0.99),
        ("BUY", 150, 0.01, 998.0, 1.01),
        ("BUY", 30000.3, 0.3, -8001.0, 1.3),
    ],
)
def test_spot_execution_moves_jpy_rounded_against_you(
    side: str, price: Any, size: Any, jpy: float, btc: float
) -> None:
    store = bitFlyerDataStore()
    store.initialize_nowait(
        (
            f"{API}/v1/me/getbalance",
            [
                {"currency_code": "JPY", "amount": 1000, "available": 0},
                {"currency_code": "BTC", "amount": 1, "available": 1},
            ],
        )
    )
    store.onmessage(rpc("child_order_events", [execution(1, side, price, size, pc="BTC_JPY")]))
    assert store.balance.find() == [
        {"currency_code": "JPY", "amount": jpy, "available": None},
        {"currency_code": "BTC", "amount": btc, "available": None},
    ]


def test_balance_commission_non_jpy_quotes_and_missing_currencies() -> None:
    store = bitFlyerDataStore()
    balances = [
        {"currency_code": "JPY", "amount": 1024078, "available": 508000},
        {"currency_code": "BTC", "amount": 10.24, "available": 4.12},
        {"currency_code": "ETH", "amount": 20.12, "available": 16.38},
    ]
    store.initialize_nowait((f"{API}/v1/me/getbalance", balances))
    store.onmessage(
        rpc(
            "child_order_events",
            [
                execution(1, "BUY", 30000.7, 0.1, pc="BTC_JPY", commission=0.0001),
                execution(2, "BUY", 0.05, 1, pc="ETH_BTC", commission=0.001),
                execution(3, "BUY", 50, 1, pc="XRP_JPY", commission=0.001),  # no XRP row
                execution(4, "BUY", 50, 1, pc="FX_BTC_JPY"),  # not spot
            ],
        )
    )
    amounts = {b["currency_code"]: b["amount"] for b in store.balance}
    assert amounts == {"JPY": 1021027.0, "BTC": 10.2899, "ETH": 21.119}
    assert all(b["available"] is None for b in store.balance)


# ==================================================================== initialize


def test_initialize_replaces_active_orders_per_product() -> None:
    def row(n: int, state: str, pc: str = "FX_BTC_JPY") -> dict[str, Any]:
        return {
            "id": n,
            "child_order_id": f"JOR{n}",
            "product_code": pc,
            "side": "BUY",
            "child_order_type": "LIMIT",
            "price": 30000,
            "average_price": 0,
            "size": 0.1,
            "child_order_state": state,
            "expire_date": "x",
            "child_order_date": "y",
            "child_order_acceptance_id": f"JRF{n}",
            "outstanding_size": 0.1,
            "cancel_size": 0,
            "executed_size": 0,
            "total_commission": 0,
            "time_in_force": "GTC",
        }

    store = bitFlyerDataStore()
    store.onmessage(rpc("child_order_events", [order(50), order(51, pc="BTC_JPY")]))

    async def main() -> None:
        await store.initialize(
            RestResponse(
                f"{API}/v1/me/getchildorders?product_code=FX_BTC_JPY&child_order_state=ACTIVE",
                [row(1, "ACTIVE"), row(2, "COMPLETED"), row(3, "ACTIVE")],
            )
        )

    trio.run(main)
    assert [(o["child_order_acceptance_id"], o["product_code"]) for o in store.childorders] == [
        ("JRF20240101-000000-000051", "BTC_JPY"),
        ("JRF1", "FX_BTC_JPY"),
        ("JRF3", "FX_BTC_JPY"),
    ]
    assert store.childorders.get({"child_order_acceptance_id": "JRF3"}) == row(3, "ACTIVE")
    # An empty list means "no open orders for that product": pybotters keeps stale rows.
    store.initialize_nowait((f"{API}/v1/me/getchildorders?product_code=FX_BTC_JPY", []))
    assert [o["product_code"] for o in store.childorders] == ["BTC_JPY"]


def test_initialize_parent_orders() -> None:
    store = bitFlyerDataStore()
    rows = [
        {
            "id": n,
            "parent_order_id": f"JCO{n}",
            "product_code": "FX_BTC_JPY",
            "side": "BUY",
            "parent_order_type": "IFD",
            "price": 30000,
            "average_price": 0,
            "size": 0.1,
            "parent_order_state": state,
            "expire_date": "x",
            "parent_order_date": "y",
            "parent_order_acceptance_id": f"JRF{n}",
            "outstanding_size": 0.1,
            "cancel_size": 0,
            "executed_size": 0,
            "total_commission": 0,
        }
        for n, state in ((1, "ACTIVE"), (2, "COMPLETED"))
    ]
    store.initialize_nowait((f"{API}/v1/me/getparentorders?product_code=FX_BTC_JPY", rows))
    assert store.parentorders.find() == [rows[0]]


def test_initialize_positions_collateral_balance() -> None:
    store = bitFlyerDataStore()
    store.initialize_nowait(
        (f"{API}/v1/me/getpositions?product_code=FX_BTC_JPY", [position("BUY", 36640, 5.2)]),
        (
            f"{API}/v1/me/getpositions?product_code=BTCJPY29MAR2024",
            [position("SELL", 1, 1, "BTCJPY29MAR2024")],
        ),
        (f"{API}/v1/me/getcollateral", {"collateral": 5, "open_position_pnl": 1}),
        (f"{API}/v1/me/getcollateral", {"collateral": 6, "keep_rate": 1}),
        (f"{API}/v1/me/getbalance", [{"currency_code": "JPY", "amount": 1, "available": 1}]),
    )
    assert store.positions.find() == [
        lot("BUY", 36640, 5.2, sfd=-0.5),
        lot("SELL", 1, 1, sfd=-0.5, pc="BTCJPY29MAR2024"),
    ]
    assert store.collateral.find() == [{"collateral": 6, "open_position_pnl": 1, "keep_rate": 1}]
    assert store.balance.find() == [{"currency_code": "JPY", "amount": 1, "available": 1}]
    store.initialize_nowait((f"{API}/v1/me/getpositions?product_code=FX_BTC_JPY", []))
    assert store.positions.find() == [lot("SELL", 1, 1, sfd=-0.5, pc="BTCJPY29MAR2024")]


def test_initialize_logs_errors_and_unknown_endpoints(caplog: pytest.LogCaptureFixture) -> None:
    store = bitFlyerDataStore()
    with caplog.at_level(logging.WARNING):
        store.initialize_nowait(
            (f"{API}/v1/me/getchildorders", {"status": -500, "error_message": "Internal"}),
            (f"{API}/v1/me/getcollateral", []),
            (f"{API}/v1/me/getexecutions", []),
        )
    messages = [r.getMessage() for r in caplog.records]
    assert any("getchildorders: expected a list" in m for m in messages)
    assert any("getcollateral: not an object" in m for m in messages)
    assert any("does not support" in m and "getexecutions" in m for m in messages)
    assert len(store.childorders) == len(store.collateral) == 0


# ==================================================================== routing


def test_replies_errors_and_unknown_channels(caplog: pytest.LogCaptureFixture) -> None:
    store = bitFlyerDataStore()
    with caplog.at_level(logging.WARNING, logger="botters.store.bitflyer"):
        store.onmessage({"jsonrpc": "2.0", "id": 1, "result": True})
        store.onmessage({"jsonrpc": "2.0", "id": "auth", "result": True})
        store.onmessage({"jsonrpc": "2.0", "id": 2, "error": {"code": -32600, "message": "bad"}})
        store.onmessage(rpc("lightning_unknown_BTC_JPY", {}))
        store.onmessage(rpc("lightning_unknown_BTC_JPY", {}))
        store.onmessage(rpc("child_order_events", [order(1), "junk"]))
        store.onmessage(rpc("child_order_events", {"not": "a list"}))
        store.onmessage([1, 2, 3])
        store.onmessage({"method": "channelMessage", "params": {"message": {}}})
    messages = [r.getMessage() for r in caplog.records]
    assert sum("no store for channel" in m for m in messages) == 1
    assert any("error reply" in m for m in messages)
    assert any("non-object element" in m for m in messages)
    assert any("expected a list" in m for m in messages)
    assert any("not an object" in m for m in messages)
    assert any("without a channel" in m for m in messages)
    assert len(store.childorders) == 1


# ============================================================ property: board vs a dict model

PRICE = st.integers(0, 12) | st.sampled_from([2.5, 5.0, 7.5, 10.0])
LEVELS = st.lists(st.tuples(PRICE, st.sampled_from([0, 0, 1, 2.5])), max_size=5)
BOARD_MESSAGES = st.lists(
    st.tuples(
        st.sampled_from(["snapshot", "diff", "diff", "diff"]),
        st.sampled_from(["BTC_JPY", "FX_BTC_JPY"]),
        st.integers(0, 12) | st.just(6.5),
        LEVELS,
        LEVELS,
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(messages=BOARD_MESSAGES, interrupt_at=st.integers(0, 30))
def test_board_matches_a_dict_model(messages: list[Any], interrupt_at: int) -> None:
    store = bitFlyerDataStore()
    books: dict[str, dict[str, dict[Any, tuple[Any, Any]]]] = {}
    synced: set[str] = set()
    for step, (kind, pc, mid, bids, asks) in enumerate(messages):
        if step == interrupt_at:
            store.feed_interrupted()
            books.clear()
            synced.clear()
        channel = (
            f"lightning_board_snapshot_{pc}" if kind == "snapshot" else f"lightning_board_{pc}"
        )
        store.onmessage(rpc(channel, board_msg(mid, bids, asks)))
        if kind == "snapshot":
            books[pc] = {"asks": {}, "bids": {}}
            synced.add(pc)
        elif pc not in synced:
            continue
        book = books[pc]
        for side, levels in (("asks", asks), ("bids", bids)):
            for price, size in levels:
                if size:
                    book[side][price] = (price, size)
                else:
                    book[side].pop(price, None)
        book["bids"] = {k: v for k, v in book["bids"].items() if v[0] <= mid}
        book["asks"] = {k: v for k, v in book["asks"].items() if v[0] > mid}

    for pc in ("BTC_JPY", "FX_BTC_JPY"):
        assert store.board.is_synced(pc) == (pc in synced)
        book = books.get(pc, {"asks": {}, "bids": {}})
        expected = {
            "asks": [lv("asks", p, s, pc) for p, s in sorted(book["asks"].values())],
            "bids": [lv("bids", p, s, pc) for p, s in sorted(book["bids"].values(), reverse=True)],
        }
        assert store.board.sorted({"product_code": pc}) == expected
        assert store.board.sorted({"product_code": pc}, limit=2) == {
            side: levels[:2] for side, levels in expected.items()
        }
    assert len(store.board) == sum(len(b["asks"]) + len(b["bids"]) for b in books.values())
