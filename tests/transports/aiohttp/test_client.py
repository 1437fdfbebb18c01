"""botters.Client (aiohttp) HTTP API against real local servers."""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import botters
from botters.transports.aiohttp import (
    Auth,
    Client,
    ClientClosedError,
    ConnectError,
    ConnectionLostError,
    FetchResult,
    HTTPStatusError,
    NotJSONContent,
    TLSError,
    TooManyRedirectsError,
    TransportError,
    TransportTimeoutError,
)

pytestmark = pytest.mark.anyio


# -- fetch ---------------------------------------------------------------------------------


async def test_fetch_json(http_server: Any) -> None:
    async with Client(apis={}) as client:
        r = await client.fetch("GET", http_server.url("/v1/getticker"), params={"a": "1"})
    assert isinstance(r, FetchResult)
    assert r.response.status == 200
    assert r.data == {"ok": True, "path": "/v1/getticker"}
    assert json.loads(r.text) == r.data
    assert http_server.seen[0].raw_path == "/v1/getticker?a=1"


async def test_fetch_not_json_is_falsy_and_keeps_the_error(http_server: Any) -> None:
    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>maintenance</html>", content_type="text/html")

    async def empty(request: web.Request) -> web.Response:
        return web.Response(body=b"  ")

    http_server.routes["/html"] = html
    http_server.routes["/empty"] = empty
    async with Client(apis={}) as client:
        r = await client.fetch("GET", http_server.url("/html"))
        e = await client.fetch("GET", http_server.url("/empty"))
    assert isinstance(r.data, NotJSONContent)
    assert not r.data
    assert isinstance(r.data.error, json.JSONDecodeError)
    assert r.text == "<html>maintenance</html>"
    assert e.data is None  # as aiohttp's json() (and so pybotters) gives for an empty body


async def test_fetch_accepts_what_json_accepts(http_server: Any) -> None:
    async def nan(request: web.Request) -> web.Response:
        return web.Response(text='{"x": NaN, "big": 123456789012345678901234567890}')

    http_server.routes["/nan"] = nan
    async with Client(apis={}) as client:
        r = await client.fetch("GET", http_server.url("/nan"))
    assert r.data["x"] != r.data["x"]  # NaN


# -- request methods -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
async def test_methods_with_await_and_async_with(http_server: Any, method: str) -> None:
    async with Client(apis={}) as client:
        call = getattr(client, method.lower())
        resp = await call(http_server.url("/a"))
        assert isinstance(resp, aiohttp.ClientResponse)
        assert (await resp.json())["path"] == "/a"
        resp.release()
        async with call(http_server.url("/b")) as resp2:
            assert isinstance(resp2, aiohttp.ClientResponse)
            assert resp2.status == 200
            assert (await resp2.json())["path"] == "/b"
        async with client.request(method, http_server.url("/c")) as resp3:
            assert resp3.method == method
    assert [s.method for s in http_server.seen] == [method] * 3


async def test_delete_with_params_and_data(http_server: Any) -> None:
    async with Client(apis={}) as client:
        resp = await client.delete(http_server.url("/d"), params={"id": 1}, data={"x": "y"})
        resp.release()
    seen = http_server.seen[0]
    assert seen.raw_path == "/d?id=1"
    assert seen.body == b"x=y"  # unknown host: form, as aiohttp did
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"


async def test_data_str_and_bytes_are_sent_as_given(http_server: Any) -> None:
    async with Client(apis={}) as client:
        await client.fetch("POST", http_server.url("/s"), data='{"a": 1}')
        await client.fetch("POST", http_server.url("/b"), data=b"\x00\x01")
    assert http_server.seen[0].body == b'{"a": 1}'
    assert http_server.seen[0].headers["content-type"] == "text/plain; charset=utf-8"
    assert http_server.seen[1].body == b"\x00\x01"


async def test_params_as_a_query_string(http_server: Any) -> None:
    async with Client(apis={}) as client:
        await client.fetch("GET", http_server.url("/q?x=1"), params="y=2&z=%20")
    assert http_server.seen[0].raw_path == "/q?x=1&y=2&z=%20"


async def test_user_agent_default_and_override(http_server: Any) -> None:
    async with Client(apis={}) as client:
        await client.fetch("GET", http_server.url("/"))
    async with Client(apis={}, headers={"User-Agent": "mybot/1"}) as client:
        await client.fetch("GET", http_server.url("/"))
    assert http_server.seen[0].headers["user-agent"] == f"botters/{botters.__version__}"
    assert http_server.seen[1].headers["user-agent"] == "mybot/1"


async def test_json_kwarg_is_refused_at_the_call() -> None:
    async with Client(apis={}) as client:
        with pytest.raises(botters.ConfigError, match="data="):
            client.post("https://api.bitflyer.com/v1/me/sendchildorder", json={"a": 1})
        with pytest.raises(botters.ConfigError):
            await client.fetch("POST", "https://api.bitflyer.com/x", json={})


async def test_base_url_is_plain_concatenation(http_server: Any, tls_server: Any) -> None:
    async with Client(apis={}, base_url=http_server.url("/api")) as client:
        await client.fetch("GET", "/v1/x", params={"p": "1"})
        async with client.get("/v1/y"):
            pass
        # An absolute URL wins over base_url.
        await client.fetch("GET", http_server.url("/abs"))
    assert [s.raw_path for s in http_server.seen] == ["/api/v1/x?p=1", "/api/v1/y", "/abs"]


# -- signing ---------------------------------------------------------------------------


async def test_signed_requests_reach_the_server_byte_exact(
    tls_server: Any, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    data = {"product_code": "BTC_JPY", "child_order_type": "LIMIT", "price": 1e7, "note": "é &="}
    async with Client(apis=tools.apis, resolve=tools.pins(tls_server), ssl=client_ssl) as client:
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
    get_seen, post_seen = tls_server.seen
    assert get_seen.host == "api.bitflyer.com"
    for seen in (get_seen, post_seen):
        assert seen.headers["access-key"] == tools.key
        assert seen.headers["access-sign"] == tools.signature(seen)
    assert get_seen.raw_path == (
        "/v1/me/getchildorders?product_code=FX_BTC_JPY&q=a+b/c?d%26e%3D%C3%A9&n=1&n=2"
    )
    assert post_seen.body == json.dumps(data).encode() == built.body
    assert post_seen.headers["content-type"] == "application/json"


async def test_base_url_with_signing(
    tls_server: Any, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    async with Client(
        apis=tools.apis,
        base_url="https://api.bitflyer.com",
        resolve=tools.pins(tls_server),
        ssl=client_ssl,
    ) as client:
        await client.fetch("GET", "/v1/me/getbalance")
    seen = tls_server.seen[0]
    assert seen.raw_path == "/v1/me/getbalance"
    assert seen.headers["access-sign"] == tools.signature(seen)


async def test_auth_none_and_basic_auth_are_not_signed(
    tls_server: Any, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    # aiohttp 3.14 deprecates BasicAuth itself; botters still accepts one.
    with pytest.warns(DeprecationWarning, match="BasicAuth"):
        basic_auth = aiohttp.BasicAuth("user", "pw")
    async with Client(apis=tools.apis, resolve=tools.pins(tls_server), ssl=client_ssl) as client:
        await client.fetch("GET", "https://api.bitflyer.com/v1/me/getbalance", auth=None)
        await client.fetch("GET", "https://api.bitflyer.com/v1/x", auth=basic_auth)
        await client.fetch("GET", "https://api.bitflyer.com/v1/y", auth=Auth)
    unsigned, basic, signed = tls_server.seen
    assert "access-sign" not in unsigned.headers
    assert "access-sign" not in basic.headers
    assert basic.headers["authorization"] == basic_auth.encode()
    assert signed.headers["access-sign"] == tools.signature(signed)


async def test_plain_http_and_unknown_hosts_are_never_signed(
    http_server: Any, tls_server: Any, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    pins = tools.pins(tls_server, "api.bitflyer.com.evil.example")
    async with Client(apis=tools.apis, resolve=pins, ssl=False) as client:
        await client.fetch("GET", "https://api.bitflyer.com.evil.example/v1/me/getbalance")
        await client.fetch("GET", http_server.url("/v1/me/getbalance"))
    assert all("access-key" not in s.headers for s in [*tls_server.seen, *http_server.seen])


async def test_a_body_that_cannot_be_signed_is_refused(
    tls_server: Any, http_server: Any, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    form = aiohttp.FormData({"a": "1"})
    async with Client(apis=tools.apis, resolve=tools.pins(tls_server), ssl=client_ssl) as client:
        with pytest.raises(botters.ConfigError, match="cannot sign"):
            await client.fetch("POST", "https://api.bitflyer.com/v1/x", data=form)
        # The same body to a host botters does not sign passes through to aiohttp.
        await client.fetch("POST", http_server.url("/form"), data=aiohttp.FormData({"a": "1"}))
    assert tls_server.seen == []
    assert http_server.seen[0].body == b"a=1"


# -- redirects -------------------------------------------------------------------------


def _redirect(location: str, status: int = 302) -> Any:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Location": location})

    return handler


async def test_auth_headers_never_follow_a_redirect_to_another_host(
    tls_server: Any, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    tls_server.routes["/v1/me/go"] = _redirect("https://other.example/landing")
    pins = tools.pins(tls_server, "api.bitflyer.com", "other.example")
    async with Client(apis=tools.apis, resolve=pins, ssl=client_ssl) as client:
        r = await client.fetch("GET", "https://api.bitflyer.com/v1/me/go", headers={"X-Mine": "1"})
    assert r.data == {"ok": True, "path": "/landing"}
    first, second = tls_server.seen
    assert first.headers["access-sign"] == tools.signature(first)
    assert second.host == "other.example"
    assert not {"access-key", "access-sign", "access-timestamp"} & set(second.headers)
    assert second.headers["x-mine"] == "1"  # the caller's own headers do follow


async def test_same_origin_redirect_keeps_headers_and_303_becomes_get(
    tls_server: Any, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    tls_server.routes["/v1/a"] = _redirect("/v1/b", 307)
    tls_server.routes["/v1/b"] = _redirect("https://api.bitflyer.com/v1/c", 303)
    async with Client(apis=tools.apis, resolve=tools.pins(tls_server), ssl=client_ssl) as client:
        r = await client.fetch("POST", "https://api.bitflyer.com/v1/a", data={"x": 1})
    assert r.data == {"ok": True, "path": "/v1/c"}
    a, b, c = tls_server.seen
    assert (a.method, b.method, c.method) == ("POST", "POST", "GET")
    assert b.body == a.body == b'{"x": 1}'
    assert c.body == b""
    assert "access-key" in b.headers
    assert "access-key" in c.headers


async def test_redirect_limits(tls_server: Any, client_ssl: ssl.SSLContext, tools: Any) -> None:
    tls_server.routes["/loop"] = _redirect("/loop")
    async with Client(apis=tools.apis, resolve=tools.pins(tls_server), ssl=client_ssl) as client:
        with pytest.raises(TooManyRedirectsError) as info:
            await client.fetch("GET", "https://api.bitflyer.com/loop", max_redirects=3)
        assert info.value.status == 302
        assert len(tls_server.seen) == 4
        # allow_redirects=False returns the redirect itself, signed or not.
        r = await client.fetch("GET", "https://api.bitflyer.com/loop", allow_redirects=False)
        assert r.response.status == 302
        u = await client.fetch("GET", tls_server.url("/loop"), allow_redirects=False)
        assert u.response.status == 302
        with pytest.raises(TooManyRedirectsError):
            await client.fetch("GET", tls_server.url("/loop"), max_redirects=2)


# -- errors ------------------------------------------------------------------------------


async def test_connect_error_is_mapped() -> None:
    sock = __import__("socket").socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    async with Client(apis={}) as client:
        with pytest.raises(ConnectError) as info:
            await client.fetch("GET", f"http://127.0.0.1:{port}/")
    assert isinstance(info.value, TransportError)
    assert isinstance(info.value.__cause__, aiohttp.ClientError)
    assert info.value.url == f"http://127.0.0.1:{port}/"


async def test_tls_error_is_mapped(tls_server: Any) -> None:
    async with Client(apis={}) as client:  # does not trust the test CA
        with pytest.raises(TLSError):
            await client.fetch("GET", tls_server.url("/"))


async def test_timeout_is_mapped(http_server: Any) -> None:
    release = asyncio.Event()

    async def stall(request: web.Request) -> web.Response:
        await release.wait()  # released at the end so the server shuts down at once
        return web.Response(text="late")

    http_server.routes["/stall"] = stall
    async with Client(apis={}) as client:
        with pytest.raises(TransportTimeoutError) as info:
            await client.fetch(
                "GET", http_server.url("/stall"), timeout=aiohttp.ClientTimeout(total=0.05)
            )
    release.set()
    assert isinstance(info.value, TimeoutError)  # so `except asyncio.TimeoutError` still works


async def test_status_error_is_mapped_with_raise_for_status(http_server: Any) -> None:
    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="nope")

    http_server.routes["/missing"] = missing
    async with Client(apis={}, raise_for_status=True) as client:
        with pytest.raises(HTTPStatusError) as info:
            await client.fetch("GET", http_server.url("/missing"))
    assert info.value.status == 404
    async with Client(apis={}) as client:  # without it, a status is just data
        r = await client.fetch("GET", http_server.url("/missing"))
    assert r.response.status == 404
    assert r.text == "nope"


async def test_dropped_connection_is_mapped(http_server: Any) -> None:
    async def drop(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": "100"})
        await resp.prepare(request)
        await resp.write(b"partial")
        assert request.transport is not None
        request.transport.close()
        return resp

    http_server.routes["/drop"] = drop
    async with Client(apis={}) as client:
        with pytest.raises(ConnectionLostError):
            await client.fetch("GET", http_server.url("/drop"))


# -- ownership and cleanliness ------------------------------------------------------------


async def test_caller_owned_session_is_used_and_not_closed(http_server: Any) -> None:
    async with aiohttp.ClientSession(headers={"X-Session": "mine"}) as session:
        async with Client(apis={}, session=session) as client:
            assert client.session is session
            await client.fetch("GET", http_server.url("/"))
        assert not session.closed
        async with session.get(http_server.url("/still-open")) as resp:
            assert resp.status == 200
        with pytest.raises(botters.ConfigError):
            Client(apis={}, session=session, timeout=aiohttp.ClientTimeout(total=1))
    assert http_server.seen[0].headers["x-session"] == "mine"
    assert "botters" not in http_server.seen[0].headers.get("user-agent", "")


async def test_closed_client_refuses_requests_and_close_is_idempotent() -> None:
    client = Client(apis={})
    await client.close()
    await client.close()
    assert client.closed
    assert client.session.closed
    with pytest.raises(ClientClosedError):
        await client.fetch("GET", "http://127.0.0.1:1/")
    with pytest.raises(RuntimeError):  # also a RuntimeError, like aiohttp's
        await client.get("http://127.0.0.1:1/")


def client_tasks() -> set[asyncio.Task[Any]]:
    """Tasks in this loop except the local test server's own request handlers."""
    return {
        t
        for t in asyncio.all_tasks()
        if not getattr(t.get_coro(), "__qualname__", "").startswith("RequestHandler.")
    }


async def test_close_leaves_no_task_behind(http_server: Any) -> None:
    before = client_tasks()
    async with Client(apis={}) as client:
        await asyncio.gather(*(client.fetch("GET", http_server.url(f"/{i}")) for i in range(5)))
    assert client_tasks() == before


async def test_resolve_and_ssl_need_the_connector_botters_makes() -> None:
    with pytest.raises(botters.ConfigError, match="connector"):
        Client(apis={}, resolve={"a.example": ("127.0.0.1", 1)}, connector=aiohttp.TCPConnector())
    with pytest.raises(botters.ConfigError, match="address, port"):
        Client(apis={}, resolve={"a.example": "127.0.0.1"})  # type: ignore[dict-item]


async def test_initialize_a_store_from_a_request(
    tls_server: Any, client_ssl: ssl.SSLContext, tools: Any
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

    async def getpositions(request: web.Request) -> web.Response:
        return web.json_response(positions)

    tls_server.routes["/v1/me/getpositions"] = getpositions
    store = botters.bitFlyerDataStore()
    async with Client(
        apis=tools.apis,
        base_url="https://api.bitflyer.com",
        resolve=tools.pins(tls_server),
        ssl=client_ssl,
    ) as client:
        await store.initialize(
            client.get("/v1/me/getpositions", params={"product_code": "FX_BTC_JPY"})
        )
    assert len(store.positions) == 1
    assert tls_server.seen[0].headers["access-sign"] == tools.signature(tls_server.seen[0])
