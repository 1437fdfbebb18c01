"""Client.ws_connect / WebSocketApp against real local WebSocket servers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import ssl
from typing import Any

import pytest
from aiohttp import WSCloseCode

import botters
from botters.protocol.session import State
from botters.transports.aiohttp import (
    Client,
    MessageStream,
    WebSocketApp,
    WebSocketClosedError,
    WebSocketConnection,
    WebSocketQueue,
)

pytestmark = pytest.mark.anyio

FAST = (0.01, 0.05, 1.5, 0.0)  # backoff: reconnect at once, then within 50 ms
SUB = {"method": "subscribe", "params": {"channel": "lightning_ticker_BTC_JPY"}, "id": 1}


def client_tasks() -> set[asyncio.Task[Any]]:
    """Tasks in this loop except the local test servers' own handlers."""
    return {
        t
        for t in asyncio.all_tasks()
        if not getattr(t.get_coro(), "__qualname__", "").startswith("RequestHandler.")
    }


class Interrupted(botters.DataStoreCollection):
    """A collection that records messages and feed_interrupted() calls."""

    def _init(self) -> None:
        self.messages: list[Any] = []
        self.interrupted = 0
        self.changed = asyncio.Event()

    def _onmessage(self, msg: Any, ws: Any) -> None:
        self.messages.append(msg)

    def feed_interrupted(self) -> None:
        self.interrupted += 1
        self.changed.set()
        super().feed_interrupted()


# -- connecting, sending, receiving -----------------------------------------------------


async def test_subscribe_and_receive(ws_server: Any) -> None:
    q = WebSocketQueue()
    async with Client(apis={}) as client:
        app = await client.ws_connect(
            ws_server.url(), send_json=SUB, hdlr_json=q.onmessage, backoff=FAST
        )
        assert isinstance(app, WebSocketApp)
        assert app.state is State.OPEN
        peer = await ws_server.peers.get()
        assert await peer.recv_json() == SUB
        for i in range(3):
            await peer.send_json({"n": i})
        assert [await q.get() for _ in range(3)] == [{"n": 0}, {"n": 1}, {"n": 2}]


async def test_initial_messages_in_order_before_user_sends(ws_server: Any) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(
            ws_server.url(),
            send_str=["a", "b"],
            send_bytes=b"\x01",
            send_json=[{"j": 1}, [1, 2]],
            backoff=FAST,
        )
        ws = app.current_ws
        assert isinstance(ws, WebSocketConnection)
        await ws.send_json({"after": True})
        await ws.send_str("s")
        await ws.send_bytes(b"\x02")
        ws.send_json_nowait({"nowait": 1})
        peer = await ws_server.peers.get()
        got = [await peer.received.get() for _ in range(9)]
    assert got == [
        "a",
        "b",
        b"\x01",
        '{"j":1}',
        "[1,2]",
        '{"after":true}',
        "s",
        b"\x02",
        '{"nowait":1}',
    ]


async def test_handshake_headers_and_kwargs_pass_through(ws_server: Any) -> None:
    async with Client(apis={}) as client:
        await client.ws_connect(
            ws_server.url("/ws?x=1"), headers={"X-Mine": "1"}, protocols=("p1",), backoff=FAST
        )
        peer = await ws_server.peers.get()
    assert peer.path == "/ws?x=1"
    assert peer.headers["x-mine"] == "1"
    assert peer.headers["sec-websocket-protocol"] == "p1"


async def test_handler_exception_does_not_stop_the_stream(
    ws_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    q = WebSocketQueue()

    def boom(msg: Any, ws: Any) -> None:
        if msg.get("n") == 0:
            raise RuntimeError("bug in a handler")

    async with Client(apis={}) as client:
        await client.ws_connect(ws_server.url(), hdlr_json=[boom, q.onmessage], backoff=FAST)
        peer = await ws_server.peers.get()
        await peer.send_json({"n": 0})
        await peer.send_json({"n": 1})
        assert [await q.get(), await q.get()] == [{"n": 0}, {"n": 1}]
    failures = [r for r in caplog.records if r.name == "botters.ws" and r.exc_info]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    assert failures[0].exc_info[0] is RuntimeError


async def test_non_json_frames_are_logged_and_skipped(
    ws_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    q, raw = WebSocketQueue(), WebSocketQueue()
    async with Client(apis={}) as client:
        await client.ws_connect(
            ws_server.url(), hdlr_json=q.onmessage, hdlr_str=raw.onmessage, backoff=FAST
        )
        peer = await ws_server.peers.get()
        with caplog.at_level(logging.DEBUG, logger="botters.ws"):
            await peer.ws.send_str("pong")
            await peer.ws.send_str("<html>oops</html>")
            await peer.ws.send_bytes(b"\x00\xff")
            await peer.send_json({"ok": 1})
            assert await q.get() == {"ok": 1}
    # Text handlers get every text frame (binary frames go to bytes handlers only).
    assert [raw.get_nowait() for _ in range(3)] == ["pong", "<html>oops</html>", '{"ok": 1}']
    assert raw.empty()
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "botters.ws" and r.levelno == logging.WARNING and "not JSON" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert "<html>oops</html>" in warnings[0]


async def test_filtered_streams_share_one_connection(ws_server: Any) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), backoff=FAST)
        btc = app.stream({"params": {"channel": "btc"}})
        both = app.stream_filter([{"params": {"channel": "btc"}}, {"params": {"channel": "eth"}}])
        sentinel = app.stream({"sentinel": 1})
        assert isinstance(btc, MessageStream)
        peer = await ws_server.peers.get()
        for channel in ("eth", "btc", "xrp", "btc"):
            await peer.send_json({"params": {"channel": channel, "message": {}}})
        await peer.send_json({"sentinel": 1})
        assert await sentinel.get() == {"sentinel": 1}  # everything before it was delivered
        assert [m["params"]["channel"] for m in (btc.get_nowait(), btc.get_nowait())] == [
            "btc",
            "btc",
        ]
        assert btc.empty()
        assert both.qsize() == 3
        everything = app.stream()  # a stream sees what arrives after it is opened
        await peer.send_json({"sentinel": 2})
        assert await everything.get() == {"sentinel": 2}
        btc.close()
        assert btc not in app._dispatcher.streams
        await peer.send_json({"params": {"channel": "btc"}})
        await peer.send_json({"sentinel": 3})
        assert await everything.get() == {"params": {"channel": "btc"}}
        assert btc.empty()
        await app.close()
    # Closing the app ends every stream: readers finish what is buffered, then stop.
    assert both.closed
    assert len([m async for m in both]) == 4
    assert [m async for m in everything] == [{"sentinel": 3}]


async def test_add_and_remove_handlers_at_runtime(ws_server: Any) -> None:
    q1, q2 = WebSocketQueue(), WebSocketQueue()
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), hdlr_json=q1.onmessage, backoff=FAST)
        peer = await ws_server.peers.get()
        app.add_handler(q2.onmessage)
        await peer.send_json({"n": 1})
        assert await q2.get() == {"n": 1}
        assert app.remove_handler(q2.onmessage)
        await peer.send_json({"n": 2})
        assert [await q1.get(), await q1.get()] == [{"n": 1}, {"n": 2}]
        assert q2.empty()
        assert app.handlers["json"] == (q1.onmessage,)


async def test_send_on_a_closed_connection_raises(ws_server: Any) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), backoff=FAST)
        ws = app.current_ws
        assert ws is not None
        await ws.close()
        assert ws.closed
        with pytest.raises(WebSocketClosedError):
            await ws.send_str("late")
        ws.send_json_nowait({"late": True})  # logged and dropped, never raises
        await app  # it reconnects by itself
        assert app.current_ws is not ws


def nowait_drops(caplog: pytest.LogCaptureFixture) -> list[int]:
    return [
        r.levelno
        for r in caplog.records
        if r.name == "botters.ws" and "send_json_nowait" in r.getMessage()
    ]


async def test_send_json_nowait_on_a_lost_connection_warns(
    ws_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), backoff=FAST)
        ws = app.current_ws
        assert ws is not None
        first = await ws_server.peers.get()
        await first.ws.close()  # the server goes away; the app runs on
        await first.gone.wait()
        await ws_server.peers.get()
        await app
        assert app.current_ws is not ws
        ws.send_json_nowait({"method": "unsubscribe"})
        assert nowait_drops(caplog) == [logging.WARNING]


async def test_send_json_nowait_while_the_app_closes_is_debug(
    ws_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), backoff=FAST)
        ws = app.current_ws
        assert ws is not None
        closing = asyncio.create_task(app.close())
        await asyncio.sleep(0)  # close() has started: the connection is closing
        assert app.closed
        ws.send_json_nowait({"method": "unsubscribe"})  # a store answering a late snapshot
        await closing
        ws.send_json_nowait({"method": "unsubscribe"})  # and after close() returned
    assert nowait_drops(caplog) == [logging.DEBUG, logging.DEBUG]


# -- reconnecting ----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["close", "abort"])
async def test_reconnects_and_resubscribes_after_the_server_drops(ws_server: Any, how: str) -> None:
    store = Interrupted()
    async with Client(apis={}) as client:
        app = await client.ws_connect(
            ws_server.url(), send_json=SUB, hdlr_json=store.onmessage, backoff=FAST
        )
        first = await ws_server.peers.get()
        assert await first.recv_json() == SUB
        await first.send_json({"n": 1})
        if how == "close":
            await first.ws.close(code=WSCloseCode.GOING_AWAY)
        else:
            first.abort()
        second = await ws_server.peers.get()
        assert await second.recv_json() == SUB  # replayed
        await store.changed.wait()
        assert store.interrupted == 1
        await app
        await second.send_json({"n": 2})
        while len(store.messages) < 2:
            await store.wait()
        assert store.messages == [{"n": 1}, {"n": 2}]
        assert app.current_ws is not None


async def test_refused_handshakes_are_retried(ws_server: Any) -> None:
    ws_server.refuse = [503, 503]
    async with Client(apis={}) as client:
        app = client.ws_connect(ws_server.url(), send_json=SUB, backoff=FAST)
        await app
        peer = await ws_server.peers.get()
        assert await peer.recv_json() == SUB
    assert ws_server.refuse == []


async def test_a_token_in_the_url_is_never_logged(
    ws_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    token = "PRIVATE-TOKEN-0123456789"
    ws_server.refuse = [403]
    with caplog.at_level(logging.DEBUG):
        async with Client(apis={}) as client:
            await client.ws_connect(ws_server.url(f"/private/{token}"), backoff=FAST)
            peer = await ws_server.peers.get()
            assert peer.path == f"/private/{token}"
    ours = [r for r in caplog.records if r.name.startswith("botters")]
    assert any("403" in r.getMessage() for r in ours)
    assert not [r.getMessage() for r in ours if token in r.getMessage()]


async def test_url_setter_applies_to_the_next_connect(ws_server: Any) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url("/one"), backoff=FAST)
        first = await ws_server.peers.get()
        app.url = ws_server.url("/two")
        assert app.url == ws_server.url("/two")
        assert first.path == "/one"
        assert not first.gone.is_set()
        await first.ws.close()
        second = await ws_server.peers.get()
        assert second.path == "/two"
        with pytest.raises(botters.ConfigError):
            app.url = "https://not-a-websocket.example/"


async def test_a_silent_peer_is_given_up_and_replaced(ws_server: Any) -> None:
    ws_server.autoping = False  # accepts, then never answers a PING nor sends anything
    async with Client(apis={}) as client:
        client.ws_connect(ws_server.url(), send_str="sub", heartbeat=0.05, backoff=FAST)
        first = await ws_server.peers.get()
        assert await first.received.get() == "sub"
        second = await ws_server.peers.get()  # the session's dead-peer clock fired
        assert await second.received.get() == "sub"
        await first.gone.wait()


async def test_heartbeat_returns_on_pong(ws_server: Any) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), backoff=FAST)
        await app.heartbeat(timeout=5.0)


async def test_heartbeat_timeout_replaces_the_connection(
    ws_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ws_server.autoping = False  # this server never answers PINGs
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), backoff=FAST)
        first = await ws_server.peers.get()
        ws_server.autoping = True
        await app.heartbeat(timeout=0.05)
        second = await ws_server.peers.get()
        await first.gone.wait()
        assert second is not first
    # One event, one warning: the missing pong; the loss it causes follows at DEBUG.
    ours = [r for r in caplog.records if r.name == "botters.ws"]
    warnings = [r.getMessage() for r in ours if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "no pong within 0.05 s; closing connection 1" in warnings[0]
    assert [r.levelno for r in ours if "connection 1 lost" in r.getMessage()] == [logging.DEBUG]


async def test_closing_a_connection_yourself_is_not_a_warning(
    ws_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with Client(apis={}) as client:
        app = await client.ws_connect(ws_server.url(), backoff=FAST)
        await ws_server.peers.get()
        conn = app.current_ws
        assert conn is not None
        await conn.close()
        await ws_server.peers.get()  # the session reconnected
        await app
    ours = [r for r in caplog.records if r.name == "botters.ws"]
    assert not [r.getMessage() for r in ours if r.levelno >= logging.WARNING]
    [lost] = [r for r in ours if "connection 1 lost" in r.getMessage()]
    assert lost.levelno == logging.INFO
    assert "reconnecting in" in lost.getMessage()


# -- login (bitFlyer over wss, signed for the real host name) --------------------------------


async def test_await_app_waits_for_login_and_subscription(
    wss_server: Any, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    release = asyncio.Event()

    async def on_message(peer: Any, data: Any) -> None:
        msg = json.loads(data)
        if msg.get("method") == "auth":
            params = msg["params"]
            expected = hmac.new(
                b"test-bitflyer-secret-must-not-leak-0001",
                f"{params['timestamp']}{params['nonce']}".encode(),
                hashlib.sha256,
            ).hexdigest()
            ok = params["api_key"] == tools.key and params["signature"] == expected
            await release.wait()
            await peer.send_json({"jsonrpc": "2.0", "id": "auth", "result": ok})

    wss_server.on_message = on_message
    pins = {"ws.lightstream.bitflyer.com": ("127.0.0.1", wss_server.port)}
    async with Client(apis=tools.apis, resolve=pins, ssl=client_ssl) as client:
        app = client.ws_connect(
            "wss://ws.lightstream.bitflyer.com/json-rpc", send_json=SUB, backoff=FAST
        )
        opened = asyncio.ensure_future(app._wait_open())
        peer = await wss_server.peers.get()
        login = await peer.recv_json()
        assert login["method"] == "auth"
        assert not opened.done()  # the reply has not been sent: not open yet
        assert app.state is State.AUTHENTICATING
        assert app.current_ws is None
        release.set()
        assert await opened is app
        assert await peer.recv_json() == SUB  # subscriptions only after the login
        assert app.state is State.OPEN


async def test_a_rejected_login_is_logged_and_retried(
    wss_server: Any, client_ssl: ssl.SSLContext, tools: Any, caplog: pytest.LogCaptureFixture
) -> None:
    answers = [False, True]

    async def on_message(peer: Any, data: Any) -> None:
        if json.loads(data).get("method") == "auth":
            if answers.pop(0):
                await peer.send_json({"jsonrpc": "2.0", "id": "auth", "result": True})
            else:
                error = {"code": -32000, "message": "invalid signature"}
                await peer.send_json({"jsonrpc": "2.0", "id": "auth", "error": error})

    wss_server.on_message = on_message
    pins = {"ws.lightstream.bitflyer.com": ("127.0.0.1", wss_server.port)}
    async with Client(apis=tools.apis, resolve=pins, ssl=client_ssl) as client:
        app = client.ws_connect(
            "wss://ws.lightstream.bitflyer.com/json-rpc", send_json=SUB, backoff=FAST
        )
        await app
        first, second = wss_server.all_peers
        assert (await first.recv_json())["method"] == "auth"
        assert first.received.empty()  # no subscription after a rejected login
        assert (await second.recv_json())["method"] == "auth"
        assert await second.recv_json() == SUB
    failed = [r.getMessage() for r in caplog.records if "login failed" in r.getMessage()]
    assert len(failed) == 1
    assert "invalid signature" in failed[0]


async def test_outgoing_messages_are_signed_on_a_copy_unless_auth_none(
    wss_server: Any, client_ssl: ssl.SSLContext, known_secrets: dict[str, str]
) -> None:
    secret = "test-binance-secret-must-not-leak-0001"
    known_secrets[secret] = "tests/transports/aiohttp: binance secret"
    order = {"id": 1, "method": "order.place", "params": {"symbol": "BTCUSDT", "price": "1.5"}}
    pins = {"ws-api.binance.com": ("127.0.0.1", wss_server.port)}
    apis = {"binance": ["test-binance-key", secret]}
    async with Client(apis=apis, resolve=pins, ssl=client_ssl) as client:
        app = await client.ws_connect(
            "wss://ws-api.binance.com/ws-api/v3", send_json=order, backoff=FAST
        )
        ws = app.current_ws
        assert ws is not None
        await ws.send_json(order)
        await ws.send_json(order, auth=None)
        peer = await wss_server.peers.get()
        initial, again, unsigned = [await peer.recv_json() for _ in range(3)]
    assert order["params"] == {"symbol": "BTCUSDT", "price": "1.5"}  # never mutated
    assert unsigned == order
    for signed in (initial, again):
        params = signed["params"]
        assert params["apiKey"] == "test-binance-key"
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
        expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        assert params["signature"] == expected


async def test_auth_none_skips_the_login(
    wss_server: Any, client_ssl: ssl.SSLContext, tools: Any
) -> None:
    pins = {"ws.lightstream.bitflyer.com": ("127.0.0.1", wss_server.port)}
    async with Client(apis=tools.apis, resolve=pins, ssl=client_ssl) as client:
        await client.ws_connect(
            "wss://ws.lightstream.bitflyer.com/json-rpc", send_json=SUB, auth=None, backoff=FAST
        )
        peer = await wss_server.peers.get()
        assert await peer.recv_json() == SUB


# -- closing --------------------------------------------------------------------------------


async def test_close_leaves_no_task_or_socket_behind(ws_server: Any) -> None:
    before = client_tasks()
    q = WebSocketQueue()
    client = Client(apis={})
    app = await client.ws_connect(ws_server.url(), send_json=SUB, hdlr_json=q.onmessage)
    stream = app.stream()
    waiter = asyncio.ensure_future(app.wait())
    peer = await ws_server.peers.get()
    assert client_tasks() != before
    await app.close()
    assert await waiter is None
    assert app.closed
    assert app.current_ws is None
    assert stream.closed
    await peer.gone.wait()
    assert client_tasks() == before
    await app.close()  # twice is harmless
    await client.close()
    assert client_tasks() == before


async def test_client_close_closes_its_apps(ws_server: Any) -> None:
    before = client_tasks()
    async with Client(apis={}) as client:
        apps = [client.ws_connect(ws_server.url(), backoff=FAST) for _ in range(3)]
        for app in apps:
            await app
        peers = [await ws_server.peers.get() for _ in range(3)]
    for peer in peers:
        await peer.gone.wait()
    assert all(app.closed for app in apps)
    assert client_tasks() == before
    with pytest.raises(botters.ClientClosedError):
        client.ws_connect(ws_server.url())


async def test_close_while_connecting_and_await_after_close(ws_server: Any) -> None:
    before = client_tasks()
    ws_server.refuse = [503] * 1000
    async with Client(apis={}) as client:
        app = client.ws_connect(ws_server.url(), backoff=FAST)
        opened = asyncio.ensure_future(app._wait_open())
        await asyncio.sleep(0)
        await app.close()
        with pytest.raises(WebSocketClosedError):
            await opened
        with pytest.raises(WebSocketClosedError):
            await app
    assert client_tasks() == before


async def test_ws_connect_argument_errors(ws_server: Any) -> None:
    async def handler(msg: Any, ws: Any) -> None:
        pass

    async with Client(apis={}) as client:
        with pytest.raises(botters.ConfigError):
            client.ws_connect("https://example.com/")
        with pytest.raises(botters.ConfigError):
            client.ws_connect(ws_server.url(), send_str=[b"bytes"])
        with pytest.raises(botters.ConfigError, match="async"):
            client.ws_connect(ws_server.url(), hdlr_json=handler)
