"""OKX v5 message and row shapes, built from the neutral engine (pure functions).

Field names follow OKX's documentation (https://www.okx.com/docs-v5/en/):
order book levels are ``[px, sz, "0", numOrders]`` (the third, deprecated,
is always ``"0"``); ``orders``, ``positions``, ``account`` and
``balance_and_position`` follow the private channels of the same names and
the REST rows of ``/api/v5/trade/orders-pending``, ``/api/v5/account/positions``
and ``/api/v5/account/balance``. Every number is a string without trailing
zeros (``"65000.1"``, ``"0.125"``); times are millisecond strings. Positions
are in net mode (``posSide: "net"``, a short has a negative ``pos``), sizes
are in the base currency (a contract value of 1), fees are ``"0"``.

The book checksum (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel):
CRC32 of ``bid1px:bid1sz:ask1px:ask1sz:bid2px:...`` over the top 25 levels of
each side of the book *after* the update, the longer side's remaining levels
following once the shorter one runs out, read as a signed 32-bit integer.
"""

from __future__ import annotations

import zlib
from decimal import Decimal
from typing import Any, Final

from ._account import LEVERAGE, Account, Fill, Order
from ._dialect import plain
from ._market import Market, MarketSpec

__all__ = [
    "UID",
    "account_row",
    "checksum",
    "checksum_text",
    "inst_type",
    "level",
    "order_row",
    "position_row",
    "ticker_row",
]

UID: Final = "44800000000000001"
"""The simulated account's user id (``uid`` in private pushes)."""

CHECKSUM_DEPTH: Final = 25
_TIME_IN_FORCE: Final = {"GTC": "limit", "PostOnly": "post_only", "FOK": "fok", "IOC": "ioc"}


def inst_type(spec: MarketSpec) -> str:
    """``"SWAP"`` for a margin product, else ``"SPOT"``."""
    return "SWAP" if spec.margin else "SPOT"


def px(spec: MarketSpec, ticks: int) -> str:
    """A book price: ``"65000.1"``."""
    return plain(spec.price(ticks))


def sz(spec: MarketSpec, lots: int) -> str:
    """A book size: ``"0.125"``, ``"0"`` for a removed level."""
    return plain(spec.size(lots))


def level(spec: MarketSpec, ticks: int, lots: int) -> list[str]:
    """``[px, sz, "0", numOrders]`` (how many orders make a level is made up, but stable)."""
    orders = 0 if lots == 0 else 1 + (ticks * 7 + lots) % 9
    return [px(spec, ticks), sz(spec, lots), "0", str(orders)]


def checksum_text(bids: list[list[str]], asks: list[list[str]]) -> str:
    """The string the checksum covers, from printed levels best first."""
    parts: list[str] = []
    for i in range(CHECKSUM_DEPTH):
        if i < len(bids):
            parts += bids[i][:2]
        if i < len(asks):
            parts += asks[i][:2]
    return ":".join(parts)


def checksum(bids: list[list[str]], asks: list[list[str]]) -> int:
    """OKX's signed 32-bit CRC32 of :func:`checksum_text`."""
    crc = zlib.crc32(checksum_text(bids, asks).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def ticker_row(market: Market, now_ms: int) -> dict[str, str]:
    """A ``tickers`` push's data (and a ``GET /api/v5/market/ticker`` row)."""
    spec = market.spec
    best_bid, best_ask = market.best_bid, market.best_ask
    start = px(spec, spec.ticks(spec.start_price))
    volume = spec.size(market.volume)
    return {
        "instType": inst_type(spec),
        "instId": market.product_code,
        "last": px(spec, market.ltp),
        "lastSz": sz(spec, market.last_size),
        "askPx": px(spec, best_ask),
        "askSz": sz(spec, market.asks[best_ask]),
        "bidPx": px(spec, best_bid),
        "bidSz": sz(spec, market.bids[best_bid]),
        "open24h": start,
        "high24h": px(spec, market.high),
        "low24h": px(spec, market.low),
        "volCcy24h": plain(market.turnover if not spec.margin else volume),
        "vol24h": plain(volume),
        "sodUtc0": start,
        "sodUtc8": start,
        "ts": str(now_ms),
    }


def _ms(when: float) -> str:
    return str(round(when * 1000))


def _nonzero(value: Decimal) -> str:
    return plain(value) if value else ""


def order_row(order: Order, spec: MarketSpec, *, td_mode: str) -> dict[str, Any]:
    """An order as ``GET /api/v5/trade/orders-pending`` lists it."""
    state = {"ACTIVE": "live", "COMPLETED": "filled", "CANCELED": "canceled"}[order.state]
    ord_type = "market" if order.type == "MARKET" else _TIME_IN_FORCE[order.time_in_force]
    return {
        "instType": inst_type(spec),
        "instId": order.symbol,
        "tgtCcy": "",
        "ccy": "",
        "ordId": order.order_id,
        "clOrdId": order.client_id,
        "tag": "",
        "px": _nonzero(order.price),
        "pxUsd": "",
        "pxVol": "",
        "pxType": "",
        "sz": plain(order.size),
        "pnl": "0",
        "ordType": ord_type,
        "side": order.side.lower(),
        "posSide": "net",
        "tdMode": td_mode,
        "accFillSz": plain(order.executed_size),
        "fillPx": "",
        "tradeId": "",
        "fillSz": "0",
        "fillTime": "",
        "avgPx": _nonzero(order.average_price),
        "state": state,
        "lever": str(LEVERAGE) if spec.margin else "",
        "tpTriggerPx": "",
        "tpTriggerPxType": "",
        "tpOrdPx": "",
        "slTriggerPx": "",
        "slTriggerPxType": "",
        "slOrdPx": "",
        "feeCcy": spec.quote,
        "fee": "0",
        "rebateCcy": spec.quote,
        "rebate": "0",
        "source": "",
        "category": "normal",
        "reduceOnly": "false",
        "cancelSource": "1" if order.state == "CANCELED" else "",
        "uTime": _ms(order.updated),
        "cTime": _ms(order.created),
    }


def fill_fields(fill: Fill, *, maker: bool, pnl: Decimal) -> dict[str, str]:
    """What an ``orders`` push adds for the fill it reports."""
    return {
        "fillPx": plain(fill.price),
        "tradeId": str(fill.number),
        "fillSz": plain(fill.size),
        "fillTime": _ms(fill.time),
        "fillFee": "0",
        "fillFeeCcy": "",
        "fillPnl": plain(pnl),
        "execType": "M" if maker else "T",
        "pnl": plain(pnl),
    }


def position_row(
    account: Account, market: Market, *, pos_id: str, trade_id: str, updated: float
) -> dict[str, Any]:
    """The net position of ``market`` (``pos`` ``"0"`` once closed)."""
    spec = market.spec
    symbol = market.product_code
    side, size, entry = account.net(symbol)
    mark = spec.price(market.mid_price)
    upl = account.open_pnl({symbol: mark}, symbol)
    value = size * entry
    realized = account.realized.get(symbol, Decimal(0))
    lots = account.symbol_lots(symbol)
    created = min((lot.open_date for lot in lots), default=updated)
    return {
        "adl": "1",
        "availPos": plain(size),
        "avgPx": _nonzero(entry),
        "cTime": _ms(created),
        "ccy": spec.quote,
        "imr": plain(value / LEVERAGE),
        "instId": symbol,
        "instType": "SWAP",
        "last": px(spec, market.ltp),
        "lever": str(LEVERAGE),
        "liqPx": "",
        "markPx": px(spec, market.mid_price),
        "mgnMode": "cross",
        "mmr": "0",
        "notionalUsd": plain(size * mark),
        "pnl": plain(realized),
        "pos": plain(-size if side == "SELL" else size),
        "posCcy": "",
        "posId": pos_id,
        "posSide": "net",
        "realizedPnl": plain(realized),
        "tradeId": trade_id,
        "uTime": _ms(updated),
        "upl": plain(upl),
        "uplRatio": plain((upl / (value / LEVERAGE)).quantize(Decimal("0.0001"))) if value else "0",
        "fee": "0",
        "fundingFee": "0",
    }


def account_row(account: Account, marks: dict[str, Decimal], *, updated: float) -> dict[str, Any]:
    """The trading account, as the ``account`` channel and ``GET /api/v5/account/balance`` show it.

    A currency other than the account currency is valued at the mark of
    ``{ccy}-{currency}`` when that spot pair is served.
    """
    currency = account.currency
    upl = account.open_pnl(marks)
    required = account.required()
    details = []
    total = Decimal(0)
    for ccy, balance in sorted(account.balances.items(), key=lambda kv: kv[0] != currency):
        own = ccy == currency
        equity = balance + upl if own else balance
        usd = equity if own else balance * marks.get(f"{ccy}-{currency}", Decimal(0))
        total += usd
        details.append(
            {
                "availBal": plain(balance - required if own else balance),
                "availEq": plain(equity - required if own else equity),
                "cashBal": plain(balance),
                "ccy": ccy,
                "disEq": plain(usd),
                "eq": plain(equity),
                "eqUsd": plain(usd),
                "frozenBal": plain(required if own else Decimal(0)),
                "imr": plain(required if own else Decimal(0)),
                "interest": "0",
                "isoEq": "0",
                "liab": "",
                "mmr": "0",
                "ordFrozen": "0",
                "uTime": _ms(updated),
                "upl": plain(upl if own else Decimal(0)),
            }
        )
    return {
        "adjEq": plain(total),
        "details": details,
        "imr": plain(required),
        "isoEq": "0",
        "mgnRatio": "",
        "mmr": "0",
        "notionalUsd": plain(required * LEVERAGE),
        "ordFroz": "0",
        "totalEq": plain(total),
        "uTime": _ms(updated),
        "upl": plain(upl),
    }
