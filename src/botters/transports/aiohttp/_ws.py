"""``WebSocketApp``: a managed WebSocket on aiohttp, driven by the pure session machine.

Theory of operation
-------------------
Every decision (when to connect, log in, subscribe, ping, give a silent peer
up, back off, rotate, resync stores) is taken by
:class:`botters.protocol.session.Session`. This module only carries its
actions out and feeds it what happened:

* one **connection task** per ``conn_id`` the machine opens: it signs the
  handshake (BitMEX-style ``wss`` routes; ``auth=None`` disables it), opens the
  socket with ``session.ws_connect(yarl.URL(url, encoded=True), autoping=False,
  heartbeat=None)`` (keepalive is the machine's), reads frames and reports
  ``connected`` / ``connect_failed`` / ``connection_lost``;
* one **writer task** per open connection sends queued frames, pings and pongs
  in order (so synchronous code, such as a store calling
  :meth:`WebSocketConnection.send_json_nowait`, can send without a task);
* one **timer task** sleeps until :attr:`Session.deadline` and calls
  ``timer``; it is woken whenever the deadline may have moved earlier;
* **HTTP tasks** for token flows (KuCoin bullet, GMO token, listenKey) send the
  machine's unsigned request through the :class:`~botters.Client`, which signs
  it like any request.

The receive hot path. For each text or binary frame: parse it once when JSON
handlers or filtered streams want it (orjson when installed), hand it to
``Session.frame_received`` and, when that returns the shared ``DELIVER_ONLY``
tuple, call the handlers directly. No task, callback or event object is
created per frame.

Ownership. Every task is held in a set (strong references) and is cancelled
and awaited by :meth:`WebSocketApp.close`, which also closes every socket;
:meth:`botters.Client.close` closes its apps first.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Coroutine, Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import yarl

from botters.protocol._errors import ConfigError
from botters.protocol._registry import sign_request
from botters.protocol._request import Request, _split_url
from botters.protocol._ws import app_ping_for
from botters.protocol.session import (
    DELIVER,
    DELIVER_ONLY,
    NOT_PARSED,
    Action,
    BackingOff,
    CloseConnection,
    Closed,
    Connecting,
    Disconnected,
    Established,
    FeedInterrupted,
    HttpRequest,
    Idle,
    Ignored,
    LoggedIn,
    LoginFailed,
    OpenConnection,
    Opened,
    Report,
    Resumed,
    Rotated,
    RotationFailed,
    RotationStarted,
    SendFrame,
    SendPing,
    SendPong,
    Session,
    SessionConfig,
    SessionError,
    State,
    TokenFailed,
)
from botters.transports._auth import Auth
from botters.transports._dispatch import (
    NOT_JSON,
    UNPARSED,
    Dispatcher,
    Handler,
    HandlerKind,
    HandlerSpec,
)
from botters.transports._errors import TransportError, WebSocketClosedError
from botters.transports._json import JSONDecodeError, fast_loads, loads
from botters.transports._json import dumps as _dumps
from botters.transports._streams import DEFAULT_MAXSIZE, MessageStream

from ._errors import MAPPED, map_error

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["WebSocketApp", "WebSocketConnection"]

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
    }
)
"""``ws_connect`` keywords that configure the session machine (the rest go to aiohttp)."""

_TEXT: Final = aiohttp.WSMsgType.TEXT
_BINARY: Final = aiohttp.WSMsgType.BINARY
_PING: Final = aiohttp.WSMsgType.PING
_PONG: Final = aiohttp.WSMsgType.PONG

# Outbox item kinds.
_STR: Final = 0
_BYTES: Final = 1
_SEND_PING: Final = 2
_SEND_PONG: Final = 3

_OutItem = tuple[int, Any, "asyncio.Future[None] | None"]


def _origin(url: str) -> str:
    """``scheme://host[:port]``: all of a URL that may be logged (paths can hold tokens)."""
    try:
        parts = _split_url(url)
    except ConfigError:
        return "<invalid URL>"
    return f"{parts.scheme}://{parts.netloc}"


def _initial_messages(send_str: Any, send_bytes: Any, send_json: Any) -> list[str | bytes | Any]:
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


class WebSocketConnection:
    """One connection of a :class:`WebSocketApp`: the ``ws`` handlers get, and ``current_ws``.

    Sends go through the session machine, so messages to hosts that sign
    outgoing messages (Binance WebSocket API, Bybit order entry) are signed
    at send time, on a copy. Messages sent here are one-off: they are not
    replayed after a reconnect (pass them to ``ws_connect(send_json=...)`` for
    that).

    The async ``send_*`` methods return once the frame is written (like
    aiohttp's) and raise :class:`~botters.WebSocketClosedError` when this
    connection is not open. :meth:`send_json_nowait` queues without waiting
    and never raises for a closed connection (it logs and drops): that is the
    :class:`~botters.protocol.MessageSink` a DataStore uses to talk back.
    """

    __slots__ = (
        "__weakref__",
        "_app",
        "_closer",
        "_lost",
        "_outbox",
        "_task",
        "_wake",
        "_writer",
        "_ws",
        "conn_id",
    )

    def __init__(self, app: WebSocketApp, conn_id: int) -> None:
        self._app = app
        self.conn_id = conn_id
        """The session machine's id of this connection (never reused)."""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._outbox: deque[_OutItem] = deque()
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._lost = False

    @property
    def closed(self) -> bool:
        """Whether this connection is closed, closing or not yet open."""
        ws = self._ws
        return self._lost or ws is None or ws.closed or self._closer is not None

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

    async def close(self, *, code: int = 1000, message: bytes = b"") -> None:
        """Close this connection and wait until it is gone.

        The :class:`WebSocketApp` stays alive: the session machine sees the
        loss and reconnects (after its backoff). To stop for good, close the app.
        """
        self._app._close_connection(self, code, message.decode(errors="replace"))
        task = self._task
        if task is not None and task is not asyncio.current_task():
            await asyncio.wait({task})

    def _enqueue(self, kind: int, data: Any, done: asyncio.Future[None] | None = None) -> bool:
        if self._lost or self._writer is None or self._writer.done():
            if done is not None and not done.done():
                done.set_exception(WebSocketClosedError(f"connection {self.conn_id} is closed"))
            return False
        self._outbox.append((kind, data, done))
        self._wake.set()
        return True

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<WebSocketConnection {self.conn_id} {state} {self._app._origin}>"


class WebSocketApp:
    """A WebSocket that stays connected, logged in and subscribed (pybotters' ``WebSocketApp``).

    Made by :meth:`botters.Client.ws_connect`, which returns at once; the app
    connects in the background. ``await app`` returns the app once it is
    **open**: connected, logged in (where the exchange needs a login message
    and ``apis`` has credentials) **and** subscribed (the initial messages
    were sent). pybotters returned right after the handshake, before the
    login; code that sends private requests right after ``await`` is safe
    here. If the app is closed before it opens, ``await app`` raises
    :class:`~botters.WebSocketClosedError`.

    Reconnects are automatic and never immediate: every loss is followed by a
    backoff delay, the initial messages are replayed after every reconnect
    (logins rebuilt, signed messages re-signed), and DataStoreCollections
    given as handlers are told to resynchronise (``feed_interrupted()``).
    """

    def __init__(
        self,
        client: Client,
        url: str,
        *,
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
        self._loop = asyncio.get_running_loop()
        self._client = client
        self._auth = auth
        options = {name: kwargs.pop(name) for name in list(kwargs) if name in SESSION_OPTIONS}
        # pybotters took autoping=; here pings are always answered (by the machine).
        kwargs.pop("autoping", None)
        headers = dict(kwargs.pop("headers", None) or {})
        if isinstance(auth, aiohttp.BasicAuth) and not any(
            k.lower() == "authorization" for k in headers
        ):
            headers["Authorization"] = auth.encode()  # on every handshake, as aiohttp did
        if "json" in kwargs:
            raise ConfigError("ws_connect has no json=: pass initial messages as send_json=")
        self._ws_kwargs = kwargs
        if backoff is not None:
            options["backoff"] = backoff
        config = SessionConfig(
            url=url,
            rng=random.SystemRandom(),
            headers=headers,
            sends=_initial_messages(send_str, send_bytes, send_json),
            apis=client.apis if auth is Auth else None,
            heartbeat=heartbeat,
            **options,
        )
        self._close_timeout = config.close_timeout
        self._http_timeout = config.http_timeout
        self._session = Session(config)
        self._origin = _origin(url)
        self._dispatcher = Dispatcher(
            hdlr_str=hdlr_str, hdlr_bytes=hdlr_bytes, hdlr_json=hdlr_json, name=self._origin
        )
        ping = app_ping_for(url)
        if ping is not None and ping.pong is not None:
            self._dispatcher.is_keepalive = ping.is_pong
        self._conns: dict[int, WebSocketConnection] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._wake = asyncio.Event()
        self._open_waiters: list[asyncio.Future[None]] = []
        self._pongs: dict[bytes, asyncio.Future[None]] = {}
        self._closed = asyncio.Event()
        self._closing = False
        self._feed(self._session.start(now=self._loop.time(), wall=time.time()))
        self._spawn(self._run_timer())

    # -- public API ----------------------------------------------------------------------

    def __await__(self) -> Generator[Any, None, WebSocketApp]:
        return self._wait_open().__await__()

    async def _wait_open(self) -> WebSocketApp:
        while self._session.current is None:
            if self._closing:
                raise WebSocketClosedError(f"{self!r} was closed before it opened")
            waiter = self._loop.create_future()
            self._open_waiters.append(waiter)
            try:
                await waiter
            finally:
                if not waiter.done():
                    self._open_waiters.remove(waiter)
        return self

    async def wait(self) -> None:
        """Wait until the app is closed (in practice: forever, as in pybotters)."""
        await self._closed.wait()

    @property
    def current_ws(self) -> WebSocketConnection | None:
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
        self._feed(self._session.url_changed(url, now=self._loop.time()))
        self._origin = self._dispatcher.name = _origin(url)
        ping = app_ping_for(url)
        self._dispatcher.is_keepalive = (
            ping.is_pong if ping is not None and ping.pong is not None else None
        )

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
        if self._closing:
            raise WebSocketClosedError(f"{self!r} is closed")
        return self._dispatcher.open_stream(filters, maxsize=maxsize)

    def stream_filter(
        self, filters: Sequence[Mapping[str, Any]] | None = None, *, maxsize: int = DEFAULT_MAXSIZE
    ) -> MessageStream:
        """:meth:`stream` taking the filters as one list (AsyncWebsocketStreamInterface's name)."""
        return self.stream(*(filters or ()), maxsize=maxsize)

    async def heartbeat(self, timeout: float = 10.0) -> None:
        """Check that the peer answers: PING the open connection and wait for its PONG.

        Waits for the app to be open first. If no PONG arrives within
        ``timeout`` seconds the connection is closed (the session reconnects)
        and the check starts again on the next connection. Returns once a PONG
        was received.
        """
        while True:
            await self
            conn = self.current_ws
            if conn is None:
                continue
            payload = random.getrandbits(32).to_bytes(4, "big")
            pong: asyncio.Future[None] = self._loop.create_future()
            self._pongs[payload] = pong
            try:
                conn._enqueue(_SEND_PING, payload)
                async with asyncio.timeout(timeout):
                    await pong
                return
            except TimeoutError:
                logger.warning(
                    "%s: no pong within %.1f s; closing connection %d",
                    self._origin,
                    timeout,
                    conn.conn_id,
                )
                await conn.close(code=1011, message=b"heartbeat timeout")
            finally:
                self._pongs.pop(payload, None)

    async def close(self) -> None:
        """Close the app for good: close every connection, end every task and stream.

        Returns once every task it started is done and every socket is closed.
        Calling it again is harmless.
        """
        if self._closing:
            await self._closed.wait()
            return
        self._closing = True
        try:
            try:
                self._feed(self._session.user_close(now=self._loop.time()))
            except Exception:
                logger.exception("%s: closing the session failed", self._origin)
            for waiter in self._open_waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._open_waiters.clear()
            conn_tasks = {c._task for c in self._conns.values() if c._task is not None}
            if conn_tasks:
                await asyncio.wait(conn_tasks, timeout=self._close_timeout + 1.0)
            while self._tasks:
                tasks = set(self._tasks)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self._tasks -= tasks
        finally:
            self._dispatcher.close_streams()
            self._closed.set()
            self._client._forget(self)

    def __repr__(self) -> str:
        return f"<WebSocketApp {self._origin} {self._session.state.value}>"

    # -- executing the machine's actions --------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s: internal task failed", self._origin, exc_info=task.exception())

    def _feed(
        self,
        actions: Sequence[Action],
        conn: WebSocketConnection | None = None,
        frame: str | bytes | None = None,
        parsed: Any = UNPARSED,
    ) -> None:
        """Carry out the machine's actions, in order."""
        for action in actions:
            if action is DELIVER:
                if conn is not None and frame is not None:
                    if isinstance(frame, str):
                        self._dispatcher.text(frame, conn, parsed)
                    else:
                        self._dispatcher.binary(frame, conn, parsed)
            elif isinstance(action, SendFrame):
                target = self._conns.get(action.conn_id)
                if target is not None:
                    kind = _STR if isinstance(action.data, str) else _BYTES
                    target._enqueue(kind, action.data)
            elif isinstance(action, SendPing | SendPong):
                target = self._conns.get(action.conn_id)
                if target is not None:
                    kind = _SEND_PING if isinstance(action, SendPing) else _SEND_PONG
                    target._enqueue(kind, action.payload)
            elif isinstance(action, OpenConnection):
                self._open_connection(action)
            elif isinstance(action, CloseConnection):
                target = self._conns.get(action.conn_id)
                if target is not None:
                    self._close_connection(target, action.code, action.reason)
            elif isinstance(action, FeedInterrupted):
                self._dispatcher.feed_interrupted()
            elif isinstance(action, HttpRequest):
                self._spawn(self._run_http(action.request_id, action.request))
            elif isinstance(action, Report):
                self._report(action)
        if self._open_waiters and self._session.current is not None:
            waiters, self._open_waiters = self._open_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        self._wake.set()  # the deadline may have moved earlier

    def _report(self, report: Report) -> None:
        origin = self._origin
        if isinstance(report, Opened):
            logger.info("%s: connection %d is open", origin, report.conn_id)
        elif isinstance(report, LoggedIn):
            logger.info("%s: logged in on connection %d", origin, report.conn_id)
        elif isinstance(report, LoginFailed):
            logger.warning(
                "%s: login failed on connection %d: %s", origin, report.conn_id, report.reason
            )
        elif isinstance(report, Disconnected):
            level = logging.DEBUG if self._closing else logging.WARNING
            logger.log(level, "%s: connection %d lost: %s", origin, report.conn_id, report.reason)
        elif isinstance(report, BackingOff):
            logger.info(
                "%s: reconnecting in %.2f s (attempt %d)", origin, report.delay, report.attempt
            )
        elif isinstance(report, TokenFailed):
            logger.warning("%s: token request failed: %s", origin, report.reason)
        elif isinstance(report, Idle):
            logger.warning("%s: no data received for a while (idle)", origin)
        elif isinstance(report, Resumed):
            logger.info("%s: data flows again", origin)
        elif isinstance(report, RotationStarted):
            logger.info(
                "%s: replacing the connection (%s) with %d", origin, report.reason, report.conn_id
            )
        elif isinstance(report, RotationFailed):
            logger.warning(
                "%s: replacement failed (%s); retry in %.2f s",
                origin,
                report.reason,
                report.retry_in,
            )
        elif isinstance(report, Rotated):
            logger.info("%s: connection %d replaced %d", origin, report.new, report.old)
        elif isinstance(report, Connecting | Established | Closed | Ignored):
            logger.debug("%s: %r", origin, report)
        else:  # a report type added later
            logger.info("%s: %r", origin, report)

    def _open_connection(self, action: OpenConnection) -> None:
        conn = WebSocketConnection(self, action.conn_id)
        self._conns[action.conn_id] = conn
        conn._task = self._spawn(self._run_connection(conn, action.url, action.headers))

    def _close_connection(self, conn: WebSocketConnection, code: int, reason: str) -> None:
        if conn._lost or conn._closer is not None:
            return
        ws = conn._ws
        if ws is None:
            # Still handshaking: abandon it; the task reports the loss.
            if conn._task is not None:
                conn._task.cancel()
            return
        conn._closer = self._spawn(self._close_ws(ws, code, reason))

    async def _close_ws(self, ws: aiohttp.ClientWebSocketResponse, code: int, reason: str) -> None:
        try:
            async with asyncio.timeout(self._close_timeout):
                await ws.close(code=code, message=reason.encode()[:123])
        except (TimeoutError, *MAPPED, OSError):
            pass

    # -- tasks -------------------------------------------------------------------------

    async def _run_timer(self) -> None:
        loop = self._loop
        session = self._session
        wake = self._wake
        while True:
            deadline = session.deadline
            if deadline is None:
                await wake.wait()
                wake.clear()
                continue
            delay = deadline - loop.time()
            if delay > 0:
                wake.clear()
                try:
                    async with asyncio.timeout(delay):
                        await wake.wait()
                except TimeoutError:
                    pass
                if loop.time() < deadline:
                    continue  # woken early: the deadline may have moved
            try:
                self._feed(session.timer(now=loop.time(), wall=time.time()))
            except Exception:
                logger.exception("%s: timer step failed", self._origin)
                await asyncio.sleep(1.0)  # a bug must not become a busy loop

    async def _run_http(self, request_id: int, request: Request) -> None:
        loop = self._loop
        status: int | None = None
        body: Any = None
        error: str | None = None
        try:
            timeout = aiohttp.ClientTimeout(total=self._http_timeout)
            resp = await self._client._send_request(request, Auth, {"timeout": timeout})
            async with resp:
                status = resp.status
                text = await resp.text(errors="replace")
            try:
                body = loads(text) if text.strip() else None
            except JSONDecodeError:
                body = None
        except TransportError as exc:
            error = str(exc)
        except MAPPED as exc:
            error = str(map_error(exc))
        except Exception as exc:
            logger.exception("%s: token request failed", self._origin)
            error = f"{type(exc).__name__}: {exc}"
        self._feed(
            self._session.http_response(
                request_id, status=status, body=body, error=error, now=loop.time(), wall=time.time()
            )
        )

    async def _run_writer(
        self, conn: WebSocketConnection, ws: aiohttp.ClientWebSocketResponse
    ) -> None:
        outbox = conn._outbox
        wake = conn._wake
        while True:
            while outbox:
                kind, data, done = outbox.popleft()
                try:
                    if kind == _STR:
                        await ws.send_str(data)
                    elif kind == _BYTES:
                        await ws.send_bytes(data)
                    elif kind == _SEND_PING:
                        await ws.ping(data)
                    else:
                        await ws.pong(data)
                except (*MAPPED, OSError, RuntimeError) as exc:
                    error = WebSocketClosedError(
                        f"connection {conn.conn_id} closed while sending: {exc}"
                    )
                    for _, _, pending in ((None, None, done), *outbox):
                        if pending is not None and not pending.done():
                            pending.set_exception(error)
                    outbox.clear()
                    logger.debug(
                        "%s: send failed on connection %d: %s", self._origin, conn.conn_id, exc
                    )
                    return
                if done is not None and not done.done():
                    done.set_result(None)
            wake.clear()
            await wake.wait()

    async def _run_connection(
        self, conn: WebSocketConnection, url: str, headers: Mapping[str, str]
    ) -> None:
        loop = self._loop
        session = self._session
        cid = conn.conn_id
        ws: aiohttp.ClientWebSocketResponse | None = None
        sock: Any = None
        reported = False
        reason = ""
        request: Request | None = None
        try:
            try:
                request = Request.build("GET", url, headers=headers)
                if self._auth is Auth:
                    request = sign_request(request, self._client.apis, now=time.time())
                ws = await self._client.session.ws_connect(
                    yarl.URL(request.url, encoded=True),
                    headers=dict(request.headers),
                    autoping=False,
                    heartbeat=None,
                    **self._ws_kwargs,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error: BaseException = (
                    map_error(exc, self._origin) if isinstance(exc, MAPPED) else exc
                )
                status = getattr(error, "status", None)
                why = _redact(_reason(error), url, request.url if request else None)
                logger.debug("%s: connect %d failed: %s", self._origin, cid, why)
                reported = True
                self._conns.pop(cid, None)
                conn._lost = True
                self._feed(session.connect_failed(cid, why, status=status, now=loop.time()))
                return
            conn._ws = ws
            # asyncio's TransportSocket: after the WebSocket closes, a TLS transport
            # still exchanges close_notify before it closes the socket (below).
            sock = ws.get_extra_info("socket")
            conn._writer = self._spawn(self._run_writer(conn, ws))
            self._dispatcher.new_connection()
            self._feed(session.connected(cid, now=loop.time(), wall=time.time()))
            reason = await self._receive(conn, ws)
        except asyncio.CancelledError:
            reason = reason or "closed by botters"
            raise
        except Exception as exc:  # a bug of ours: log it and let the machine reconnect
            logger.exception("%s: connection %d failed", self._origin, cid)
            reason = f"{type(exc).__name__}: {exc}"
        finally:
            if ws is not None:
                closer = conn._closer
                if closer is not None:
                    await asyncio.wait({closer})
                if not ws.closed:
                    await self._close_ws(ws, 1000, "")
                await _socket_closed(sock, self._close_timeout)
            writer = conn._writer
            if writer is not None:
                writer.cancel()
            conn._lost = True
            if conn._outbox:
                gone = WebSocketClosedError(f"connection {cid} closed before the frame was sent")
                for _, _, pending in conn._outbox:
                    if pending is not None and not pending.done():
                        pending.set_exception(gone)
                conn._outbox.clear()
            self._conns.pop(cid, None)
            if not reported:
                code = ws.close_code if ws is not None else None
                exc_info = ws.exception() if ws is not None else None
                clean = code is not None and code != 1006 and exc_info is None
                self._feed(
                    session.connection_lost(
                        cid,
                        code=code,
                        reason=reason or (str(exc_info) if exc_info else ""),
                        clean=clean,
                        now=loop.time(),
                        wall=time.time(),
                    )
                )

    async def _receive(self, conn: WebSocketConnection, ws: aiohttp.ClientWebSocketResponse) -> str:
        """Read frames until the connection ends; returns why it ended."""
        clock = self._loop.time
        frame_received = self._session.frame_received
        dispatcher = self._dispatcher
        receive = ws.receive
        cid = conn.conn_id
        while True:
            msg = await receive()
            kind = msg.type
            if kind is _TEXT or kind is _BINARY:
                data = msg.data
                if dispatcher.wants_json:
                    try:
                        parsed = for_session = fast_loads(data)
                    except ValueError:
                        parsed, for_session = UNPARSED, NOT_PARSED
                else:
                    parsed, for_session = NOT_JSON, NOT_PARSED
                actions = frame_received(cid, data, for_session, clock())
                if actions is DELIVER_ONLY:
                    if kind is _TEXT:
                        dispatcher.text(data, conn, parsed)
                    else:
                        dispatcher.binary(data, conn, parsed)
                else:
                    self._feed(actions, conn, data, parsed)
            elif kind is _PING:
                self._feed(self._session.protocol_ping(cid, msg.data or b"", now=clock()))
            elif kind is _PONG:
                payload = msg.data or b""
                if self._pongs:
                    waiter = self._pongs.get(payload)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(None)
                self._feed(self._session.protocol_pong(cid, payload, now=clock()))
            elif kind is aiohttp.WSMsgType.ERROR:
                return f"error: {msg.data}"
            else:  # CLOSE, CLOSING, CLOSED
                extra = f" {msg.extra}" if msg.extra else ""
                code = ws.close_code
                return f"closed ({code}{extra})" if code is not None else "closed"

    # -- user sends ---------------------------------------------------------------------

    def _send_actions(self, conn: WebSocketConnection, data: Any) -> list[Action] | None:
        try:
            return list(
                self._session.user_send(
                    data, conn_id=conn.conn_id, now=self._loop.time(), wall=time.time()
                )
            )
        except SessionError:
            return None

    async def _user_send(self, conn: WebSocketConnection, data: Any) -> None:
        actions = self._send_actions(conn, data)
        if actions is None or conn.closed:
            raise WebSocketClosedError(f"connection {conn.conn_id} is not open")
        frames = [a for a in actions if isinstance(a, SendFrame)]
        others = [a for a in actions if not isinstance(a, SendFrame)]
        self._feed(others)
        done: asyncio.Future[None] | None = None
        for i, frame in enumerate(frames):
            target = self._conns.get(frame.conn_id)
            if target is None:
                raise WebSocketClosedError(f"connection {frame.conn_id} is not open")
            last = i == len(frames) - 1
            done = self._loop.create_future() if last else None
            kind = _STR if isinstance(frame.data, str) else _BYTES
            target._enqueue(kind, frame.data, done)
        if done is not None:
            await done

    def _user_send_nowait(self, conn: WebSocketConnection, data: Any) -> None:
        actions = self._send_actions(conn, data)
        if actions is None or conn.closed:
            logger.warning(
                "%s: connection %d is not open; a message sent with send_json_nowait was "
                "dropped (the session resubscribes after reconnecting)",
                self._origin,
                conn.conn_id,
            )
            return
        self._feed(actions)


async def _socket_closed(sock: Any, timeout: float) -> None:
    """Wait (at most ``timeout`` s) until the transport has closed ``sock``.

    aiohttp returns from ``ws.close()`` once the closing handshake is done, but
    a TLS transport then still exchanges ``close_notify`` with the peer before
    it closes the socket. Without this wait, ``close()`` could return (and the
    event loop end) with the socket still open: a ``ResourceWarning``, and a
    broken promise of :meth:`WebSocketApp.close`. On loopback this takes one or
    two loop iterations; a peer that never answers costs ``timeout`` at most.
    """
    fileno = getattr(sock, "fileno", None)
    if fileno is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.0
    while fileno() != -1 and loop.time() < deadline:
        await asyncio.sleep(delay)  # no callback exists for "socket closed": re-check
        delay = min(0.05, max(0.001, delay * 2))


def _redact(text: str, *urls: str | None) -> str:
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


def _reason(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= 300 else text[:299] + "…"
