"""The simulated market and account, without sockets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botters import bitFlyerDataStore
from botters.simulator import DEFAULT_MARKETS, MarketSpec
from botters.simulator._account import Account, Order, OrderError
from botters.simulator._bitflyer import (
    board_diff,
    board_message,
    cancel_event,
    execution_event,
    order_row,
    parse_order,
    ticker_message,
)
from botters.simulator._engine import Engine, TickResult
from botters.simulator._market import Market, TickData, iso_date

FX = DEFAULT_MARKETS["FX_BTC_JPY"]


def run_ticks(seed: int | str, n: int, spec: MarketSpec = FX) -> tuple[list[Any], Market]:
    market = Market(spec, seed)
    out: list[Any] = [board_message(market)]
    for i in range(n):
        data = market.step(1_700_000_000.0 + i)
        out.append((data.bids, data.asks, data.trades))
    return out, market


def board(market: Market, data: TickData) -> dict[str, Any]:
    """The tick's bitFlyer board message."""
    return board_diff(market, data.bids, data.asks)


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
        message = board(market, data)
        mid = message["mid_price"]
        assert mid == (max(bids) + min(asks)) // 2 * step
        assert all(p * step <= mid for p in bids)
        assert all(p * step > mid for p in asks)
        assert all(s > 0 for s in [*bids.values(), *asks.values()])
        assert all(market.fair - p <= FX.depth for p in bids)
        assert all(p - market.fair <= FX.depth for p in asks)
        # Applying the printed diff to the previous book gives the new one exactly.
        for before, side in ((before_bids, "bids"), (before_asks, "asks")):
            for level in message[side]:
                price = FX.ticks(level["price"])
                if level["size"] == 0:
                    before.pop(price, None)
                else:
                    before[price] = round(level["size"] * 100)  # lots of 0.01
        assert before_bids == bids
        assert before_asks == asks
        # Only changed levels, and a deletion is size 0.
        assert message["bids"] or message["asks"]
        ticker = ticker_message(market, 1_700_000_000.0 + i)
        assert ticker["best_bid"] == max(bids) * step
        assert ticker["best_ask"] == min(asks) * step
        assert ticker["tick_id"] == i + 1
        for trade in data.trades:
            assert trade.side in ("BUY", "SELL")
            assert trade.size > 0


def test_diffs_touch_few_levels_near_the_mid() -> None:
    market = Market(FX, 3)
    sizes = []
    for i in range(500):
        data = market.step(1_700_000_000.0 + i)
        changed = [*data.bids, *data.asks]
        sizes.append(len(changed))
        near = [price for price in changed if abs(price - market.fair) <= 8]
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
        feed(f"lightning_board_{code}", board(market, market.step(1_700_000_000.0 + i)))
    feed(f"lightning_board_snapshot_{code}", board_message(market))
    for i in range(300):
        feed(f"lightning_board_{code}", board(market, market.step(1_700_000_100.0 + i)))
    bids, asks = market.levels()
    book = store.board.sorted({"product_code": code})
    assert [(x["price"], x["size"]) for x in book["bids"]] == [(p, s / 100) for p, s in bids]
    assert [(x["price"], x["size"]) for x in book["asks"]] == [(p, s / 100) for p, s in asks]
    assert store.board.mid_price[code] == market.mid_price


def test_move_price_crosses_levels() -> None:
    market = Market(FX, 2)
    top_bids = [p for p, _ in market.levels()[0][:3]]
    data = market.step(1_700_000_000.0, to_ticks=top_bids[-1] - 1)
    sold = {t.price for t in data.trades if t.side == "SELL"}
    assert set(top_bids) <= sold
    assert max(market.bids) < top_bids[-1]
    assert {price for price, size in data.bids.items() if size == 0} >= set(top_bids)


def test_market_spec_validation() -> None:
    with pytest.raises(ValueError, match="bad market spec"):
        MarketSpec(product_code="X", start_price=1000, depth=1)
    with pytest.raises(ValueError, match="start_price too low"):
        MarketSpec(product_code="X", start_price=10)
    with pytest.raises(ValueError, match="multiple of price_step"):
        MarketSpec(product_code="X", start_price="65000.05", price_step="0.1")
    with pytest.raises(ValueError, match="bad market spec"):
        MarketSpec(product_code="X", start_price=1000, size_step=0)
    spec = MarketSpec(product_code="BTCUSDT", start_price="65000.0", price_step="0.10")
    assert (spec.base, spec.quote) == ("BTC", "USDT")
    assert str(spec.price(650001)) == "65000.10"
    assert spec.ticks("65000.149") == 650001
    assert (MarketSpec(product_code="BTC-USDT-SWAP", start_price=100).base) == "BTC"
    assert (MarketSpec(product_code="FX_BTC_JPY", start_price=100).quote) == "JPY"


def test_iso_date() -> None:
    assert iso_date(0.5) == "1970-01-01T00:00:00.5000000Z"
    assert iso_date(1_700_000_000.25) == "2023-11-14T22:13:20.2500000Z"


# ------------------------------------------------------------------ account


def order(account: Account, **body: Any) -> Order:
    base = {"product_code": "FX_BTC_JPY", "child_order_type": "LIMIT", "size": 0.01}
    request = parse_order(
        {**base, **body}, products={"FX_BTC_JPY", "BTC_JPY"}, now=1e9, number=account.next_number
    )
    return account.place(request, now=1e9)


def execute(account: Account, o: Order, price: float, *, margin: bool = True) -> Any:
    return execution_event(account.execute(o, Decimal(str(price)), margin=margin, now=1e9))


def lots(account: Account) -> list[tuple[str, Any, Any]]:
    return [(lot.side, float(lot.price), float(lot.size)) for lot in account.symbol_lots(None)]


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
    execute(account, long1, 100.5)
    long2 = order(account, side="BUY", price=101, size=0.2)
    execute(account, long2, 101)
    assert lots(account) == [("BUY", 100.5, 0.3), ("BUY", 101, 0.2)]
    # SELL 0.4 at 99: closes 0.3 @100.5 (-0.45 -> -1) and 0.1 @101 (-0.2 -> -1).
    sell = order(account, side="SELL", price=99, size=0.4)
    event = execute(account, sell, 99)
    assert event["outstanding_size"] == 0
    assert event["price"] == 99
    assert account.collateral == Decimal(999_998)
    assert lots(account) == [("BUY", 101, 0.1)]
    # SELL 0.3 more at 103: closes 0.1 (+0.2 -> 0) and opens a 0.2 short.
    sell2 = order(account, side="SELL", price=103, size=0.3)
    execute(account, sell2, 103)
    assert account.collateral == Decimal(999_998)
    assert [(side, size) for side, _, size in lots(account)] == [("SELL", 0.2)]
    # BUY closes the short at 102.5: +0.1 rounded up -> +1.
    buy = order(account, side="BUY", price=102.5, size=0.2)
    execute(account, buy, 102.5)
    assert account.collateral == Decimal(999_999)
    assert account.symbol_lots(None) == []


def test_exact_collateral_and_net_position_when_unified() -> None:
    account = Account(1000, currency="USDT", unified=True, whole_units=False)
    buy = order(account, side="BUY", price=100.5, size=0.3)
    execute(account, buy, 100.5)
    assert account.net("FX_BTC_JPY") == ("BUY", Decimal("0.3"), Decimal("100.5"))
    sell = order(account, side="SELL", price=99, size=0.3)
    execute(account, sell, 99)
    assert account.collateral == Decimal("999.55") == account.balances["USDT"]
    assert account.realized["FX_BTC_JPY"] == Decimal("-0.45")
    assert account.net("FX_BTC_JPY") == ("", 0, 0)


def test_spot_executions_open_no_position_and_move_balances() -> None:
    account = Account(1_000_000)
    o = order(account, product_code="BTC_JPY", side="BUY", price=100)
    account.execute(o, Decimal(100), margin=False, base="BTC", quote="JPY", now=1e9)
    assert account.symbol_lots(None) == []
    assert account.balances == {"BTC": Decimal("0.01"), "JPY": Decimal("-1.00")}
    assert account.collateral == 1_000_000  # bitFlyer: the margin wallet is apart
    row = order_row(o)
    assert row["executed_size"] == 0.01
    assert row["child_order_state"] == "COMPLETED"


def test_cancel_and_find() -> None:
    account = Account(0)
    o = order(account, side="BUY", price=100)
    assert account.find(order_id=o.order_id) is o
    assert account.find(client_id=o.client_id) is o
    assert account.find(client_id="") is None
    account.cancel(o, 1e9)
    assert cancel_event(o, 1e9)["event_type"] == "CANCEL"
    with pytest.raises(OrderError, match="CANCELED"):
        account.cancel(o, 1e9)
    assert order_row(o)["cancel_size"] == 0.01


def test_engine_fills_marketable_and_resting_orders() -> None:
    engine = Engine([FX], 3, Account(1_000_000))
    market = engine.markets["FX_BTC_JPY"]
    best_ask = market.best_ask
    now = 1_700_000_000.0
    account = engine.account
    buy = parse_order(
        {"product_code": "FX_BTC_JPY", "child_order_type": "MARKET", "side": "BUY", "size": 0.1},
        products={"FX_BTC_JPY"},
        now=now,
        number=account.next_number,
    )
    placed, fill = engine.place(buy, now=now)
    assert fill is not None
    assert fill.price == best_ask
    assert placed.state == "COMPLETED"
    resting = parse_order(
        {
            "product_code": "FX_BTC_JPY",
            "child_order_type": "LIMIT",
            "side": "SELL",
            "price": market.best_bid + 3,
            "size": 0.1,
        },
        products={"FX_BTC_JPY"},
        now=now,
        number=account.next_number,
    )
    sell, fill = engine.place(resting, now=now)
    assert fill is None
    results: list[TickResult] = engine.tick(now + 1, {"FX_BTC_JPY": market.fair + 20})
    assert [f.order for f in results[0].fills] == [sell]
    assert sell.state == "COMPLETED"
    assert engine.account.symbol_lots(None) == []
