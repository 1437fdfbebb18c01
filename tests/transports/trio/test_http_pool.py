"""botters.trio.Client connections: keep-alive reuse, the per-host bound, stale connections,
expiry on trio's clock, and cancellation at any point leaving the client usable."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from botters.transports.trio import Client, ConnectionLostError

from .conftest import HTTPServer, Raw, Reply, Seen

pytestmark = pytest.mark.anyio

OK = b'{"ok": true}'


def on_connection(server: HTTPServer, seen: Seen) -> int:
    """How many requests the server has seen on ``seen``'s connection (``seen`` included)."""
    return sum(1 for s in server.seen if s.connection == seen.connection)


async def test_keep_alive_reuses_one_connection(serve_http: Any) -> None:
    async with serve_http() as server, Client(apis={}) as client:
        for i in range(5):
            r = await client.fetch("GET", server.url(f"/{i}"))
            assert r.data == {"ok": True, "path": f"/{i}"}
        async with client.post(server.url("/p"), data={"a": 1}) as resp:
            await resp.read()
        async with client.get(server.url("/unread")):
            pass  # body arrived with the head: the connection was given back at once
        assert (await client.fetch("GET", server.url("/last"))).data
        assert client._pool.stats() == {("http", "127.0.0.1", server.port): (0, 1)}
    assert server.connections == 1
    assert {s.connection for s in server.seen} == {1}
    assert len(server.seen) == 8


async def test_concurrent_requests_stay_within_the_bound(serve_http: Any) -> None:
    gate = trio.Event()

    async def held(seen: Seen) -> Reply:
        await gate.wait()
        return Reply(body=OK)

    results: list[Any] = []

    async def one(client: Client, url: str) -> None:
        results.append(await client.fetch("GET", url))

    async with serve_http() as server, Client(apis={}, max_connections_per_host=2) as client:
        server.routes["/held"] = held
        async with trio.open_nursery() as nursery:
            for _ in range(5):
                nursery.start_soon(one, client, server.url("/held"))
            await trio.testing.wait_all_tasks_blocked()
            # Two requests in flight, three waiting for a connection: nothing else was opened.
            assert len(server.seen) == 2
            assert server.open_connections == 2
            assert client._pool.stats() == {("http", "127.0.0.1", server.port): (2, 0)}
            gate.set()
        assert client._pool.stats() == {("http", "127.0.0.1", server.port): (0, 2)}
    assert len(results) == 5
    assert all(r.data == {"ok": True} for r in results)
    assert server.connections == 2
    assert server.max_open == 2


async def test_an_unread_response_holds_its_connection_until_released(serve_http: Any) -> None:
    async def big(seen: Seen) -> Reply:
        return Reply(chunks=[b"x" * 100_000, b"y" * 100_000])

    async with serve_http() as server, Client(apis={}, max_connections_per_host=1) as client:
        server.routes["/big"] = big
        resp = await client.get(server.url("/big"))
        assert not resp.closed
        async with trio.open_nursery() as nursery:
            nursery.start_soon(client.fetch, "GET", server.url("/other"))
            await trio.testing.wait_all_tasks_blocked()
            assert [s.target for s in server.seen] == ["/big"]  # waiting for the connection
            resp.release()  # half-read: closed, not pooled; the waiting request goes on
            assert resp.closed
    assert [s.target for s in server.seen] == ["/big", "/other"]
    assert server.connections == 2


async def test_a_connection_the_server_closed_while_idle_is_not_used(serve_http: Any) -> None:
    async def then_close(seen: Seen) -> Raw:
        return Raw([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"], close=True)

    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/close"] = then_close
        assert (await client.fetch("POST", server.url("/close"))).text == "{}"
        await trio.testing.wait_all_tasks_blocked()  # the server has closed its end
        assert client._pool.stats() == {("http", "127.0.0.1", server.port): (0, 1)}
        # POST is never retried, so this only passes if the dead connection was skipped.
        assert (await client.fetch("POST", server.url("/next"))).data
    assert server.connections == 2


async def test_connection_close_and_http_1_0_are_not_reused(serve_http: Any) -> None:
    async def close(seen: Seen) -> Reply:
        return Reply(headers=[("Connection", "close")], body=OK)

    async def old(seen: Seen) -> Raw:
        return Raw([b"HTTP/1.0 200 OK\r\n\r\n", OK], close=True)

    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/close"] = close
        server.routes["/old"] = old
        assert (await client.fetch("GET", server.url("/close"))).data == {"ok": True}
        r = await client.fetch("GET", server.url("/old"))
        assert r.data == {"ok": True}
        assert r.response.http_version == "1.0"
        assert client._pool.stats() == {}
        assert (await client.fetch("GET", server.url("/new"))).data
    assert server.connections == 3


async def test_a_stale_connection_is_retried_only_for_safe_methods(serve_http: Any) -> None:
    async def second_request_dies(seen: Seen) -> Reply | Raw:
        if on_connection(server, seen) == 2:
            return Raw([])  # the server drops the kept-alive connection without answering
        return Reply(body=OK)

    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/s"] = second_request_dies
        await client.fetch("GET", server.url("/s"))
        r = await client.fetch("GET", server.url("/s"))  # dies on connection 1, retried on 2
        assert r.data == {"ok": True}
        assert [s.connection for s in server.seen] == [1, 1, 2]
        with pytest.raises(ConnectionLostError) as info:  # the 2nd request on connection 2
            await client.fetch("POST", server.url("/s"), data=b"order")
        assert info.value.url == server.url("/s")
        # Sent once, never again: an order must not be placed twice.
        assert [(s.method, s.connection) for s in server.seen] == [
            ("GET", 1),
            ("GET", 1),
            ("GET", 2),
            ("POST", 2),
        ]
        assert (await client.fetch("GET", server.url("/after"))).data
        assert client._pool.stats() == {("http", "127.0.0.1", server.port): (0, 1)}


def test_idle_connections_expire_on_trios_clock(serve_http: Any) -> None:
    clock = trio.testing.MockClock()

    async def main() -> HTTPServer:
        async with serve_http() as server, Client(apis={}, keepalive_expiry=15) as client:
            await client.fetch("GET", server.url("/a"))
            clock.jump(14)
            await client.fetch("GET", server.url("/b"))  # idle 14 s: reused
            clock.jump(15)
            await client.fetch("GET", server.url("/c"))  # idle 15 s: expired
        return server

    server = trio.run(main, clock=clock)
    assert [s.connection for s in server.seen] == [1, 1, 2]


# -- cancellation ------------------------------------------------------------------------------


async def cancel_when_blocked(scope: trio.CancelScope) -> None:
    await trio.testing.wait_all_tasks_blocked()
    scope.cancel()


@pytest.mark.parametrize(
    "pieces",
    [
        [b"HTTP/1.1 200 OK\r\nContent-Le"],  # mid-head
        [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345"],  # mid-body
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n"],  # chunked
    ],
    ids=["head", "body", "chunked"],
)
async def test_cancellation_mid_response_leaves_the_client_usable(
    serve_http: Any, pieces: list[bytes]
) -> None:
    async def partial(seen: Seen) -> Raw:
        return Raw(pieces, close=False)  # then waits for a next request that never comes

    async with serve_http() as server, Client(apis={}, max_connections_per_host=1) as client:
        server.routes["/partial"] = partial
        for _ in range(3):
            with trio.CancelScope() as scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(cancel_when_blocked, scope)
                    await client.fetch("GET", server.url("/partial"))
            assert scope.cancelled_caught
            # The half-read connection was closed, not pooled, and its permit was freed.
            assert client._pool.stats() == {}
            r = await client.fetch("GET", server.url("/fine"))
            assert r.data == {"ok": True, "path": "/fine"}
    # Each "/fine" opened a connection (the cancelled one was dropped) that the next
    # "/partial" reused and lost in turn: 1 + 3 connections.
    assert [s.target for s in server.seen] == ["/partial", "/fine"] * 3
    assert server.connections == 4


async def test_cancellation_while_reading_a_body_with_async_with(serve_http: Any) -> None:
    async def partial(seen: Seen) -> Raw:
        return Raw([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345"], close=False)

    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/partial"] = partial
        async with client.get(server.url("/partial")) as resp:
            assert await resp.read_chunk() == b"12345"
            with trio.CancelScope() as scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(cancel_when_blocked, scope)
                    await resp.read()
            assert scope.cancelled_caught
            assert resp.closed
            with pytest.raises(ConnectionLostError):
                await resp.read()
        assert client._pool.stats() == {}
        assert (await client.fetch("GET", server.url("/fine"))).data


async def test_cancellation_while_waiting_for_a_connection(serve_http: Any) -> None:
    gate = trio.Event()

    async def held(seen: Seen) -> Reply:
        await gate.wait()
        return Reply(body=OK)

    async with serve_http() as server, Client(apis={}, max_connections_per_host=1) as client:
        server.routes["/held"] = held
        async with trio.open_nursery() as nursery:
            nursery.start_soon(client.fetch, "GET", server.url("/held"))
            await trio.testing.wait_all_tasks_blocked()
            with trio.CancelScope() as scope:
                nursery.start_soon(cancel_when_blocked, scope)
                await client.fetch("GET", server.url("/waiting"))  # no free connection
            assert scope.cancelled_caught
            gate.set()
        assert (await client.fetch("GET", server.url("/after"))).data
    assert [s.target for s in server.seen] == ["/held", "/after"]
    assert server.connections == 1


async def test_a_response_dropped_unread_gives_its_connection_up(serve_http: Any) -> None:
    import gc

    async def big(seen: Seen) -> Reply:
        return Reply(chunks=[b"x" * 100_000] * 3)

    async with serve_http() as server, Client(apis={}, max_connections_per_host=1) as client:
        server.routes["/big"] = big
        resp = await client.get(server.url("/big"))
        assert client._pool.stats() == {("http", "127.0.0.1", server.port): (1, 0)}
        del resp
        gc.collect()
        assert client._pool.stats() == {}
        assert (await client.fetch("GET", server.url("/next"))).data
