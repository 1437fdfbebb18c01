"""The WebSocket session state machine (pure): what adapters drive.

One :class:`Session` per logical feed (pybotters' ``WebSocketApp``). It owns
connecting, token fetching, login, subscriptions, keepalive, dead-peer and
idle detection, backoff, rotation and store resync decisions; the adapter owns
sockets, HTTP, sleeping and user callbacks. The theory of operation is in
:mod:`botters.protocol.session._machine`.

Driving it
----------
Create it from a validated :class:`SessionConfig` (give it an RNG: the core
never creates one)::

    session = Session(SessionConfig(url=url, sends=[...], apis=apis, rng=random.Random()))

Feed inputs; each call returns actions to carry out **in order**
(``now`` is always the adapter's monotonic clock, in seconds):

* ``start(now=, wall=)``: once; ``wall`` is ``time.time()``.
* ``connected(conn_id, now=)``: the handshake of ``conn_id`` completed.
* ``connect_failed(conn_id, reason, status=, now=)``: the handshake failed;
  ``status`` is the HTTP status of a refused upgrade (403, 429, 503...).
* ``frame_received(conn_id, frame, parsed, now)``: a text (``str``) or binary
  (``bytes``) message; ``parsed`` is its JSON (parsed once, for the handlers)
  or :data:`NOT_PARSED`. Positional arguments: this is the hot path.
* ``protocol_ping(conn_id, payload, now=)``: a PING frame (skip it if the
  WebSocket library answers pings itself).
* ``protocol_pong(conn_id, payload, now=)``: a PONG frame.
* ``connection_lost(conn_id, code=, reason=, clean=, now=)``: ``conn_id`` is
  gone, whoever closed it (also after a :class:`CloseConnection`).
* ``timer(now=)``: ``now >= session.deadline`` (calling early is harmless).
* ``user_send(data, conn_id=, now=)``: ``current_ws.send_*`` (``str``,
  ``bytes`` or a ``dict``); raises :class:`SessionError` when not open.
* ``user_close(now=)``: the user closes the app.
* ``url_changed(url, now=)``: the ``url`` setter; used from the next connect.
* ``http_response(request_id, status=, body=, error=, now=)``: the answer to
  an :class:`HttpRequest` (``body`` = parsed JSON), or ``error`` when none came.
* ``rotate(reason, now=)``: reconnect make-before-break now.
* ``withdraw_send(ticket, now=)``: an awaited ``user_send(..., ticket=)`` was
  cancelled; its frame is dropped if the send pacing still holds it.

Inputs that may sign (``connected``, ``connection_lost``, ``timer``,
``user_send``, ``http_response``, ``rotate``) also take ``wall=``; pass it
when handy, the machine otherwise extrapolates from the last one.
``handle(event)`` takes the same inputs as event objects (:class:`Start`,
:class:`FrameReceived`...).

Actions:

* :class:`OpenConnection` ``(conn_id, url, headers)``: open it, then report
  ``connected`` or ``connect_failed``. The URL may hold a token: never log it.
* :class:`SendFrame` ``(conn_id, data, ticket)``: ``str`` as text, ``bytes`` as
  binary; ``ticket`` is the ``user_send`` ticket it carries out, if any (complete
  that send's waiter once the frame is written).
* :class:`Unsent` ``(conn_id, tickets, untracked)``: frames that waited for the
  send pacing will never go (the connection is gone): fail those tickets' waiters.
* :class:`SendPing` / :class:`SendPong` ``(conn_id, payload)``.
* :class:`CloseConnection` ``(conn_id, code, reason)``: close (or cancel the
  pending handshake), then report ``connection_lost``.
* :data:`DELIVER`: hand the frame given to *this* call to the user's handlers
  (with its ``conn_id``). The hot path returns the shared tuple
  :data:`DELIVER_ONLY`; test it with ``is``.
* :class:`FeedInterrupted`: call ``feed_interrupted()`` on the attached stores.
* :class:`HttpRequest` ``(request_id, request)``: send the **unsigned**
  :class:`~botters.protocol.Request` as the client sends any request (its REST
  signer signs private ones), then call ``http_response``.
* :class:`Report` subclasses: observable events to log or expose
  (:class:`Connecting`, :class:`Established`, :class:`LoggedIn`,
  :class:`LoginFailed`, :class:`Opened`, :class:`Disconnected`,
  :class:`BackingOff`, :class:`TokenFailed`, :class:`Idle`, :class:`Resumed`,
  :class:`RotationStarted`, :class:`RotationFailed`, :class:`Rotated`,
  :class:`SendBacklog`, :class:`Closed`, :class:`Ignored`).

Then sleep until :attr:`Session.deadline` (``None``: no wake-up needed) and
call ``timer``. Re-read ``deadline`` after every call whose result is not
:data:`DELIVER_ONLY`; a fast-path frame only ever moves it later.
:attr:`Session.current` is the ``conn_id`` for ``current_ws`` (``None`` while
not open), :attr:`Session.idle_since` the idle signal, :meth:`Session.queued`
the frames a connection's send pacing holds back.

Requests matched to their replies by id (Binance's WebSocket API, OKX and
Bybit order entry) are bookkept beside the machine, not in it:
:class:`PendingReplies` files each request's waiter under its id and
connection, pairs replies with them and hands back the waiters of a lost
connection (``WebSocketApp.request`` is built on it).

A sketch of an asyncio adapter (one task per connection reads frames and feeds
``frame_received``; one timer task; ``run`` executes actions)::

    def feed(actions):
        if actions is DELIVER_ONLY:
            return deliver(cid, frame, parsed)
        for a in actions:
            if a is DELIVER:               deliver(cid, frame, parsed)
            elif isinstance(a, OpenConnection):  spawn(connect(a.conn_id, a.url, a.headers))
            elif isinstance(a, SendFrame):       conns[a.conn_id].send(a.data)
            elif isinstance(a, SendPing):        conns[a.conn_id].ping(a.payload)
            elif isinstance(a, CloseConnection): spawn(close(a.conn_id, a.code))
            elif isinstance(a, HttpRequest):     spawn(fetch(a.request_id, a.request))
            elif isinstance(a, FeedInterrupted): [s.feed_interrupted() for s in stores]
            elif isinstance(a, Report):          log(a)
        wake_timer_task()                   # deadline may have moved earlier

    async def timer_task():
        while session.state is not State.CLOSED:
            d = session.deadline
            await sleep_until(d)            # or until woken
            feed(session.timer(now=loop.time(), wall=time.time()))
"""

from __future__ import annotations

from botters.protocol._pacing import Pacing

from ._config import Backoff, MessagePredicate, RandomSource, SessionConfig
from ._events import (
    DELIVER,
    DELIVER_ONLY,
    NOT_PARSED,
    Action,
    BackingOff,
    CloseConnection,
    Closed,
    Connected,
    ConnectFailed,
    Connecting,
    ConnectionLost,
    Deliver,
    Disconnected,
    Established,
    Event,
    FeedInterrupted,
    FrameReceived,
    HttpRequest,
    HttpResponse,
    Idle,
    Ignored,
    LoggedIn,
    LoginFailed,
    NotParsed,
    OpenConnection,
    Opened,
    OutgoingData,
    ProtocolPing,
    ProtocolPong,
    Report,
    Resumed,
    Rotate,
    Rotated,
    RotationFailed,
    RotationStarted,
    SendBacklog,
    SendFrame,
    SendPing,
    SendPong,
    Start,
    Timer,
    TokenFailed,
    Unsent,
    UrlChanged,
    UserClose,
    UserSend,
    WithdrawSend,
)
from ._machine import Session, SessionError, State
from ._replies import PendingReplies, ReplyKey
from ._tokens import GMOCoinToken, HttpResult, KuCoinBullet, ListenKey, Ticket, TokenFlow

__all__ = [
    "DELIVER",
    "DELIVER_ONLY",
    "NOT_PARSED",
    "Action",
    "BackingOff",
    "Backoff",
    "CloseConnection",
    "Closed",
    "ConnectFailed",
    "Connected",
    "Connecting",
    "ConnectionLost",
    "Deliver",
    "Disconnected",
    "Established",
    "Event",
    "FeedInterrupted",
    "FrameReceived",
    "GMOCoinToken",
    "HttpRequest",
    "HttpResponse",
    "HttpResult",
    "Idle",
    "Ignored",
    "KuCoinBullet",
    "ListenKey",
    "LoggedIn",
    "LoginFailed",
    "MessagePredicate",
    "NotParsed",
    "OpenConnection",
    "Opened",
    "OutgoingData",
    "Pacing",
    "PendingReplies",
    "ProtocolPing",
    "ProtocolPong",
    "RandomSource",
    "ReplyKey",
    "Report",
    "Resumed",
    "Rotate",
    "Rotated",
    "RotationFailed",
    "RotationStarted",
    "SendBacklog",
    "SendFrame",
    "SendPing",
    "SendPong",
    "Session",
    "SessionConfig",
    "SessionError",
    "Start",
    "State",
    "Ticket",
    "Timer",
    "TokenFailed",
    "TokenFlow",
    "Unsent",
    "UrlChanged",
    "UserClose",
    "UserSend",
    "WithdrawSend",
]
