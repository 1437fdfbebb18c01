"""botters on trio: ``import botters.trio`` and use ``botters.trio.Client``.

The same API as :class:`botters.Client` (aiohttp), on trio with HTTP/1.1 over
h11 and WebSockets over wsproto; see :mod:`botters.transports.trio`, which this
module mirrors name for name. Importing it imports trio, h11 and ssl
(``import botters`` alone does not).
"""

from __future__ import annotations

from botters.transports import trio as _adapter
from botters.transports.trio import *  # noqa: F403  (the adapter's __all__, mirrored)

__all__ = list(_adapter.__all__)
