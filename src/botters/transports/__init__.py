"""Adapters that run the sans-I/O core on a real network stack.

* :mod:`botters.transports.aiohttp`: :class:`~botters.Client` on asyncio and
  aiohttp, with pybotters 1.x's API.
* :mod:`botters.transports.trio` (``botters.trio``): the same API on trio,
  h11 and wsproto.

The modules directly under this package (errors, the ``Auth`` sentinel, JSON,
message queues and filtered streams, handler dispatch, and the
adapter-neutral halves of the HTTP client and of ``WebSocketApp``) import no
event loop or HTTP library, so every adapter shares them and ``import
botters`` stays cheap.
"""
