"""Errors of the network adapters, shared by every transport.

Each adapter maps its library's exceptions (``aiohttp.ClientError``,
``asyncio.TimeoutError``...) to these, so a bot written against botters
catches the same types whichever adapter runs it. The library's original
exception stays available as ``__cause__`` for debugging; it is never the
type raised.

Hierarchy::

    BottersError
    └── TransportError            anything the network or the peer did
        ├── ConnectError          no connection: DNS, refused, TLS handshake
        │   └── TLSError          certificate or TLS failure
        ├── TransportTimeoutError      a timeout (also a built-in TimeoutError)
        ├── ConnectionLostError        the peer or the network dropped a connection
        ├── HTTPStatusError       an HTTP status the caller asked to treat as
        │   │                     an error (``raise_for_status``)
        │   ├── TooManyRedirectsError
        │   └── HandshakeError    a WebSocket upgrade was refused
        └── WebSocketClosedError       a send on a WebSocket that is not open
            └── ReplyLostError    a request's connection was lost before its reply

    BottersError
    └── ClientClosedError         the Client was used after close() (also a RuntimeError)
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping

from botters.protocol._errors import BottersError

__all__ = [
    "ClientClosedError",
    "ConnectError",
    "ConnectionLostError",
    "HTTPStatusError",
    "HandshakeError",
    "ReplyLostError",
    "TLSError",
    "TooManyRedirectsError",
    "TransportError",
    "TransportTimeoutError",
    "WebSocketClosedError",
]


class TransportError(BottersError):
    """The network or the peer failed a request or a connection.

    Attributes:
        url: The URL involved, when known (never carries credentials: botters
            puts none in URLs except where an exchange signs the query, and
            those signatures are single-use).
    """

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class ConnectError(TransportError):
    """No connection could be made (name resolution, refused, unreachable, TLS)."""


class TLSError(ConnectError):
    """The TLS handshake failed (e.g. the server certificate was not trusted)."""


class TransportTimeoutError(TransportError, builtins.TimeoutError):
    """A connect, read or total timeout expired.

    It is also the built-in :class:`TimeoutError` (which ``asyncio.TimeoutError``
    is an alias of since Python 3.11), so ``except asyncio.TimeoutError``
    written for pybotters keeps working.
    """


class ConnectionLostError(TransportError):
    """An established connection broke (server disconnected, reset, truncated body)."""


class HTTPStatusError(TransportError):
    """The server answered with a status the caller asked to treat as an error.

    Raised when ``raise_for_status`` is enabled (an aiohttp session option
    that botters passes through). Without it botters never raises for a
    status: exchanges put their error details in the body, so you read them.

    Attributes:
        status: The HTTP status code.
        reason: The reason phrase or message.
        headers: The response headers, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        reason: str = "",
        url: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.reason = reason
        self.headers: Mapping[str, str] = dict(headers or {})


class TooManyRedirectsError(HTTPStatusError):
    """More redirects than ``max_redirects`` were followed."""


class HandshakeError(HTTPStatusError):
    """The server refused the WebSocket upgrade (e.g. answered 403 or 503)."""


class WebSocketClosedError(TransportError):
    """A message was sent on a WebSocket connection that is closed or closing."""


class ReplyLostError(WebSocketClosedError):
    """The connection a ``WebSocketApp.request`` went out on was lost before its reply came.

    The request may or may not have been carried out by the exchange (it may
    have been lost before it arrived, or its reply after it was processed).
    botters does not send it again after the reconnect: an order must not be
    placed twice. Check the order's state (by its client order id) instead.
    """


class ClientClosedError(BottersError, RuntimeError):
    """The :class:`~botters.Client` was used after :meth:`~botters.Client.close`.

    This is caller misuse, not a network failure, so it is not a
    :class:`TransportError`; it is a :class:`RuntimeError` like aiohttp's
    "Session is closed".
    """
