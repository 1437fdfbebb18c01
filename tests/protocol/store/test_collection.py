"""DataStoreCollection: registry, onmessage that never raises, transport-neutral initialize."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import trio

from botters.protocol import ConfigError
from botters.protocol.store import (
    DataStore,
    DataStoreCollection,
    InitializeError,
    MessageSink,
    RestResponse,
)


class Recorder(DataStoreCollection):
    """Routes ``{"table": name, "data": [...]}`` and records initialize responses."""

    def _init(self) -> None:
        self._create("items", keys=["id"])
        self.responses: list[tuple[str, dict[str, str], Any]] = []

    def _onmessage(self, msg: Any, ws: MessageSink | None = None) -> None:
        self[msg["table"]]._update(msg["data"])  # KeyError for unknown tables, on purpose

    def _oninitialize(self, response: RestResponse) -> None:
        if response.path == "/boom":
            raise RuntimeError("bad payload")
        if response.path == "/refused":
            raise InitializeError(f"refused: {response.data}")
        if response.path != "/v1/items":
            super()._oninitialize(response)
            return
        self.responses.append((response.path, response.params, response.data))


def test_registry() -> None:
    c = Recorder()
    assert "items" in c
    assert "nope" not in c
    assert isinstance(c["items"], DataStore)
    assert c._get("items") is c["items"]
    assert c._get("nope") is None
    with pytest.raises(KeyError):
        c["nope"]
    assert list(c) == ["items"]
    created = c._create("more", keys=["k"], data=[{"k": 1}])
    assert c["more"] is created
    assert created.find() == [{"k": 1}]
    assert "items" in repr(c)


def test_onmessage_never_raises_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    c = Recorder()
    with caplog.at_level(logging.ERROR, logger="botters.store"):
        c.onmessage({"table": "unknown", "data": []})
        c.onmessage("garbage")
    c.onmessage({"table": "items", "data": [{"id": 1}]})
    assert c["items"].find() == [{"id": 1}]
    failures = [r for r in caplog.records if "failed to apply a message" in r.getMessage()]
    assert len(failures) == 2
    assert all(r.exc_info for r in failures)


def test_base_collection_logs_unrouted_messages(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="botters.store"):
        DataStoreCollection().onmessage({"x": 1})
    assert any("no message routing" in r.getMessage() for r in caplog.records)


def test_feed_interrupted_survives_a_failing_store(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(DataStore):
        def _feed_interrupted(self) -> None:
            raise RuntimeError("nope")

    c = Recorder()
    c._create("broken", datastore_class=Broken)
    with caplog.at_level(logging.ERROR, logger="botters.store"):
        c.feed_interrupted()
    assert any("feed_interrupted failed" in r.getMessage() for r in caplog.records)


def test_rest_response_parts() -> None:
    r = RestResponse("https://api.example.com/v1/items?product_code=FX_BTC_JPY&count=2", [])
    assert r.path == "/v1/items"
    assert r.params == {"product_code": "FX_BTC_JPY", "count": "2"}


class SyncJSONResponse:
    """Shaped like httpx/requests: ``.url`` and a plain ``.json()``."""

    def __init__(self, url: str, data: Any) -> None:
        self.url = url
        self._data = data

    def json(self) -> Any:
        return self._data


class AsyncJSONResponse(SyncJSONResponse):
    """Shaped like aiohttp: ``await response.json()``."""

    async def json(self) -> Any:  # type: ignore[override]
        return self._data


class URLObject:
    """Like yarl.URL: not a str, but str() gives the URL."""

    def __init__(self, url: str) -> None:
        self._url = url

    def __str__(self) -> str:
        return self._url


async def deferred(value: Any) -> Any:
    return value


class RequestContext:
    """Like aiohttp's request context manager: awaitable, resolving to a response."""

    def __init__(self, response: Any) -> None:
        self._response = response

    def __await__(self) -> Any:
        return deferred(self._response).__await__()


def every_form() -> list[Any]:
    url = "https://api.example.com/v1/items?n={}"
    return [
        RestResponse(url.format(0), [0]),
        (url.format(1), [1]),
        (URLObject(url.format(2)), [2]),
        SyncJSONResponse(url.format(3), [3]),
        AsyncJSONResponse(URLObject(url.format(4)), [4]),  # type: ignore[arg-type]
        deferred(SyncJSONResponse(url.format(5), [5])),
        RequestContext(AsyncJSONResponse(url.format(6), [6])),
        deferred((url.format(7), [7])),
    ]


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_initialize_accepts_every_form_and_applies_in_argument_order(library: str) -> None:
    c = Recorder()

    async def main() -> None:
        await c.initialize(*every_form())

    asyncio.run(main()) if library == "asyncio" else trio.run(main)
    assert [data for _, _, data in c.responses] == [[i] for i in range(8)]
    assert [params["n"] for _, params, _ in c.responses] == [str(i) for i in range(8)]


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_initialize_applies_the_rest_then_raises_the_first_failure(library: str) -> None:
    c = Recorder()

    async def fails(message: str) -> Any:
        raise ConnectionError(message)

    async def main() -> None:
        await c.initialize(
            ("https://x/v1/items", "a"),
            fails("first"),
            ("https://x/v1/items", "b"),
            fails("second"),
        )

    with pytest.raises(ConnectionError, match="first"):
        asyncio.run(main()) if library == "asyncio" else trio.run(main)
    assert [data for _, _, data in c.responses] == ["a", "b"]


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_an_exchange_error_reply_is_raised_after_the_rest_is_applied(library: str) -> None:
    c = Recorder()

    async def main() -> None:
        await c.initialize(
            ("https://x/refused", "first"),
            ("https://x/v1/items", "a"),
            ("https://x/refused", "second"),
        )

    with pytest.raises(InitializeError, match="refused: first"):
        asyncio.run(main()) if library == "asyncio" else trio.run(main)
    assert [data for _, _, data in c.responses] == ["a"]
    with pytest.raises(ValueError, match="refused: x"):  # pybotters raised ValueError
        c.initialize_nowait(("https://x/refused", "x"), ("https://x/v1/items", "b"))
    assert [data for _, _, data in c.responses] == ["a", "b"]


def test_initialize_with_nothing_needs_no_event_loop() -> None:
    coro = Recorder().initialize()
    with pytest.raises(StopIteration):
        coro.send(None)


def test_initialize_logs_unknown_endpoints_and_bad_payloads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    c = Recorder()
    with caplog.at_level(logging.WARNING, logger="botters.store"):
        asyncio.run(c.initialize(("https://x/v1/other", []), ("https://x/boom", [])))
        c.initialize_nowait(("https://x/v1/items", [1]))
    messages = [r.getMessage() for r in caplog.records]
    assert any("does not support" in m and "/v1/other" in m for m in messages)
    assert any("failed to apply the response" in m and "/boom" in m for m in messages)
    assert c.responses == [("/v1/items", {}, [1])]


def test_initialize_rejects_what_is_not_a_response() -> None:
    with pytest.raises(ConfigError, match="initialize"):
        asyncio.run(Recorder().initialize(42))
    with pytest.raises(ConfigError, match="initialize_nowait"):
        Recorder().initialize_nowait(SyncJSONResponse("u", 1))  # type: ignore[arg-type]


def test_message_sink_protocol_is_structural() -> None:
    class Queueing:
        def __init__(self) -> None:
            self.queued: list[Any] = []

        def send_json_nowait(self, data: Any) -> None:
            self.queued.append(data)

    assert isinstance(Queueing(), MessageSink)
    assert not isinstance(object(), MessageSink)
