"""aioca's examples, written with botters.tasks (Binance COIN-M futures REST).

Shown in docs/tasks.rst; tests/tasks/test_examples.py runs every tree here on
both adapters against a local server that answers as dapi.binance.com does.
Run it against the real exchange with ``python docs/examples/tasks_aioca.py``
(public endpoints only, unless you have an ``apis.json``).
"""

from __future__ import annotations

from typing import Any

from botters.tasks import Node, concurrent, repeat, serial, stream, task

DAPI = "https://dapi.binance.com"


# -- the tasks: one small async function per endpoint -----------------------------------


async def server_time(client: Any) -> Any:
    """The exchange's clock (``GET /dapi/v1/time``)."""
    r = await client.fetch("GET", f"{DAPI}/dapi/v1/time")
    return r.data


async def ticker(client: Any, symbol: str) -> Any:
    """The last price of ``symbol`` (``GET /dapi/v1/ticker/price``)."""
    r = await client.fetch("GET", f"{DAPI}/dapi/v1/ticker/price", params={"symbol": symbol})
    return r.data


async def kline(client: Any, symbol: str, interval: str, limit: int, end_time: int) -> Any:
    """Candles of ``symbol`` ending at ``end_time`` (ms) (``GET /dapi/v1/klines``)."""
    params = {"symbol": symbol, "interval": interval, "limit": limit, "endTime": end_time}
    r = await client.fetch("GET", f"{DAPI}/dapi/v1/klines", params=params)
    return r.data


async def account(client: Any) -> Any:
    """The account of the credentials the client signs with (``GET /dapi/v1/account``)."""
    r = await client.fetch("GET", f"{DAPI}/dapi/v1/account")
    return r.data


# -- the trees ---------------------------------------------------------------------------


def every_second(rounds: int | None = None, interval: float = 1.0) -> Node:
    """Server time and the BTCUSD_PERP ticker together, every second on the second."""
    return repeat(
        concurrent(server_time, task(ticker, "BTCUSD_PERP")),
        count=rounds,
        interval=interval,
        align=True,
    )


def klines_serially(now_ms: int) -> Node:
    """The last two 1-minute candles of BTCUSD_PERP, one request after the other."""
    end = now_ms // 60_000 * 60_000
    return serial(
        task(kline, "BTCUSD_PERP", "1m", 1, end),
        task(kline, "BTCUSD_PERP", "1m", 1, end - 60_000),
    )


def two_symbols(now_ms: int) -> Node:
    """The same two candles for BTC and for ETH: each symbol serially, both at once."""
    end = now_ms // 60_000 * 60_000
    return concurrent(
        *(
            serial(
                task(kline, symbol, "1m", 1, end),
                task(kline, symbol, "1m", 1, end - 60_000),
                name=symbol,
            )
            for symbol in ("BTCUSD_PERP", "ETHUSD_PERP")
        )
    )


def two_accounts(sub_apis: Any) -> Node:
    """The main account (the client's credentials) and a sub-account (its own), at once."""
    return concurrent(
        task(account, name="main account"),
        task(account, name="sub-account", apis=sub_apis),
    )


async def print_every_second(client: Any, rounds: int | None = None, interval: float = 1.0) -> None:
    """Print each answer of :func:`every_second` as it arrives (forever if ``rounds`` is None)."""
    async with stream(every_second(rounds, interval), client) as results:
        async for done in results:
            print(done.path, done.name, done.result)


if __name__ == "__main__":  # pragma: no cover - talks to the real exchange
    import asyncio
    import time

    import botters
    from botters.tasks import run

    async def main() -> None:
        async with botters.Client() as client:
            every_second(3).show()
            await print_every_second(client, rounds=3)
            now_ms = int(time.time() * 1000)
            klines_serially(now_ms).show()
            print(await run(klines_serially(now_ms), client))
            two_symbols(now_ms).show()
            btc, eth = await run(two_symbols(now_ms), client)
            print("BTC", btc, "\nETH", eth)

    asyncio.run(main())
