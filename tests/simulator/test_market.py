"""The simulated market and account, without sockets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botters import bitFlyerDataStore
from botters.simulator import DEFAULT_MARKETS, MarketSpec
from botters.simulator._account import Account, OrderError
from botters.simulator._market import Market, iso_date

FX = DEFAULT_MARKETS["FX_BTC_JPY"]


def run_ticks(seed: int | str, n: int, spec: MarketSpec = FX) -> tuple[list[Any], Market]:
    market = Market(spec, seed)
    out = [market.board_message()]
    for i in range(n):
        data = market.step(1_700_000_000.0 + i)
        out.append((data.board, data.ticker, data.executions))
    return out, market


def test_same_seed_same_market() -> None:
    a, ma = run_ticks(7, 300)
    b, mb = run_ticks(7, 300)
    assert a == b
    assert ma.levels() == mb.levels()


def test_different_seed_different_market() -> None:
    a, _ = run_ticks(7, 50)
    b, _ = run_ticks(8, 50)
    assert a != b


def test_seed_is_per_product() -> None:
    # The same seed gives different (independent) books per product.
    btc = Market(DEFAULT_MARKETS["BTC_JPY"], 1)
    fx = Market(FX, 1)
    assert btc.levels() != fx.levels()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), ticks=st.integers(1, 120))
def test_book_invariants_and_diffs(seed: int, ticks: int) -> None:
    market = Market(FX, seed)
    step = FX.price_step
    moved = False
    for i in range(ticks):
        before_bids, before_asks = dict(market.bids), dict(market.asks)
        mid_before = market.mid_price
        data = market.step(1_700_000_000.0 + i)
        moved |= market.mid_price != mid_before
        bids, asks = market.bids, market.asks
        assert bids
        assert asks
        assert max(bids) < market.fair < min(asks)
        mid = data.board["mid_price"]
        assert mid == (max(bids) + min(asks)) // 2
        assert all(p <= mid for p in bids)
        assert all(p > mid for p in asks)
        assert all(p % step == 0 for p in [*bids, *asks])
        assert all(s > 0 for s in [*bids.values(), *asks.values()])
        assert all(market.fair - p <= FX.depth * step for p in bids)
        assert all(p - market.fair <= FX.depth * step for p in asks)
        # Applying the diff to the previous book gives the new one exactly.
        for before, side in ((before_bids, "bids"), (before_asks, "asks")):
            for level in data.board[side]:
                if level["size"] == 0:
                    before.pop(level["price"], None)
                else:
                    before[level["price"]] = level["size"]
        assert before_bids == bids
        assert before_asks == asks
        # Only changed levels, and a deletion is size 0.
        assert data.board["bids"] or data.board["asks"]
        assert data.ticker["best_bid"] == max(bids)
        assert data.ticker["best_ask"] == min(asks)
        assert data.ticker["tick_id"] == i + 1
        for execution in data.executions:
            assert execution["side"] in ("BUY", "SELL")
            assert execution["size"] > 0


def test_diffs_touch_few_levels_near_the_mid() -> None:
    market = Market(FX, 3)
    sizes = []
    for i in range(500):
        data = market.step(1_700_000_000.0 + i)
        changed = data.board["bids"] + data.board["asks"]
        sizes.append(len(changed))
        near = [lvl for lvl in changed if abs(lvl["price"] - market.fair) <= 8 * FX.price_step]
        assert near  # every tick touches the top of the book
    assert max(sizes) <= 2 * FX.depth
    assert sum(sizes) / len(sizes) < 8


def test_price_drifts() -> None:
    market = Market(FX, 11)
    mids = set()
    for i in range(200):
        market.step(1_700_000_000.0 + i)
        mids.add(market.mid_price)
    assert len(mids) > 20


def test_store_fed_snapshot_and_diffs_matches_market() -> None:
    market = Market(FX, 5)
    store = bitFlyerDataStore()
    code = FX.product_code

    def feed(channel: str, message: Any) -> None:
        store.onmessage(
            {
                "jsonrpc": "2.0",
                "method": "channelMessage",
                "params": {"channel": channel, "message": message},
            }
        )

    for i in range(20):
        feed(f"lightning_board_{code}", market.step(1_700_000_000.0 + i).board)
    feed(f"lightning_board_snapshot_{code}", market.board_message())
    for i in range(300):
        feed(f"lightning_board_{code}", market.step(1_700_000_100.0 + i).board)
    bids, asks = market.levels()
    book = store.board.sorted({"product_code": code})
    assert [(x["price"], x["size"]) for x in book["bids"]] == bids
    assert [(x["price"], x["size"]) for x in book["asks"]] == asks
    assert store.board.mid_price[code] == market.mid_price


def test_move_price_crosses_levels() -> None:
    market = Market(FX, 2)
    top_bids = [p for p, _ in market.levels()[0][:3]]
    data = market.step(1_700_000_000.0, to_price=top_bids[-1] - 1)
    sold = {e["price"] for e in data.executions if e["side"] == "SELL"}
    assert set(top_bids) <= sold
    assert max(market.bids) < top_bids[-1]
    assert {lvl["price"] for lvl in data.board["bids"] if lvl["size"] == 0} >= set(top_bids)


def test_market_spec_validation() -> None:
    with pytest.raises(ValueError, match="bad market spec"):
        MarketSpec(product_code="X", start_price=1000, depth=1)
    with pytest.raises(ValueError, match="start_price too low"):
        MarketSpec(product_code="X", start_price=10)


def test_iso_date() -> None:
    assert iso_date(0.5) == "1970-01-01T00:00:00.5000000Z"
    assert iso_date(1_700_000_000.25) == "2023-11-14T22:13:20.2500000Z"


# ------------------------------------------------------------------ account


def order(account: Account, **body: Any) -> Any:
    base = {"product_code": "FX_BTC_JPY", "child_order_type": "LIMIT", "size": 0.01}
    return account.place({**base, **body}, products={"FX_BTC_JPY", "BTC_JPY"}, now=1e9)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"product_code": "NOPE"}, "unknown product_code"),
        ({"side": "HOLD"}, "side"),
        ({"side": "BUY", "child_order_type": "STOP"}, "child_order_type"),
        ({"side": "BUY", "size": 0}, "size"),
        ({"side": "BUY", "size": "abc"}, "size"),
        ({"side": "BUY", "size": True}, "size"),
        ({"side": "BUY", "price": -1}, "price"),
        ({"side": "BUY", "price": 100, "minute_to_expire": 0}, "minute_to_expire"),
        ({"side": "BUY", "price": 100, "time_in_force": "DAY"}, "time_in_force"),
    ],
)
def test_order_validation(body: dict[str, Any], message: str) -> None:
    with pytest.raises(OrderError, match=message):
        order(Account(1_000_000), **body)


def test_positions_fifo_and_collateral_rounding() -> None:
    account = Account(1_000_000)
    long1 = order(account, side="BUY", price=100.5, size=0.3)
    account.execute(long1, 100.5, margin=True, now=1e9)
    long2 = order(account, side="BUY", price=101, size=0.2)
    account.execute(long2, 101, margin=True, now=1e9)
    assert [(p["price"], p["size"]) for p in account.positions("FX_BTC_JPY", {})] == [
        (100.5, 0.3),
        (101, 0.2),
    ]
    # SELL 0.4 at 99: closes 0.3 @100.5 (-0.45 -> -1) and 0.1 @101 (-0.2 -> -1).
    sell = order(account, side="SELL", price=99, size=0.4)
    event = account.execute(sell, 99, margin=True, now=1e9)
    assert event["outstanding_size"] == 0
    assert account.collateral == Decimal(999_998)
    assert [(p["side"], p["price"], p["size"]) for p in account.positions(None, {})] == [
        ("BUY", 101, 0.1)
    ]
    # SELL 0.3 more at 103: closes 0.1 (+0.2 -> 0) and opens a 0.2 short.
    sell2 = order(account, side="SELL", price=103, size=0.3)
    account.execute(sell2, 103, margin=True, now=1e9)
    assert account.collateral == Decimal(999_998)
    assert [(p["side"], p["size"]) for p in account.positions(None, {})] == [("SELL", 0.2)]
    # BUY closes the short at 102.5: +0.1 rounded up -> +1.
    buy = order(account, side="BUY", price=102.5, size=0.2)
    account.execute(buy, 102.5, margin=True, now=1e9)
    assert account.collateral == Decimal(999_999)
    assert account.positions(None, {}) == []


def test_spot_executions_open_no_position() -> None:
    account = Account(1_000_000)
    o = order(account, product_code="BTC_JPY", side="BUY", price=100)
    account.execute(o, 100, margin=False, now=1e9)
    assert account.positions(None, {}) == []
    assert (
        account.rows(
            product_code="BTC_JPY", state="COMPLETED", acceptance_id=None, order_id=None, count=5
        )[0]["executed_size"]
        == 0.01
    )


def test_cancel_and_find() -> None:
    account = Account(0)
    o = order(account, side="BUY", price=100)
    assert account.find({"product_code": "FX_BTC_JPY", "child_order_id": o.child_order_id}) is o
    event = account.cancel(o, 1e9)
    assert event["event_type"] == "CANCEL"
    with pytest.raises(OrderError, match="CANCELED"):
        account.find(
            {"product_code": "FX_BTC_JPY", "child_order_acceptance_id": o.child_order_acceptance_id}
        )
    with pytest.raises(OrderError, match="not found"):
        account.find({"product_code": "FX_BTC_JPY", "child_order_acceptance_id": "JRF-none"})
    with pytest.raises(OrderError, match="required"):
        account.find({"product_code": "FX_BTC_JPY"})
    assert (
        account.rows(
            product_code=None, state="CANCELED", acceptance_id=None, order_id=None, count=1
        )[0]["cancel_size"]
        == 0.01
    )
