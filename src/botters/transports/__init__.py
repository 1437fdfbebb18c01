"""Adapters that run the sans-I/O core on a real network stack.

* :mod:`botters.transports.aiohttp`: :class:`~botters.Client` on asyncio and
  aiohttp, with pybotters 1.x's API.

The modules directly under this package (errors, the ``Auth`` sentinel, JSON,
message queues and filtered streams, handler dispatch) import no event loop or
HTTP library, so every adapter shares them and ``import botters`` stays cheap.
"""
