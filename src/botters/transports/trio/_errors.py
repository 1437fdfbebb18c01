"""Mapping trio, ssl, h11 and OS exceptions to botters' transport errors.

trio's types (``BrokenResourceError``, ``TooSlowError``...), ``ssl.SSLError``
and h11's protocol errors never escape the trio adapter's public calls
(DESIGN.md): each is turned into the matching
:mod:`botters.transports._errors` type and raised ``from`` the original, so a
traceback still shows what happened underneath.

The same low-level failure means different things at different moments: an
``OSError`` while connecting is "no connection" (:class:`ConnectError`), the
same error on an established connection is "the connection broke"
(:class:`ConnectionLostError`). Callers say which with ``connecting=``. A
request h11 refuses to write (e.g. a header value with a line break) is caller
misuse and becomes :class:`~botters.ConfigError`.
"""

from __future__ import annotations

import ssl
import zlib

import h11
import trio

from botters.protocol._errors import ConfigError
from botters.transports._errors import (
    ConnectError,
    ConnectionLostError,
    TLSError,
    TransportError,
    TransportTimeoutError,
)

__all__ = ["MAPPED", "map_error"]

MAPPED = (
    OSError,
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    trio.TooSlowError,
    h11.ProtocolError,
    zlib.error,
)
"""The exception types :func:`map_error` translates (catch these around I/O calls).

``OSError`` covers ``ssl.SSLError``, ``socket.gaierror`` and the built-in
``TimeoutError``.
"""


def _ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    # trio wraps TLS failures in BrokenResourceError with the ssl error as __cause__.
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLError | ssl.CertificateError):
            return seen
        seen = seen.__cause__
    return None


def map_error(exc: BaseException, url: str | None = None, *, connecting: bool = False) -> Exception:
    """The botters exception for a trio / ssl / h11 / OS exception.

    Args:
        exc: What was raised underneath.
        url: The URL (or ``host:port``) involved, for the message and the
            ``url`` attribute. Callers pass one without credentials in it.
        connecting: ``True`` while a connection (TCP + TLS handshake) is being
            made: failures are then :class:`ConnectError` / :class:`TLSError`
            rather than :class:`ConnectionLostError`.
    """
    where = f" ({url})" if url else ""
    if isinstance(exc, TransportError):
        return exc
    if isinstance(exc, trio.TooSlowError | TimeoutError):
        what = "connect timed out" if connecting else "timed out"
        return TransportTimeoutError(f"{what}{where}", url=url)
    tls = _ssl_cause(exc)
    if tls is not None:
        if connecting:
            return TLSError(f"TLS failure{where}: {tls}", url=url)
        return ConnectionLostError(f"TLS connection broke{where}: {tls}", url=url)
    if isinstance(exc, h11.RemoteProtocolError):
        return TransportError(f"invalid HTTP response{where}: {exc}", url=url)
    if isinstance(exc, h11.LocalProtocolError):
        # What h11 refuses to send (a header value with a line break...): caller misuse.
        return ConfigError(f"cannot send this request{where}: {exc}")
    if isinstance(exc, zlib.error):
        return TransportError(f"cannot decode the response body{where}: {exc}", url=url)
    if connecting:
        detail = f": {exc}" if str(exc) else ""
        return ConnectError(f"cannot connect{where}{detail}", url=url)
    if isinstance(exc, trio.ClosedResourceError):
        return ConnectionLostError(f"connection closed{where}", url=url)
    detail = f": {exc}" if str(exc) else ""
    return ConnectionLostError(f"connection lost{where}{detail}", url=url)
