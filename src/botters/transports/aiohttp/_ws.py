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
import time
from collections import deque
from collections.abc import Awaitable, Coroutine, Generator, Mapping
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import yarl

from botters.protocol._registry import sign_request
from botters.protocol._request import Request
from botters.protocol.session import DELIVER_ONLY, NOT_PARSED, OpenConnection
from botters.transports._auth import Auth
from botters.transports._dispatch import NOT_JSON, UNPARSED
from botters.transports._errors import WebSocketClosedError
from botters.transports._json import fast_loads
from botters.transports._wsapp import (
    OUT_BYTES,
    OUT_PING,
    OUT_STR,
    BaseApp,
    BaseConnection,
    HttpDone,
    no_reply,
)

from ._errors import MAPPED, map_error

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["WebSocketApp", "WebSocketConnection"]

logger = logging.getLogger("botters.ws")

_TEXT: Final = aiohttp.WSMsgType.TEXT
_BINARY: Final = aiohttp.WSMsgType.BINARY
_PING: Final = aiohttp.WSMsgType.PING
_PONG: Final = aiohttp.WSMsgType.PONG

_OutItem = tuple[int, Any, "asyncio.Future[None] | None"]


class WebSocketConnection(BaseConnection):
    """One connection of a :class:`WebSocketApp`: the ``ws`` handlers get, and ``current_ws``.

    An aiohttp ``ClientWebSocketResponse`` and its writer task; sending works
    as on every adapter (:class:`~botters.transports._wsapp.BaseConnection`).
    """

    __slots__ = ("_closer", "_outbox", "_task", "_wake", "_writer", "_ws")

    def __init__(self, app: WebSocketApp, conn_id: int) -> None:
        super().__init__(app, conn_id)
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._outbox: deque[_OutItem] = deque()
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def closed(self) -> bool:
        """Whether this connection is closed, closing or not yet open."""
        ws = self._ws
        return self._lost or ws is None or ws.closed or self._closer is not None

    async def _gone(self) -> None:
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

    def _completion(self) -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    def _wait_done(self, done: asyncio.Future[Any]) -> Awaitable[Any]:
        return done

    def _fail_done(self, done: asyncio.Future[Any], error: BaseException) -> None:
        if not done.done():
            done.set_exception(error)

    def _resolve_done(self, done: asyncio.Future[Any], value: Any) -> None:
        if not done.done():
            done.set_result(value)

    def _abandon_done(self, done: asyncio.Future[Any]) -> None:
        # A future failed and never awaited is logged by asyncio when collected.
        if done.done():
            if not done.cancelled():
                done.exception()
        else:
            done.cancel()


class WebSocketApp(BaseApp[WebSocketConnection]):
    """A WebSocket that stays connected, logged in and subscribed (pybotters' ``WebSocketApp``).

    Made by :meth:`botters.Client.ws_connect`, which returns at once; the app
    connects in the background. ``await app`` returns the app once it is
    **open**: connected, logged in (where the exchange needs a login message
    and ``apis`` has credentials) **and** subscribed (the initial messages
    were sent, or queued in order where the exchange limits how fast a client
    may send). pybotters returned right after the handshake, before the
    login; code that sends private requests right after ``await`` is safe
    here. If the app is closed before it opens, ``await app`` raises
    :class:`~botters.WebSocketClosedError`.

    Reconnects are automatic and never immediate: every loss is followed by a
    backoff delay, the initial messages are replayed after every reconnect
    (logins rebuilt, signed messages re-signed), and DataStoreCollections
    given as handlers are told to resynchronise (``feed_interrupted()``).
    """

    def __init__(self, client: Client, url: str, **kwargs: Any) -> None:
        self._loop = asyncio.get_running_loop()
        self._client = client
        super().__init__(url, apis=client.apis, clock=self._loop.time, **kwargs)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._wake = asyncio.Event()
        self._open_waiters: list[asyncio.Future[None]] = []
        self._pongs: dict[bytes, asyncio.Future[None]] = {}
        self._closed = asyncio.Event()
        self._feed(self._session.start(now=self._loop.time(), wall=time.time()))
        self._spawn(self._run_timer())

    def _transport_options(self, kwargs: dict[str, Any], headers: dict[str, str]) -> None:
        # pybotters took autoping=; here pings are always answered (by the machine).
        kwargs.pop("autoping", None)
        auth = self._auth
        if isinstance(auth, aiohttp.BasicAuth) and not any(
            k.lower() == "authorization" for k in headers
        ):
            headers["Authorization"] = auth.encode()  # on every handshake, as aiohttp did
        self._ws_kwargs = kwargs  # the rest is aiohttp's ws_connect's

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

    async def _checkpoint(self) -> None:
        await asyncio.sleep(0)

    async def _bounded(self, request: Awaitable[Any], timeout: float, message: Any) -> Any:
        try:
            async with asyncio.timeout(timeout):
                return await request
        except TimeoutError:
            raise no_reply(message, timeout) from None

    async def _ping(self, conn: WebSocketConnection, payload: bytes, timeout: float) -> bool:
        pong: asyncio.Future[None] = self._loop.create_future()
        self._pongs[payload] = pong
        try:
            conn._enqueue(OUT_PING, payload)
            async with asyncio.timeout(timeout):
                await pong
            return True
        except TimeoutError:
            return False
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

    def _spawn_http(self, request: Request, done: HttpDone, what: str) -> None:
        self._spawn(self._run_http(request, done))

    def _after_actions(self) -> None:
        if self._open_waiters and self._session.current is not None:
            waiters, self._open_waiters = self._open_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        self._wake.set()  # the deadline may have moved earlier

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
        wake = self._wake
        while True:
            deadline = self._deadline()
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
                self._timer_fired(loop.time())
            except Exception:
                logger.exception("%s: timer step failed", self._origin)
                await asyncio.sleep(1.0)  # a bug must not become a busy loop

    async def _run_http(self, request: Request, done: HttpDone) -> None:
        status: int | None = None
        text: str | None = None
        error: str | None = None
        try:
            timeout = aiohttp.ClientTimeout(total=self._http_timeout)
            resp = await self._client._send_request(request, Auth, {"timeout": timeout})
            async with resp:
                status = resp.status
                text = await resp.text(errors="replace")
        except MAPPED as exc:
            error = str(map_error(exc))
        except Exception as exc:
            error = self._http_error(exc)
        done(status, text, error)

    async def _run_writer(
        self, conn: WebSocketConnection, ws: aiohttp.ClientWebSocketResponse
    ) -> None:
        outbox = conn._outbox
        wake = conn._wake
        while True:
            while outbox:
                kind, data, done = outbox.popleft()
                try:
                    if kind == OUT_STR:
                        await ws.send_str(data)
                    elif kind == OUT_BYTES:
                        await ws.send_bytes(data)
                    elif kind == OUT_PING:
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
                reported = True
                self._connect_failed(conn, error, status, url, request.url if request else None)
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
            self._expect_loss(conn, logging.DEBUG)  # this was the warning
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
                reason = reason or (str(exc_info) if exc_info else "")
                self._connection_lost(cid, code, reason, clean)

    async def _receive(self, conn: WebSocketConnection, ws: aiohttp.ClientWebSocketResponse) -> str:
        """Read frames until the connection ends; returns why it ended."""
        clock = self._loop.time
        frame_received = self._session.frame_received
        dispatcher = self._dispatcher
        receive = ws.receive
        cid = conn.conn_id
        replies = self._replies
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
                if replies:  # request()s wait: is this one's reply?
                    self._reply_received(data, parsed)
                actions = frame_received(cid, data, for_session, clock())
                if actions is DELIVER_ONLY:
                    dispatcher.deliver(data, conn, parsed)
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
