"""WebSocketQueue, filtered MessageStreams and handler dispatch (framework-neutral)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import trio

import botters
from botters.transports._dispatch import Dispatcher, as_handlers
from botters.transports._streams import (
    MessageStream,
    QueueClosed,
    QueueEmpty,
    WebSocketQueue,
    matches,
)

TICKER = {
    "jsonrpc": "2.0",
    "method": "channelMessage",
    "params": {"channel": "lightning_ticker_BTC_JPY", "message": {"ltp": 1.0, "tags": [1, 2]}},
}


# -- matches -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({}, True),
        ({"method": "channelMessage"}, True),
        ({"params": {"channel": "lightning_ticker_BTC_JPY"}}, True),
        ({"params": {"message": {"ltp": 1}}}, True),  # == semantics: 1 == 1.0
        ({"params": {"message": {"tags": [1, 2]}}}, True),
        ({"params": {"message": {"tags": [1]}}}, False),  # lists compare whole
        ({"params": {"channel": "lightning_ticker_ETH_JPY"}}, False),
        ({"params": {"channel": "lightning_ticker_BTC_JPY"}, "id": 1}, False),
        ({"method": {"x": 1}}, False),  # a dict filter never matches a non-dict value
        ({"missing": None}, False),
    ],
)
def test_matches_dict_subsets(filter_: dict[str, Any], expected: bool) -> None:
    assert matches(TICKER, filter_) is expected


def test_matches_non_dict_messages() -> None:
    assert matches([1, 2], {})
    assert not matches([1, 2], {"a": 1})
    assert not matches("pong", {"a": 1})


# -- WebSocketQueue ---------------------------------------------------------------------


def test_queue_basics_under_asyncio() -> None:
    async def main() -> None:
        q = WebSocketQueue()
        assert q.maxsize == 0
        assert q.empty()
        assert not q.full()
        with pytest.raises(QueueEmpty):
            q.get_nowait()
        reader = asyncio.create_task(q.get())
        await asyncio.sleep(0)
        q.onmessage({"a": 1}, None)
        assert await reader == {"a": 1}
        for i in range(3):
            q.put_nowait(i)
        assert q.qsize() == len(q) == 3
        got = []
        async for msg in q:
            got.append(msg)
            if len(got) == 3:
                break
        assert got == [0, 1, 2]

    asyncio.run(main())


def test_queue_under_trio() -> None:
    async def main() -> None:
        q = WebSocketQueue()
        got: list[Any] = []

        async def reader() -> None:
            async for msg in q:
                got.append(msg)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(reader)
            await trio.sleep(0)
            q.put_nowait("a")
            q.put_nowait("b")
            await trio.sleep(0)
            q.close()
        assert got == ["a", "b"]

    trio.run(main)


def test_bounded_queue_drops_the_oldest_and_logs_once_per_episode(
    caplog: pytest.LogCaptureFixture,
) -> None:
    q = WebSocketQueue(maxsize=2)
    with caplog.at_level(logging.WARNING, logger="botters.ws"):
        for i in range(5):
            q.put_nowait(i)
        assert q.full()
        assert q.dropped == 3
        assert [q.get_nowait(), q.get_nowait()] == [3, 4]
        # Read empty: the next overflow is a new episode, logged again.
        for i in range(3):
            q.put_nowait(i)
    warnings = [r for r in caplog.records if r.name == "botters.ws"]
    assert len(warnings) == 2
    assert "dropping the oldest" in warnings[0].getMessage()
    assert q.dropped == 4


def test_close_ends_iteration_after_the_buffer() -> None:
    async def main() -> list[Any]:
        q = WebSocketQueue()
        q.put_nowait(1)
        q.close()
        q.put_nowait(2)  # ignored once closed
        got = [msg async for msg in q]
        with pytest.raises(QueueClosed):
            await q.get()
        return got

    assert asyncio.run(main()) == [1]


def test_close_wakes_a_waiting_reader() -> None:
    async def main() -> None:
        q = WebSocketQueue()
        reader = asyncio.create_task(q.get())
        await asyncio.sleep(0)
        await q.aclose()
        with pytest.raises(QueueClosed):
            await reader

    asyncio.run(main())


def test_cancelled_get_loses_nothing() -> None:
    async def main() -> None:
        q = WebSocketQueue()
        reader = asyncio.create_task(q.get())
        await asyncio.sleep(0)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader
        q.put_nowait("x")
        assert await q.get() == "x"

    asyncio.run(main())


def test_queue_rejects_bad_maxsize() -> None:
    with pytest.raises(botters.ConfigError):
        WebSocketQueue(maxsize=-1)


def test_message_stream_filters_and_detaches() -> None:
    detached: list[MessageStream] = []
    s = MessageStream(({"id": 1}, {"params": {"channel": "c"}}), detach=detached.append)
    s.offer({"id": 1, "x": 0})
    s.offer({"id": 2})
    s.offer({"params": {"channel": "c", "message": 1}})
    s.offer("pong")
    assert [s.get_nowait(), s.get_nowait()] == [
        {"id": 1, "x": 0},
        {"params": {"channel": "c", "message": 1}},
    ]
    with s:
        pass
    assert detached == [s]
    assert s.closed
    s.close()
    assert detached == [s]
    with pytest.raises(botters.ConfigError):
        MessageStream(([("id", 1)],))  # type: ignore[arg-type]


# -- dispatch -------------------------------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.got: list[tuple[Any, Any]] = []

    def __call__(self, msg: Any, ws: Any) -> None:
        self.got.append((msg, ws))


def test_text_goes_to_str_and_json_handlers_parsed_once() -> None:
    s, j1, j2 = Sink(), Sink(), Sink()
    d = Dispatcher(hdlr_str=s, hdlr_json=[j1, j2])
    d.text('{"a": 1}', "WS")
    d.binary(b'{"b": 2}', "WS")
    assert s.got == [('{"a": 1}', "WS")]
    assert j1.got == [({"a": 1}, "WS"), ({"b": 2}, "WS")]
    assert j1.got[0][0] is j2.got[0][0]  # one parse, one object for everyone


def test_one_json_handler_alone_gets_pre_parsed_frames_directly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The shortcut for the usual configuration must deliver exactly what the
    # general path does, and stop applying as soon as anything else is added.
    j = Sink()
    d = Dispatcher(hdlr_json=j)
    d.text('{"a": 1}', "WS", {"a": 1})  # parsed by the adapter: the shortcut
    d.binary(b'{"b": 2}', "WS", {"b": 2})
    d.text('{"c": 3}', "WS")  # not parsed yet: the general path parses it
    d.text("ping", "WS")  # a keepalive: not JSON, skipped quietly
    assert j.got == [({"a": 1}, "WS"), ({"b": 2}, "WS"), ({"c": 3}, "WS")]

    s = Sink()
    d.add_handler(s, "str")
    d.text('{"d": 4}', "WS", {"d": 4})
    assert s.got == [('{"d": 4}', "WS")]
    d.remove_handler(s)
    with d.open_stream(()) as stream:
        d.text('{"e": 5}', "WS", {"e": 5})
        assert stream.get_nowait() == {"e": 5}
    d.text('{"f": 6}', "WS", {"f": 6})
    assert [m for m, _ in j.got[3:]] == [{"d": 4}, {"e": 5}, {"f": 6}]

    def boom(msg: Any, ws: Any) -> None:
        raise ZeroDivisionError("handler bug")

    d = Dispatcher(hdlr_json=boom, name="wss://x")
    with caplog.at_level(logging.ERROR, logger="botters.ws"):
        d.text('{"n": 1}', None, {"n": 1})
        d.binary(b'{"n": 2}', None, {"n": 2})
    errors = [r for r in caplog.records if r.name == "botters.ws"]
    assert len(errors) == 2
    assert all(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in errors)


def test_binary_goes_to_bytes_handlers() -> None:
    b = Sink()
    d = Dispatcher(hdlr_bytes=b)
    d.binary(b"\x00", None)
    d.text("x", None)
    assert b.got == [(b"\x00", None)]


def test_a_failing_handler_is_logged_and_the_stream_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    after = Sink()

    def boom(msg: Any, ws: Any) -> None:
        raise ZeroDivisionError("handler bug")

    d = Dispatcher(hdlr_json=[boom, after], hdlr_str=boom, name="wss://x")
    with caplog.at_level(logging.ERROR, logger="botters.ws"):
        d.text('{"n": 1}', None)
        d.text('{"n": 2}', None)
    assert after.got == [({"n": 1}, None), ({"n": 2}, None)]
    errors = [r for r in caplog.records if r.name == "botters.ws"]
    assert len(errors) == 4
    assert all(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in errors)
    assert "wss://x" in errors[0].getMessage()


def test_non_json_frames_are_logged_once_per_connection_then_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    j = Sink()
    d = Dispatcher(hdlr_json=j, name="wss://x")
    d.is_keepalive = lambda frame: frame == "3probe"
    with caplog.at_level(logging.DEBUG, logger="botters.ws"):
        for frame in ("ping", "pong", "3probe", "<html>", "garbage", b"\xff\x00"):
            if isinstance(frame, str):
                d.text(frame, None)
            else:
                d.binary(frame, None)
        d.new_connection()
        d.text("again", None)
        d.text("NaN", None)  # accepted, as json.loads accepts it
    assert len(j.got) == 1
    records = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "botters.ws"]
    assert [lvl for lvl, _ in records] == [
        logging.WARNING,
        logging.DEBUG,
        logging.DEBUG,
        logging.WARNING,
    ]
    assert "'<html>'" in records[0][1]
    assert "not JSON" in records[0][1]
    assert "'again'" in records[3][1]


def test_handlers_must_be_sync_callables() -> None:
    async def coro_handler(msg: Any, ws: Any) -> None:
        pass

    with pytest.raises(botters.ConfigError, match="async"):
        Dispatcher(hdlr_json=coro_handler)
    with pytest.raises(botters.ConfigError, match="callable"):
        Dispatcher(hdlr_json=[print, "not callable"])  # type: ignore[list-item]
    with pytest.raises(botters.ConfigError, match="callable"):
        as_handlers("print")  # type: ignore[arg-type]
    assert as_handlers(None) == ()
    assert as_handlers(print) == (print,)


def test_add_and_remove_handlers_at_runtime() -> None:
    store = botters.DataStoreCollection()
    d = Dispatcher()
    j = Sink()
    d.add_handler(j)
    d.add_handler(store.onmessage)
    d.add_handler(j, "str")
    assert d.handlers["json"] == (j, store.onmessage)
    assert d.remove_handler(store.onmessage)  # a new bound-method object, equal to the old
    assert not d.remove_handler(store.onmessage)
    assert d.remove_handler(j, "str")
    assert d.handlers == {"str": (), "bytes": (), "json": (j,)}
    with pytest.raises(botters.ConfigError):
        d.add_handler(j, "xml")  # type: ignore[arg-type]


def test_handler_changes_during_delivery_apply_from_the_next_frame() -> None:
    d = Dispatcher()
    late = Sink()

    def adder(msg: Any, ws: Any) -> None:
        d.add_handler(late)
        d.remove_handler(adder)

    d.add_handler(adder)
    d.text("1", None)
    d.text("2", None)
    assert late.got == [(2, None)]


def test_streams_get_only_matching_json() -> None:
    d = Dispatcher()
    btc = d.open_stream(({"params": {"channel": "lightning_ticker_BTC_JPY"}},), maxsize=10)
    everything = d.open_stream(())
    d.text('{"id": 1, "result": true}', None)
    d.text(botters.transports._json.dumps(TICKER), None)
    d.text("pong", None)
    assert btc.qsize() == 1
    assert btc.get_nowait() == TICKER
    assert everything.qsize() == 2
    btc.close()
    assert d.streams == (everything,)
    d.close_streams()
    assert everything.closed
    assert d.streams == ()


def test_feed_interrupted_reaches_each_collection_once() -> None:
    calls: list[str] = []

    class Store(botters.DataStoreCollection):
        def feed_interrupted(self) -> None:
            calls.append("x")

    store = Store()
    d = Dispatcher(hdlr_json=[store.onmessage, store.onmessage], hdlr_str=print)
    assert d.collections() == [store]
    d.feed_interrupted()
    assert calls == ["x"]
