"""What goes into the session machine (inputs) and what comes out (actions).

Inputs are frozen, slotted, keyword-only dataclasses; each carries ``now``, the
adapter's **monotonic** clock in seconds (``loop.time()``,
``trio.current_time()``). Inputs that may make the machine sign something
(a login, a replayed subscription, an app-level ping payload) also accept
``wall``, the **wall** clock (``time.time()``); see :class:`Session` for why the
two are separate.

Actions are frozen, slotted dataclasses too, with one exception made for speed:
:data:`DELIVER`, a fieldless singleton meaning "deliver the frame you just
passed in to the user's handlers". The machine never buffers, reorders or
rewrites frames, so the frame to deliver is always the one given to that call;
not copying it into a new object keeps the receive hot path allocation-free.

Observable events (connected, logged in, backing off...) are actions too: every
subclass of :class:`Report`. Adapters log them and may expose them to users.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

from botters.protocol._request import Request
from botters.protocol._ws import Frame

__all__ = [
    "DELIVER",
    "DELIVER_ONLY",
    "NOT_PARSED",
    "Action",
    "BackingOff",
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
    "HttpRequest",
    "HttpResponse",
    "Idle",
    "Ignored",
    "LoggedIn",
    "LoginFailed",
    "NotParsed",
    "OpenConnection",
    "Opened",
    "OutgoingData",
    "ProtocolPing",
    "ProtocolPong",
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
    "Start",
    "Timer",
    "TokenFailed",
    "Unsent",
    "UrlChanged",
    "UserClose",
    "UserSend",
    "WithdrawSend",
]

OutgoingData: TypeAlias = str | bytes | Mapping[str, Any]
"""A message the user sends: text, binary, or a JSON object (signed, then sent as text)."""


class NotParsed:
    """The type of :data:`NOT_PARSED`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_PARSED"

    def __reduce__(self) -> str:
        return "NOT_PARSED"


NOT_PARSED: Final = NotParsed()
"""Passed as ``parsed`` when the adapter did not (or could not) parse the frame as JSON."""


# -- inputs ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base class of every input."""

    now: float
    """The adapter's monotonic clock, seconds."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Start(Event):
    """Begin: connect (or fetch a token first) right away."""

    wall: float
    """Wall-clock seconds (``time.time()``) at the same instant as ``now``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Connected(Event):
    """The WebSocket handshake of ``conn_id`` completed."""

    conn_id: int
    wall: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectFailed(Event):
    """Opening ``conn_id`` failed (DNS, TCP, TLS, or a refused handshake)."""

    conn_id: int
    reason: str
    status: int | None = None
    """The HTTP status when the server refused the upgrade (403, 429, 503...)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameReceived(Event):
    """A text or binary message arrived on ``conn_id``."""

    conn_id: int
    frame: Frame
    parsed: Any = NOT_PARSED
    """The frame parsed as JSON by the adapter, or :data:`NOT_PARSED`."""
    wall: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolPing(Event):
    """A WebSocket PING frame arrived on ``conn_id``."""

    conn_id: int
    payload: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolPong(Event):
    """A WebSocket PONG frame arrived on ``conn_id``."""

    conn_id: int
    payload: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionLost(Event):
    """``conn_id`` is gone: closed by either side, reset, or torn down by the adapter."""

    conn_id: int
    code: int | None = None
    """The WebSocket close code, when a close frame was received."""
    reason: str = ""
    clean: bool = False
    """True for a completed closing handshake."""
    wall: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Timer(Event):
    """The deadline the machine named has been reached (calling early is harmless)."""

    wall: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserSend(Event):
    """A one-off message from the user (``current_ws.send_*``): not replayed on reconnect."""

    data: OutgoingData
    conn_id: int | None = None
    """The connection the user's handle refers to; ``None`` for the current one."""
    wall: float | None = None
    ticket: int | None = None
    """The adapter's id for this send, echoed in the :class:`SendFrame` that
    carries it out (or in :class:`Unsent`), so an awaited send can complete once
    its frame is written; ``None`` when nobody waits (``send_json_nowait``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WithdrawSend(Event):
    """The sender of ``ticket`` gave up waiting (cancelled): drop it if it is still queued.

    A frame already released (its :class:`SendFrame` emitted) is not taken back.
    """

    ticket: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UserClose(Event):
    """The user closes the session for good."""

    code: int = 1000
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UrlChanged(Event):
    """The user set a new URL; it is used from the next connect on."""

    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpResponse(Event):
    """The answer to an :class:`HttpRequest` (or why there is none)."""

    request_id: int
    status: int | None = None
    body: Any = None
    """The JSON body, parsed; ``None`` when it was not JSON."""
    error: str | None = None
    """Set when no HTTP answer was received (DNS, TLS, timeout...)."""
    wall: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Rotate(Event):
    """The user asks for a make-before-break reconnect now."""

    reason: str = "requested"
    wall: float | None = None


# -- actions ------------------------------------------------------------------------


class Action:
    """Base class of everything the machine asks the adapter to do or know."""

    __slots__ = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenConnection(Action):
    """Open a WebSocket to ``url``; then report :class:`Connected` or :class:`ConnectFailed`."""

    conn_id: int
    url: str = field(repr=False)
    """May carry a token (KuCoin, GMO, listenKey): never log it."""
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SendFrame(Action):
    """Send ``data`` on ``conn_id``: ``str`` as a text frame, ``bytes`` as binary."""

    conn_id: int
    data: Frame = field(repr=False)
    ticket: int | None = None
    """The :attr:`UserSend.ticket` this frame carries out, if any."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsent(Action):
    """Frames that waited for the send pacing will never go: ``conn_id`` is gone.

    The adapter fails the waiters of ``tickets`` (awaited user sends) and may
    log ``untracked``, the user or store sends nobody waits for. The machine's
    own frames (login, keepalive, initial messages) are not listed: the next
    connection makes them again.
    """

    conn_id: int
    tickets: tuple[int, ...] = ()
    untracked: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SendPing(Action):
    """Send a WebSocket PING frame."""

    conn_id: int
    payload: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class SendPong(Action):
    """Answer a WebSocket PING frame."""

    conn_id: int
    payload: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseConnection(Action):
    """Close ``conn_id`` (or abandon it while it is still being opened).

    The adapter then reports :class:`ConnectionLost` for it; if it never does,
    the machine forgets the connection after ``close_timeout``.
    """

    conn_id: int
    code: int = 1000
    reason: str = ""


class Deliver(Action):
    """Deliver the frame passed to this call to the user's handlers (see :data:`DELIVER`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DELIVER"

    def __reduce__(self) -> str:
        return "DELIVER"


DELIVER: Final = Deliver()
"""The one :class:`Deliver` instance."""

DELIVER_ONLY: Final[tuple[Action, ...]] = (DELIVER,)
"""What the receive hot path returns: compare with ``is`` to skip all other work."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedInterrupted(Action):
    """Messages may have been lost: call ``feed_interrupted()`` on the attached stores.

    Emitted when a connection whose subscriptions were sent is lost, always
    before anything is sent on the next connection, so stores resynchronise
    from the snapshots the replayed subscriptions bring.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest(Action):
    """Perform ``request`` and report the answer with :class:`HttpResponse`.

    ``request`` is **unsigned**: send it the way the client sends any request,
    so the REST signer registry signs it when the client has credentials for
    its host (KuCoin ``bullet-private``, GMO ``ws-auth``, listenKeys).
    """

    request_id: int
    request: Request = field(repr=False)


# -- reports (observable events) --------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Report(Action):
    """Base class of observable events: nothing to do but log or expose them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Connecting(Report):
    """A connection attempt starts (``attempt`` counts failures since the last stable one)."""

    conn_id: int
    host: str
    attempt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Established(Report):
    """The handshake of ``conn_id`` completed."""

    conn_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedIn(Report):
    """The exchange accepted the login on ``conn_id``."""

    conn_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginFailed(Report):
    """The exchange rejected the login on ``conn_id``, or did not answer in time."""

    conn_id: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Opened(Report):
    """``conn_id`` is open: logged in if needed, initial messages sent (or queued, paced)."""

    conn_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Disconnected(Report):
    """``conn_id`` was lost or given up."""

    conn_id: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenFailed(Report):
    """The token request before a connect failed (HTTP error or unusable answer)."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BackingOff(Report):
    """The next attempt starts in ``delay`` seconds (attempt ``attempt``)."""

    delay: float
    attempt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Idle(Report):
    """No data frame since ``since`` (monotonic seconds) for ``idle_timeout`` seconds."""

    since: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Resumed(Report):
    """Data frames arrive again after :class:`Idle`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RotationStarted(Report):
    """A make-before-break reconnect starts, opening ``conn_id`` beside the current one."""

    conn_id: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RotationFailed(Report):
    """The replacement connection failed; the current one stays, a retry follows."""

    reason: str
    retry_in: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Rotated(Report):
    """``new`` replaced ``old`` (``old`` is being closed; it may still deliver a few frames)."""

    old: int
    new: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SendBacklog(Report):
    """Frames wait for ``conn_id``'s send pacing; sending them all takes about ``seconds``.

    Reported once per backlog (again only after the queue emptied), when it
    would take longer than the machine's threshold to drain.
    """

    conn_id: int
    queued: int
    seconds: float
    limit: str
    """The pacing rule, e.g. ``"5 messages per 1 s"``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Closed(Report):
    """The session is closed for good."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Ignored(Report):
    """An input had nothing to act on (a stale connection id, a late answer...)."""

    event: str
    reason: str
