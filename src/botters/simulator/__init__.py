"""An embedded exchange for tests, demos and bots' own test suites: bitFlyer, Bybit, OKX, Binance.

:class:`Simulator` serves one exchange's REST paths and WebSocket API on
127.0.0.1 from a deterministic moving market: bitFlyer's JSON-RPC Realtime API
(the default), Bybit v5, OKX v5 or Binance Spot (``Simulator(exchange="bybit")``). It checks
signatures the way each exchange documents them, keeps an account (orders,
fills, positions, collateral), and can misbehave on demand (:class:`Fault`,
:class:`RestFault`), book sequence gaps and bad checksums included. It needs
aiohttp (``pip install 'botters[aiohttp]'``); ``import botters`` never imports
this package.

In an asyncio test::

    from botters.simulator import DEMO_APIS, Fault, Simulator

    async with Simulator(seed=1) as sim:
        ...  # connect to sim.ws_url, sign REST calls with DEMO_APIS, send to sim.rest_url
        conn = await sim.wait_for_connections(1)
        conn.drop()                                # the client should reconnect
        await sim.wait_for_connections(2)
        assert store.board.sorted({"product_code": "FX_BTC_JPY"}) == sim.board_snapshot(
            "FX_BTC_JPY"
        )

Any exchange's book, as it prints it, for any store::

    async with Simulator(exchange="okx", seed=1) as sim:
        conn = await sim.wait_for_subscription("books:BTC-USDT-SWAP")
        conn.inject(Fault(skip_diff_after=0))      # a sequence gap on the next update
        ...
        bids, asks = sim.book_levels("BTC-USDT-SWAP")  # [("65000.1", "0.125"), ...]

Binance (``exchange="binance"`` for Spot, ``"binanceusdsm"`` for USDⓈ-M): streams
named in the URL (``/ws/btcusdt@depth@100ms``), a depth snapshot that syncs
with the diffs as Binance documents, stale on demand, and the listenKey::

    async with Simulator(exchange="binance", seed=1) as sim:
        sim.inject_rest(RestFault(book_age=3), path="/api/v3/depth")  # replay 3 diffs
        ...
        puts = [r for r in sim.user_stream_requests() if r.method == "PUT"]

From trio, synchronous code or a command line, ``with Simulator() as sim:``
runs it on its own loop in a background thread (``async with`` does the same
under trio); every method is thread-safe.

See :class:`Simulator` for how a client must address it so that botters
signs the requests.
"""

from __future__ import annotations

from ._binance import UserStreamRequest
from ._connection import GARBAGE_FRAME, SimConnection
from ._exchanges import (
    DEFAULT_MARKETS_BY_EXCHANGE,
    DEMO_APIS_BY_EXCHANGE,
    EXCHANGES,
    SIMULATED_HOSTS_BY_EXCHANGE,
)
from ._faults import Fault, RestFault
from ._market import DEFAULT_MARKETS, MarketSpec
from ._server import DEMO_APIS, SIMULATED_HOSTS, SimStats, Simulator
from ._tls import make_tls_contexts

__all__ = [
    "DEFAULT_MARKETS",
    "DEFAULT_MARKETS_BY_EXCHANGE",
    "DEMO_APIS",
    "DEMO_APIS_BY_EXCHANGE",
    "EXCHANGES",
    "GARBAGE_FRAME",
    "SIMULATED_HOSTS",
    "SIMULATED_HOSTS_BY_EXCHANGE",
    "Fault",
    "MarketSpec",
    "RestFault",
    "SimConnection",
    "SimStats",
    "Simulator",
    "UserStreamRequest",
    "make_tls_contexts",
]
