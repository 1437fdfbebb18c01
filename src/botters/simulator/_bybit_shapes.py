"""Bybit v5 message and row shapes, built from the neutral engine (pure functions).

Field names follow Bybit's documentation:

* tickers: https://bybit-exchange.github.io/docs/v5/websocket/public/ticker
  and https://bybit-exchange.github.io/docs/v5/market/tickers;
* orders: https://bybit-exchange.github.io/docs/v5/websocket/private/order
  and https://bybit-exchange.github.io/docs/v5/order/open-order;
* executions: https://bybit-exchange.github.io/docs/v5/websocket/private/execution;
* positions: https://bybit-exchange.github.io/docs/v5/websocket/private/position
  and https://bybit-exchange.github.io/docs/v5/position;
* wallet: https://bybit-exchange.github.io/docs/v5/websocket/private/wallet
  and https://bybit-exchange.github.io/docs/v5/account/wallet-balance.

Every number is a string. Prices print with as many decimals as the
market's ``price_step`` is written with (``"65000.10"``), sizes likewise with
``size_step``; a removed book level's size is ``"0"``. Derived amounts
(values, profits) print without trailing zeros. The simulator charges no
fees, so fee fields are ``"0"``; risk fields the simulator does not model
(liquidation price, maintenance margin) are ``""`` or ``"0"``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from ._account import LEVERAGE, Account, Fill, Order
from ._dialect import plain
from ._market import Market, MarketSpec

__all__ = [
    "category",
    "execution_row",
    "linear_ticker",
    "order_row",
    "position_row",
    "price_text",
    "size_text",
    "spot_ticker",
    "uuid_for",
    "wallet_row",
]

FUNDING_INTERVAL_MS: Final = 8 * 3600 * 1000
_SIDES: Final = {"BUY": "Buy", "SELL": "Sell"}
_TYPES: Final = {"MARKET": "Market", "LIMIT": "Limit"}


def category(spec: MarketSpec) -> str:
    """``"linear"`` for a margin product, else ``"spot"``."""
    return "linear" if spec.margin else "spot"


def uuid_for(kind: int, n: int) -> str:
    """A UUID-shaped id, the same for the same ``(kind, n)`` (Bybit ids are UUIDs)."""
    return f"{n:08x}-{kind:04x}-4000-8000-{n:012x}"


def price_text(spec: MarketSpec, ticks: int) -> str:
    """A book price: ``"65000.10"``."""
    return f"{spec.price(ticks):f}"


def size_text(spec: MarketSpec, lots: int) -> str:
    """A book size: ``"0.125"``; ``"0"`` for a removed level."""
    return "0" if lots == 0 else f"{spec.size(lots):f}"


def _price(spec: MarketSpec, value: Decimal) -> str:
    return f"{value.quantize(spec.tick):f}" if value else "0"


def _qty(spec: MarketSpec, value: Decimal) -> str:
    return f"{value.quantize(spec.lot):f}" if value else "0"


def _pct(now: Decimal, then: Decimal) -> str:
    return plain(((now - then) / then).quantize(Decimal("0.000001")))


def _ticker_common(market: Market) -> dict[str, str]:
    spec = market.spec
    start = spec.ticks(spec.start_price)
    return {
        "symbol": market.product_code,
        "lastPrice": price_text(spec, market.ltp),
        "highPrice24h": price_text(spec, market.high),
        "lowPrice24h": price_text(spec, market.low),
        "prevPrice24h": price_text(spec, start),
        "volume24h": plain(spec.size(market.volume)),
        "turnover24h": plain(market.turnover),
        "price24hPcnt": _pct(spec.price(market.ltp), spec.price(start)),
    }


def spot_ticker(market: Market) -> dict[str, str]:
    """A spot ``tickers`` message's data (always a snapshot)."""
    return {**_ticker_common(market), "usdIndexPrice": price_text(market.spec, market.mid_price)}


def linear_ticker(market: Market, now_ms: int, tick_direction: str) -> dict[str, str]:
    """A linear ``tickers`` snapshot's data (and a ``GET /v5/market/tickers`` row)."""
    spec = market.spec
    best_bid, best_ask = market.best_bid, market.best_ask
    mid = price_text(spec, market.mid_price)
    common = _ticker_common(market)
    return {
        "symbol": common.pop("symbol"),
        "tickDirection": tick_direction,
        **common,
        "prevPrice1h": common["prevPrice24h"],
        "markPrice": mid,
        "indexPrice": mid,
        "openInterest": "0",
        "openInterestValue": "0",
        "nextFundingTime": str((now_ms // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS),
        "fundingRate": "0.0001",
        "bid1Price": price_text(spec, best_bid),
        "bid1Size": size_text(spec, market.bids[best_bid]),
        "ask1Price": price_text(spec, best_ask),
        "ask1Size": size_text(spec, market.asks[best_ask]),
    }


def order_row(order: Order, spec: MarketSpec, *, last_price: str) -> dict[str, Any]:
    """An order as ``GET /v5/order/realtime`` lists it (the ``order`` topic adds ``category``)."""
    status = {"ACTIVE": "New", "COMPLETED": "Filled", "CANCELED": "Cancelled"}[order.state]
    leaves = order.outstanding_size
    return {
        "orderId": order.order_id,
        "orderLinkId": order.client_id,
        "blockTradeId": "",
        "symbol": order.symbol,
        "price": _price(spec, order.price),
        "qty": _qty(spec, order.size),
        "side": _SIDES[order.side],
        "isLeverage": "" if spec.margin else "0",
        "positionIdx": 0,
        "orderStatus": status,
        "cancelType": "CancelByUser" if order.state == "CANCELED" else "UNKNOWN",
        "rejectReason": "EC_NoError",
        "avgPrice": _price(spec, order.average_price),
        "leavesQty": _qty(spec, leaves),
        "leavesValue": plain(leaves * order.price),
        "cumExecQty": _qty(spec, order.executed_size),
        "cumExecValue": plain(order.executed_size * order.average_price),
        "cumExecFee": "0",
        "timeInForce": order.time_in_force,
        "orderType": _TYPES[order.type],
        "stopOrderType": "",
        "orderIv": "",
        "triggerPrice": "",
        "takeProfit": "",
        "stopLoss": "",
        "tpTriggerBy": "",
        "slTriggerBy": "",
        "triggerDirection": 0,
        "triggerBy": "",
        "lastPriceOnCreated": last_price,
        "reduceOnly": False,
        "closeOnTrigger": False,
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "tpslMode": "",
        "tpLimitPrice": "",
        "slLimitPrice": "",
        "placeType": "",
        "createdTime": str(round(order.created * 1000)),
        "updatedTime": str(round(order.updated * 1000)),
    }


def execution_row(fill: Fill, market: Market, *, maker: bool, seq: int) -> dict[str, Any]:
    """A fill as the ``execution`` topic pushes it."""
    spec = market.spec
    order = fill.order
    return {
        "category": category(spec),
        "symbol": order.symbol,
        "execFee": "0",
        "execId": uuid_for(0xE8EC, fill.number),
        "execPrice": _price(spec, fill.price),
        "execQty": _qty(spec, fill.size),
        "execType": "Trade",
        "execValue": plain(fill.price * fill.size),
        "isMaker": maker,
        "feeRate": "0",
        "tradeIv": "",
        "markIv": "",
        "blockTradeId": "",
        "markPrice": price_text(spec, market.mid_price),
        "indexPrice": "",
        "underlyingPrice": "",
        "leavesQty": "0",
        "orderId": order.order_id,
        "orderLinkId": order.client_id,
        "orderPrice": _price(spec, order.price),
        "orderQty": _qty(spec, order.size),
        "orderType": _TYPES[order.type],
        "stopOrderType": "UNKNOWN",
        "side": _SIDES[order.side],
        "execTime": str(round(fill.time * 1000)),
        "isLeverage": "0",
        "closedSize": _qty(spec, fill.closed),
        "seq": seq,
    }


def position_row(
    account: Account,
    market: Market,
    *,
    updated: float,
    seq: int,
    rest: bool,
) -> dict[str, Any]:
    """The net position of ``market`` (``rest``: ``GET /v5/position/list``'s spelling)."""
    spec = market.spec
    symbol = market.product_code
    side, size, entry = account.net(symbol)
    mark = spec.price(market.mid_price)
    value = size * entry
    lots = account.symbol_lots(symbol)
    created = min((lot.open_date for lot in lots), default=updated)
    return {
        "category": "linear",
        "symbol": symbol,
        "side": {"BUY": "Buy", "SELL": "Sell"}.get(side, ""),
        "size": _qty(spec, size),
        "positionIdx": 0,
        "tradeMode": 0,
        "positionValue": plain(value),
        "riskId": 1,
        "riskLimitValue": "2000000",
        ("avgPrice" if rest else "entryPrice"): _price(spec, entry),
        "markPrice": price_text(spec, market.mid_price),
        "leverage": str(LEVERAGE),
        "positionBalance": "0",
        "autoAddMargin": 0,
        "positionIM": plain(value / LEVERAGE),
        "positionMM": "0",
        "liqPrice": "",
        "bustPrice": "",
        "takeProfit": "0",
        "stopLoss": "0",
        "trailingStop": "0",
        "unrealisedPnl": plain(account.open_pnl({symbol: mark}, symbol)),
        "curRealisedPnl": plain(account.realized.get(symbol, Decimal(0))),
        "cumRealisedPnl": plain(account.realized.get(symbol, Decimal(0))),
        "createdTime": str(round(created * 1000)),
        "updatedTime": str(round(updated * 1000)),
        "tpslMode": "Full",
        "positionStatus": "Normal",
        "adlRankIndicator": 0,
        "isReduceOnly": False,
        "seq": seq,
    }


def wallet_row(account: Account, marks: dict[str, Decimal]) -> dict[str, Any]:
    """The unified account, as the ``wallet`` topic and ``GET /v5/account/wallet-balance`` show it.

    ``marks`` maps product codes to mid prices; a coin other than the account
    currency is valued at the mark of ``{coin}{currency}`` when served.
    """
    currency = account.currency
    upl = account.open_pnl(marks)
    required = account.required()
    realized = sum(account.realized.values(), Decimal(0))
    coins = []
    total = Decimal(0)
    for coin, balance in sorted(account.balances.items(), key=lambda kv: kv[0] != currency):
        own = coin == currency
        equity = balance + upl if own else balance
        usd = equity if own else balance * marks.get(f"{coin}{currency}", Decimal(0))
        total += usd
        coins.append(
            {
                "coin": coin,
                "equity": plain(equity),
                "usdValue": plain(usd),
                "walletBalance": plain(balance),
                "availableToWithdraw": plain(balance - required if own else balance),
                "availableToBorrow": "",
                "borrowAmount": "0",
                "accruedInterest": "0",
                "totalOrderIM": "0",
                "totalPositionIM": plain(required if own else Decimal(0)),
                "totalPositionMM": "0",
                "unrealisedPnl": plain(upl if own else Decimal(0)),
                "cumRealisedPnl": plain(realized if own else Decimal(0)),
                "bonus": "0",
                "collateralSwitch": True,
                "marginCollateral": True,
                "locked": "0",
                "spotHedgingQty": "0",
            }
        )
    wallet = account.collateral
    return {
        "accountType": "UNIFIED",
        "accountIMRate": plain((required / total).quantize(Decimal("0.0001")) if total else total),
        "accountMMRate": "0",
        "accountLTV": "0",
        "totalEquity": plain(total),
        "totalWalletBalance": plain(wallet),
        "totalMarginBalance": plain(wallet + upl),
        "totalAvailableBalance": plain(wallet + upl - required),
        "totalPerpUPL": plain(upl),
        "totalInitialMargin": plain(required),
        "totalMaintenanceMargin": "0",
        "coin": coins,
    }
