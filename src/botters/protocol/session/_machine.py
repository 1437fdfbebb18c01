"""The WebSocket session state machine.

Theory of operation
-------------------
A :class:`Session` owns every decision about one logical WebSocket feed:
when to connect, whether to fetch a token first, when to log in, when the
subscriptions may go out, when to ping, when the peer counts as dead, how long
to back off, when to replace a connection, and when the stores must resync.
It does no I/O and reads no clock: the adapter feeds it inputs (each with
``now``, its monotonic clock) and carries out the actions it returns. The
adapter also sleeps until :attr:`Session.deadline` and then calls
:meth:`Session.timer`; that is the only way time passes for the machine.

States (:class:`State`) describe the session's *current* connection::

    IDLE --start--> [PREPARING] --token--> CONNECTING --connected-->
        [AUTHENTICATING] --login ok--> OPEN
    any failure or loss -------------------------------> BACKOFF --delay--> PREPARING/CONNECTING
    user close -------> CLOSING --all closed--> CLOSED

* PREPARING only happens with a token flow (KuCoin bullet, GMO token,
  listenKey): an :class:`~._events.HttpRequest` is outstanding.
* AUTHENTICATING only happens when the URL's exchange logs in by message and
  ``apis`` holds its credentials. Frames that arrive meanwhile are delivered,
  except the login reply itself, which is reported (:class:`~._events.LoggedIn`
  / :class:`~._events.LoginFailed`). The initial messages go out only after
  the login is accepted. An exchange that sends no login reply (no classifier)
  counts as accepted once the login is sent.
* OPEN: the initial messages were sent (on a paced connection: queued, ahead of
  anything sent later; see "Send pacing"). Frames are delivered.

Each connection (``conn_id``, never reused) has its own state from the same
enum. Connection inputs (``connected``, ``frame_received``...) are dispatched on
the state of the connection they name; the other inputs on the session's
state. The one :data:`_TABLE` maps every ``(State, input type)`` pair to a
handler; pairs that cannot act (a frame on a connection still handshaking, a
stale ``conn_id``) map to handlers that return an :class:`~._events.Ignored`
report saying why. Caller misuse (``start`` twice, sending while not open)
raises :class:`SessionError`.

Reconnecting. Any loss (a close, clean or not; a failed connect; a refused or
unanswered login; a dead peer; a failed token request) leads to BACKOFF, never
to an immediate reconnect (pybotters reconnected at once after a clean close).
The delay comes from :class:`~._config.Backoff` and the count of failures
since the last *stable* connection, one that was OPEN for ``stable_after``
seconds: losing a stable connection restarts the count, so the first delay is
a short random one; repeated short-lived connections climb to ``max_delay``.
A rejected login waits at least ``min_delay``; a handshake refused with HTTP
429/418 waits ``max_delay``. When an OPEN connection is lost,
:class:`~._events.FeedInterrupted` is emitted at once, before anything is sent
on the next connection, so stores resync from the snapshots the replayed
subscriptions bring. Every connect replays the initial messages; ``dict``
messages are signed afresh (new timestamp) on a copy, and the login is rebuilt
with a fresh timestamp and nonce.

Keepalive. Three clocks per connection, all computed lazily from timestamps
(nothing is rescheduled per frame):

* protocol ping: after ``heartbeat`` seconds without receiving anything, a
  PING frame (and another every ``heartbeat`` while silence lasts);
* the exchange's app-level ping (:func:`~botters.protocol.app_ping_for`, or
  the one from KuCoin's bullet answer), every ``interval`` regardless of
  traffic, as exchanges require;
* dead peer: nothing at all received (data, pong, anything) for
  ``dead_peer_timeout`` seconds: the connection is given up and replaced.

Separately, *idle feed*: no **data** frame (pongs, answered server pings and the
login reply do not count) for ``idle_timeout`` seconds reports
:class:`~._events.Idle` once and sets :attr:`Session.idle_since`; the next data
frame reports :class:`~._events.Resumed`.

Rotation (make-before-break). A connection is replaced while it keeps working
when it reaches ``max_age``, when a parsed message matches ``rotate_on``, when
the token flow says its token expired or could not be renewed, or on
:meth:`Session.rotate`. A second connection (the *successor*) is prepared,
opened and logged in beside the current one, and sends the initial messages.
From then on **both deliver** for ``rotation_overlap`` seconds; then the old
one is closed and the successor becomes current (:class:`~._events.Rotated`).
Frames the old one receives while closing are still delivered.

* No loss: the old connection delivers everything until the successor's
  subscriptions have been active for ``rotation_overlap`` seconds, provided
  the exchange starts the successor's streams within that time.
* Duplicates are possible: during the overlap, and for frames the old
  connection receives while closing, a message can arrive on both. Every
  delivery names its ``conn_id``; stores keyed by id absorb them, handlers
  that count must deduplicate. No :class:`~._events.FeedInterrupted` is
  emitted for a rotation.
* If the successor fails, the current connection stays and a retry follows
  after a backoff delay (:class:`~._events.RotationFailed`). If the current
  one is lost first, the successor takes over at once: with
  :class:`~._events.FeedInterrupted` if the successor was not yet OPEN, without
  it if it was (its subscriptions were already sent).

Two live connections (connecting or connected, not closing) therefore exist
only during a rotation; otherwise at most one.

Send pacing. Exchanges cap how fast a client may send on one connection
(:class:`~botters.protocol._pacing.Pacing`; the route's documented limit by
default, ``SessionConfig(pacing=...)`` to change it). On a paced connection
every frame the machine sends goes through that connection's
:class:`~._outbox.Outbox`: the login, the initial messages (after every
connect, so a replay is paced afresh), keepalives, answers to the exchange's
pings, user sends and stores' resync requests. A frame the window allows goes
at once; otherwise it waits, and the outbox's next free slot is one of the
machine's deadlines, so the adapter's timer releases it exactly when the rule
allows. Data frames keep their order. Keepalive frames (PING/PONG when the
exchange counts them, app-level pings and ping answers) overtake waiting data
frames but still wait for a free slot (at most ``per`` seconds). A ``dict``
that waited is signed again when released. Each connection has its own window
(a rotation's successor too); when a connection goes, its waiting frames are
dropped and the user sends among them reported (:class:`~._events.Unsent`). A
backlog that takes longer than :data:`_BACKLOG_WARNING` seconds to drain is
reported once (:class:`~._events.SendBacklog`). With pacing, OPEN means the
initial messages are *queued* ahead of anything sent later; a rotation's
overlap counts from the release of the successor's last initial message.
Connections without pacing (most hosts) send as before, at no extra cost.

Time. ``now`` is the adapter's monotonic clock; exchanges want wall-clock
timestamps in logins and signatures. Inputs that may sign accept ``wall``
(``time.time()``); the machine keeps ``wall - now`` from the latest one it was
given (``start`` requires it) and uses ``now + offset`` otherwise, so the hot
path needs no second clock reading.

Hot path. :meth:`Session.frame_received` for a data frame on the current OPEN
connection, with no app ping awaiting its answer and no idle report pending,
stores ``now`` and returns the shared :data:`~._events.DELIVER_ONLY` tuple: no
allocation, no parsing, no deadline work (about 60 ns). Where the exchange pings
the client with messages (bitbank's ``2``) or a message may call for a rotation
(``rotate_on``, ``listenKeyExpired``), that check runs inline on the parsed
message the adapter passed, still without allocating; only frames that need
an action leave the fast path. The adapter can test ``actions is DELIVER_ONLY``.
A fast-path frame can only move deadlines later, so the adapter need not
re-read :attr:`Session.deadline` after it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, TypeAlias

from botters.protocol._credentials import Credentials
from botters.protocol._errors import BottersError, SigningError
from botters.protocol._pacing import Pacing
from botters.protocol._request import Request, URLParts, _split_url
from botters.protocol._ws import (
    AppPing,
    Frame,
    LoginReply,
    WsRoute,
    build_login,
    dumps,
    json_object,
    sign_outgoing,
    ws_route_for,
)

from ._config import SessionConfig, _check_url
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
    OpenConnection,
    Opened,
    OutgoingData,
    ProtocolPing,
    ProtocolPong,
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
from ._outbox import INITIAL, OWN, USER, Entry, Outbox
from ._tokens import HttpResult, Ticket

__all__ = ["Session", "SessionError", "State"]

_MAX_TOKEN_STEPS: Final = 3
_MAX_TIMER_ROUNDS: Final = 1000
_THROTTLED: Final = frozenset({418, 429})
_TOKEN_EXPIRED: Final = "the token expired"
_BACKLOG_WARNING: Final = 10.0
"""Seconds: a send backlog that takes longer to drain is reported (once)."""


class SessionError(BottersError):
    """The session was used wrongly: started twice, or asked to send while not open."""


class State(enum.Enum):
    """The state of the session, or of one connection."""

    IDLE = "idle"
    """Not started."""
    PREPARING = "preparing"
    """Waiting for a token request's answer."""
    CONNECTING = "connecting"
    """Handshake in progress."""
    AUTHENTICATING = "authenticating"
    """Login sent, waiting for the reply."""
    OPEN = "open"
    """Initial messages sent; delivering."""
    BACKOFF = "backoff"
    """Waiting before the next attempt."""
    CLOSING = "closing"
    """Closing (the session: at the user's request; a connection: given up or replaced)."""
    CLOSED = "closed"
    """Closed for good."""


_CONNECTED: Final = frozenset({State.AUTHENTICATING, State.OPEN})


class _Link:
    """One connection's bookkeeping."""

    __slots__ = (
        "answer",
        "app_ping",
        "app_ping_at",
        "close_late_delivery",
        "conn_id",
        "connected_at",
        "creds",
        "ctrl_at",
        "data_at",
        "deadline",
        "initial_left",
        "opened_at",
        "outbox",
        "parts",
        "ping_at",
        "ping_payload",
        "pong_due",
        "route",
        "state",
        "url",
    )

    def __init__(self, conn_id: int) -> None:
        self.conn_id = conn_id
        self.state = State.PREPARING
        self.url = ""
        self.parts: URLParts | None = None
        self.route: WsRoute | None = None
        self.creds: Credentials | None = None
        self.app_ping: AppPing | None = None
        self.answer: Callable[[Frame], Frame | None] | None = None  # server-ping answerer
        self.deadline: float | None = None  # handshake, login or close deadline
        self.connected_at = 0.0
        self.opened_at = 0.0
        self.data_at = 0.0  # last data frame
        self.ctrl_at = 0.0  # last non-data frame (pong, ping, login reply)
        self.ping_at = 0.0  # last protocol PING sent
        self.ping_payload: bytes | None = None
        self.app_ping_at = 0.0  # last app ping sent
        self.pong_due: float | None = None  # app ping sent, answer not seen yet
        self.close_late_delivery = False
        self.outbox: Outbox | None = None  # only on a paced connection
        self.initial_left = 0  # initial messages still waiting in the outbox

    @property
    def rx_at(self) -> float:
        return self.data_at if self.data_at > self.ctrl_at else self.ctrl_at


@dataclass(slots=True)
class _Pending:
    """An outstanding HTTP request."""

    request_id: int
    kind: str  # "fetch" or "renew"
    request: Request
    deadline: float
    link: _Link | None
    steps: int = 1
    token: str | None = None


_Handler: TypeAlias = Callable[["Session", Any, "_Link | None"], None]
_Timers: TypeAlias = Iterator[tuple[float, Callable[[float], None]]]


class Session:
    """The state machine of one WebSocket session; see the module docstring.

    Every input method returns the list of actions to carry out, in order.
    """

    def __init__(self, config: SessionConfig) -> None:
        self.config: Final = config
        self._rng = config.rng
        self._backoff = config.backoff_policy
        self._apis = config.credentials
        self._predicate = config.message_predicate
        self._flow = config.token_flow
        self._pacing = config.pacing_policy
        self._watch_messages = self._predicate is not None or (
            self._flow is not None and self._flow.checks_messages
        )
        self._state = State.IDLE
        self._url = config.url
        self._link: _Link | None = None  # the current connection
        self._next: _Link | None = None  # the successor during a rotation
        self._links: dict[int, _Link] = {}  # every connection still tracked
        self._fast: _Link | None = None
        self._pending: dict[int, _Pending] = {}
        self._renewing: _Pending | None = None
        self._out: list[Action] = []
        self._conn_seq = 0
        self._request_seq = 0
        self._ping_seq = 0
        self._wall_offset = 0.0
        self._failures = 0
        self._retry_at: float | None = None
        self._rotation_failures = 0
        self._rotate_at: float | None = None
        self._rotate_reason = ""
        self._handover_at: float | None = None
        self._idle_since: float | None = None
        self._last_data_at: float | None = None
        self._token: str | None = None
        self._token_at = 0.0

    # -- read-only views ---------------------------------------------------------

    @property
    def state(self) -> State:
        """The session's state (that of its current connection while it has one)."""
        return self._state

    @property
    def url(self) -> str:
        """The URL the next connection will use (a token flow completes it)."""
        return self._url

    @property
    def current(self) -> int | None:
        """The ``conn_id`` users send on (``current_ws``): set only while OPEN."""
        link = self._link
        return link.conn_id if link is not None and link.state is State.OPEN else None

    @property
    def live_connections(self) -> tuple[int, ...]:
        """Connections being opened or open (not closing): at most 2, during a rotation."""
        return tuple(link.conn_id for link in (self._link, self._next) if link is not None)

    @property
    def failures(self) -> int:
        """Failed attempts since the last stable connection."""
        return self._failures

    @property
    def idle_since(self) -> float | None:
        """When the last data frame arrived, if the feed has been reported idle."""
        return self._idle_since

    @property
    def last_data_at(self) -> float | None:
        """When the last data frame arrived on the current connection (``now`` units)."""
        link = self._link
        if link is not None and link.state in _CONNECTED and link.data_at > link.connected_at:
            return link.data_at
        return self._last_data_at

    def queued(self, conn_id: int | None = None) -> int:
        """Frames waiting for the send pacing on ``conn_id`` (default: the current one)."""
        link = self._link if conn_id is None else self._links.get(conn_id)
        box = link.outbox if link is not None else None
        return 0 if box is None else box.waiting

    @property
    def deadline(self) -> float | None:
        """When the adapter must call :meth:`timer` next; ``None`` for never.

        Computed on each read. Only inputs that returned something other than
        :data:`~._events.DELIVER_ONLY` can move it earlier.
        """
        best: float | None = None
        for when, _ in self._timers():
            if best is None or when < best:
                best = when
        return best

    # -- inputs ------------------------------------------------------------------

    def handle(self, event: Event) -> list[Action]:
        """Feed any input event; returns the actions to carry out, in order."""
        out: list[Action] = []
        self._out = out
        kind = type(event)
        link: _Link | None = None
        if kind in _CONNECTION_EVENTS:
            link = self._links.get(event.conn_id)  # type: ignore[attr-defined]
            # A connection input naming no tracked connection is stale; the
            # CLOSED rows say so.
            state = link.state if link is not None else State.CLOSED
        else:
            state = self._state
        wall = getattr(event, "wall", None)
        if wall is not None:
            self._wall_offset = wall - event.now
        _TABLE[state, kind](self, event, link)
        self._refresh_fast()
        return out

    def start(self, *, now: float, wall: float) -> list[Action]:
        """Begin; ``wall`` is ``time.time()`` at the same instant as ``now``."""
        return self.handle(Start(now=now, wall=wall))

    def connected(self, conn_id: int, *, now: float, wall: float | None = None) -> list[Action]:
        """The handshake of ``conn_id`` completed."""
        return self.handle(Connected(conn_id=conn_id, now=now, wall=wall))

    def connect_failed(
        self, conn_id: int, reason: str, *, status: int | None = None, now: float
    ) -> list[Action]:
        """Opening ``conn_id`` failed; ``status`` is the HTTP status of a refused upgrade."""
        return self.handle(ConnectFailed(conn_id=conn_id, reason=reason, status=status, now=now))

    def frame_received(
        self, conn_id: int, frame: Frame, parsed: Any, now: float
    ) -> list[Action] | tuple[Action, ...]:
        """A text (``str``) or binary (``bytes``) message arrived: the hot path.

        ``parsed`` is the frame's JSON (parsed once by the adapter, for the
        handlers) or :data:`~._events.NOT_PARSED`.
        """
        link = self._fast
        if link is not None and link.conn_id == conn_id:
            answer = link.answer
            if (answer is None or answer(frame) is None) and (
                not self._watch_messages or self._rotation_reason(frame, parsed) is None
            ):
                link.data_at = now
                return DELIVER_ONLY
        return self.handle(FrameReceived(conn_id=conn_id, frame=frame, parsed=parsed, now=now))

    def protocol_ping(self, conn_id: int, payload: bytes = b"", *, now: float) -> list[Action]:
        """A PING frame arrived (adapters whose library answers pings may skip this)."""
        return self.handle(ProtocolPing(conn_id=conn_id, payload=payload, now=now))

    def protocol_pong(self, conn_id: int, payload: bytes = b"", *, now: float) -> list[Action]:
        """A PONG frame arrived."""
        return self.handle(ProtocolPong(conn_id=conn_id, payload=payload, now=now))

    def connection_lost(
        self,
        conn_id: int,
        *,
        code: int | None = None,
        reason: str = "",
        clean: bool = False,
        now: float,
        wall: float | None = None,
    ) -> list[Action]:
        """``conn_id`` is gone, for whatever reason (also after a CloseConnection)."""
        return self.handle(
            ConnectionLost(
                conn_id=conn_id, code=code, reason=reason, clean=clean, now=now, wall=wall
            )
        )

    def timer(self, *, now: float, wall: float | None = None) -> list[Action]:
        """The deadline was reached; calling it early is harmless."""
        return self.handle(Timer(now=now, wall=wall))

    def user_send(
        self,
        data: OutgoingData,
        *,
        conn_id: int | None = None,
        now: float,
        wall: float | None = None,
        ticket: int | None = None,
    ) -> list[Action]:
        """A one-off message (never replayed); ``dict`` messages are signed when the host wants.

        On a paced connection the frame may wait; ``ticket`` (the adapter's id)
        then comes back in the :class:`~._events.SendFrame` that releases it, or
        in :class:`~._events.Unsent` if the connection goes first.

        Raises:
            SessionError: The connection is not open.
            SigningError: The message could not be signed.
        """
        return self.handle(UserSend(data=data, conn_id=conn_id, now=now, wall=wall, ticket=ticket))

    def withdraw_send(self, ticket: int, *, now: float) -> list[Action]:
        """The sender of ``ticket`` stopped waiting: drop the frame if it has not gone yet."""
        return self.handle(WithdrawSend(ticket=ticket, now=now))

    def user_close(self, *, code: int = 1000, reason: str = "", now: float) -> list[Action]:
        """Close for good."""
        return self.handle(UserClose(code=code, reason=reason, now=now))

    def url_changed(self, url: str, *, now: float) -> list[Action]:
        """Use ``url`` from the next connect on.

        Raises:
            ConfigError: ``url`` is not a ``ws://``/``wss://`` URL.
        """
        return self.handle(UrlChanged(url=url, now=now))

    def http_response(
        self,
        request_id: int,
        *,
        status: int | None = None,
        body: Any = None,
        error: str | None = None,
        now: float,
        wall: float | None = None,
    ) -> list[Action]:
        """The answer to an :class:`~._events.HttpRequest`, or ``error`` when none came."""
        return self.handle(
            HttpResponse(
                request_id=request_id, status=status, body=body, error=error, now=now, wall=wall
            )
        )

    def rotate(
        self, reason: str = "requested", *, now: float, wall: float | None = None
    ) -> list[Action]:
        """Replace the open connection now, make-before-break."""
        return self.handle(Rotate(reason=reason, now=now, wall=wall))

    # -- helpers -----------------------------------------------------------------

    def _emit(self, action: Action) -> None:
        self._out.append(action)

    def _wall(self, now: float) -> float:
        return now + self._wall_offset

    def _nonce(self) -> str:
        return f"{self._rng.getrandbits(128):032x}"

    def _ignore(self, event: Event, reason: str) -> None:
        self._emit(Ignored(event=type(event).__name__, reason=reason))

    def _refresh_fast(self) -> None:
        link = self._link
        if (
            link is not None
            and link.state is State.OPEN
            and link.pong_due is None
            and self._idle_since is None
        ):
            self._fast = link
        else:
            self._fast = None

    def _dead_peer_timeout(self, link: _Link) -> float | None:
        value = self.config.dead_peer_timeout
        if value != "auto":
            assert not isinstance(value, str)
            return value
        heartbeat = self.config.heartbeat
        if heartbeat is not None:
            return 1.5 * heartbeat
        ping = link.app_ping
        if ping is not None and ping.pong is not None:
            return ping.interval + (ping.timeout if ping.timeout is not None else ping.interval)
        return None

    def _new_link(self) -> _Link:
        self._conn_seq += 1
        link = _Link(self._conn_seq)
        self._links[link.conn_id] = link
        return link

    def _set_state(self, link: _Link, state: State) -> None:
        link.state = state
        if link is self._link:
            self._state = state

    def _request(self, kind: str, request: Request, now: float, link: _Link | None) -> _Pending:
        self._request_seq += 1
        pending = _Pending(
            request_id=self._request_seq,
            kind=kind,
            request=request,
            deadline=now + self.config.http_timeout,
            link=link,
            token=self._token,
        )
        self._pending[pending.request_id] = pending
        self._emit(HttpRequest(request_id=pending.request_id, request=request))
        return pending

    def _encode(self, link: _Link, data: OutgoingData, now: float) -> Frame:
        if isinstance(data, str | bytes):
            return data
        message = data
        route, parts, creds = link.route, link.parts, link.creds
        if route is not None and route.sign_outgoing is not None and parts and creds:
            message = sign_outgoing(parts, data, creds, now=self._wall(now))
        return dumps(message)

    # -- sending (paced or not) ---------------------------------------------------

    def _send_frame(
        self,
        link: _Link,
        frame: Frame,
        now: float,
        *,
        tag: int = OWN,
        urgent: bool = False,
        data: OutgoingData | None = None,
        ticket: int | None = None,
    ) -> None:
        """Send a data frame on ``link``, through its outbox when it is paced.

        ``urgent``: a keepalive, which overtakes waiting data frames. ``data``:
        the ``dict`` the frame was made from, signed again if the frame waits.
        """
        action = SendFrame(conn_id=link.conn_id, data=frame, ticket=ticket)
        box = link.outbox
        if box is None or not box.pacing.counts_frame(frame):
            self._emit(action)
            return
        if data is not None and not self._signs(link):
            data = None
        self._pace(link, box, Entry(action, tag, data=data, ticket=ticket), now, urgent=urgent)

    def _send_control(self, link: _Link, action: SendPing | SendPong, now: float) -> None:
        """Send a PING or PONG: at once, unless the exchange counts them and the window is full."""
        box = link.outbox
        if box is None or not box.pacing.count_control:
            self._emit(action)
            return
        self._pace(link, box, Entry(action, OWN), now, urgent=True)

    def _signs(self, link: _Link) -> bool:
        route = link.route
        return route is not None and route.sign_outgoing is not None and link.creds is not None

    def _pace(self, link: _Link, box: Outbox, entry: Entry, now: float, *, urgent: bool) -> None:
        if not box.waiting and box.free_at() <= now:
            box.record(now)
            self._emit(entry.action)
            return
        # Queue it, then release what may go now: a keepalive before waiting
        # data; data after what waited before it (the timer may be late).
        entry.at = now
        box.push(entry, urgent=urgent)
        if entry.tag == INITIAL:
            link.initial_left += 1
        self._release(link, now)
        if box.backlog and not box.warned and box.drain_time() > _BACKLOG_WARNING:
            box.warned = True
            self._emit(
                SendBacklog(
                    conn_id=link.conn_id,
                    queued=box.backlog,
                    seconds=box.drain_time(),
                    limit=str(box.pacing),
                )
            )

    def _release(self, link: _Link, now: float) -> None:
        """Send what ``link``'s window allows now (the outbox's timer)."""
        box = link.outbox
        assert box is not None
        for entry in box.release(now):
            action = entry.action
            if entry.data is not None and now > entry.at:
                # It waited: sign it afresh (a Binance request's timestamp must be recent).
                try:
                    frame = self._encode(link, entry.data, now)
                except SigningError:
                    pass  # it was signed once; send that
                else:
                    action = SendFrame(conn_id=link.conn_id, data=frame, ticket=entry.ticket)
            self._emit(action)
            if entry.tag == INITIAL:
                link.initial_left -= 1
                if link.initial_left == 0:
                    self._subscribed(link, now)

    def _subscribed(self, link: _Link, now: float) -> None:
        """The last initial message of an OPEN ``link`` went out."""
        if link is self._next and link.state is State.OPEN and self._handover_at is None:
            self._handover_at = now + self.config.rotation_overlap

    def _drop_outbox(self, link: _Link) -> None:
        """``link`` is gone or going: its waiting frames never will; say whose they were."""
        box = link.outbox
        link.initial_left = 0
        if box is None or not box.waiting:
            return
        tickets: list[int] = []
        untracked = 0
        for entry in box.clear():
            if entry.ticket is not None:
                tickets.append(entry.ticket)
            elif entry.tag == USER:
                untracked += 1
        if tickets or untracked:
            self._emit(Unsent(conn_id=link.conn_id, tickets=tuple(tickets), untracked=untracked))

    # -- attempts ------------------------------------------------------------------

    def _begin_attempt(self, now: float) -> None:
        """Start a new current connection (from IDLE or BACKOFF)."""
        self._retry_at = None
        link = self._new_link()
        self._link = link
        self._emit(
            Connecting(conn_id=link.conn_id, host=_host(self._url), attempt=self._failures + 1)
        )
        self._prepare(link, now)

    def _prepare(self, link: _Link, now: float) -> None:
        flow = self._flow
        if flow is None:
            self._open(link, self._url, None, now)
            return
        self._set_state(link, State.PREPARING)
        self._request("fetch", flow.fetch(url=self._url, token=self._token), now, link)

    def _open(self, link: _Link, url: str, app_ping: AppPing | None, now: float) -> None:
        link.url = url
        try:
            link.parts = _split_url(url)
        except BottersError:
            link.parts = None
        route = ws_route_for(link.parts) if link.parts is not None else None
        link.route = route
        if route is not None and link.parts is not None:
            if self._apis is not None:
                link.creds = self._apis.get(route.name_for(link.parts))
            link.app_ping = app_ping or route.ping_for(link.parts)
            answer_ping, parts = route.answer_ping, link.parts
            if answer_ping is not None:
                link.answer = partial(answer_ping, parts)
        else:
            link.app_ping = app_ping
        pacing = self._pacing
        if pacing == "auto":
            pacing = route.pacing_for(link.parts) if route is not None and link.parts else None
        assert pacing is None or isinstance(pacing, Pacing)
        link.outbox = Outbox(pacing) if pacing is not None else None
        link.deadline = now + self.config.connect_timeout
        self._set_state(link, State.CONNECTING)
        self._emit(OpenConnection(conn_id=link.conn_id, url=url, headers=dict(self.config.headers)))

    def _mark_open(self, link: _Link, now: float) -> None:
        """Send the initial messages; the link is OPEN."""
        frames: list[Frame] = []
        sends = self.config.sends
        try:
            frames.extend(self._encode(link, data, now) for data in sends)
        except SigningError as exc:
            self._fail(link, f"cannot sign an initial message: {exc}", now, close=True)
            return
        for data, frame in zip(sends, frames, strict=True):
            source = data if isinstance(data, Mapping) else None
            self._send_frame(link, frame, now, tag=INITIAL, data=source)
        link.deadline = None
        link.opened_at = now
        self._set_state(link, State.OPEN)
        self._emit(Opened(conn_id=link.conn_id))
        if link.initial_left == 0:
            self._subscribed(link, now)

    # -- failures ------------------------------------------------------------------

    def _fail(
        self,
        link: _Link,
        reason: str,
        now: float,
        *,
        close: bool,
        status: int | None = None,
        login: bool = False,
    ) -> None:
        """``link`` is given up (``close``: by us, so the adapter must close it)."""
        was_open = link.state is State.OPEN
        had_connection = link.state is not State.PREPARING
        self._drop_pending_for(link)
        self._drop_outbox(link)
        if close and had_connection:
            link.state = State.CLOSING
            link.close_late_delivery = False
            link.deadline = now + self.config.close_timeout
            self._emit(CloseConnection(conn_id=link.conn_id, code=1000, reason=reason))
        else:
            link.state = State.CLOSING
            self._links.pop(link.conn_id, None)
        self._emit(Disconnected(conn_id=link.conn_id, reason=reason))
        if link is self._next:
            self._next = None
            self._handover_at = None
            self._rotation_failed(reason, now)
            return
        if link is not self._link:  # pragma: no cover - every live link is current or next
            return
        if link.data_at > link.connected_at:
            self._last_data_at = link.data_at
        stable = was_open and now - link.connected_at >= self.config.stable_after
        successor = self._next
        if successor is not None:
            # The successor takes over at once; no backoff.
            self._link = successor
            self._next = None
            self._handover_at = None
            self._rotate_at = None
            self._state = successor.state
            if successor.state is State.OPEN:
                self._emit(Rotated(old=link.conn_id, new=successor.conn_id))
            elif was_open:
                self._emit(FeedInterrupted())
            if stable:
                self._failures = 0
            return
        self._link = None
        self._rotate_at = None
        self._idle_since = None
        if was_open:
            self._emit(FeedInterrupted())
        if stable:
            self._failures = 0
        self._failures += 1
        attempt = max(self._failures, 2) if login else self._failures
        delay = self._backoff.delay(attempt, self._rng.random())
        if status in _THROTTLED:
            delay = self._backoff.max_delay
        self._retry_at = now + delay
        self._state = State.BACKOFF
        self._emit(BackingOff(delay=delay, attempt=self._failures))

    def _drop_pending_for(self, link: _Link) -> None:
        for request_id in [rid for rid, p in self._pending.items() if p.link is link]:
            del self._pending[request_id]

    # -- rotation ------------------------------------------------------------------

    def _start_rotation(self, reason: str, now: float) -> None:
        self._rotate_at = None
        self._rotate_reason = reason
        link = self._new_link()
        self._next = link
        self._emit(RotationStarted(conn_id=link.conn_id, reason=reason))
        self._prepare(link, now)

    def _rotation_failed(self, reason: str, now: float) -> None:
        self._rotation_failures += 1
        delay = self._backoff.delay(max(self._rotation_failures, 2), self._rng.random())
        self._rotate_at = now + delay
        self._emit(RotationFailed(reason=reason, retry_in=delay))

    def _request_rotation(self, reason: str, now: float) -> None:
        """Rotate now unless one is under way (or waiting to be retried)."""
        if self._state is State.OPEN and self._next is None:
            self._start_rotation(reason, now)
        elif self._next is None and self._rotate_at is not None:
            self._rotate_at = now
            self._rotate_reason = reason

    def _handover(self, now: float) -> None:
        old, new = self._link, self._next
        assert old is not None
        assert new is not None
        self._handover_at = None
        self._drop_outbox(old)
        old.state = State.CLOSING
        old.close_late_delivery = True
        old.deadline = now + self.config.close_timeout
        self._emit(CloseConnection(conn_id=old.conn_id, code=1000, reason="rotated"))
        self._link = new
        self._next = None
        self._state = new.state
        self._rotation_failures = 0
        self._emit(Rotated(old=old.conn_id, new=new.conn_id))

    # -- handlers: session inputs --------------------------------------------------

    def _on_start(self, ev: Start, link: _Link | None) -> None:
        self._begin_attempt(ev.now)

    def _on_start_again(self, ev: Start, link: _Link | None) -> None:
        if self._state is State.CLOSED:
            raise SessionError("the session is closed; create a new one")
        raise SessionError("the session is already started")

    def _on_timer(self, ev: Timer, link: _Link | None) -> None:
        now = ev.now
        for _ in range(_MAX_TIMER_ROUNDS):
            for when, fire in self._timers():
                if when <= now:
                    fire(now)
                    break
            else:
                return
        raise AssertionError("session timers did not settle")  # pragma: no cover

    def _on_send(self, ev: UserSend, link: _Link | None) -> None:
        target = self._link if ev.conn_id is None else self._links.get(ev.conn_id)
        if target is None or target.state is not State.OPEN:
            raise SessionError("the WebSocket is not open (reconnecting or closed)")
        frame = self._encode(target, ev.data, ev.now)
        source = ev.data if isinstance(ev.data, Mapping) else None
        self._send_frame(target, frame, ev.now, tag=USER, data=source, ticket=ev.ticket)

    def _on_send_not_open(self, ev: UserSend, link: _Link | None) -> None:
        raise SessionError(f"the WebSocket is not open (session {self._state.value})")

    def _on_withdraw(self, ev: WithdrawSend, link: _Link | None) -> None:
        for each in self._links.values():
            box = each.outbox
            if box is not None and box.withdraw(ev.ticket):
                return
        self._ignore(ev, "that send already went out or was dropped")

    def _on_close(self, ev: UserClose, link: _Link | None) -> None:
        now = ev.now
        self._pending.clear()
        self._renewing = None
        self._retry_at = self._rotate_at = self._handover_at = None
        for each in (self._link, self._next):
            if each is None:
                continue
            if each.state is State.PREPARING:
                self._links.pop(each.conn_id, None)
                continue
            self._drop_outbox(each)
            each.state = State.CLOSING
            each.close_late_delivery = True
            each.deadline = now + self.config.close_timeout
            self._emit(CloseConnection(conn_id=each.conn_id, code=ev.code, reason=ev.reason))
        # Stores are not told the feed was interrupted: it stops on purpose.
        self._link = self._next = None
        self._state = State.CLOSING
        self._maybe_closed()

    def _maybe_closed(self) -> None:
        if self._state is State.CLOSING and not any(
            link.state is State.CLOSING for link in self._links.values()
        ):
            self._links.clear()
            self._state = State.CLOSED
            self._emit(Closed())

    def _on_url(self, ev: UrlChanged, link: _Link | None) -> None:
        self._url = _check_url(ev.url)

    def _on_http(self, ev: HttpResponse, link: _Link | None) -> None:
        pending = self._pending.pop(ev.request_id, None)
        if pending is None:
            self._ignore(ev, "no such request outstanding (timed out or abandoned)")
            return
        result = HttpResult(status=ev.status, body=ev.body, error=ev.error)
        if pending.kind == "renew":
            self._renewed(pending, result, ev.now)
        else:
            self._fetched(pending, result, ev.now)

    def _fetched(self, pending: _Pending, result: HttpResult, now: float) -> None:
        flow, link = self._flow, pending.link
        assert flow is not None
        assert link is not None
        try:
            step = flow.fetched(
                pending.request, result, url=self._url, token=pending.token, nonce=self._nonce()
            )
        except BottersError as exc:  # WsTokenError, or a ConfigError from the answer
            self._token_failed(link, str(exc), now)
            return
        if isinstance(step, Ticket):
            self._token = step.token or None
            self._token_at = now
            self._open(link, step.url, step.app_ping, now)
            return
        if pending.steps >= _MAX_TOKEN_STEPS:
            self._token_failed(link, "the token flow did not settle", now)
            return
        follow = self._request("fetch", step, now, link)
        follow.steps = pending.steps + 1

    def _token_failed(self, link: _Link, reason: str, now: float) -> None:
        self._token = None
        self._emit(TokenFailed(reason=reason))
        self._fail(link, f"token request failed: {reason}", now, close=False)

    def _renewed(self, pending: _Pending, result: HttpResult, now: float) -> None:
        flow = self._flow
        assert flow is not None
        self._renewing = None
        if pending.token != self._token:
            return  # the token changed meanwhile; this answer is about an old one
        if flow.renewed(result):
            self._token_at = now
            return
        self._emit(TokenFailed(reason=f"token renewal failed: {result.describe()}"))
        self._token = None
        self._request_rotation("token renewal failed", now)

    def _on_rotate(self, ev: Rotate, link: _Link | None) -> None:
        if self._next is not None:
            self._ignore(ev, "a rotation is already under way")
            return
        self._start_rotation(ev.reason, ev.now)

    def _on_rotate_not_open(self, ev: Rotate, link: _Link | None) -> None:
        self._ignore(ev, f"nothing to rotate (session {self._state.value})")

    # -- handlers: connection inputs -------------------------------------------------

    def _on_connected(self, ev: Connected, link: _Link | None) -> None:
        assert link is not None
        now = ev.now
        link.connected_at = link.data_at = link.ctrl_at = link.ping_at = now
        link.app_ping_at = now
        link.deadline = None
        self._emit(Established(conn_id=link.conn_id))
        route, parts, creds = link.route, link.parts, link.creds
        if route is None or parts is None or creds is None or not route.logs_in(parts):
            self._mark_open(link, now)
            return
        try:
            login = build_login(parts, creds, now=self._wall(now), nonce=self._nonce())
        except BottersError as exc:
            self._emit(LoginFailed(conn_id=link.conn_id, reason=f"cannot build the login: {exc}"))
            self._fail(link, "login could not be built", now, close=True, login=True)
            return
        if login is None:  # pragma: no cover - logs_in() said it would log in
            self._mark_open(link, now)
            return
        self._send_frame(link, login.text, now)
        if route.classify_reply is None:
            self._mark_open(link, now)
            return
        link.deadline = now + self.config.login_timeout
        self._set_state(link, State.AUTHENTICATING)

    def _on_connect_failed(self, ev: ConnectFailed | ConnectionLost, link: _Link | None) -> None:
        assert link is not None
        if isinstance(ev, ConnectFailed):
            status = ev.status
            reason = f"connect failed: {ev.reason}" + (f" (HTTP {status})" if status else "")
        else:
            status = None
            reason = f"connection lost during the handshake: {_lost_reason(ev)}"
        self._fail(link, reason, ev.now, close=False, status=status)

    def _on_frame_login(self, ev: FrameReceived, link: _Link | None) -> None:
        assert link is not None
        assert link.route is not None
        classify = link.route.classify_reply
        reply: LoginReply | None = classify(ev.frame) if classify is not None else None
        if reply is None:
            self._on_frame(ev, link)
            return
        link.ctrl_at = ev.now
        if reply.ok:
            self._emit(LoggedIn(conn_id=link.conn_id))
            self._mark_open(link, ev.now)
            return
        self._emit(LoginFailed(conn_id=link.conn_id, reason=reply.reason))
        self._fail(link, f"login rejected: {reply.reason}", ev.now, close=True, login=True)

    def _on_frame(self, ev: FrameReceived, link: _Link | None) -> None:
        assert link is not None
        now, frame = ev.now, ev.frame
        ping = link.app_ping
        if link.pong_due is not None and ping is not None:
            if ping.is_pong(frame):
                link.pong_due = None
                link.ctrl_at = now
                self._emit(DELIVER)
                return
            limit = ping.timeout if ping.timeout is not None else ping.interval
            if now - link.pong_due > limit:
                link.pong_due = None  # stop looking; the dead-peer clock decides
        if link.answer is not None:
            answer = link.answer(frame)
            if answer is not None:
                link.ctrl_at = now
                self._emit(DELIVER)
                self._send_frame(link, answer, now, urgent=True)
                return
        link.data_at = now
        self._emit(DELIVER)
        if link is not self._link or link.state is not State.OPEN:
            return
        if self._idle_since is not None:
            self._idle_since = None
            self._emit(Resumed())
        if self._watch_messages:
            reason = self._rotation_reason(frame, ev.parsed)
            if reason is _TOKEN_EXPIRED:
                self._token = None
            if reason is not None:
                self._request_rotation(reason, now)

    def _rotation_reason(self, frame: Frame, parsed: Any) -> str | None:
        """Why this message calls for a rotation (token expiry, ``rotate_on``), or ``None``."""
        if parsed is NOT_PARSED:
            parsed = json_object(frame)
        flow = self._flow
        if flow is not None and flow.checks_messages and flow.expired(parsed):
            return _TOKEN_EXPIRED
        if self._predicate is not None and self._predicate(parsed):
            return "a message matched rotate_on"
        return None

    def _on_frame_closing(self, ev: FrameReceived, link: _Link | None) -> None:
        assert link is not None
        if link.close_late_delivery:
            self._emit(DELIVER)
        else:
            self._ignore(ev, "the connection was given up")

    def _on_ping(self, ev: ProtocolPing, link: _Link | None) -> None:
        assert link is not None
        link.ctrl_at = ev.now
        self._send_control(link, SendPong(conn_id=link.conn_id, payload=ev.payload), ev.now)

    def _on_pong(self, ev: ProtocolPong, link: _Link | None) -> None:
        assert link is not None
        link.ctrl_at = ev.now
        if ev.payload == link.ping_payload:
            link.ping_payload = None

    def _on_lost(self, ev: ConnectionLost, link: _Link | None) -> None:
        assert link is not None
        self._fail(link, _lost_reason(ev), ev.now, close=False)

    def _on_lost_closing(self, ev: ConnectionLost, link: _Link | None) -> None:
        assert link is not None
        self._links.pop(link.conn_id, None)
        self._maybe_closed()

    def _on_stale(self, ev: Event, link: _Link | None) -> None:
        self._ignore(ev, "unknown or finished connection")

    def _on_not_opened(self, ev: Event, link: _Link | None) -> None:
        self._ignore(ev, "the connection has not been opened yet")

    def _on_too_early(self, ev: Event, link: _Link | None) -> None:
        self._ignore(ev, "the handshake has not completed")

    def _on_duplicate(self, ev: Event, link: _Link | None) -> None:
        self._ignore(ev, "the handshake already completed")

    def _on_closing(self, ev: Event, link: _Link | None) -> None:
        self._ignore(ev, "the connection is closing")

    def _on_session_closing(self, ev: Event, link: _Link | None) -> None:
        self._ignore(ev, f"the session is {self._state.value}")

    # -- timers ------------------------------------------------------------------------

    def _timers(self) -> _Timers:
        """Every pending wake-up as ``(when, action)``; :attr:`deadline` is their minimum."""
        if self._retry_at is not None:
            yield self._retry_at, self._begin_attempt
        for pending in self._pending.values():
            yield pending.deadline, _bind(self._http_timed_out, pending)
        for each in self._links.values():
            yield from self._link_timers(each)
        link = self._link
        if link is None or link.state not in _CONNECTED:
            return
        flow = self._flow
        if flow is not None and self._token is not None and self._renewing is None:
            interval = flow.renew_interval
            if interval is not None:
                yield self._token_at + interval, self._renew
        if link.state is not State.OPEN:
            return
        idle = self.config.idle_timeout
        if idle is not None and self._idle_since is None:
            yield link.data_at + idle, self._went_idle
        if self._handover_at is not None:
            yield self._handover_at, self._handover
        if self._next is None:
            if self._rotate_at is not None:
                yield self._rotate_at, self._retry_rotation
            elif self.config.max_age is not None:
                yield link.connected_at + self.config.max_age, self._too_old

    def _link_timers(self, link: _Link) -> _Timers:
        state = link.state
        if link.deadline is not None:
            if state is State.CONNECTING:
                yield link.deadline, _bind(self._handshake_timed_out, link)
            elif state is State.AUTHENTICATING:
                yield link.deadline, _bind(self._login_timed_out, link)
            elif state is State.CLOSING:
                yield link.deadline, _bind(self._close_timed_out, link)
        if state not in _CONNECTED:
            return
        dead = self._dead_peer_timeout(link)
        if dead is not None:
            yield link.rx_at + dead, _bind(self._dead_peer, link)
        heartbeat = self.config.heartbeat
        if heartbeat is not None:
            last = link.rx_at if link.rx_at > link.ping_at else link.ping_at
            yield last + heartbeat, _bind(self._send_ping, link)
        ping = link.app_ping
        if ping is not None:
            yield link.app_ping_at + ping.interval, _bind(self._send_app_ping, link)
        box = link.outbox
        if box is not None and box.waiting:
            yield box.free_at(), _bind(self._release, link)

    def _http_timed_out(self, pending: _Pending, now: float) -> None:
        del self._pending[pending.request_id]
        if pending.kind == "renew":
            self._renewed(pending, HttpResult(status=None, error="timed out"), now)
            return
        assert pending.link is not None
        self._token_failed(pending.link, "timed out", now)

    def _handshake_timed_out(self, link: _Link, now: float) -> None:
        timeout = self.config.connect_timeout
        self._fail(link, f"handshake took longer than {timeout:g} s", now, close=True)

    def _login_timed_out(self, link: _Link, now: float) -> None:
        reason = f"no login reply within {self.config.login_timeout:g} s"
        self._emit(LoginFailed(conn_id=link.conn_id, reason=reason))
        self._fail(link, reason, now, close=True, login=True)

    def _close_timed_out(self, link: _Link, now: float) -> None:
        self._links.pop(link.conn_id, None)
        self._maybe_closed()

    def _dead_peer(self, link: _Link, now: float) -> None:
        silence = now - link.rx_at
        self._fail(link, f"nothing received for {silence:g} s (dead peer)", now, close=True)

    def _send_ping(self, link: _Link, now: float) -> None:
        self._ping_seq += 1
        payload = b"%d" % self._ping_seq
        link.ping_at = now
        link.ping_payload = payload
        self._send_control(link, SendPing(conn_id=link.conn_id, payload=payload), now)

    def _send_app_ping(self, link: _Link, now: float) -> None:
        ping = link.app_ping
        assert ping is not None
        link.app_ping_at = now
        if ping.pong is not None:
            link.pong_due = now
        payload = ping.payload(now=self._wall(now), nonce=self._nonce())
        self._send_frame(link, payload, now, urgent=True)

    def _renew(self, now: float) -> None:
        flow, token = self._flow, self._token
        assert flow is not None
        assert token is not None
        request = flow.renew(token)
        if request is None:
            self._token_at = now  # nothing to do; check again an interval later
            return
        self._renewing = self._request("renew", request, now, None)

    def _went_idle(self, now: float) -> None:
        link = self._link
        assert link is not None
        self._idle_since = link.data_at
        self._emit(Idle(since=link.data_at))

    def _retry_rotation(self, now: float) -> None:
        self._start_rotation(self._rotate_reason, now)

    def _too_old(self, now: float) -> None:
        self._start_rotation("maximum connection age reached", now)


def _bind(fn: Callable[[Any, float], None], arg: Any) -> Callable[[float], None]:
    return lambda now: fn(arg, now)


def _host(url: str) -> str:
    try:
        return _split_url(url).host
    except BottersError:
        return "?"


def _lost_reason(ev: ConnectionLost) -> str:
    how = "closed" if ev.clean else "dropped"
    code = f" with code {ev.code}" if ev.code is not None else ""
    detail = f": {ev.reason}" if ev.reason else ""
    return f"connection {how}{code}{detail}"


_CONNECTION_EVENTS: Final = frozenset(
    {Connected, ConnectFailed, FrameReceived, ProtocolPing, ProtocolPong, ConnectionLost}
)
_S = State
_on = Session

_TABLE: Final[dict[tuple[State, type[Event]], _Handler]] = {
    # -- inputs about one connection: dispatched on that connection's state.
    # IDLE, BACKOFF and CLOSED never describe a connection: such inputs are stale.
    **{
        (state, kind): _on._on_stale
        for state in (_S.IDLE, _S.BACKOFF, _S.CLOSED)
        for kind in _CONNECTION_EVENTS
    },
    **{(_S.PREPARING, kind): _on._on_not_opened for kind in _CONNECTION_EVENTS},
    (_S.CONNECTING, Connected): _on._on_connected,
    (_S.CONNECTING, ConnectFailed): _on._on_connect_failed,
    (_S.CONNECTING, FrameReceived): _on._on_too_early,
    (_S.CONNECTING, ProtocolPing): _on._on_too_early,
    (_S.CONNECTING, ProtocolPong): _on._on_too_early,
    (_S.CONNECTING, ConnectionLost): _on._on_connect_failed,
    (_S.AUTHENTICATING, Connected): _on._on_duplicate,
    (_S.AUTHENTICATING, ConnectFailed): _on._on_duplicate,
    (_S.AUTHENTICATING, FrameReceived): _on._on_frame_login,
    (_S.AUTHENTICATING, ProtocolPing): _on._on_ping,
    (_S.AUTHENTICATING, ProtocolPong): _on._on_pong,
    (_S.AUTHENTICATING, ConnectionLost): _on._on_lost,
    (_S.OPEN, Connected): _on._on_duplicate,
    (_S.OPEN, ConnectFailed): _on._on_duplicate,
    (_S.OPEN, FrameReceived): _on._on_frame,
    (_S.OPEN, ProtocolPing): _on._on_ping,
    (_S.OPEN, ProtocolPong): _on._on_pong,
    (_S.OPEN, ConnectionLost): _on._on_lost,
    (_S.CLOSING, Connected): _on._on_closing,
    (_S.CLOSING, ConnectFailed): _on._on_lost_closing,
    (_S.CLOSING, FrameReceived): _on._on_frame_closing,
    (_S.CLOSING, ProtocolPing): _on._on_closing,
    (_S.CLOSING, ProtocolPong): _on._on_closing,
    (_S.CLOSING, ConnectionLost): _on._on_lost_closing,
    # -- session inputs: dispatched on the session's state.
    (_S.IDLE, Start): _on._on_start,
    **{(state, Start): _on._on_start_again for state in State if state is not _S.IDLE},
    **{(state, Timer): _on._on_timer for state in State},
    (_S.OPEN, UserSend): _on._on_send,
    **{(state, UserSend): _on._on_send_not_open for state in State if state is not _S.OPEN},
    **{
        (state, UserClose): _on._on_close for state in State if state not in (_S.CLOSING, _S.CLOSED)
    },
    (_S.CLOSING, UserClose): _on._on_session_closing,
    (_S.CLOSED, UserClose): _on._on_session_closing,
    **{(state, UrlChanged): _on._on_url for state in State},
    **{(state, HttpResponse): _on._on_http for state in State},
    **{(state, WithdrawSend): _on._on_withdraw for state in State},
    (_S.OPEN, Rotate): _on._on_rotate,
    **{(state, Rotate): _on._on_rotate_not_open for state in State if state is not _S.OPEN},
}
"""Every ``(state, input type)`` pair and its handler."""
