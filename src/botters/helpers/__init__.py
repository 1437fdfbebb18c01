"""Exchange helpers with pybotters' names: token flows and streams that are not plain WebSockets.

``botters.helpers.GMOCoinHelper`` (GMO Coin's private WebSocket token) and
``botters.helpers.bitbank`` (bitbank's PubNub private stream) work on both
adapters: they only await the client they are given, and find the running
framework (asyncio or trio) when they need to sleep.
"""

from __future__ import annotations

__all__: list[str] = []
