"""The aiohttp (asyncio) adapter: :class:`Client`, pybotters' API on the sans-I/O core.

Everything here is also reachable from the top level (``botters.Client``,
``botters.FetchResult``...), resolved on first access so that ``import
botters`` does not import aiohttp.

The trio adapter (:mod:`botters.transports.trio`, ``botters.trio``) has every
name listed here too, except :class:`PinnedResolver`, which plugs
``resolve=`` pins into aiohttp's connector.
"""

from __future__ import annotations

from botters.transports._auth import Auth
from botters.transports._errors import (
    ClientClosedError,
    ConnectError,
    ConnectionLostError,
    HandshakeError,
    HTTPStatusError,
    ReplyLostError,
    TLSError,
    TooManyRedirectsError,
    TransportError,
    TransportTimeoutError,
    WebSocketClosedError,
)
from botters.transports._streams import (
    MessageStream,
    QueueClosed,
    QueueEmpty,
    WebSocketQueue,
    matches,
)

from ._client import Client, FetchResult, NotJSONContent, RequestContext
from ._resolver import PinnedResolver
from ._ws import WebSocketApp, WebSocketConnection

__all__ = [
    "Auth",
    "Client",
    "ClientClosedError",
    "ConnectError",
    "ConnectionLostError",
    "FetchResult",
    "HTTPStatusError",
    "HandshakeError",
    "MessageStream",
    "NotJSONContent",
    "PinnedResolver",
    "QueueClosed",
    "QueueEmpty",
    "ReplyLostError",
    "RequestContext",
    "TLSError",
    "TooManyRedirectsError",
    "TransportError",
    "TransportTimeoutError",
    "WebSocketApp",
    "WebSocketClosedError",
    "WebSocketConnection",
    "WebSocketQueue",
    "matches",
]
