"""botters.transports.trio._net.open_stream: TCP, TLS with pinned names, error mapping."""

from __future__ import annotations

import ssl
from typing import Any

import pytest
import trio
import trio.testing

from botters.protocol._errors import ConfigError
from botters.transports._errors import (
    ConnectError,
    TLSError,
    TransportError,
    TransportTimeoutError,
)
from botters.transports.trio import make_ssl_context, open_stream, parse_pins

pytestmark = pytest.mark.anyio

REQUEST = b"GET /x HTTP/1.1\r\nHost: api.bitflyer.com\r\nConnection: close\r\n\r\n"


async def _read_all(stream: trio.abc.Stream) -> bytes:
    out = b""
    while chunk := await stream.receive_some(65536):
        out += chunk
    return out


async def test_plain_tcp(serve_http: Any) -> None:
    async with serve_http() as server:
        stream = await open_stream("127.0.0.1", server.port, tls=False)
        async with stream:
            await stream.send_all(REQUEST)
            reply = await _read_all(stream)
    assert reply.startswith(b"HTTP/1.1 200 ")
    assert server.seen[0].target == "/x"


async def test_tls_to_a_pinned_name_checks_the_real_name(
    serve_http: Any, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    async with serve_http(server_ssl) as server:
        pins = {"API.bitflyer.com": ("127.0.0.1", server.port)}
        stream = await open_stream("api.bitflyer.com", 443, tls=client_ssl, resolve=pins)
        async with stream:
            assert isinstance(stream, trio.SSLStream)
            assert stream.server_hostname == "api.bitflyer.com"
            await stream.send_all(REQUEST)
            assert (await _read_all(stream)).startswith(b"HTTP/1.1 200 ")
        # The certificate is not valid for this name: the check uses it, not 127.0.0.1.
        pins = {"not-in-the-cert.example": ("127.0.0.1", server.port)}
        with pytest.raises(TLSError) as info:
            await open_stream("not-in-the-cert.example", 443, tls=client_ssl, resolve=pins)
        assert isinstance(info.value.__cause__, trio.BrokenResourceError)
        # Untrusted CA (tls=True: the default context).
        with pytest.raises(TLSError):
            await open_stream("127.0.0.1", server.port, tls=True)
        # ssl=False: no verification at all.
        stream = await open_stream("127.0.0.1", server.port, tls=make_ssl_context(False))
        await stream.aclose()


async def test_refused_connection_is_a_connect_error(closed_port: int) -> None:
    with pytest.raises(ConnectError) as info:
        await open_stream("127.0.0.1", closed_port, tls=False, url="http://x/")
    assert not isinstance(info.value, TLSError)
    assert info.value.url == "http://x/"
    assert isinstance(info.value.__cause__, OSError)


def test_connect_timeout_uses_trios_clock(silent_listener: Any) -> None:
    # TCP connects (the kernel's backlog accepts it) but the TLS handshake never gets an
    # answer; the MockClock jumps to the deadline as soon as everything is blocked.
    async def main() -> float:
        async with silent_listener() as port:
            start = trio.current_time()
            with pytest.raises(TransportTimeoutError) as info:
                await open_stream("127.0.0.1", port, tls=True, connect_timeout=7.0)
            assert isinstance(info.value, TimeoutError)
            assert isinstance(info.value, TransportError)
            return trio.current_time() - start

    elapsed = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert elapsed == pytest.approx(7.0)


async def test_cancellation_while_connecting_propagates(silent_listener: Any) -> None:
    async with silent_listener() as port:
        with trio.CancelScope() as scope:
            scope.cancel()
            await open_stream("127.0.0.1", port, tls=True)
        assert scope.cancelled_caught


def test_parse_pins() -> None:
    assert parse_pins({"A.example": ("127.0.0.1", None)}) == {"a.example": ("127.0.0.1", None)}
    assert parse_pins(None) == {}
    with pytest.raises(ConfigError, match="address, port"):
        parse_pins({"a.example": "127.0.0.1"})  # type: ignore[dict-item]
    with pytest.raises(ConfigError):
        make_ssl_context("yes")  # type: ignore[arg-type]
