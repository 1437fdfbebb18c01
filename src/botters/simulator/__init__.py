"""An embedded bitFlyer-like exchange for tests, demos and bots' own test suites.

:class:`Simulator` serves bitFlyer's REST paths and its JSON-RPC Realtime API
on 127.0.0.1 from a deterministic moving market, checks signatures the way
bitFlyer documents them, and can misbehave on demand (:class:`Fault`,
:class:`RestFault`). It needs aiohttp (``pip install 'botters[aiohttp]'``);
``import botters`` never imports this package.

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

From trio, synchronous code or a command line, ``with Simulator() as sim:``
runs it on its own loop in a background thread (``async with`` does the same
under trio); every method is thread-safe.

See :class:`Simulator` for how a client must address it so that botters
signs the requests.
"""

from __future__ import annotations

from ._faults import Fault, RestFault
from ._market import DEFAULT_MARKETS, MarketSpec
from ._server import (
    DEMO_APIS,
    GARBAGE_FRAME,
    SIMULATED_HOSTS,
    SimConnection,
    SimStats,
    Simulator,
)
from ._tls import make_tls_contexts

__all__ = [
    "DEFAULT_MARKETS",
    "DEMO_APIS",
    "GARBAGE_FRAME",
    "SIMULATED_HOSTS",
    "Fault",
    "MarketSpec",
    "RestFault",
    "SimConnection",
    "SimStats",
    "Simulator",
    "make_tls_contexts",
]
