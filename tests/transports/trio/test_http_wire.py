"""botters.trio.Client on the wire: body framings and encodings, any chunking of the same
server bytes, and malformed responses rejected cleanly (the client stays usable)."""

from __future__ import annotations

import gzip
import itertools
import zlib
from typing import Any

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botters.transports.trio import (
    Client,
    ConnectionLostError,
    TransportError,
)

from .conftest import Raw, Reply, Seen

pytestmark = pytest.mark.anyio

PAYLOAD = b'{"board": [' + b",".join(b"[%d, 0.5]" % i for i in range(300)) + b"]}"


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def chunked(body: bytes, size: int = 700) -> bytes:
    out = b""
    for i in range(0, len(body), size):
        piece = body[i : i + size]
        out += b"%x;ext=1\r\n%s\r\n" % (len(piece), piece)
    return out + b"0\r\nX-Trailer: t\r\n\r\n"


def head(*headers: str, status: bytes = b"200 OK") -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\n" + b"".join(h.encode() + b"\r\n" for h in headers) + b"\r\n"
    )


# Complete keep-alive responses whose decoded body is PAYLOAD, as a server may frame them.
RESPONSES = {
    "length": head(f"Content-Length: {len(PAYLOAD)}") + PAYLOAD,
    "chunked": head("Transfer-Encoding: chunked") + chunked(PAYLOAD),
    "gzip": head("Content-Encoding: gzip", f"Content-Length: {len(gzip.compress(PAYLOAD))}")
    + gzip.compress(PAYLOAD),
    "gzip-chunked": head("Content-Encoding: gzip", "Transfer-Encoding: chunked")
    + chunked(gzip.compress(PAYLOAD), 97),
    "deflate": head("Content-Encoding: deflate", f"Content-Length: {len(zlib.compress(PAYLOAD))}")
    + zlib.compress(PAYLOAD),
    "raw-deflate": head("Content-Encoding: deflate", f"Content-Length: {len(raw_deflate(PAYLOAD))}")
    + raw_deflate(PAYLOAD),
    "1xx-first": head(status=b"100 Continue")
    + head(status=b"103 Early Hints")
    + head(f"Content-Length: {len(PAYLOAD)}")
    + PAYLOAD,
}


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(sorted(RESPONSES)),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
)
def test_any_chunking_of_the_same_bytes_gives_the_same_result(
    serve_http: Any, name: str, cuts: list[int]
) -> None:
    data = RESPONSES[name]
    pieces = split(data, cuts)
    assert b"".join(pieces) == data

    async def main() -> None:
        async def framed(seen: Seen) -> Raw:
            # Each piece is written once the client has read the previous one.
            return Raw(pieces, close=False, settle=True)

        async with serve_http() as server, Client(apis={}) as client:
            server.routes["/framed"] = framed
            r = await client.fetch("GET", server.url("/framed"))
            assert r.response.status == 200
            assert r.text == PAYLOAD.decode()
            assert r.data["board"][299] == [299, 0.5]
            # The framing ended exactly where it should: the connection carries the next one.
            assert (await client.fetch("GET", server.url("/next"))).data
            assert server.connections == 1

    trio.run(main)


@pytest.mark.parametrize("name", sorted(RESPONSES))
async def test_framings_and_encodings_streamed(serve_http: Any, name: str) -> None:
    async def framed(seen: Seen) -> Raw:
        return Raw([RESPONSES[name]], close=False)

    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/framed"] = framed
        async with client.get(server.url("/framed")) as resp:
            parts = [chunk async for chunk in resp.iter_bytes()]
            assert b"".join(parts) == PAYLOAD
            assert await resp.read_chunk() == b""


async def test_large_chunked_and_multi_member_gzip_bodies(serve_http: Any) -> None:
    big = bytes(range(256)) * 8192  # 2 MiB

    async def large(seen: Seen) -> Reply:
        return Reply(chunks=[big[i : i + 65536] for i in range(0, len(big), 65536)])

    async def members(seen: Seen) -> Reply:
        body = gzip.compress(b"first ") + gzip.compress(b"second")
        return Reply(headers=[("Content-Encoding", "gzip")], body=body)

    async def unknown(seen: Seen) -> Reply:
        return Reply(headers=[("Content-Encoding", "br")], body=b"\x1b\x00opaque")

    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/large"] = large
        server.routes["/members"] = members
        server.routes["/br"] = unknown
        async with client.get(server.url("/large")) as resp:
            assert await resp.read() == big
        assert (await client.fetch("GET", server.url("/members"))).text == "first second"
        async with client.get(server.url("/br")) as resp:
            assert await resp.read() == b"\x1b\x00opaque"  # not asked for: left as it is
    assert server.connections == 1


# -- malformed responses ---------------------------------------------------------------------


BAD = {
    "garbage": ([b"garbage\r\n\r\n"], TransportError, "invalid HTTP response"),
    "binary": ([b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 5], TransportError, "invalid"),
    "bad-status": ([b"HTTP/1.1 abc OK\r\n\r\n"], TransportError, "invalid"),
    "bad-length": ([head("Content-Length: x") + b"x"], TransportError, "invalid"),
    "bad-chunk": ([head("Transfer-Encoding: chunked") + b"zz\r\nab\r\n"], TransportError, ""),
    "not-gzip": (
        [head("Content-Encoding: gzip", "Content-Length: 9") + b"not gzip!"],
        TransportError,
        "cannot decode",
    ),
    "truncated-gzip": (
        [head("Content-Encoding: gzip", "Content-Length: 20") + gzip.compress(PAYLOAD)[:20]],
        TransportError,
        "truncated",
    ),
    "truncated-chunked": (
        [head("Transfer-Encoding: chunked") + b"a\r\n12345"],
        ConnectionLostError,
        "before the end of the body",
    ),
    "eof-in-head": ([b"HTTP/1.1 200 OK\r\nContent-"], ConnectionLostError, "response head"),
    "nothing": ([], ConnectionLostError, ""),
}


@pytest.mark.parametrize("name", sorted(BAD))
async def test_malformed_responses_are_rejected_cleanly(serve_http: Any, name: str) -> None:
    pieces, error, match = BAD[name]

    async def bad(seen: Seen) -> Raw:
        return Raw(pieces, close=True)

    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/bad"] = bad
        with pytest.raises(error, match=match or None) as info:
            await client.fetch("GET", server.url("/bad"))
        assert info.value.url == server.url("/bad")
        # No connection is left busy (a broken one was dropped and its permit freed).
        assert all(busy == 0 for busy, _ in client._pool.stats().values())
        assert (await client.fetch("GET", server.url("/fine"))).data


@pytest.mark.parametrize("size", [70_000, 1_000_000])
async def test_an_oversized_head_is_refused_without_reading_it_all(
    serve_http: Any, size: int
) -> None:
    async def huge(seen: Seen) -> Raw:
        big = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Big: " + b"a" * size + b"\r\n\r\n{}"
        return Raw([big], close=False)

    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/huge"] = huge
        with pytest.raises(TransportError, match="invalid HTTP response") as info:
            await client.fetch("GET", server.url("/huge"))
        assert not isinstance(info.value, ConnectionLostError)
        assert (await client.fetch("GET", server.url("/fine"))).data
    async with serve_http() as server, Client(apis={}, max_header_size=2_000_000) as client:
        server.routes["/huge"] = huge
        assert (await client.fetch("GET", server.url("/huge"))).data == {}
