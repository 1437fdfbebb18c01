"""``app.request(message)`` on both adapters: one request, the reply carrying its id.

Against a local stand-in for Binance's WebSocket API (``_wsapi.py``): replies
matched out of order, ids generated when missing, a timeout that forgets the
id (the late reply is then an ordinary message), a dropped connection that
fails the request without re-sending it, and a Binance request signed at
send time (the server checks the signature by the documented rule, with the
key and secret of the official test vector).
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from botters.protocol import ConfigError, Pacing
from botters.simulator import make_tls_contexts
from botters.transports._errors import ReplyLostError, WebSocketClosedError

from ._adapters import AdapterUnderTest
from ._wsapi import HOST, URL, WsApiServer, signature_ok

WAIT = 10.0
BACKOFF = (0.01, 0.05, 2.0, 0.01)  # reconnect at once: the drop test waits for it

VECTOR = next(
    v
    for v in json.loads((Path(__file__).parents[1] / "data" / "signing_vectors.json").read_text())
    if v["id"] == "binance-spot-wsapi-order-ascii"
)
KEY = VECTOR["inputs"]["api_key"]
SECRET = VECTOR["inputs"]["secret"]


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return make_tls_contexts(HOST, "127.0.0.1")


@pytest.fixture
def server(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[WsApiServer]:
    with WsApiServer(tls[0], secrets={KEY: SECRET}) as server:
        yield server


def client(adapter: AdapterUnderTest, server: WsApiServer, tls: Any, apis: Any = None) -> Any:
    return adapter.client(apis=apis or {}, resolve=server.resolve, ssl=tls[1])


async def concurrently(
    adapter: AdapterUnderTest, calls: list[Callable[[], Awaitable[Any]]]
) -> None:
    if adapter.name == "trio":
        import trio

        async with trio.open_nursery() as nursery:
            for call in calls:
                nursery.start_soon(call)
    else:
        import asyncio

        async with asyncio.TaskGroup() as group:
            for call in calls:
                group.create_task(call())


def test_concurrent_requests_get_their_own_replies_out_of_order(
    adapter: AdapterUnderTest, server: WsApiServer, tls: Any
) -> None:
    messages: list[Any] = []
    replies: dict[str, Any] = {}

    async def body() -> None:
        async with client(adapter, server, tls) as c:
            app = await c.ws_connect(URL, hdlr_json=lambda msg, ws: messages.append(msg))
            requests = {
                "generated": {"method": "hold", "params": {"n": 1}},
                "int": {"id": 42, "method": "hold", "params": {"n": 2}},
                "str": {"id": "mine", "method": "hold", "params": {"n": 3}},
            }
            originals = json.dumps(requests)

            async def one(name: str) -> None:
                replies[name] = await app.request(requests[name])

            async def release() -> None:
                await adapter.wait_for(
                    lambda: server.methods().count("hold") == 3, timeout=WAIT, what="3 held"
                )
                replies["release"] = await app.request({"method": "release"})

            await concurrently(adapter, [lambda n=n: one(n) for n in requests] + [release])
            assert json.dumps(requests) == originals  # the caller's dicts are untouched
            await app.close()

    adapter.run(body)
    assert replies["generated"]["result"] == {"n": 1}
    assert replies["int"] == {"id": 42, "status": 200, "result": {"n": 2}}
    assert replies["str"]["result"] == {"n": 3}
    assert replies["release"]["result"] == {"released": 3}
    generated = replies["generated"]["id"]
    assert isinstance(generated, str)
    assert generated.isalnum()  # OKX accepts nothing else
    assert generated not in (42, "mine")
    # Every reply also reached the handler, as any message does.
    for reply in replies.values():
        assert reply in messages


def test_a_timeout_forgets_the_id_and_the_late_reply_is_a_message(
    adapter: AdapterUnderTest, server: WsApiServer, tls: Any
) -> None:
    messages: list[Any] = []

    async def body() -> None:
        async with client(adapter, server, tls) as c:
            app = await c.ws_connect(URL, hdlr_json=lambda msg, ws: messages.append(msg))
            with pytest.raises(TimeoutError, match="'ignore' request"):
                await app.request({"id": "slow", "method": "ignore"}, timeout=0.2)
            # The id is free again, and the late reply is delivered as a message.
            reply = await app.request({"method": "answer-ignored"})
            assert reply["result"] == {"answered": 1}
            await adapter.wait_for(
                lambda: {"id": "slow", "status": 200, "result": {"late": True}} in messages,
                timeout=WAIT,
                what="the late reply",
            )
            assert (await app.request({"id": "slow", "method": "echo"}))["id"] == "slow"
            await app.close()

    adapter.run(body)


def test_a_dropped_connection_fails_the_request_and_it_is_not_sent_again(
    adapter: AdapterUnderTest, server: WsApiServer, tls: Any
) -> None:
    async def body() -> None:
        async with client(adapter, server, tls) as c:
            app = await c.ws_connect(URL, hdlr_json=lambda msg, ws: None, backoff=BACKOFF)
            with pytest.raises(ReplyLostError, match="not sent again"):
                await app.request({"method": "drop", "params": {"order": 1}})
            # request() waits for the reconnect, and the dropped one is not replayed.
            reply = await app.request({"method": "echo", "params": {"after": "reconnect"}})
            assert reply["result"] == {"after": "reconnect"}
            await app.close()

    adapter.run(body)
    assert server.connections == 2
    assert server.methods().count("drop") == 1


def test_closing_the_app_fails_a_pending_request(
    adapter: AdapterUnderTest, server: WsApiServer, tls: Any
) -> None:
    outcome: list[BaseException] = []

    async def body() -> None:
        async with client(adapter, server, tls) as c:
            app = await c.ws_connect(URL)

            async def waiting() -> None:
                try:
                    await app.request({"method": "hold"})
                except WebSocketClosedError as exc:
                    outcome.append(exc)

            async def closing() -> None:
                await adapter.wait_for(lambda: "hold" in server.methods(), timeout=WAIT)
                await app.close()

            await concurrently(adapter, [waiting, closing])
            with pytest.raises(WebSocketClosedError):
                await app.request({"method": "echo"})

    adapter.run(body)
    assert len(outcome) == 1
    assert isinstance(outcome[0], ReplyLostError)


def test_a_bad_request_is_refused_before_anything_is_sent(
    adapter: AdapterUnderTest, server: WsApiServer, tls: Any
) -> None:
    async def body() -> None:
        async with client(adapter, server, tls) as c:
            app = await c.ws_connect(URL)
            with pytest.raises(ConfigError, match="JSON object"):
                await app.request(["not", "a", "dict"])  # type: ignore[arg-type]
            with pytest.raises(ConfigError, match="string or an integer"):
                await app.request({"id": 1.5, "method": "echo"})

            async def held() -> None:
                await app.request({"id": "dup", "method": "hold"})

            async def duplicate() -> None:
                await adapter.wait_for(lambda: "hold" in server.methods(), timeout=WAIT)
                with pytest.raises(ConfigError, match="already pending"):
                    await app.request({"id": "dup", "method": "echo"})
                await app.request({"method": "release"})

            await concurrently(adapter, [held, duplicate])
            await app.close()

    adapter.run(body)
    assert server.methods() == ["hold", "release"]


def test_a_binance_request_is_signed_at_send_time(
    adapter: AdapterUnderTest, server: WsApiServer, tls: Any, known_secrets: dict[str, str]
) -> None:
    known_secrets[SECRET] = "tests/scenarios: Binance WS-API vector secret"
    expected = VECTOR["expected"]["message"]
    # The server's checker agrees with the official example.
    assert signature_ok(expected["params"], {KEY: SECRET})
    assert not signature_ok({**expected["params"], "price": "52000.01"}, {KEY: SECRET})
    params = {
        k: v
        for k, v in VECTOR["inputs"]["params"].items()
        if k not in ("apiKey", "timestamp", "signature")
    }
    message = {"method": "order.place", "params": params}
    apis = {"binance": [KEY, SECRET]}

    async def body() -> list[Any]:
        async with client(adapter, server, tls, apis=apis) as c:
            app = await c.ws_connect(URL)
            first = await app.request(message)
            second = await app.request(message)
            await app.close()
            return [first, second]

    first, second = adapter.run(body)
    assert first["result"] == {"verified": True}
    assert second["result"] == {"verified": True}
    assert first["id"] != second["id"]
    assert "signature" not in message["params"]  # signed on a copy
    sent = [m for m in server.received if m["method"] == "order.place"]
    assert [m["params"]["apiKey"] for m in sent] == [KEY, KEY]
    assert all(m["params"]["recvWindow"] == 100 for m in sent)


def test_a_request_held_by_the_pacing_when_the_connection_drops_is_never_sent(
    adapter: AdapterUnderTest, server: WsApiServer, tls: Any, caplog: pytest.LogCaptureFixture
) -> None:
    outcomes: dict[str, BaseException] = {}

    async def body() -> None:
        async with client(adapter, server, tls) as c:
            # One frame a minute: the second request waits for its turn.
            app = await c.ws_connect(URL, pacing=Pacing(messages=1, per=60.0))

            async def send(name: str, method: str) -> None:
                try:
                    await app.request({"method": method, "params": {"name": name}})
                except WebSocketClosedError as exc:
                    outcomes[name] = exc

            async def second() -> None:
                await adapter.wait_for(lambda: "hold" in server.methods(), timeout=WAIT)
                await send("held", "echo")

            async def drop() -> None:
                await adapter.wait_for(lambda: app.session.queued() == 1, timeout=WAIT)
                await app.current_ws.close(code=1011)  # lost with one reply due, one frame held

            await concurrently(adapter, [lambda: send("sent", "hold"), second, drop])
            await app.close()

    adapter.run(body)
    assert isinstance(outcomes["sent"], ReplyLostError)
    assert isinstance(outcomes["held"], WebSocketClosedError)
    assert not isinstance(outcomes["held"], ReplyLostError)  # it never went out
    assert server.methods() == ["hold"]
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
