"""Opening TCP and TLS byte streams for the trio adapter (HTTP and WebSocket alike).

Theory of operation
-------------------
:func:`open_stream` is the single place where the trio adapter makes a
connection. It

1. picks the address: a name pinned with ``resolve=`` (a **testing hook**,
   e.g. ``{"api.bitflyer.com": ("127.0.0.1", 8443)}``) connects to the pinned
   address, anything else goes through trio's resolver;
2. opens TCP with :func:`trio.open_tcp_stream`;
3. for TLS, wraps the socket in a :class:`trio.SSLStream` whose
   ``server_hostname`` is the **real** host name (never the pinned address),
   so SNI and certificate checks are those of the real host, and completes the
   handshake;
4. bounds steps 1-3 together by ``connect_timeout`` (trio's clock, so
   :class:`trio.testing.MockClock` drives it), and maps every failure to
   botters' exceptions.

Everything after the handshake (reads, writes) is bounded by the caller's
cancel scopes, as trio users expect.

``tls=True`` builds ``ssl.create_default_context()`` for that call (that costs
milliseconds: it loads the system CA store); pass an ``ssl.SSLContext`` to
reuse one. :func:`make_ssl_context` gives the contexts the Client uses.
"""

from __future__ import annotations

import select
import ssl as _ssl

import trio

from botters.protocol._errors import ConfigError
from botters.transports._pins import Pins, parse_pins

from ._errors import MAPPED, map_error

__all__ = [
    "Pins",
    "is_idle_and_open",
    "make_ssl_context",
    "open_stream",
    "parse_pins",
    "socket_of",
]


def make_ssl_context(ssl: _ssl.SSLContext | bool | None) -> _ssl.SSLContext:
    """The TLS context for an ``ssl=`` setting.

    * ``None`` or ``True``: ``ssl.create_default_context()`` (system CAs,
      hostname checking);
    * ``False``: **no verification at all** (no certificate or hostname
      check); only for tests against self-signed servers;
    * an ``ssl.SSLContext``: used as it is (botters never modifies it).
    """
    if isinstance(ssl, _ssl.SSLContext):
        return ssl
    if ssl is None or ssl is True:
        return _ssl.create_default_context()
    if ssl is False:
        ctx = _ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = _ssl.CERT_NONE
        return ctx
    raise ConfigError(f"ssl= takes an ssl.SSLContext, True, False or None, not {ssl!r}")


async def open_stream(
    host: str,
    port: int,
    *,
    tls: bool | _ssl.SSLContext,
    server_hostname: str | None = None,
    resolve: Pins | None = None,
    connect_timeout: float | None = None,
    url: str | None = None,
) -> trio.abc.Stream:
    """Open a TCP connection, with TLS when asked, to ``host:port``.

    Args:
        host: The real host name (or address literal) of the URL.
        port: The port of the URL.
        tls: ``False`` for plain TCP; ``True`` for TLS with a fresh default
            context; an ``ssl.SSLContext`` for TLS with that context.
        server_hostname: The name for SNI and certificate checks; ``host`` by
            default. It is never the pinned address.
        resolve: Pins (see :func:`parse_pins`); ``host`` is looked up in it
            case-insensitively.
        connect_timeout: Seconds (trio clock) for TCP connect **and** TLS
            handshake together; ``None`` for no limit other than the caller's
            cancel scopes.
        url: What to name in error messages (no credentials); ``host:port``
            by default.

    Returns:
        A :class:`trio.SocketStream`, or a :class:`trio.SSLStream` around one
        whose handshake is done. It is created with ``https_compatible=True``
        (a peer closing without TLS close_notify is treated as EOF, and
        ``aclose`` does not wait for the peer's close_notify), as HTTPS and
        WSS servers expect. The caller owns it and must ``aclose`` it.

    Raises:
        ConnectError: Name resolution failed, or the connection was refused.
        TLSError: The TLS handshake failed (untrusted certificate, wrong name...).
        TransportTimeoutError: ``connect_timeout`` expired.
    """
    where = url or f"{host}:{port}"
    target = parse_pins(resolve).get(host.lower()) if resolve else None
    address, address_port = host, port
    if target is not None:
        address = target[0]
        if target[1] is not None:
            address_port = target[1]
    ctx: _ssl.SSLContext | None = None
    if isinstance(tls, _ssl.SSLContext):
        ctx = tls
    elif tls:
        ctx = make_ssl_context(None)
    stream: trio.abc.Stream | None = None
    try:
        with trio.move_on_after(
            connect_timeout if connect_timeout is not None else float("inf")
        ) as scope:
            tcp = await trio.open_tcp_stream(address, address_port)
            stream = tcp
            if ctx is not None:
                tls_stream = trio.SSLStream(
                    tcp,
                    ctx,
                    server_hostname=server_hostname or host,
                    https_compatible=True,
                )
                stream = tls_stream
                await tls_stream.do_handshake()
        if scope.cancelled_caught:
            if stream is not None:
                await trio.aclose_forcefully(stream)
            raise map_error(TimeoutError(), where, connecting=True)
    except MAPPED as exc:
        if stream is not None:
            await trio.aclose_forcefully(stream)
        raise map_error(exc, where, connecting=True) from exc
    except BaseException:
        if stream is not None:
            await trio.aclose_forcefully(stream)
        raise
    assert stream is not None
    return stream


def socket_of(stream: trio.abc.Stream) -> trio.socket.SocketType | None:
    """The socket under a :class:`trio.SocketStream`, or under TLS around one; else ``None``."""
    seen: object = stream
    for _ in range(4):
        if isinstance(seen, trio.SocketStream):
            return seen.socket
        if isinstance(seen, trio.SSLStream):
            seen = seen.transport_stream
            continue
        return None
    return None


def is_idle_and_open(stream: trio.abc.Stream) -> bool:
    """Whether an idle keep-alive connection still looks usable.

    An idle HTTP/1.1 connection has nothing to read: if its socket is
    readable, the server has closed it (EOF), is closing it (a TLS alert) or
    sent bytes nobody asked for. Either way it must not carry the next
    request. Checked without blocking (one ``poll`` call, no read). Streams
    that are not sockets are assumed open.
    """
    sock = socket_of(stream)
    if sock is None:
        return True
    try:
        fd = sock.fileno()
        if fd < 0:
            return False
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(fd, select.POLLIN | select.POLLPRI)
            return not poller.poll(0)
        readable, _, _ = select.select([fd], [], [], 0)
        return not readable
    except (OSError, ValueError):
        return False
