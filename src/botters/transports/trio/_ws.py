"""``WebSocketApp`` on trio: a managed WebSocket driven by the pure session machine.

Theory of operation
-------------------
Every decision (when to connect, log in, subscribe, ping, give a silent peer
up, back off, rotate, resync stores) is taken by
:class:`botters.protocol.session.Session`. This module carries its actions
out and feeds it what happened, with ``trio.current_time()`` as ``now`` (so
:class:`trio.testing.MockClock` drives every timeout) and ``time.time()`` as
``wall``.

Structure. :func:`ws_connect` creates the app and starts its ``_run`` task in
a nursery: the :class:`~botters.trio.Client`'s (the default) or one the caller
passes. ``_run`` opens the app's own nursery, which holds every task the app
ever starts:

* one **timer task**, asleep in a cancel scope whose deadline is
  :attr:`Session.deadline`; whenever an action may have moved the deadline,
  the scope's deadline is updated in place (no task is woken to re-read it);
* one **connection task** per ``conn_id`` the machine opens. It signs the
  handshake (BitMEX-style ``wss`` routes; ``auth=None`` disables it), opens
  the stream (the URL's real host in ``Host`` and SNI, even when
  ``resolve=`` pins its address), runs the wsproto handshake
  (:mod:`._wsconn`), then reads messages until the connection ends and
  reports ``connected`` / ``connect_failed`` / ``connection_lost``. Inside it,
  a nursery holds the connection's **writer task**, which sends queued
  frames, pings, pongs and the close frame in order, so that synchronous code
  (a store calling :meth:`WebSocketConnection.send_json_nowait`) can send
  without awaiting;
* one **HTTP task** per token request (KuCoin bullet, GMO token, listenKey),
  sent through the client like any request.

The receive hot path. For each message: parse it once when JSON handlers or
filtered streams want it (orjson when installed), hand it to
``Session.frame_received`` and, when that returns the shared ``DELIVER_ONLY``
tuple, call the handlers directly. No task or event object per message.
Handlers are synchronous; one that raises is logged with its traceback and
the stream goes on (:mod:`botters.transports._dispatch`).

Closing. :meth:`WebSocketApp.close` lets the machine close each connection
(close handshake, bounded by ``close_timeout``), then cancels the app's
nursery and waits until ``_run`` is done: no task outlives it, every socket
is closed. If the caller is cancelled while waiting, the app's nursery is
cancelled anyway and finishes on its own.

Failures. Network and peer failures are events the machine sees (and logs).
Every task catches its own exceptions; if one escapes nevertheless (a bug),
``_run`` does not propagate an ExceptionGroup into the caller's nursery: it
logs it, ends the app, and :meth:`WebSocketApp.wait` and ``await app`` raise
one :class:`~botters.BottersError` from it.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import trio

from botters.protocol._errors import BottersError, ConfigError
from botters.protocol._registry import sign_request
from botters.protocol._request import Request, _split_url
from botters.protocol.session import (
    DELIVER_ONLY,
    NOT_PARSED,
    OpenConnection,
    State,
)
from botters.transports._auth import Auth
from botters.transports._dispatch import NOT_JSON, UNPARSED, HandlerSpec
from botters.transports._errors import HandshakeError, WebSocketClosedError
from botters.transports._json import fast_loads
from botters.transports._wsapp import (
    OUT_BYTES,
    OUT_PING,
    OUT_PONG,
    OUT_STR,
    BaseApp,
    BaseConnection,
    HttpDone,
    no_reply,
)

from ._net import make_ssl_context, open_stream
from ._wsconn import DEFAULT_MAX_MESSAGE_SIZE, WireConnection, WsClosed, handshake

if TYPE_CHECKING:
    import ssl

    from botters.protocol.session import Backoff

    from ._client import Client

__all__ = ["WebSocketApp", "WebSocketConnection", "ws_connect"]

logger = logging.getLogger("botters.ws")

_IGNORED_OPTIONS: Final = frozenset({"autoping", "autoclose", "receive_timeout", "timeout"})
"""aiohttp ``ws_connect`` options accepted for compatibility and ignored: the session
machine answers pings, closes, and times out connects, logins and silent peers."""

_CLOSE: Final = 4
"""The outbox item that sends the close frame (after the shared kinds ``OUT_*``)."""


class _Pending:
    """The completion of one awaited send, or of a request (then it carries the reply)."""

    __slots__ = ("error", "event", "value")

    def __init__(self) -> None:
        self.event = trio.Event()
        self.error: BaseException | None = None
        self.value: Any = None

    def done(self, error: BaseException | None = None, value: Any = None) -> None:
        if not self.event.is_set():
            self.error = error
            self.value = value
            self.event.set()

    async def wait(self) -> Any:
        await self.event.wait()
        if self.error is not None:
            raise self.error
        return self.value


_OutItem = tuple[int, Any, "_Pending | None"]


class WebSocketConnection(BaseConnection):
    """One connection of a :class:`WebSocketApp`: the ``ws`` handlers get, and ``current_ws``.

    A wsproto connection over a trio stream, its writer task and cancel scopes;
    sending works as on every adapter (:class:`~botters.transports._wsapp.BaseConnection`).
    """

    __slots__ = (
        "_close_requested",
        "_done",
        "_outbox",
        "_read_scope",
        "_scope",
        "_wake",
        "_wire",
        "_writing",
    )

    def __init__(self, app: WebSocketApp, conn_id: int) -> None:
        super().__init__(app, conn_id)
        self._wire: WireConnection | None = None
        self._outbox: deque[_OutItem] = deque()
        self._wake = trio.Event()
        self._writing = False
        self._close_requested = False
        self._scope = trio.CancelScope()  # the whole connection task (abandons a handshake)
        self._read_scope = trio.CancelScope()  # its reading: bounded once a close is sent
        self._done = trio.Event()

    @property
    def closed(self) -> bool:
        """Whether this connection is closed, closing or not yet open."""
        wire = self._wire
        return self._lost or self._close_requested or wire is None or wire.closing

    async def _gone(self) -> None:
        await self._done.wait()

    def _enqueue(self, kind: int, data: Any, done: _Pending | None = None) -> bool:
        if self._lost or not self._writing:
            if done is not None:
                done.done(WebSocketClosedError(f"connection {self.conn_id} is closed"))
            return False
        self._outbox.append((kind, data, done))
        self._wake.set()
        return True

    def _completion(self) -> _Pending:
        return _Pending()

    def _wait_done(self, done: _Pending) -> Awaitable[Any]:
        return done.wait()

    def _fail_done(self, done: _Pending, error: BaseException) -> None:
        done.done(error)

    def _resolve_done(self, done: _Pending, value: Any) -> None:
        done.done(value=value)

    def _fail_outbox(self, error: BaseException) -> None:
        outbox = self._outbox
        while outbox:
            _, _, pending = outbox.popleft()
            if pending is not None:
                pending.done(error)


class WebSocketApp(BaseApp[WebSocketConnection]):
    """A WebSocket that stays connected, logged in and subscribed (pybotters' ``WebSocketApp``).

    Made by :meth:`botters.trio.Client.ws_connect` (or :func:`ws_connect`),
    which returns at once; the app connects in the background, in the
    client's nursery or the one passed as ``nursery=``. ``await app`` returns
    the app once it is **open**: connected, logged in (where the exchange
    needs a login message and ``apis`` has credentials) **and** subscribed
    (the initial messages were sent, or queued in order where the exchange
    limits how fast a client may send). If the app is closed before it opens,
    ``await app`` raises :class:`~botters.WebSocketClosedError`.

    Reconnects are automatic and never immediate: every loss is followed by a
    backoff delay, the initial messages are replayed after every reconnect
    (logins rebuilt, signed messages re-signed), and DataStoreCollections
    given as handlers are told to resynchronise (``feed_interrupted()``).
    """

    def __init__(self, client: Client, url: str, **kwargs: Any) -> None:
        self._client = client
        super().__init__(url, apis=client.apis, clock=trio.current_time, **kwargs)
        self._nursery: trio.Nursery | None = None
        self._scope = trio.CancelScope()
        self._timer_scope: trio.CancelScope | None = None
        self._open_waiters: list[trio.Event] = []
        self._pongs: dict[bytes, trio.Event] = {}
        self._started = False
        self._done = trio.Event()
        self._failure: BottersError | None = None
        self._tls: ssl.SSLContext | None = None

    def _transport_options(self, kwargs: dict[str, Any], headers: dict[str, str]) -> None:
        for name in _IGNORED_OPTIONS:
            kwargs.pop(name, None)
        origin_header = kwargs.pop("origin", None)
        if origin_header is not None:
            headers.setdefault("Origin", str(origin_header))
        protocols = kwargs.pop("protocols", ())
        self._subprotocols: tuple[str, ...] = (
            (protocols,) if isinstance(protocols, str) else tuple(protocols)
        )
        compress = kwargs.pop("compress", 0)
        self._compress = bool(compress)
        max_size = kwargs.pop(
            "max_msg_size", kwargs.pop("max_message_size", DEFAULT_MAX_MESSAGE_SIZE)
        )
        if max_size is not None and (
            isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 0
        ):
            raise ConfigError(
                f"max_msg_size must be a number of bytes (0: no limit), not {max_size!r}"
            )
        self._max_size: int | None = max_size
        self._ssl: ssl.SSLContext | bool | None = kwargs.pop("ssl", None)
        if kwargs:
            raise ConfigError(
                f"ws_connect got unexpected keyword arguments: {', '.join(sorted(kwargs))}"
            )

    # -- public API ----------------------------------------------------------------------

    def __await__(self) -> Generator[Any, None, WebSocketApp]:
        return self._wait_open().__await__()

    async def _wait_open(self) -> WebSocketApp:
        while self._session.current is None:
            if self._failure is not None:
                raise self._failure
            if self._closing or self._done.is_set():
                raise WebSocketClosedError(f"{self!r} was closed before it opened")
            waiter = trio.Event()
            self._open_waiters.append(waiter)
            try:
                await waiter.wait()
            finally:
                if not waiter.is_set():
                    self._open_waiters.remove(waiter)
        return self

    async def wait(self) -> None:
        """Wait until the app is closed (in practice: forever, as in pybotters).

        Raises:
            BottersError: the app stopped because of an internal failure.
        """
        await self._done.wait()
        if self._failure is not None:
            raise self._failure

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (or the app stopped)."""
        return self._closing or self._done.is_set()

    async def _checkpoint(self) -> None:
        await trio.lowlevel.checkpoint()

    async def _bounded(self, request: Awaitable[Any], timeout: float, message: Any) -> Any:
        with trio.move_on_after(timeout):
            return await request
        raise no_reply(message, timeout)

    async def _ping(self, conn: WebSocketConnection, payload: bytes, timeout: float) -> bool:
        pong = trio.Event()
        self._pongs[payload] = pong
        try:
            conn._enqueue(OUT_PING, payload)
            with trio.move_on_after(timeout):
                await pong.wait()
                return True
            return False
        finally:
            self._pongs.pop(payload, None)

    async def close(self) -> None:
        """Close the app for good: close every connection, end every task and stream.

        Returns once every task it started is done and every socket is
        closed. Calling it again is harmless. If the caller is cancelled while
        waiting, the app still stops (its tasks are cancelled).
        """
        if self._closing:
            await self._done.wait()
            return
        self._closing = True
        try:
            if self._started:
                try:
                    self._feed(self._session.user_close(now=trio.current_time()))
                except Exception:
                    logger.exception("%s: closing the session failed", self._origin)
            self._wake_open_waiters()
            with trio.move_on_after(self._close_timeout + 1.0):
                for conn in list(self._conns.values()):
                    await conn._done.wait()
        finally:
            self._scope.cancel()
        await self._done.wait()

    # -- running ----------------------------------------------------------------------

    async def _run(self) -> None:
        """The app's life: its nursery, holding every task; never raises an ExceptionGroup."""
        try:
            with self._scope:
                async with trio.open_nursery() as nursery:
                    self._nursery = nursery
                    if self._closing:
                        return
                    self._started = True
                    self._feed(self._session.start(now=trio.current_time(), wall=time.time()))
                    nursery.start_soon(self._run_timer, name=f"botters ws timer {self._origin}")
        except BaseExceptionGroup as group:
            cancelled, rest = group.split(trio.Cancelled)
            if rest is not None:
                logger.error("%s: WebSocketApp failed", self._origin, exc_info=rest)
                self._failure = BottersError(f"{self!r} stopped after an internal error: {rest!r}")
                self._failure.__cause__ = rest
            if cancelled is not None and rest is None:
                raise
        except Exception as exc:
            logger.error("%s: WebSocketApp failed", self._origin, exc_info=exc)
            self._failure = BottersError(f"{self!r} stopped after an internal error: {exc!r}")
            self._failure.__cause__ = exc
        finally:
            self._nursery = None
            self._closing = True
            if self._session.state is not State.CLOSED:
                try:
                    self._session.user_close(now=trio.current_time())
                except Exception:
                    logger.debug("%s: closing the session failed", self._origin, exc_info=True)
            self._dispatcher.close_streams()
            self._wake_open_waiters()
            self._done.set()
            self._client._forget(self)

    def _spawn(self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any, name: str) -> bool:
        nursery = self._nursery
        if nursery is None:
            return False
        nursery.start_soon(fn, *args, name=name)
        return True

    def _wake_open_waiters(self) -> None:
        waiters, self._open_waiters = self._open_waiters, []
        for waiter in waiters:
            waiter.set()

    # -- executing the machine's actions --------------------------------------------------

    def _spawn_http(self, request: Request, done: HttpDone, what: str) -> None:
        if not self._spawn(self._run_http, request, done, name=f"botters ws {what} {self._origin}"):
            done(None, None, "the WebSocketApp is closing")

    def _after_actions(self) -> None:
        if self._open_waiters and self._session.current is not None:
            self._wake_open_waiters()
        scope = self._timer_scope
        if scope is not None:  # the deadline may have moved (either way)
            deadline = self._deadline()
            scope.deadline = math.inf if deadline is None else deadline

    def _open_connection(self, action: OpenConnection) -> None:
        conn = WebSocketConnection(self, action.conn_id)
        self._conns[action.conn_id] = conn
        # A task being cancelled (the app's nursery is going away) starts no connection.
        ending = self._closing or trio.current_effective_deadline() == -math.inf
        if ending or not self._spawn(
            self._run_connection,
            conn,
            action.url,
            action.headers,
            name=f"botters ws connection {action.conn_id} {self._origin}",
        ):
            # No nursery (the app is ending): report the failure right away.
            self._conns.pop(action.conn_id, None)
            conn._lost = True
            conn._done.set()
            self._feed(
                self._session.connect_failed(
                    action.conn_id, "the WebSocketApp is closing", now=trio.current_time()
                )
            )

    def _close_connection(self, conn: WebSocketConnection, code: int, reason: str) -> None:
        if conn._lost or conn._close_requested:
            return
        if conn._wire is None:
            conn._scope.cancel()  # still handshaking: abandon it; the task reports the loss
            return
        conn._close_requested = True
        if not conn._writing:  # the write side broke: no close frame can go out
            conn._read_scope.cancel()
            return
        # The close frame goes after what is queued; the reader waits for the
        # peer's answer until close_timeout, then the transport is dropped.
        conn._outbox.append((_CLOSE, (code, reason), None))
        conn._wake.set()
        conn._read_scope.deadline = trio.current_time() + self._close_timeout

    # -- tasks -------------------------------------------------------------------------

    async def _run_timer(self) -> None:
        while True:
            deadline = self._deadline()
            with trio.CancelScope(deadline=math.inf if deadline is None else deadline) as scope:
                self._timer_scope = scope
                try:
                    await trio.sleep_forever()
                finally:
                    self._timer_scope = None
            deadline = self._deadline()
            now = trio.current_time()
            if deadline is None or now < deadline:
                continue  # the deadline moved later
            try:
                self._timer_fired(now)
            except Exception:
                logger.exception("%s: timer step failed", self._origin)
                await trio.sleep(1.0)  # a bug must not become a busy loop

    async def _run_http(self, request: Request, done: HttpDone) -> None:
        status: int | None = None
        text: str | None = None
        error: str | None = None
        try:
            with trio.fail_after(self._http_timeout):
                status, text = await self._http(request)
        except trio.TooSlowError:
            error = f"no answer within {self._http_timeout} s"
        except Exception as exc:
            error = self._http_error(exc)
        done(status, text, error)

    async def _http(self, request: Request) -> tuple[int, str]:
        """Send the machine's (unsigned) request through the client, which signs it."""
        resp = await self._client._send_request(request, Auth)
        async with resp:
            text = await resp.text(errors="replace")
        return int(resp.status), str(text)

    async def _open(self, host: str, port: int, *, secure: bool) -> trio.abc.Stream:
        """A TCP (TLS for ``wss``) stream to the URL's real host, with the client's pins."""
        client = self._client
        if self._ssl is None or not secure:
            stream: trio.abc.Stream = await client._open_stream(
                host, port, tls=secure, url=self._origin
            )
            return stream
        if self._tls is None:
            self._tls = make_ssl_context(self._ssl)
        return await open_stream(
            host,
            port,
            tls=self._tls,
            server_hostname=host,
            resolve=client._pins,
            connect_timeout=client._connect_timeout,
            url=self._origin,
        )

    async def _connect(self, url: str, headers: Mapping[str, str]) -> WireConnection:
        # The client's default headers (User-Agent...) too, as aiohttp's session sends them.
        merged = dict(self._client._headers.items())
        lower = {k.lower() for k in headers}
        merged = {k: v for k, v in merged.items() if k.lower() not in lower}
        merged.update(headers)
        request = Request.build("GET", url, headers=merged)
        if self._auth is Auth:
            request = sign_request(request, self._client.apis, now=time.time())
        parts = _split_url(request.url)
        secure = parts.scheme == "wss"
        port = urlsplit(request.url).port or (443 if secure else 80)
        # The URL's host name goes to DNS (or the client's resolve= pin), SNI and Host.
        stream = await self._open(parts.host, port, secure=secure)
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        return await handshake(
            stream,
            host=parts.netloc,
            target=target,
            headers=list(request.headers.items()),
            subprotocols=self._subprotocols,
            compression=self._compress,
            max_message_size=self._max_size,
            close_timeout=self._close_timeout,
            origin=self._origin,
        )

    async def _run_writer(self, conn: WebSocketConnection, wire: WireConnection) -> None:
        outbox = conn._outbox
        try:
            while True:
                if not outbox:
                    conn._wake = trio.Event()
                    await conn._wake.wait()
                    continue
                kind, data, done = outbox.popleft()
                try:
                    if kind in (OUT_STR, OUT_BYTES):
                        await wire.send(data)
                    elif kind == OUT_PING:
                        await wire.ping(data)
                    elif kind == OUT_PONG:
                        await wire.pong(data)
                    else:
                        code, reason = data
                        await wire.send_close(code, reason)
                        conn._fail_outbox(
                            WebSocketClosedError(f"connection {conn.conn_id} is closing")
                        )
                        conn._writing = False
                        return
                except WebSocketClosedError as exc:
                    if done is not None:
                        done.done(exc)
                    conn._fail_outbox(exc)
                    logger.debug(
                        "%s: send failed on connection %d: %s", self._origin, conn.conn_id, exc
                    )
                    conn._writing = False
                    return
                if done is not None:
                    done.done()
        finally:
            conn._writing = False

    async def _run_connection(
        self, conn: WebSocketConnection, url: str, headers: Mapping[str, str]
    ) -> None:
        session = self._session
        cid = conn.conn_id
        wire: WireConnection | None = None
        reported = False
        reason = ""
        code: int | None = None
        clean = False
        try:
            with conn._scope:
                try:
                    wire = await self._connect(url, headers)
                except Exception as exc:
                    status = exc.status if isinstance(exc, HandshakeError) else None
                    reported = True
                    self._connect_failed(conn, exc, status, url)
                    return
                conn._wire = wire
                wire.on_ping = lambda payload: self._feed(
                    session.protocol_ping(cid, payload, now=trio.current_time())
                )
                wire.on_pong = lambda payload: self._pong_received(cid, payload)
                conn._writing = True
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(
                        self._run_writer, conn, wire, name=f"botters ws writer {cid}"
                    )
                    self._dispatcher.new_connection()
                    self._feed(session.connected(cid, now=trio.current_time(), wall=time.time()))
                    with conn._read_scope:
                        reason, code, clean = await self._receive(conn, wire)
                    if conn._read_scope.cancelled_caught:
                        reason = "the peer did not answer the close in time"
                    nursery.cancel_scope.cancel()
            if conn._scope.cancelled_caught and not reported and wire is None:
                reason = "connect abandoned"
        except Exception as exc:  # a bug of ours: log it and let the machine reconnect
            logger.exception("%s: connection %d failed", self._origin, cid)
            self._expect_loss(conn, logging.DEBUG)  # this was the warning
            reason = f"{type(exc).__name__}: {exc}"
        finally:
            conn._lost = True
            conn._writing = False
            conn._fail_outbox(
                WebSocketClosedError(f"connection {cid} closed before the frame was sent")
            )
            self._conns.pop(cid, None)
            if not reported:
                if not reason:
                    reason = "closed by botters"
                try:
                    self._connection_lost(cid, code, reason, clean)
                except Exception:
                    logger.exception("%s: reporting the loss of %d failed", self._origin, cid)
            try:
                if wire is not None:
                    with trio.CancelScope(shield=True):
                        await wire.abort()
            finally:
                conn._done.set()

    def _pong_received(self, cid: int, payload: bytes) -> None:
        if self._pongs:
            waiter = self._pongs.get(payload)
            if waiter is not None:
                waiter.set()
        self._feed(self._session.protocol_pong(cid, payload, now=trio.current_time()))

    async def _receive(
        self, conn: WebSocketConnection, wire: WireConnection
    ) -> tuple[str, int | None, bool]:
        """Read messages until the connection ends; returns why, the close code, cleanliness."""
        clock = trio.current_time
        frame_received = self._session.frame_received
        dispatcher = self._dispatcher
        receive = wire.receive
        cid = conn.conn_id
        replies = self._replies
        try:
            while True:
                data = await receive()
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
        except WsClosed as closed:
            text = f"closed ({closed.code}{': ' + closed.reason if closed.reason else ''})"
            return text, closed.code, closed.clean


def ws_connect(
    client: Client,
    url: str,
    *,
    send_str: str | Iterable[str] | None = None,
    send_bytes: bytes | Iterable[bytes] | None = None,
    send_json: Any = None,
    hdlr_str: HandlerSpec = None,
    hdlr_bytes: HandlerSpec = None,
    hdlr_json: HandlerSpec = None,
    backoff: Backoff | Sequence[float] | None = None,
    heartbeat: float | None = 10.0,
    auth: Any = Auth,
    nursery: trio.Nursery | None = None,
    **options: Any,
) -> WebSocketApp:
    """Open a managed WebSocket (see :class:`WebSocketApp`); synchronous, like pybotters'.

    The app starts in ``nursery`` (default: the client's) and connects at
    once. ``await`` it to wait until it is connected, logged in and subscribed.

    Args:
        client: The :class:`botters.trio.Client` whose credentials sign the
            handshake and login, whose ``ssl``/``resolve`` settings apply, and
            through which token requests (KuCoin, GMO, listenKeys) are sent.
        url: ``wss://`` or ``ws://`` URL (``base_url`` is never applied).
        send_str: Text message(s) sent after every (re)connect.
        send_bytes: Binary message(s) sent after every (re)connect.
        send_json: A JSON message, or a list of them (a list is several
            messages, as in pybotters), sent after every (re)connect; dicts
            are signed afresh where the host signs messages.
        hdlr_str: Handler(s) ``h(msg: str, ws)`` for text frames.
        hdlr_bytes: Handler(s) ``h(msg: bytes, ws)`` for binary frames.
        hdlr_json: Handler(s) ``h(msg, ws)`` for frames parsed as JSON, e.g.
            ``store.onmessage`` or ``WebSocketQueue().onmessage``.
        backoff: Reconnect delays: pybotters' ``(min, max, factor, initial)``
            tuple or a :class:`botters.protocol.session.Backoff`.
        heartbeat: Send a WebSocket PING after this many seconds without
            receiving anything; the connection is replaced when nothing
            arrives for 1.5 times as long. ``None`` turns both off.
        auth: :class:`~botters.Auth` logs in (and signs handshakes and
            messages) where the host needs it and ``apis`` has credentials;
            ``None`` never does.
        nursery: Where the app's task runs. Default: the client's nursery
            (the app then ends with the client).
        **options: Session options (``dead_peer_timeout``, ``idle_timeout``,
            ``connect_timeout``, ``login_timeout``, ``http_timeout``,
            ``close_timeout``, ``stable_after``, ``max_age``, ``rotate_on``,
            ``rotation_overlap``, ``token_flow``, ``pacing``; see
            :class:`botters.protocol.session.SessionConfig`); handshake
            ``headers`` and ``origin``; ``protocols`` (subprotocols to offer);
            ``compress`` (truthy: offer permessage-deflate; off by default,
            as in aiohttp); ``max_msg_size`` (bytes, default 4 MiB, ``0``: no
            limit; a larger message closes the connection with 1009 and the
            session reconnects); ``ssl`` (an ``ssl.SSLContext`` for this
            app). aiohttp's ``autoping``, ``autoclose``, ``timeout`` and
            ``receive_timeout`` are accepted and ignored (the session machine
            owns keepalive and timeouts).

    Raises:
        ConfigError: an argument is invalid, or there is no nursery to run in
            (no ``nursery=`` and the client is not inside ``async with``).
        ClientClosedError: the client is closed.
    """
    app = WebSocketApp(
        client,
        url,
        send_str=send_str,
        send_bytes=send_bytes,
        send_json=send_json,
        hdlr_str=hdlr_str,
        hdlr_bytes=hdlr_bytes,
        hdlr_json=hdlr_json,
        backoff=backoff,
        heartbeat=heartbeat,
        auth=auth,
        **options,
    )
    name = f"botters WebSocketApp {app._origin}"
    if nursery is not None:
        nursery.start_soon(app._run, name=name)
    else:
        client._spawn(app._run, name=name)  # ConfigError outside `async with client`
    client._apps.add(app)  # client.close() closes it
    return app
