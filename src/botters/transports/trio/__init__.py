"""The trio adapter: :class:`Client`, pybotters' API on trio (HTTP/1.1 over h11, wsproto).

``import botters.trio`` gives the same names (``botters.trio.Client``...).
Importing this package imports trio, h11, wsproto and ssl; ``import botters``
does not.

Every public name of the aiohttp adapter (:mod:`botters.transports.aiohttp`)
is here too, with the same meaning:

* :class:`Client` / :class:`RequestContext` / :class:`FetchResult` /
  :class:`NotJSONContent`: the HTTP API, as on :class:`botters.Client`;
* :class:`WebSocketApp` / :class:`WebSocketConnection`: managed WebSockets
  (``client.ws_connect``), with :class:`WebSocketQueue`,
  :class:`MessageStream` and :func:`matches` to consume them;
* :class:`Auth` and the error types.

Only on trio (the aiohttp adapter's own is ``PinnedResolver``):

* :class:`Response` / :class:`ResponseHeaders`: botters' own small response
  type (there is no aiohttp here);
* :func:`ws_connect`: ``client.ws_connect`` with a ``nursery=`` to run the app in;
* :func:`open_stream`, :func:`make_ssl_context`, :func:`parse_pins`,
  :data:`Pins`: TCP/TLS connections with ``resolve=`` pins and a connect
  timeout, shared by the HTTP and WebSocket halves;
* the ``DEFAULT_*`` limits of :class:`Client`.
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

from ._client import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_HEADER_SIZE,
    DEFAULT_MAX_REDIRECTS,
    Client,
    FetchResult,
    NotJSONContent,
    RequestContext,
)
from ._net import Pins, make_ssl_context, open_stream, parse_pins
from ._pool import DEFAULT_KEEPALIVE_EXPIRY, DEFAULT_MAX_PER_HOST
from ._response import Response, ResponseHeaders
from ._ws import WebSocketApp, WebSocketConnection, ws_connect

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_KEEPALIVE_EXPIRY",
    "DEFAULT_MAX_HEADER_SIZE",
    "DEFAULT_MAX_PER_HOST",
    "DEFAULT_MAX_REDIRECTS",
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
    "Pins",
    "QueueClosed",
    "QueueEmpty",
    "ReplyLostError",
    "RequestContext",
    "Response",
    "ResponseHeaders",
    "TLSError",
    "TooManyRedirectsError",
    "TransportError",
    "TransportTimeoutError",
    "WebSocketApp",
    "WebSocketClosedError",
    "WebSocketConnection",
    "WebSocketQueue",
    "make_ssl_context",
    "matches",
    "open_stream",
    "parse_pins",
    "ws_connect",
]
