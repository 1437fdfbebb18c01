"""The dialects the simulator speaks, and the per-exchange constants derived from them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from ._binance import Binance
from ._binance_usdm import BinanceUsdm
from ._bitflyer import BitFlyer
from ._bybit import Bybit
from ._dialect import Dialect
from ._market import MarketSpec
from ._okx import Okx

__all__ = [
    "DEFAULT_MARKETS_BY_EXCHANGE",
    "DEMO_APIS_BY_EXCHANGE",
    "DIALECTS",
    "EXCHANGES",
    "SIMULATED_HOSTS_BY_EXCHANGE",
]

DIALECTS: Final[Mapping[str, type[Dialect]]] = MappingProxyType(
    {d.name: d for d in (BitFlyer, Bybit, Okx, Binance, BinanceUsdm)}
)

EXCHANGES: Final = tuple(DIALECTS)
"""What ``Simulator(exchange=...)`` accepts.

``("bitflyer", "bybit", "okx", "binance", "binanceusdsm")``.
"""

DEMO_APIS_BY_EXCHANGE: Final[Mapping[str, Mapping[str, tuple[str, ...]]]] = MappingProxyType(
    {name: d.demo_apis for name, d in DIALECTS.items()}
)
"""The credentials each dialect accepts by default, in the ``apis=`` shape.

``DEMO_APIS_BY_EXCHANGE["okx"] == {"okx": (key, secret, passphrase)}``; pass it
to ``botters.Client(apis=...)`` as it is.
"""

SIMULATED_HOSTS_BY_EXCHANGE: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {name: d.hosts for name, d in DIALECTS.items()}
)
"""The production hosts :attr:`Simulator.resolve` pins, per exchange."""

DEFAULT_MARKETS_BY_EXCHANGE: Final[Mapping[str, Mapping[str, MarketSpec]]] = MappingProxyType(
    {name: d.markets for name, d in DIALECTS.items()}
)
"""The products ``Simulator(exchange=..., products=...)`` may name by code."""
