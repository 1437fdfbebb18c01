"""What the two ``WebSocketApp`` adapters share: arguments, sends, the machine's actions, logs.

Theory of operation
-------------------
Both adapters run the same :class:`~botters.protocol.session.Session`, so
everything that does not touch the event loop or the socket is written once,
here, and the adapters subclass it:

* :class:`BaseApp` checks ``ws_connect``'s arguments and builds the session
  and the handler :class:`~botters.transports._dispatch.Dispatcher`; it holds
  the public API that only reads the session or the dispatcher (``url``,
  ``state``, ``current_ws``, handlers, ``stream``), carries out the machine's
  actions (:meth:`BaseApp._feed`), logs what it reports (each event once, at
  its level: :mod:`._reports`), and turns user sends into the machine's frames;
* :class:`BaseConnection` holds the ``send_*`` methods handlers and stores
  call on ``ws``, and carries out the resync requests order books give it
  (:meth:`BaseConnection.request_resync`): a
  :class:`~botters.protocol.store.Resubscribe` goes out as user sends on that
  connection, a :class:`~botters.protocol.store.FetchSnapshot` is fetched
  with the client and handed back to the store.

Sends and the send pacing. The machine may hold a frame back (the exchange's
per-connection send limit) and release it later from a timer. An awaited send
therefore gets a *ticket*: its completion object waits in ``_tickets`` until
the machine releases the frame (a :class:`~botters.protocol.session.SendFrame`
carrying the ticket; the completion then travels with the frame to the
writer, which completes it once the frame is written) or reports it
:class:`~botters.protocol.session.Unsent` (it fails with
:class:`~botters.WebSocketClosedError`). A send cancelled while its frame is
still held is withdrawn: that frame is never sent (so a caller that gave up
never has an order go out behind its back); one already released is written.

Requests by id. :meth:`BaseApp.request` sends a JSON request and waits for
the reply that echoes its id (Binance's WebSocket API, OKX and Bybit order
entry). The table of pending ids is the core's
:class:`~botters.protocol.session.PendingReplies`; here a request is filed
(with an id generated when it has none, in the field the exchange's route
names), sent like any ``send_json`` (so signed at send time and paced), and
its waiter is completed by the receive loop (:meth:`BaseApp._reply_received`,
reached only while something is pending) or failed when its connection is
lost (:class:`~botters.ReplyLostError`; never re-sent). The adapters supply
only the timeout (:meth:`BaseApp._bounded`).

The adapter supplies the clock (``loop.time`` / ``trio.current_time``) and
the few operations that need its event loop: queueing a frame on a
connection (and, for an awaited send, something to await), opening and
closing connections, running a token request, waking ``await app`` and the
timer. The receive loop and the writer stay in each adapter: they are where
the two frameworks differ, and where every frame passes.

Nothing here imports aiohttp or trio.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, Final, Generic, TypeAlias, TypeVar

from botters.protocol._credentials import Apis
from botters.protocol._errors import ConfigError
from botters.protocol._request import Request, _split_url
from botters.protocol._ws import app_ping_for, request_id_field
from botters.protocol.session import (
    DELIVER,
    Action,
    CloseConnection,
    Disconnected,
    FeedInterrupted,
    HttpRequest,
    OpenConnection,
    PendingReplies,
    Report,
    SendFrame,
    SendPing,
    SendPong,
    Session,
    SessionConfig,
    SessionError,
    State,
    Unsent,
)
from botters.protocol.store import FetchSnapshot, Resubscribe, ResyncRequest

from ._auth import Auth
from ._dispatch import NOT_JSON, UNPARSED, Dispatcher, Handler, HandlerKind, HandlerSpec
from ._errors import ReplyLostError, TransportError, WebSocketClosedError
from ._json import JSONDecodeError, fast_loads, loads
from ._json import dumps as _dumps
from ._reports import report_lines
from ._streams import DEFAULT_MAXSIZE, MessageStream

__all__ = [
    "OUT_BYTES",
    "OUT_PING",
    "OUT_PONG",
    "OUT_STR",
    "SESSION_OPTIONS",
    "BaseApp",
    "BaseConnection",
    "HttpDone",
    "initial_messages",
    "no_reply",
    "origin_of",
    "reason_text",
    "redact",
]

logger = logging.getLogger("botters.ws")

SESSION_OPTIONS: Final = frozenset(
    {
        "dead_peer_timeout",
        "idle_timeout",
        "connect_timeout",
        "login_timeout",
        "http_timeout",
        "close_timeout",
        "stable_after",
        "max_age",
        "rotate_on",
        "rotation_overlap",
        "token_flow",
        "pacing",
    }
)
"""``ws_connect`` keywords that configure the session machine (the rest go to the adapter)."""

HttpDone: TypeAlias = Callable[[int | None, str | None, str | None], None]
"""Called with ``(status, body text, error)`` when an adapter's HTTP request is over."""

# What a connection's outbox holds, by kind (adapters may add their own after these).
OUT_STR: Final = 0
OUT_BYTES: Final = 1
OUT_PING: Final = 2
OUT_PONG: Final = 3


def origin_of(url: str) -> str:
    """``scheme://host[:port]``: all of a URL that may be logged (paths can hold tokens)."""
    try:
        parts = _split_url(url)
    except ConfigError:
        return "<invalid URL>"
    return f"{parts.scheme}://{parts.netloc}"


def redact(text: str, *urls: str | None) -> str:
    """``text`` without the URLs' paths and queries (they may hold tokens: GMO, listenKeys)."""
    for url in urls:
        if not url:
            continue
        try:
            parts = _split_url(url)
        except ConfigError:
            continue
        text = text.replace(url, f"{parts.scheme}://{parts.netloc}/…")
        tail = f"{parts.path}?{parts.query}" if parts.query else parts.path
        if len(tail) > 1:
            text = text.replace(tail, "/…")
    return text


def reason_text(error: BaseException) -> str:
    """``error`` as a short reason for a log line (its type when it has no message)."""
    text = str(error) or type(error).__name__
    return text if len(text) <= 300 else text[:299] + "…"


def initial_messages(send_str: Any, send_bytes: Any, send_json: Any) -> list[str | bytes | Any]:
    """Pybotters' ``send_*`` arguments as one ordered list (str, then bytes, then JSON)."""
    out: list[Any] = []
    for value, kind in ((send_str, str), (send_bytes, bytes)):
        if value is None:
            continue
        items = [value] if isinstance(value, kind | bytearray) else list(value)
        for item in items:
            if isinstance(item, bytearray | memoryview):
                item = bytes(item)
            if not isinstance(item, kind):
                raise ConfigError(
                    f"send_{kind.__name__} takes {kind.__name__} messages (or a list of them), "
                    f"not {type(item).__name__}"
                )
            out.append(item)
    if send_json is not None:
        # As in pybotters, a list is several messages: send a top-level JSON
        # array with send_str=json.dumps([...]).
        items = send_json if isinstance(send_json, list) else [send_json]
        out.extend(item if isinstance(item, Mapping) else _dumps(item) for item in items)
    return out


def no_reply(message: Any, timeout: float) -> TimeoutError:
    """The error of a :meth:`BaseApp.request` whose reply did not come within ``timeout`` s."""
    what = message.get("method") or message.get("op") if isinstance(message, Mapping) else None
    name = f"{what!r} request" if isinstance(what, str) else "request"
    return TimeoutError(
        f"no reply to the {name} within {timeout:g} s (it may have been carried out all the same)"
    )


def _token_body(text: str) -> Any:
    """A token request's answer for the machine: its JSON, or ``None`` (blank, not JSON)."""
    try:
        return loads(text) if text.strip() else None
    except JSONDecodeError:
        return None


class BaseConnection:
    """The part of ``WebSocketConnection`` that does not depend on the event loop: sending.

    Sends go through the session machine, so messages to hosts that sign
    outgoing messages (Binance WebSocket API, Bybit order entry) are signed
    at send time, on a copy. Messages sent here are one-off: they are not
    replayed after a reconnect (pass them to ``ws_connect(send_json=...)`` for
    that).

    The async ``send_*`` methods return once the frame is written and raise
    :class:`~botters.WebSocketClosedError` when this connection is not open, or
    is lost before the frame goes. Where the exchange limits how fast a client
    may send, the frame first waits its turn (``ws_connect(pacing=...)``); a
    send cancelled while it waits is withdrawn and never sent.
    :meth:`send_json_nowait` queues without waiting and never raises for a
    closed connection (it logs and drops): that is the
    :class:`~botters.protocol.MessageSink` a DataStore uses to talk back.
    """

    __slots__ = ("__weakref__", "_app", "_lost", "conn_id")

    def __init__(self, app: BaseApp[Any], conn_id: int) -> None:
        self._app = app
        self.conn_id = conn_id
        """The session machine's id of this connection (never reused)."""
        self._lost = False

    @property
    def closed(self) -> bool:
        """Whether this connection is closed, closing or not yet open."""
        raise NotImplementedError

    async def send_str(self, data: str) -> None:
        """Send a text frame."""
        await self._app._user_send(self, data)

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary frame."""
        await self._app._user_send(self, bytes(data))

    async def send_json(
        self,
        data: Any,
        compress: int | None = None,
        *,
        dumps: Callable[[Any], str] | None = None,
        auth: Any = Auth,
    ) -> None:
        """Send ``data`` as compact JSON text.

        A dict is signed first when the host signs outgoing messages (Binance
        WebSocket API, Bybit order entry), on a copy, unless ``auth=None``.
        ``dumps=`` (aiohttp's keyword) sends ``dumps(data)`` as given, unsigned.
        ``compress`` is accepted for aiohttp compatibility and must be ``None``.
        """
        if compress is not None:
            raise ConfigError("per-message compression is not supported; leave compress=None")
        if dumps is not None:
            await self._app._user_send(self, dumps(data))
        elif auth is None or not isinstance(data, Mapping):
            await self._app._user_send(self, _dumps(data))
        else:
            await self._app._user_send(self, data)

    def send_json_nowait(self, data: Any) -> None:
        """Queue ``data`` to be sent as JSON; never blocks, never raises for a closed connection."""
        self._app._user_send_nowait(self, data if isinstance(data, Mapping) else _dumps(data))

    def request_resync(self, request: ResyncRequest) -> None:
        """Carry out an order book's resync request (never blocks, never raises).

        A :class:`~botters.protocol.store.Resubscribe` sends its messages on
        this connection (signed like any send); a
        :class:`~botters.protocol.store.FetchSnapshot` GETs its URL with the
        client and gives the answer back to the store. If this connection is
        gone, the request is dropped: the reconnect resyncs every book.
        """
        self._app._request_resync(self, request)

    async def close(self, *, code: int = 1000, message: bytes = b"") -> None:
        """Close this connection and wait until it is gone.

        The ``WebSocketApp`` stays alive: the session machine sees the loss
        and reconnects (after its backoff). To stop for good, close the app.
        """
        self._app._expect_loss(self, logging.INFO)  # asked for: not a warning
        self._app._close_connection(self, code, message.decode(errors="replace"))
        await self._gone()

    async def _gone(self) -> None:
        """Wait until this connection's task is over (socket closed, loss reported)."""
        raise NotImplementedError

    def _enqueue(self, kind: int, data: Any, done: Any = None) -> bool:
        """Queue one outbox item for the writer; ``False`` (dropped) once the writer is gone.

        ``done`` (from :meth:`_completion`) completes once the item is written,
        or fails if it never is.
        """
        raise NotImplementedError

    def _completion(self) -> Any:
        """A new completion object for an awaited send (a future, an event...)."""
        raise NotImplementedError

    def _wait_done(self, done: Any) -> Awaitable[None]:
        """Wait for ``done``; raises what it failed with."""
        raise NotImplementedError

    def _fail_done(self, done: Any, error: BaseException) -> None:
        """Fail ``done`` (if not complete yet) with ``error``."""
        raise NotImplementedError

    def _resolve_done(self, done: Any, value: Any) -> None:
        """Complete ``done`` (if not complete yet) with ``value``, what ``_wait_done`` returns."""
        raise NotImplementedError

    def _abandon_done(self, done: Any) -> None:
        """``done`` will never be awaited: make sure it cannot complain about that."""

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<WebSocketConnection {self.conn_id} {state} {self._app._origin}>"


ConnT = TypeVar("ConnT", bound=BaseConnection)


class BaseApp(Generic[ConnT]):
    """The part of ``WebSocketApp`` that does not depend on the event loop.

    Args:
        url: The WebSocket URL.
        apis: The client's credentials (used when ``auth`` is :class:`~botters.Auth`).
        clock: The adapter's monotonic clock, the machine's ``now``.
        **kwargs: ``ws_connect``'s arguments; the session options go to the
            machine, ``headers`` to the handshake, and whatever is left to
            :meth:`_transport_options`.
    """

    def __init__(
        self,
        url: str,
        *,
        apis: Apis,
        clock: Callable[[], float],
        send_str: str | Iterable[str] | None = None,
        send_bytes: bytes | Iterable[bytes] | None = None,
        send_json: Any = None,
        hdlr_str: HandlerSpec = None,
        hdlr_bytes: HandlerSpec = None,
        hdlr_json: HandlerSpec = None,
        backoff: Any = None,
        heartbeat: float | None = 10.0,
        auth: Any = Auth,
        **kwargs: Any,
    ) -> None:
        self._clock = clock
        self._auth = auth
        options = {name: kwargs.pop(name) for name in list(kwargs) if name in SESSION_OPTIONS}
        if "json" in kwargs:
            raise ConfigError("ws_connect has no json=: pass initial messages as send_json=")
        headers = dict(kwargs.pop("headers", None) or {})
        self._transport_options(kwargs, headers)
        if backoff is not None:
            options["backoff"] = backoff
        config = SessionConfig(
            url=url,
            rng=random.SystemRandom(),
            headers=headers,
            sends=initial_messages(send_str, send_bytes, send_json),
            apis=apis if auth is Auth else None,
            heartbeat=heartbeat,
            **options,
        )
        self._close_timeout = config.close_timeout
        self._http_timeout = config.http_timeout
        self._session = Session(config)
        self._origin = origin_of(url)
        self._dispatcher = Dispatcher(
            hdlr_str=hdlr_str, hdlr_bytes=hdlr_bytes, hdlr_json=hdlr_json, name=self._origin
        )
        self._set_keepalive(url)
        self._conns: dict[int, ConnT] = {}
        self._closing = False
        self._loss_levels: dict[int, int] = {}
        self._fetching: set[tuple[str, Any]] = set()
        # Carried resync requests to check once their retry_after has passed:
        # (when, tie-breaker, request, connection), a heap.
        self._resync_checks: list[tuple[float, int, ResyncRequest, ConnT]] = []
        self._check_count = itertools.count()
        # Awaited sends whose frame the machine has not released yet: ticket ->
        # (connection, completion).
        self._tickets: dict[int, tuple[BaseConnection, Any]] = {}
        self._ticket_count = itertools.count(1)
        # Requests waiting for their reply (request()); the random prefix keeps
        # generated ids apart from the user's own.
        self._replies = PendingReplies(prefix=f"bt{random.getrandbits(32):08x}")
        self._id_field = request_id_field(url)
        self._give_clock()

    def _give_clock(self) -> None:
        # Order books time their updates and resync retries on the adapter's clock.
        for collection in self._dispatcher.collections():
            if collection._clock is None:
                collection.set_clock(self._clock)

    def _transport_options(self, kwargs: dict[str, Any], headers: dict[str, str]) -> None:
        """Take the adapter's own ``ws_connect`` options out of ``kwargs`` (may add headers)."""
        raise NotImplementedError

    def _set_keepalive(self, url: str) -> None:
        # The exchange's plain-text keepalive answers are not JSON worth a warning.
        ping = app_ping_for(url)
        self._dispatcher.is_keepalive = (
            ping.is_pong if ping is not None and ping.pong is not None else None
        )

    # -- public API ----------------------------------------------------------------------

    @property
    def current_ws(self) -> ConnT | None:
        """The open connection for one-off sends; ``None`` while not open."""
        cid = self._session.current
        return None if cid is None else self._conns.get(cid)

    @property
    def url(self) -> str:
        """The URL of the next (re)connect."""
        return self._session.url

    @url.setter
    def url(self, url: str) -> None:
        """Use ``url`` from the next (re)connect on; the live connection is kept."""
        self._feed(self._session.url_changed(url, now=self._clock()))
        self._origin = self._dispatcher.name = origin_of(url)
        self._set_keepalive(url)
        self._id_field = request_id_field(url)

    @property
    def state(self) -> State:
        """The session machine's state (``State.OPEN`` once logged in and subscribed)."""
        return self._session.state

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closing

    @property
    def session(self) -> Session:
        """The session machine (read its properties; do not feed it)."""
        return self._session

    def add_handler(self, handler: Handler, kind: HandlerKind = "json") -> None:
        """Add a handler at runtime (``kind``: ``"json"``, ``"str"`` or ``"bytes"``)."""
        self._dispatcher.add_handler(handler, kind)
        self._give_clock()

    def remove_handler(self, handler: Handler, kind: HandlerKind | None = None) -> bool:
        """Remove a handler (from ``kind`` or from every kind); returns whether it was there."""
        return self._dispatcher.remove_handler(handler, kind)

    @property
    def handlers(self) -> Mapping[HandlerKind, tuple[Handler, ...]]:
        """The current handlers by kind (a snapshot)."""
        return self._dispatcher.handlers

    def stream(self, *filters: Mapping[str, Any], maxsize: int = DEFAULT_MAXSIZE) -> MessageStream:
        """A new stream of this app's JSON messages matching any of ``filters`` (all, if none).

        A filter is a dict that must be a subset of the message (nested dicts
        too): ``app.stream({"params": {"channel": "lightning_ticker_BTC_JPY"}})``.
        Any number of streams can be open; each is bounded by ``maxsize``
        (beyond it the oldest unread message is dropped and counted in
        ``stream.dropped``). Close it (or use ``with``) when done; closing the
        app ends every stream.
        """
        if self.closed:
            raise WebSocketClosedError(f"{self!r} is closed")
        return self._dispatcher.open_stream(filters, maxsize=maxsize)

    def stream_filter(
        self, filters: Sequence[Mapping[str, Any]] | None = None, *, maxsize: int = DEFAULT_MAXSIZE
    ) -> MessageStream:
        """:meth:`stream` taking the filters as one list (AsyncWebsocketStreamInterface's name)."""
        return self.stream(*(filters or ()), maxsize=maxsize)

    async def request(self, message: Mapping[str, Any], *, timeout: float | None = 10.0) -> Any:
        """Send a JSON request and return the reply that carries its id.

        For WebSocket APIs that answer each request with a message echoing
        its id: Binance's WebSocket API (``{"id": ..., "status": 200,
        "result": ...}``), OKX order entry (``id``), Bybit's trade stream
        (``reqId``; the field name comes from the exchange's route, ``id``
        for hosts botters does not know). Replies may come in any order;
        each request gets its own. It is called ``request`` because that is
        what these exchanges call the message (Binance: "request" and
        "response"; Bybit ``reqId``), and it is the WebSocket counterpart of
        ``Client.request``: one call, one answer.

        The request is sent on the open connection exactly as
        ``current_ws.send_json(message)`` would send it: signed at send time
        where the host signs messages (Binance WebSocket API, Bybit order
        entry), waiting its turn where the exchange limits how fast a client
        may send. Without an id it gets a fresh one (a string), on a copy;
        ``message`` is never modified. The reply is also delivered to the
        handlers and streams as every message is (the same object), and a
        reply nobody waits for (after a timeout) is just a message.

        Waits for the app to be open first (within ``timeout``). It is a
        one-off: not replayed after a reconnect.

        Args:
            message: The request, a JSON object (``dict``).
            timeout: Seconds to wait for the app to open, the send, and the
                reply; ``None``: no limit (until the connection is lost).

        Returns:
            The reply, parsed. Error replies (Binance's ``"status": 400``,
            Bybit's ``retCode`` != 0) are returned too: what an error is
            depends on the exchange and the method.

        Raises:
            TimeoutError: no reply within ``timeout``; the id is forgotten.
                The request may have been carried out all the same.
            ReplyLostError: the connection was lost before the reply came; the
                request is **not** sent again after the reconnect (an order
                must not be placed twice), and may have been carried out.
            WebSocketClosedError: the app is closed (or the send failed).
            ConfigError: ``message`` is not a dict, its id is neither a string
                nor an integer, or a request with that id is pending.
        """
        if not isinstance(message, Mapping):
            raise ConfigError(
                f"request() sends a JSON object (a dict), not {type(message).__name__}"
            )
        if timeout is None:
            return await self._request(message)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0:
            raise ConfigError(f"timeout= takes seconds (a number >= 0) or None, not {timeout!r}")
        return await self._bounded(self._request(message), timeout, message)

    async def _request(self, message: Mapping[str, Any]) -> Any:
        await self._wait_open()
        conn = self.current_ws
        if conn is None or conn.closed:  # lost again at once, or closing
            raise WebSocketClosedError(f"{self!r} has no open connection to send the request on")
        done = conn._completion()
        data, key = self._replies.add(
            message, field=self._id_field, conn_id=conn.conn_id, waiter=(conn, done)
        )
        awaited = False
        try:
            await self._user_send(conn, data)
            awaited = True
            return await conn._wait_done(done)
        finally:
            self._replies.forget(key)
            if not awaited:  # the send failed: nobody will wait for the reply
                conn._abandon_done(done)

    async def _bounded(self, request: Awaitable[Any], timeout: float, message: Any) -> Any:
        """Await ``request`` for at most ``timeout`` s, else raise :func:`no_reply`'s error."""
        raise NotImplementedError

    def _reply_received(self, data: str | bytes, parsed: Any) -> None:
        """Complete the request ``data`` answers, if any (called only while requests wait).

        ``parsed`` is what the receive loop parsed for the handlers; when it
        parsed nothing (no JSON handler), the frame is parsed here.
        """
        if parsed is NOT_JSON:
            try:
                parsed = fast_loads(data)
            except ValueError:
                return
        found = self._replies.match(parsed)
        if found is not None:
            conn, done = found
            conn._resolve_done(done, parsed)

    async def heartbeat(self, timeout: float = 10.0) -> None:
        """Check that the peer answers: PING the open connection and wait for its PONG.

        Waits for the app to be open first. If no PONG arrives within
        ``timeout`` seconds the connection is closed (the session reconnects)
        and the check starts again on the next connection. Returns once a PONG
        was received.
        """
        while True:
            await self._wait_open()
            conn = self.current_ws
            if conn is None:
                await self._checkpoint()
                continue
            if await self._ping(conn, random.getrandbits(32).to_bytes(4, "big"), timeout):
                return
            self._no_pong(conn, timeout)
            await conn.close(code=1011, message=b"heartbeat timeout")

    def __repr__(self) -> str:
        return f"<WebSocketApp {self._origin} {self._session.state.value}>"

    # -- what the adapter provides ----------------------------------------------------

    async def _wait_open(self) -> Any:
        """``await app``: until the session is open (raises once the app is closed)."""
        raise NotImplementedError

    async def _checkpoint(self) -> None:
        """Let other tasks run once."""
        raise NotImplementedError

    async def _ping(self, conn: ConnT, payload: bytes, timeout: float) -> bool:
        """PING ``conn`` with ``payload``; whether its PONG came within ``timeout`` s."""
        raise NotImplementedError

    def _open_connection(self, action: OpenConnection) -> None:
        raise NotImplementedError

    def _close_connection(self, conn: ConnT, code: int, reason: str) -> None:
        raise NotImplementedError

    def _spawn_http(self, request: Request, done: HttpDone, what: str) -> None:
        """Send ``request`` through the client in a new task, then call ``done`` (never raises).

        ``what`` names the task (``"token request"``, ``"snapshot request"``).
        """
        raise NotImplementedError

    def _start_http(self, action: HttpRequest) -> None:
        """Run the machine's token request (then tell the machine)."""
        self._spawn_http(action.request, partial(self._http_done, action.request_id), "token")

    def _after_actions(self) -> None:
        """Wake ``await app`` once the session is open; follow the machine's deadline."""
        raise NotImplementedError

    # -- executing the machine's actions --------------------------------------------------

    def _feed(
        self,
        actions: Sequence[Action],
        conn: ConnT | None = None,
        frame: str | bytes | None = None,
        parsed: Any = UNPARSED,
    ) -> None:
        """Carry out the machine's actions, in order (reports are logged once all are done)."""
        reports: list[Report] | None = None
        for action in actions:
            if action is DELIVER:
                if conn is not None and frame is not None:
                    self._dispatcher.deliver(frame, conn, parsed)
            elif isinstance(action, SendFrame):
                target = self._conns.get(action.conn_id)
                waiter = None if action.ticket is None else self._tickets.pop(action.ticket, None)
                done = None if waiter is None else waiter[1]
                if target is not None:
                    kind = OUT_STR if isinstance(action.data, str) else OUT_BYTES
                    target._enqueue(kind, action.data, done)
                elif waiter is not None:
                    gone = WebSocketClosedError(f"connection {action.conn_id} is closed")
                    waiter[0]._fail_done(done, gone)
            elif isinstance(action, SendPing | SendPong):
                target = self._conns.get(action.conn_id)
                if target is not None:
                    kind = OUT_PING if isinstance(action, SendPing) else OUT_PONG
                    target._enqueue(kind, action.payload)
            elif isinstance(action, OpenConnection):
                self._open_connection(action)
            elif isinstance(action, CloseConnection):
                target = self._conns.get(action.conn_id)
                if target is not None:
                    self._close_connection(target, action.code, action.reason)
            elif isinstance(action, Unsent):
                self._unsent(action)
            elif isinstance(action, FeedInterrupted):
                self._dispatcher.feed_interrupted()
            elif isinstance(action, HttpRequest):
                self._start_http(action)
            elif isinstance(action, Report):
                if reports is None:
                    reports = [action]
                else:
                    reports.append(action)
        if reports is not None:
            self._log_reports(reports)
        self._after_actions()

    def _unsent(self, action: Unsent) -> None:
        """Frames held back by the send pacing died with their connection: tell their senders."""
        error = WebSocketClosedError(
            f"connection {action.conn_id} was lost before the message went out "
            "(it was waiting for the exchange's send limit)"
        )
        for ticket in action.tickets:
            waiter = self._tickets.pop(ticket, None)
            if waiter is not None:
                waiter[0]._fail_done(waiter[1], error)
        if action.untracked:
            logger.log(
                logging.DEBUG if self._closing else logging.WARNING,
                "%s: connection %d is gone; %d message(s) sent without waiting "
                "(send_json_nowait, resync requests) were still held back by the send "
                "pacing and were dropped",
                self._origin,
                action.conn_id,
                action.untracked,
            )

    def _deadline(self) -> float | None:
        """When the timer must wake: the machine's deadline or the next resync check."""
        deadline = self._session.deadline
        if self._resync_checks:
            check = self._resync_checks[0][0]
            if deadline is None or check < deadline:
                return check
        return deadline

    def _timer_fired(self, now: float) -> None:
        """The timer woke at ``now``: run the resync checks and the machine's timer that are due."""
        if self._resync_checks and self._resync_checks[0][0] <= now:
            self._check_resyncs(now)
        deadline = self._session.deadline
        if deadline is not None and now >= deadline:
            self._feed(self._session.timer(now=now, wall=time.time()))

    def _log_reports(self, reports: Sequence[Report]) -> None:
        """Log what the machine reported, each event once (see :mod:`._reports`)."""
        losses = self._loss_levels
        origin = self._origin
        for level, fmt, args in report_lines(reports, closing=self._closing, loss_levels=losses):
            logger.log(level, "%s: " + fmt, origin, *args)
        if losses:
            for report in reports:
                if isinstance(report, Disconnected):
                    losses.pop(report.conn_id, None)

    def _expect_loss(self, conn: BaseConnection, level: int) -> None:
        """Log the coming loss of ``conn`` at no more than ``level`` (it was asked for)."""
        levels = self._loss_levels
        levels[conn.conn_id] = min(level, levels.get(conn.conn_id, level))

    def _no_pong(self, conn: BaseConnection, timeout: float) -> None:
        """``heartbeat()`` got no PONG: this event's one WARNING (the loss follows at DEBUG)."""
        logger.warning(
            "%s: no pong within %g s; closing connection %d",
            self._origin,
            timeout,
            conn.conn_id,
        )
        self._expect_loss(conn, logging.DEBUG)

    # -- what the adapter reports -------------------------------------------------------

    def _connect_failed(
        self, conn: ConnT, error: BaseException, status: int | None, *urls: str | None
    ) -> None:
        """The handshake of ``conn`` failed (``urls``: what to keep out of the reason)."""
        cid = conn.conn_id
        why = redact(reason_text(error), *urls)
        logger.debug("%s: connect %d failed: %s", self._origin, cid, why)
        self._conns.pop(cid, None)
        conn._lost = True
        self._feed(self._session.connect_failed(cid, why, status=status, now=self._clock()))

    def _connection_lost(self, cid: int, code: int | None, reason: str, clean: bool) -> None:
        if self._replies:
            waiting = self._replies.lost(cid)
            if waiting:
                why = (
                    f"connection {cid} was lost before the reply came ({reason or 'closed'}); "
                    "the request is not sent again and may have been carried out"
                )
                for conn, done in waiting:
                    conn._fail_done(done, ReplyLostError(why))
        self._feed(
            self._session.connection_lost(
                cid, code=code, reason=reason, clean=clean, now=self._clock(), wall=time.time()
            )
        )

    def _http_error(self, exc: Exception) -> str:
        """Why a token request failed, for the machine (which reports it); a bug is logged."""
        if isinstance(exc, TransportError):
            return str(exc)
        logger.exception("%s: token request failed", self._origin, exc_info=exc)
        return f"{type(exc).__name__}: {exc}"

    def _http_done(
        self, request_id: int, status: int | None, text: str | None, error: str | None
    ) -> None:
        """Give a token request's outcome to the machine (``text``: the body, if any)."""
        body = None if text is None else _token_body(text)
        self._feed(
            self._session.http_response(
                request_id,
                status=status,
                body=body,
                error=error,
                now=self._clock(),
                wall=time.time(),
            )
        )

    # -- user sends ---------------------------------------------------------------------

    def _send_actions(
        self, conn: BaseConnection, data: Any, ticket: int | None = None
    ) -> list[Action] | None:
        try:
            return self._session.user_send(
                data, conn_id=conn.conn_id, now=self._clock(), wall=time.time(), ticket=ticket
            )
        except SessionError:
            return None

    async def _user_send(self, conn: BaseConnection, data: Any) -> None:
        """Send one message; return once its frame is written (see the module docs)."""
        if conn.closed:
            raise WebSocketClosedError(f"connection {conn.conn_id} is not open")
        ticket = next(self._ticket_count)
        done = conn._completion()
        self._tickets[ticket] = (conn, done)
        try:
            actions = self._send_actions(conn, data, ticket)
        except BaseException:  # SigningError: nothing was sent
            del self._tickets[ticket]
            raise
        if actions is None:
            del self._tickets[ticket]
            raise WebSocketClosedError(f"connection {conn.conn_id} is not open")
        self._feed(actions)
        try:
            await conn._wait_done(done)
        except BaseException:
            if self._tickets.pop(ticket, None) is not None:
                # Cancelled while the pacing still held the frame: take it back.
                self._feed(self._session.withdraw_send(ticket, now=self._clock()))
            raise

    def _user_send_nowait(self, conn: BaseConnection, data: Any) -> None:
        actions = None if conn.closed else self._send_actions(conn, data)
        if actions is None:
            if self.closed:
                # Expected: the user closes the app, and a message that was still
                # on its way makes a store answer (bitFlyer's snapshot unsubscribe).
                logger.debug(
                    "%s: the app is closing; a message sent with send_json_nowait on "
                    "connection %d was dropped",
                    self._origin,
                    conn.conn_id,
                )
            else:
                logger.warning(
                    "%s: connection %d is not open; a message sent with send_json_nowait "
                    "was dropped (the session resubscribes after reconnecting)",
                    self._origin,
                    conn.conn_id,
                )
            return
        self._feed(actions)

    # -- resync requests ----------------------------------------------------------------

    def _request_resync(self, conn: ConnT, request: ResyncRequest) -> None:
        self._carry(conn, request)
        if request.retry_after is not None:
            when = self._clock() + request.retry_after
            heapq.heappush(self._resync_checks, (when, next(self._check_count), request, conn))
            self._after_actions()  # the timer may have to wake earlier

    def _check_resyncs(self, now: float) -> None:
        # Requests whose snapshot did not come within retry_after: ask again on
        # the same connection (the store doubles the delay). A connection that
        # is gone needs nothing: its loss resyncs every book.
        checks = self._resync_checks
        while checks and checks[0][0] <= now:
            _, _, request, conn = heapq.heappop(checks)
            if request.pending and self._conns.get(conn.conn_id) is conn and not conn.closed:
                try:
                    request.retry(conn)
                except Exception:
                    logger.exception("%s: retrying the resync of %r failed", self._origin, request)

    def _carry(self, conn: BaseConnection, request: ResyncRequest) -> None:
        if isinstance(request, Resubscribe):
            for message in request.messages:
                self._user_send_nowait(conn, message)
        elif isinstance(request, FetchSnapshot):
            if request.key in self._fetching:
                return  # one fetch per book at a time; the store asks again if it must
            try:
                http = Request.build("GET", request.url)
            except Exception as exc:
                request.fail(f"bad snapshot URL: {reason_text(exc)}")
                return
            self._fetching.add(request.key)
            self._spawn_http(http, partial(self._fetch_done, request), "snapshot")
        else:
            logger.warning("%s: cannot carry out %r; ignored", self._origin, request)

    def _fetch_done(
        self, request: FetchSnapshot, status: int | None, text: str | None, error: str | None
    ) -> None:
        self._fetching.discard(request.key)
        try:
            if error is not None:
                request.fail(error)
            elif status != 200 or text is None:
                request.fail(f"HTTP {status}")
            else:
                try:
                    body = loads(text)
                except JSONDecodeError:
                    request.fail(f"HTTP {status} with a body that is not JSON")
                else:
                    request.deliver(body)
        except Exception:
            logger.exception("%s: applying the snapshot for %r failed", self._origin, request.book)
