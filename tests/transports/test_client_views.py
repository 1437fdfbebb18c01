"""client.with_apis(): a view that signs with other credentials over the owner's connections.

Both adapters, against the bitFlyer simulator over TLS (it runs in its own
thread, so the same server serves asyncio and trio). The simulator accepts
only its demo key and says which key it did not know, so a request proves
which credentials signed it: the demo ones (200) or the other ones (401,
"unknown ACCESS-KEY").
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio

import botters
import botters.trio
from botters import ClientClosedError
from botters.simulator import DEMO_APIS, Simulator, make_tls_contexts

OTHER_APIS = {"bitflyer": ["other-key-not-known-0001", "other-secret-never-logged-0001"]}
COLLATERAL = "https://api.bitflyer.com/v1/me/getcollateral"
WS_URL = "wss://ws.lightstream.bitflyer.com/json-rpc"
ADAPTERS = ("aiohttp", "trio")


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return make_tls_contexts()


@pytest.fixture(autouse=True)
def _register_secrets(known_secrets: dict[str, str]) -> None:
    known_secrets[DEMO_APIS["bitflyer"][1]] = "simulator demo secret"
    known_secrets[OTHER_APIS["bitflyer"][1]] = "test_client_views: other secret"


@pytest.fixture
def sim(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Any:
    with Simulator(seed=1, ssl=tls[0]) as sim:
        yield sim


def make_client(adapter: str, apis: Any, sim: Any, client_ssl: ssl.SSLContext) -> Any:
    if adapter == "aiohttp":
        return botters.Client(apis=apis, resolve=sim.resolve, ssl=client_ssl)
    return botters.trio.Client(apis=apis, resolve=sim.resolve, ssl=client_ssl)


def run(adapter: str, fn: Callable[[], Awaitable[None]]) -> None:
    if adapter == "aiohttp":

        async def main() -> None:
            await fn()
            left = asyncio.all_tasks() - {asyncio.current_task()}
            assert not left, left

        asyncio.run(main())
    else:
        trio.run(fn)


async def status(client: Any) -> tuple[int, str]:
    r = await client.fetch("GET", COLLATERAL)
    return r.response.status, r.text


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_the_view_signs_with_its_apis_and_the_owner_with_its_own(
    adapter: str, sim: Any, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    async def main() -> None:
        async with make_client(adapter, DEMO_APIS, sim, tls[1]) as client:
            view = client.with_apis(OTHER_APIS)
            assert type(view) is type(client)
            assert list(view.apis) == ["bitflyer"]
            assert view.apis["bitflyer"].key == OTHER_APIS["bitflyer"][0]
            assert client.apis["bitflyer"].key == DEMO_APIS["bitflyer"][0]
            assert (await status(client))[0] == 200
            code, text = await status(view)
            assert code == 401
            assert "unknown ACCESS-KEY" in text
            # Interleaved, each still signs with its own.
            assert [c for c, _ in [await status(client), await status(view)]] == [200, 401]
            # The other way round: a view with the accepted key of an owner without it.
            back = view.with_apis(DEMO_APIS)
            assert (await status(back))[0] == 200

    run(adapter, main)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_view_shares_the_connections_and_the_rate_limiter(
    adapter: str, sim: Any, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    async def main() -> None:
        async with make_client(adapter, DEMO_APIS, sim, tls[1]) as client:
            view = client.with_apis(OTHER_APIS)
            assert view.limiter is client.limiter
            assert view.base_url == client.base_url
            if adapter == "aiohttp":
                assert view.session is client.session
            else:
                assert view._pool is client._pool

    run(adapter, main)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_closing_the_view_leaves_the_owner_working(
    adapter: str, sim: Any, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    async def main() -> None:
        async with make_client(adapter, DEMO_APIS, sim, tls[1]) as client:
            view = client.with_apis(DEMO_APIS)
            other = client.with_apis(DEMO_APIS)
            assert (await status(view))[0] == 200
            await view.close()
            await view.close()  # twice is harmless
            assert view.closed
            assert not client.closed
            with pytest.raises(ClientClosedError):
                await status(view)
            assert (await status(client))[0] == 200
            # As a context manager too (inside the owner's block, on trio as well).
            async with client.with_apis(DEMO_APIS) as second:
                assert (await status(second))[0] == 200
            assert second.closed
            assert (await status(client))[0] == 200
        # Closing the owner closes its views, and no new view can be made.
        assert client.closed
        assert other.closed
        with pytest.raises(ClientClosedError):
            await status(other)
        with pytest.raises(ClientClosedError):
            client.with_apis(DEMO_APIS)

    run(adapter, main)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_views_websocket_logs_in_with_its_apis_and_the_owner_closes_it(
    adapter: str, sim: Any, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    async def main() -> None:
        # The owner's own credentials would be refused; the view's are the accepted ones.
        client = make_client(adapter, OTHER_APIS, sim, tls[1])
        view = client.with_apis(DEMO_APIS)  # made before the owner's block: still fine
        async with client:
            app = view.ws_connect(
                WS_URL,
                send_json={
                    "method": "subscribe",
                    "params": {"channel": "child_order_events"},
                    "id": 1,
                },
            )
            await app  # connected, logged in and subscribed
            conn = await sim.wait_for_subscription("child_order_events")
            assert conn.authenticated
            assert sim.stats.logins_accepted == 1
            await view.close()
            assert not app.closed  # the owner's to close
            assert (await status(client))[0] == 401  # the owner still works, with its own key
        assert app.closed

    run(adapter, main)
