"""Mapping aiohttp's exceptions to botters' transport errors.

aiohttp's types never escape botters' own calls (DESIGN.md): each is turned
into the matching :mod:`botters.transports._errors` type, raised ``from`` the
original so tracebacks still show what aiohttp saw. A ``ClientResponse``
handed to the caller is aiohttp's own object, though: its methods
(``read()``, ``json()``...) raise aiohttp's exceptions, as they would in
aiohttp or pybotters.
"""

from __future__ import annotations

import aiohttp

from botters.protocol._errors import ConfigError
from botters.transports._errors import (
    ConnectError,
    ConnectionLostError,
    HandshakeError,
    HTTPStatusError,
    TLSError,
    TooManyRedirectsError,
    TransportError,
    TransportTimeoutError,
)

__all__ = ["MAPPED", "map_error"]

MAPPED = (aiohttp.ClientError, TimeoutError)
"""The exception types :func:`map_error` translates (catch these around aiohttp calls)."""


def map_error(exc: BaseException, url: str | None = None) -> Exception:
    """The botters exception for an aiohttp (or timeout) exception.

    Args:
        exc: What aiohttp raised.
        url: The URL involved, for the message. Callers pass a URL without
            credentials in it.
    """
    where = f" ({url})" if url else ""
    if isinstance(exc, TimeoutError):
        return TransportTimeoutError(f"timed out{where}: {exc}".rstrip(": "), url=url)
    if isinstance(exc, aiohttp.ClientSSLError):
        return TLSError(f"TLS failure{where}: {exc}", url=url)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(f"cannot connect{where}: {exc}", url=url)
    if isinstance(exc, aiohttp.ClientResponseError):
        cls: type[HTTPStatusError] = HTTPStatusError
        if isinstance(exc, aiohttp.WSServerHandshakeError):
            cls = HandshakeError
        elif isinstance(exc, aiohttp.TooManyRedirects):
            cls = TooManyRedirectsError
        return cls(
            f"HTTP {exc.status} {exc.message}{where}",
            status=exc.status,
            reason=exc.message,
            url=url,
            headers=exc.headers,
        )
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return ConnectionLostError(f"connection lost{where}: {exc}", url=url)
    if isinstance(exc, aiohttp.ClientOSError | aiohttp.ClientConnectionResetError):
        return ConnectionLostError(f"connection error{where}: {exc}", url=url)
    if isinstance(exc, aiohttp.InvalidURL) and not isinstance(exc, aiohttp.RedirectClientError):
        return ConfigError(f"invalid URL{where}: {exc}")
    return TransportError(f"{type(exc).__name__}{where}: {exc}", url=url)
