"""botters.trio.Client HTTP API against real local trio servers (the aiohttp suite's scenarios)."""

from __future__ import annotations

import json
import ssl
from typing import Any

import pytest
import trio
import trio.testing

import botters
import botters.trio
from botters.transports.trio import (
    Auth,
    Client,
    ClientClosedError,
    ConnectError,
    ConnectionLostError,
    FetchResult,
    HTTPStatusError,
    NotJSONContent,
    Response,
    TLSError,
    TooManyRedirectsError,
    TransportError,
    TransportTimeoutError,
)

from .conftest import Raw, Reply, Seen

pytestmark = pytest.mark.anyio


def pinned(server: Any, client_ssl: ssl.SSLContext, tools: Any, **kwargs: Any) -> Client:
    """A client whose api.bitflyer.com goes to ``server`` (TLS trusting the test CA)."""
    return Client(apis=tools.apis, resolve=tools.pins(server), ssl=client_ssl, **kwargs)


def reply(status: int = 200, body: bytes = b"", **headers: str) -> Any:
    async def handler(seen: Seen) -> Reply:
        return Reply(status, [(k.replace("_", "-"), v) for k, v in headers.items()], body)

    return handler


# -- the public surface ----------------------------------------------------------------------


def test_botters_trio_module_and_lazy_import() -> None:
    assert botters.trio.Client is Client
    assert botters.trio.Response is Response
    import subprocess
    import sys

    code = "import sys, botters; assert 'trio' not in sys.modules and 'h11' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- fetch ---------------------------------------------------------------------------------


async def test_fetch_json(serve_http: Any) -> None:
    async with serve_http() as server, Client(apis={}) as client:
        r = await client.fetch("GET", server.url("/v1/getticker"), params={"a": "1"})
    assert isinstance(r, FetchResult)
    assert isinstance(r.response, Response)
    assert r.response.status == 200
    assert r.response.reason == "OK"
    assert r.response.closed
    assert r.data == {"ok": True, "path": "/v1/getticker"}
    assert json.loads(r.text) == r.data
    assert server.seen[0].target == "/v1/getticker?a=1"
    assert r.response.url == server.url("/v1/getticker?a=1")


async def test_fetch_not_json_is_falsy_and_keeps_the_error(serve_http: Any) -> None:
    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/html"] = reply(body=b"<html>maintenance</html>", content_type="text/html")
        server.routes["/empty"] = reply(body=b"  ")
        r = await client.fetch("GET", server.url("/html"))
        e = await client.fetch("GET", server.url("/empty"))
    assert isinstance(r.data, NotJSONContent)
    assert not r.data
    assert isinstance(r.data.error, json.JSONDecodeError)
    assert r.text == "<html>maintenance</html>"
    assert e.data is None


async def test_fetch_accepts_what_json_accepts_and_replaces_bad_text(serve_http: Any) -> None:
    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/nan"] = reply(body=b'{"x": NaN, "big": 123456789012345678901234567890}')
        server.routes["/latin"] = reply(body=b"caf\xe9", content_type="text/plain; charset=latin-1")
        server.routes["/bad"] = reply(body=b"\xff\xfe ok")
        server.routes["/weird"] = reply(body=b"ok", content_type="text/plain; charset=no-such")
        r = await client.fetch("GET", server.url("/nan"))
        latin = await client.fetch("GET", server.url("/latin"))
        bad = await client.fetch("GET", server.url("/bad"))
        weird = await client.fetch("GET", server.url("/weird"))
    assert r.data["x"] != r.data["x"]  # NaN
    assert latin.text == "café"
    assert bad.text == "\ufffd\ufffd ok"
    assert weird.text == "ok"


# -- request methods -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
async def test_methods_with_await_and_async_with(serve_http: Any, method: str) -> None:
    async with serve_http() as server, Client(apis={}) as client:
        call = getattr(client, method.lower())
        resp = await call(server.url("/a"))
        assert isinstance(resp, Response)
        assert (await resp.json())["path"] == "/a"
        resp.release()
        async with call(server.url("/b")) as resp2:
            assert resp2.status == 200
            assert resp2.ok
            assert (await resp2.json())["path"] == "/b"
        async with client.request(method, server.url("/c")) as resp3:
            assert resp3.method == method
            assert await resp3.read() == await resp3.read()  # cached
    assert [s.method for s in server.seen] == [method] * 3
    # POST and PUT carry an explicit empty length; GET and DELETE no body framing at all.
    lengths = {s.headers.get("content-length") for s in server.seen}
    assert lengths == ({"0"} if method in ("POST", "PUT") else {None})


async def test_head_and_no_content(serve_http: Any) -> None:
    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/204"] = reply(204)
        async with client.request("HEAD", server.url("/x")) as head:
            assert head.headers["content-length"] == "26"
            assert await head.read() == b""
        r = await client.fetch("GET", server.url("/204"))
        assert r.response.status == 204
        assert r.data is None
    assert server.connections == 1


async def test_delete_with_params_and_data(serve_http: Any) -> None:
    async with serve_http() as server, Client(apis={}) as client:
        resp = await client.delete(server.url("/d"), params={"id": 1}, data={"x": "y"})
        resp.release()
    seen = server.seen[0]
    assert seen.target == "/d?id=1"
    assert seen.body == b"x=y"  # unknown host: form, as on aiohttp
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"


async def test_data_str_and_bytes_are_sent_as_given(serve_http: Any) -> None:
    async with serve_http() as server, Client(apis={}) as client:
        await client.fetch("POST", server.url("/s"), data='{"a": 1}')
        await client.fetch("POST", server.url("/b"), data=b"\x00\x01")
    assert server.seen[0].body == b'{"a": 1}'
    assert server.seen[0].headers["content-type"] == "text/plain; charset=utf-8"
    assert server.seen[0].headers["content-length"] == "8"
    assert server.seen[1].body == b"\x00\x01"


async def test_streamed_request_bodies_are_chunked(serve_http: Any) -> None:
    async def agen() -> Any:
        yield b"hello "
        yield b""
        yield b"world"

    async with serve_http() as server, Client(apis={}) as client:
        await client.fetch("POST", server.url("/sync"), data=iter([b"a", b"bc"]))
        await client.fetch("PUT", server.url("/async"), data=agen())
    assert server.seen[0].body == b"abc"
    assert server.seen[1].body == b"hello world"
    assert all(s.headers["transfer-encoding"] == "chunked" for s in server.seen)
    assert all("content-length" not in s.headers for s in server.seen)


async def test_params_as_a_query_string(serve_http: Any) -> None:
    async with serve_http() as server, Client(apis={}) as client:
        await client.fetch("GET", server.url("/q?x=1"), params="y=2&z=%20")
    assert server.seen[0].target == "/q?x=1&y=2&z=%20"


async def test_default_headers_user_agent_and_override(serve_http: Any) -> None:
    async with serve_http() as server:
        async with Client(apis={}) as client:
            await client.fetch("GET", server.url("/"))
        async with Client(apis={}, headers={"User-Agent": "mybot/1", "X-All": "1"}) as client:
            await client.fetch("GET", server.url("/"), headers={"X-All": "2", "X-One": "3"})
    first, second = server.seen
    assert first.headers["user-agent"] == f"botters/{botters.__version__}"
    assert first.headers["accept-encoding"] == "gzip, deflate"
    assert first.headers["host"] == f"127.0.0.1:{server.port}"
    assert second.headers["user-agent"] == "mybot/1"
    assert (second.headers["x-all"], second.headers["x-one"]) == ("2", "3")
    assert [k for k, _ in second.header_list].count("X-All") == 1


async def test_unsupported_options_are_refused_at_the_call() -> None:
    with pytest.raises(botters.ConfigError, match="session"):
        Client(apis={}, session=object())
    with pytest.raises(botters.ConfigError, match="ssl="):
        Client(apis={}, ssl="no")  # type: ignore[arg-type]
    with pytest.raises(botters.ConfigError):
        Client(apis={}, max_connections_per_host=0)
    with pytest.raises(botters.ConfigError, match="address, port"):
        Client(apis={}, resolve={"a.example": "127.0.0.1"})  # type: ignore[dict-item]
    async with Client(apis={}) as client:
        with pytest.raises(botters.ConfigError, match="data="):
            client.post("https://api.bitflyer.com/v1/me/sendchildorder", json={"a": 1})
        with pytest.raises(botters.ConfigError):
            await client.fetch("POST", "https://api.bitflyer.com/x", json={})
        with pytest.raises(botters.ConfigError, match="proxy"):
            client.get("https://api.bitflyer.com/x", proxy="http://p")
        with pytest.raises(botters.ConfigError, match="http://"):
            await client.fetch("GET", "wss://api.bitflyer.com/x")
        with pytest.raises(botters.ConfigError, match="auth="):
            await client.fetch("GET", "http://127.0.0.1:1/", auth="token")
        with pytest.raises(botters.ConfigError, match="data="):
            await client.fetch("POST", "http://127.0.0.1:1/", data=1.5)


async def test_a_request_h11_refuses_to_write_is_caller_misuse(serve_http: Any) -> None:
    async with serve_http() as server, Client(apis={}) as client:
        with pytest.raises(botters.ConfigError, match="cannot send"):
            await client.fetch("GET", server.url("/"), headers={"X-Bad": "a\r\nInjected: 1"})
        assert client._pool.stats() == {}
        assert (await client.fetch("GET", server.url("/ok"))).data
    assert [s.target for s in server.seen] == ["/ok"]


async def test_base_url_is_plain_concatenation(serve_http: Any) -> None:
    async with serve_http() as server, Client(apis={}, base_url=server.url("/api")) as client:
        await client.fetch("GET", "/v1/x", params={"p": "1"})
        async with client.get("/v1/y"):
            pass
        await client.fetch("GET", server.url("/abs"))
    assert [s.target for s in server.seen] == ["/api/v1/x?p=1", "/api/v1/y", "/abs"]


async def test_response_headers_are_case_insensitive_and_multi_valued(serve_http: Any) -> None:
    async def cookies(seen: Seen) -> Reply:
        return Reply(200, [("Set-Cookie", "a=1"), ("X-Thing", "x"), ("set-cookie", "b=2")], b"")

    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/c"] = cookies
        r = await client.fetch("GET", server.url("/c"))
    h = r.response.headers
    assert h["SET-COOKIE"] == "a=1"
    assert h.getall("set-cookie") == ["a=1", "b=2"]
    assert h.getall("missing") == []
    assert "x-thing" in h
    assert ("set-cookie", "b=2") in h.multi_items()
    assert list(h).count("Set-Cookie") == 1


# -- signing ---------------------------------------------------------------------------


async def test_signed_requests_reach_the_server_byte_exact(
    serve_http: Any, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    data = {"product_code": "BTC_JPY", "child_order_type": "LIMIT", "price": 1e7, "note": "é &="}
    async with serve_http(server_ssl) as server, pinned(server, client_ssl, tools) as client:
        got = await client.fetch(
            "GET",
            "https://api.bitflyer.com/v1/me/getchildorders",
            params={"product_code": "FX_BTC_JPY", "q": "a b/c?d&e=é", "n": [1, 2]},
        )
        posted = await client.fetch(
            "POST", "https://api.bitflyer.com/v1/me/sendchildorder", data=data
        )
        built = client.build("POST", "https://api.bitflyer.com/v1/me/sendchildorder", data=data)
    assert got.data
    assert posted.data
    get_seen, post_seen = server.seen
    assert get_seen.host == "api.bitflyer.com"
    assert get_seen.headers["host"] == "api.bitflyer.com"  # the real name, not the pin
    for seen in (get_seen, post_seen):
        assert seen.headers["access-key"] == tools.key
        assert seen.headers["access-sign"] == tools.signature(seen)
    assert get_seen.target == (
        "/v1/me/getchildorders?product_code=FX_BTC_JPY&q=a+b/c?d%26e%3D%C3%A9&n=1&n=2"
    )
    assert post_seen.body == json.dumps(data).encode() == built.body
    assert post_seen.headers["content-type"] == "application/json"
    assert server.connections == 1  # kept alive over TLS


async def test_base_url_with_signing(
    serve_http: Any, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    async with (
        serve_http(server_ssl) as server,
        Client(
            apis=tools.apis,
            base_url="https://api.bitflyer.com",
            resolve=tools.pins(server),
            ssl=client_ssl,
        ) as client,
    ):
        await client.fetch("GET", "/v1/me/getbalance")
    seen = server.seen[0]
    assert seen.target == "/v1/me/getbalance"
    assert seen.headers["access-sign"] == tools.signature(seen)


async def test_auth_none_and_basic_auth_are_not_signed(
    serve_http: Any, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    async with serve_http(server_ssl) as server, pinned(server, client_ssl, tools) as client:
        await client.fetch("GET", "https://api.bitflyer.com/v1/me/getbalance", auth=None)
        await client.fetch("GET", "https://api.bitflyer.com/v1/x", auth=("user", "pw"))
        await client.fetch("GET", "https://api.bitflyer.com/v1/y", auth=Auth)
    unsigned, basic, signed = server.seen
    assert "access-sign" not in unsigned.headers
    assert "access-sign" not in basic.headers
    assert basic.headers["authorization"] == "Basic dXNlcjpwdw=="
    assert signed.headers["access-sign"] == tools.signature(signed)


async def test_plain_http_and_unknown_hosts_are_never_signed(
    serve_http: Any, server_ssl: ssl.SSLContext, tools: Any
) -> None:
    async with serve_http() as plain, serve_http(server_ssl) as tls:
        pins = tools.pins(tls, "api.bitflyer.com.evil.example")
        async with Client(apis=tools.apis, resolve=pins, ssl=False) as client:
            await client.fetch("GET", "https://api.bitflyer.com.evil.example/v1/me/getbalance")
            await client.fetch("GET", plain.url("/v1/me/getbalance"))
    assert all("access-key" not in s.headers for s in [*tls.seen, *plain.seen])


async def test_a_streamed_body_cannot_be_signed(
    serve_http: Any, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    async with serve_http(server_ssl) as server, pinned(server, client_ssl, tools) as client:
        with pytest.raises(botters.ConfigError, match="cannot sign"):
            await client.fetch("POST", "https://api.bitflyer.com/v1/x", data=iter([b"a"]))
        # auth=None: sent unsigned, as asked.
        await client.fetch("POST", "https://api.bitflyer.com/v1/x", data=iter([b"a"]), auth=None)
    assert len(server.seen) == 1
    assert "access-sign" not in server.seen[0].headers


# -- redirects -------------------------------------------------------------------------


async def test_auth_headers_never_follow_a_redirect_to_another_host(
    serve_http: Any, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    async with serve_http(server_ssl) as server:
        server.routes["/v1/me/go"] = reply(302, b"moved", Location="https://other.example/landing")
        pins = tools.pins(server, "api.bitflyer.com", "other.example")
        async with Client(apis=tools.apis, resolve=pins, ssl=client_ssl) as client:
            r = await client.fetch(
                "GET", "https://api.bitflyer.com/v1/me/go", headers={"X-Mine": "1"}
            )
    assert r.data == {"ok": True, "path": "/landing"}
    assert r.response.url == "https://other.example/landing"
    assert [h.status for h in r.response.history] == [302]
    first, second = server.seen
    assert first.headers["access-sign"] == tools.signature(first)
    assert second.host == "other.example"
    assert not {"access-key", "access-sign", "access-timestamp"} & set(second.headers)
    assert second.headers["x-mine"] == "1"  # the caller's own headers do follow


async def test_basic_auth_is_dropped_across_origins_too(serve_http: Any) -> None:
    async with serve_http() as a, serve_http() as b:
        a.routes["/go"] = reply(307, Location=b.url("/there"))
        async with Client(apis={}) as client:
            await client.fetch("GET", a.url("/go"), auth=("u", "p"))
    assert "authorization" in a.seen[0].headers
    assert "authorization" not in b.seen[0].headers


async def test_same_origin_redirect_keeps_headers_and_303_becomes_get(
    serve_http: Any, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    async with serve_http(server_ssl) as server:
        server.routes["/v1/a"] = reply(307, Location="/v1/b")
        server.routes["/v1/b"] = reply(303, Location="https://api.bitflyer.com/v1/c")
        async with Client(apis=tools.apis, resolve=tools.pins(server), ssl=client_ssl) as client:
            r = await client.fetch("POST", "https://api.bitflyer.com/v1/a", data={"x": 1})
    assert r.data == {"ok": True, "path": "/v1/c"}
    a, b, c = server.seen
    assert (a.method, b.method, c.method) == ("POST", "POST", "GET")
    assert b.body == a.body == b'{"x": 1}'
    assert c.body == b""
    assert "content-type" not in c.headers
    assert "access-key" in b.headers
    assert "access-key" in c.headers
    assert server.connections == 1  # redirect bodies drained, connection reused


async def test_redirect_limits(
    serve_http: Any, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    async with serve_http(server_ssl) as server:
        server.routes["/loop"] = reply(302, Location="/loop")
        server.routes["/ftp"] = reply(302, Location="ftp://example/x")
        async with Client(apis=tools.apis, resolve=tools.pins(server), ssl=client_ssl) as client:
            with pytest.raises(TooManyRedirectsError) as info:
                await client.fetch("GET", "https://api.bitflyer.com/loop", max_redirects=3)
            assert info.value.status == 302
            assert len(server.seen) == 4
            r = await client.fetch("GET", "https://api.bitflyer.com/loop", allow_redirects=False)
            assert r.response.status == 302
            with pytest.raises(TooManyRedirectsError):
                await client.fetch("GET", server.url("/loop"), max_redirects=2)
            with pytest.raises(TransportError, match="non-HTTP"):
                await client.fetch("GET", server.url("/ftp"))
            assert (await client.fetch("GET", server.url("/after"))).data
            assert client._pool.stats() == {
                ("https", "api.bitflyer.com", 443): (0, 1),
                ("https", "127.0.0.1", server.port): (0, 1),
            }


async def test_a_streamed_body_is_not_replayed_on_a_307(serve_http: Any) -> None:
    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/up"] = reply(307, Location="/elsewhere")
        r = await client.fetch("POST", server.url("/up"), data=iter([b"x"]))
    assert r.response.status == 307
    assert len(server.seen) == 1


# -- errors ------------------------------------------------------------------------------


async def test_connect_error_is_mapped(closed_port: int) -> None:
    async with Client(apis={}) as client:
        with pytest.raises(ConnectError) as info:
            await client.fetch("GET", f"http://127.0.0.1:{closed_port}/x?secret=1")
    assert isinstance(info.value, TransportError)
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.url == f"http://127.0.0.1:{closed_port}/x"  # no query in messages


async def test_tls_error_is_mapped(serve_http: Any, server_ssl: ssl.SSLContext) -> None:
    async with serve_http(server_ssl) as server, Client(apis={}) as client:
        with pytest.raises(TLSError):  # the default context does not trust the test CA
            await client.fetch("GET", server.url("/"))
        async with Client(apis={}, ssl=False) as insecure:
            assert (await insecure.fetch("GET", server.url("/"))).data


async def test_timeout_is_mapped(serve_http: Any) -> None:
    async def stall(seen: Seen) -> Reply:
        await trio.sleep_forever()
        raise AssertionError

    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/stall"] = stall
        with pytest.raises(TransportTimeoutError) as info:
            await client.fetch("GET", server.url("/stall"), timeout=0.05)
        assert isinstance(info.value, TimeoutError)  # `except TimeoutError` still works
        with pytest.raises(TransportTimeoutError):
            await client.get(server.url("/stall"), timeout=0.05)
        # The caller's own cancel scopes work as trio users expect.
        with trio.move_on_after(0.05) as scope:
            await client.fetch("GET", server.url("/stall"))
        assert scope.cancelled_caught
        assert (await client.fetch("GET", server.url("/ok"))).data
        assert client._pool.stats() == {("http", "127.0.0.1", server.port): (0, 1)}


async def test_status_error_with_raise_for_status(serve_http: Any) -> None:
    async with serve_http() as server:
        server.routes["/missing"] = reply(404, b"nope")
        async with Client(apis={}, raise_for_status=True) as client:
            with pytest.raises(HTTPStatusError) as info:
                await client.fetch("GET", server.url("/missing"))
            assert info.value.status == 404
            assert info.value.reason == "Not Found"
            r = await client.fetch("GET", server.url("/missing"), raise_for_status=False)
            assert r.response.status == 404
        async with Client(apis={}) as client:  # without it, a status is just data
            r = await client.fetch("GET", server.url("/missing"))
            assert r.text == "nope"
            with pytest.raises(HTTPStatusError):
                r.response.raise_for_status()
        assert server.connections == 2  # one per client: error bodies were drained


async def test_dropped_connection_is_mapped(serve_http: Any) -> None:
    async def drop(seen: Seen) -> Raw:
        return Raw([b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"])

    async def nothing(seen: Seen) -> Raw:
        return Raw([])

    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/drop"] = drop
        server.routes["/nothing"] = nothing
        with pytest.raises(ConnectionLostError) as info:
            await client.fetch("GET", server.url("/drop"))
        assert info.value.url == server.url("/drop")
        with pytest.raises(ConnectionLostError):
            await client.fetch("POST", server.url("/nothing"))
        async with client.get(server.url("/drop")) as resp:
            assert resp.status == 200
            assert await resp.read_chunk() == b"partial"
            with pytest.raises(ConnectionLostError):
                await resp.read()
            with pytest.raises(TransportError):  # and it stays failed
                await resp.read()
        assert (await client.fetch("GET", server.url("/fine"))).data


# -- ownership and cleanliness ------------------------------------------------------------


async def test_closed_client_refuses_requests_and_close_is_idempotent() -> None:
    client = Client(apis={})
    await client.close()
    await client.aclose()
    assert client.closed
    with pytest.raises(ClientClosedError):
        await client.fetch("GET", "http://127.0.0.1:1/")
    with pytest.raises(RuntimeError):  # also a RuntimeError, like aiohttp's
        await client.get("http://127.0.0.1:1/")
    with pytest.raises(ClientClosedError):
        async with client:
            pass


async def test_client_without_async_with_for_http(serve_http: Any) -> None:
    async with serve_http() as server:
        client = Client(apis={})
        try:
            assert (await client.fetch("GET", server.url("/"))).data
        finally:
            await client.aclose()
    assert client._pool.stats() == {}


async def test_initialize_a_store_from_a_request(
    serve_http: Any, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    positions = [
        {
            "product_code": "FX_BTC_JPY",
            "side": "BUY",
            "price": 100.0,
            "size": 0.01,
            "commission": 0.0,
            "swap_point_accumulate": 0.0,
            "require_collateral": 1.0,
            "open_date": "2024-01-01T00:00:00.000",
            "leverage": 2.0,
            "pnl": 0.0,
            "sfd": 0.0,
        }
    ]
    store = botters.bitFlyerDataStore()
    async with serve_http(server_ssl) as server:
        server.routes["/v1/me/getpositions"] = reply(body=json.dumps(positions).encode())
        async with Client(
            apis=tools.apis,
            base_url="https://api.bitflyer.com",
            resolve=tools.pins(server),
            ssl=client_ssl,
        ) as client:
            await store.initialize(
                client.get("/v1/me/getpositions", params={"product_code": "FX_BTC_JPY"})
            )
    assert len(store.positions) == 1
    assert server.seen[0].headers["access-sign"] == tools.signature(server.seen[0])


async def test_timeouts_are_seconds_and_messages_carry_no_query(serve_http: Any) -> None:
    async def stall(seen: Seen) -> Reply:
        await trio.sleep_forever()
        raise AssertionError

    async with serve_http() as server, Client(apis={}, base_url=server.url("")) as client:
        server.routes["/stall"] = stall
        with pytest.raises(botters.ConfigError, match="seconds"):
            client.get("/x", timeout=object())
        with pytest.raises(botters.ConfigError, match="seconds"):
            await client.fetch("GET", "/x", timeout=-1)
        with pytest.raises(TransportTimeoutError) as info:
            await client.fetch("GET", "/stall?token=secret", timeout=0.01)
        assert "secret" not in str(info.value)
        assert info.value.url == server.url("/stall")


async def test_response_json_options(serve_http: Any) -> None:
    async with serve_http() as server, Client(apis={}) as client:
        server.routes["/j"] = reply(
            body='{"a": "é"}'.encode("latin-1"), content_type="Application/JSON; x=1"
        )
        async with client.get(server.url("/j")) as resp:
            assert await resp.json(encoding="latin-1") == {"a": "é"}
            assert await resp.json(loads=lambda text: text, encoding="latin-1") == '{"a": "é"}'
            assert await resp.json(content_type=None, encoding="latin-1") == {"a": "é"}
            assert resp.content_type == "application/json"
            assert resp.charset is None
