"""Both clients carry a store's KeepAlive: the listenKey PUT, signed, repeated, stoppable.

A collection whose ``_oninitialize`` asks for a keep-alive (as Binance's
user-data store does) is initialized from a response of the client under
test; the local server (``_userdata.py``) sees the PUTs arrive with the API
key header, and stop, close, failures and duplicates behave as documented.
The interval is 0.05 s so a few PUTs take a fraction of a second; every wait
is for an observed event (the N-th PUT, a log record), never a sleep.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from typing import Any

import pytest

from botters.protocol.store import DataStoreCollection, KeepAlive, RestResponse
from botters.simulator import make_tls_contexts

from ._adapters import AdapterUnderTest
from ._userdata import (
    API_KEY,
    APIS,
    HOST,
    LISTEN_KEY,
    SECRET,
    SUB_APIS,
    SUB_KEY,
    URL,
    UserDataServer,
)

INTERVAL = 0.05
WAIT = 10.0  # seconds before a wait fails the test (it normally takes milliseconds)


class UserData(DataStoreCollection):
    """The part of a Binance user-data store this is about: keep the listenKey alive."""

    keepalive: KeepAlive | None = None

    def _oninitialize(self, response: RestResponse) -> None:
        if response.path == "/api/v3/userDataStream":
            self.keepalive = KeepAlive(
                "PUT",
                URL,
                params={"listenKey": response.data["listenKey"]},
                interval=INTERVAL,
                name="test listenKey",
            )
            self._keep_alive(self.keepalive, response)


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return make_tls_contexts(HOST, "127.0.0.1")


@pytest.fixture
def server(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[UserDataServer]:
    with UserDataServer(tls[0]) as server:
        yield server


@pytest.fixture(autouse=True)
def _secrets(known_secrets: dict[str, str]) -> None:
    known_secrets[SECRET] = "tests/scenarios keep-alive secret"
    known_secrets[LISTEN_KEY] = "tests/scenarios listenKey (must be masked)"


def client(adapter: AdapterUnderTest, server: UserDataServer, tls: Any, apis: Any = APIS) -> Any:
    return adapter.client(apis=apis, resolve=server.resolve, ssl=tls[1])


async def until_puts(adapter: AdapterUnderTest, server: UserDataServer, n: int) -> None:
    await adapter.wait_for(lambda: len(server.puts()) >= n, timeout=WAIT, what=f"{n} PUTs")


@pytest.mark.parametrize("style", ["context", "response", "fetch", "fetch-result"])
def test_initialize_hands_the_keepalive_to_the_client(
    adapter: AdapterUnderTest, server: UserDataServer, tls: Any, style: str
) -> None:
    async def body() -> None:
        store = UserData()
        async with client(adapter, server, tls) as c:
            if style == "context":
                await store.initialize(c.post(URL))
            elif style == "response":
                resp = await c.post(URL)
                assert resp.keepalive_sink is c
                await store.initialize(resp)
            elif style == "fetch":
                await store.initialize(c.fetch("POST", URL))
            else:
                result = await c.fetch("POST", URL)
                assert result.response.keepalive_sink is c
                await store.initialize(result)
            assert store.take_keepalive_requests() == []
            assert c.keepalives == (store.keepalive,)
            await until_puts(adapter, server, 3)
            assert store.keepalive is not None
            store.keepalive.stop()
            await adapter.wait_for(lambda: c.keepalives == (), timeout=WAIT, what="loop ended")
            sent = len(server.puts())
        # Nothing carries the request any more: whatever was sent is all there is.
        assert len(server.puts()) == sent
        for put in server.puts():
            assert put.query == {"listenKey": LISTEN_KEY}
            assert put.api_key == API_KEY  # sent through the client: USER_STREAM header

    adapter.run(body)


def test_close_ends_the_loop_and_leaves_no_task(
    adapter: AdapterUnderTest, server: UserDataServer, tls: Any
) -> None:
    async def body() -> None:
        store = UserData()
        async with client(adapter, server, tls) as c:
            await store.initialize(c.post(URL))
            await until_puts(adapter, server, 2)
        assert c.keepalives == ()
        # adapter.run fails if any task outlived the client.

    adapter.run(body)


def test_a_failed_put_is_logged_masked_and_retried(
    adapter: AdapterUnderTest,
    server: UserDataServer,
    tls: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.put_statuses.extend([500, 503])
    caplog.set_level(logging.INFO, logger="botters.http")

    async def body() -> None:
        store = UserData()
        async with client(adapter, server, tls) as c:
            await store.initialize(c.post(URL))
            await until_puts(adapter, server, 4)
            assert c.keepalives == (store.keepalive,)  # the failures did not end it

    adapter.run(body)
    assert [p.status for p in server.puts()[:4]] == [500, 503, 200, 200]
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "botters.http" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 2
    assert "HTTP 500" in warnings[0]
    assert "HTTP 503" in warnings[1]
    assert "internal error for listenKey=pqia…" in warnings[0]
    assert all(LISTEN_KEY not in r.getMessage() for r in caplog.records)
    assert any("succeeded again" in r.getMessage() for r in caplog.records)


def test_an_unreachable_host_is_logged_and_retried(
    adapter: AdapterUnderTest, server: UserDataServer, tls: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # A port nothing listens on: each send fails with a connection error.
    async def body() -> None:
        async with client(adapter, server, tls) as c:
            closed = "http://127.0.0.1:9/api/v3/userDataStream"
            ka = KeepAlive("PUT", closed, params={"listenKey": LISTEN_KEY}, interval=INTERVAL)
            c.keep_alive(ka)

            def failures() -> int:
                return sum(
                    r.name == "botters.http" and r.levelno == logging.WARNING
                    for r in caplog.records
                )

            await adapter.wait_for(lambda: failures() >= 3, timeout=WAIT, what="3 failures")
            assert c.keepalives == (ka,)

    caplog.set_level(logging.WARNING, logger="botters.http")
    adapter.run(body)
    assert all(LISTEN_KEY not in r.getMessage() for r in caplog.records)


def test_the_same_keepalive_twice_runs_once(
    adapter: AdapterUnderTest, server: UserDataServer, tls: Any
) -> None:
    async def body() -> None:
        async with client(adapter, server, tls) as c:
            ka = KeepAlive("PUT", URL, params={"listenKey": LISTEN_KEY}, interval=INTERVAL)
            before = adapter.live_tasks()
            c.keep_alive(ka)
            c.keep_alive(ka)
            assert len(adapter.live_tasks() - before) == 1
            assert c.keepalives == (ka,)
            await until_puts(adapter, server, 1)
            ka.stop()
            c.keep_alive(ka)  # a stopped request is not started again
            await adapter.wait_for(lambda: c.keepalives == (), timeout=WAIT, what="loop ended")

    adapter.run(body)


def test_a_view_signs_with_its_own_key(
    adapter: AdapterUnderTest, server: UserDataServer, tls: Any
) -> None:
    async def body() -> None:
        store = UserData()
        async with client(adapter, server, tls) as c:
            view = c.with_apis(SUB_APIS)
            await store.initialize(view.post(URL))
            await until_puts(adapter, server, 2)
            assert c.keepalives == view.keepalives == (store.keepalive,)
        assert c.keepalives == ()

    adapter.run(body)
    assert {p.api_key for p in server.puts()} == {SUB_KEY}


def test_a_response_from_elsewhere_waits_for_the_caller() -> None:
    store = UserData()
    store.initialize_nowait(RestResponse(URL, {"listenKey": LISTEN_KEY}))
    taken = store.take_keepalive_requests()
    assert taken == [store.keepalive]
    assert taken[0].params == {"listenKey": LISTEN_KEY}
    assert store.take_keepalive_requests() == []


def test_a_trio_client_outside_async_with_leaves_it_to_the_caller(
    server: UserDataServer, tls: Any
) -> None:
    import trio

    from botters.trio import Client

    async def body() -> None:
        store = UserData()
        c = Client(apis=APIS, resolve=server.resolve, ssl=tls[1])
        try:
            await store.initialize(c.post(URL))
        finally:
            await c.aclose()
        assert store.take_keepalive_requests() == [store.keepalive]
        assert c.keepalives == ()

    trio.run(body)
    assert server.puts() == []
