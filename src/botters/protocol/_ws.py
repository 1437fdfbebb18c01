"""WebSocket knowledge per exchange: logins, app-level pings, outgoing-message signing.

Theory of operation
-------------------
The session state machine (and nothing else) decides *when* to log in, ping or
sign; this module only answers *what* to send for a given URL, and how to read
the exchange's answer. Every answer is pure: time, nonces and ids are
arguments, and nothing here does I/O.

Each exchange module ``botters.protocol.exchanges.<name>._ws`` declares its
:class:`WsRoute` values in ``WS_ROUTES``. The registry maps the **exact**
``wss`` host to a route; nothing else is consulted:

* only ``wss`` URLs are registered, so a plain ``ws://`` URL never logs in,
  never gets an exchange's app-level ping and never has a message signed;
* the host must equal a registered host, so ``stream.bybit.com.evil.example``
  and ``evilstream.bybit.com`` get nothing;
* the port is ignored (it is not part of an exchange's identity).

The modules are imported on first use, by the names in :data:`WS_EXCHANGES`
(kept here rather than in :mod:`botters.protocol.exchanges`, whose package
files belong to the REST side), so ``import botters.protocol`` stays cheap.

What the session machine consumes:

* :func:`ws_route_for` / :func:`resolve_ws`: the route and credentials for a URL.
* :func:`build_login`: the exact login message to send after every (re)connect,
  or ``None`` when the URL needs none (public paths never log in).
* :func:`classify_login_reply`: while waiting for the login reply, whether a
  received frame *is* that reply (and if so, accepted or rejected). ``None``
  means "not the login reply": the frame must be delivered to the user's
  handlers as usual. pybotters swallowed such frames (its quirk 8.5).
* :func:`app_ping_for` and :meth:`AppPing.payload` / :meth:`AppPing.is_pong`:
  the exchange's application-level keepalive, if it has one.
* :func:`answer_server_ping`: the answer to an exchange's own app-level ping
  (Socket.IO v4's ``2``, BitTrade's ``{"ping": n}``), which must be sent back.
* :func:`sign_outgoing`: signs a user's message at send time, on a copy, freshly
  on every reconnect (pybotters signed in place and broke re-signing; quirk 8.8).
* :func:`pacing_for`: the exchange's documented limit on how fast a client may
  send on one connection (:class:`~botters.protocol._pacing.Pacing`), if any.
* :func:`request_id_field`: the name of the field a request's id goes in and
  its reply echoes (``id``; Bybit's ``reqId``/``req_id``), for
  ``WebSocketApp.request`` (:class:`~botters.protocol.session.PendingReplies`).

Design notes
------------
* A login is a :class:`LoginMessage` holding both the ``dict`` and the exact JSON
  text to send. None of the login schemes signs the JSON text itself (each signs
  a separate string), but sending ``text`` keeps "what was built is what is
  sent" true byte for byte, and its ``repr`` never shows a key, signature or
  passphrase.
* Replies are classified from the raw frame (``str`` or ``bytes``), not from
  parsed JSON, because two exchanges answer in frames that are not plain JSON
  text: OKX's keepalive answer is the bare text ``pong`` and OKJ (okcoin.jp)
  sends raw-deflate binary frames.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol, TypeAlias

from ._credentials import Apis, Credentials, parse_apis
from ._errors import BottersError, ConfigError
from ._pacing import Pacing
from ._request import URLParts, _split_url

__all__ = [
    "WS_EXCHANGES",
    "AppPing",
    "Frame",
    "LoginBuilder",
    "LoginMessage",
    "LoginReply",
    "OutgoingSigner",
    "WsRoute",
    "WsTokenError",
    "answer_server_ping",
    "app_ping_for",
    "build_login",
    "classify_login_reply",
    "dumps",
    "json_object",
    "pacing_for",
    "path_segments",
    "reason_text",
    "registered_ws_hosts",
    "request_id_field",
    "resolve_ws",
    "sign_outgoing",
    "ws_route_for",
]

WS_EXCHANGES: Final = (
    "binance",
    "bitbank",
    "bitflyer",
    "bitget",
    "bittrade",
    "bybit",
    "coincheck",
    "gmocoin",
    "kucoin",
    "mexc",
    "okj",
    "okx",
    "phemex",
)
"""Exchanges whose ``_ws`` module declares ``WS_ROUTES``.

BitMEX is not here: its stream is authenticated by signed handshake headers,
which the REST registry already does for its ``wss`` hosts. Hyperliquid is out
of scope for now.
"""

Frame: TypeAlias = str | bytes
"""A received WebSocket message: ``str`` for a text frame, ``bytes`` for binary."""

_MAX_REASON: Final = 200


class WsTokenError(BottersError):
    """A token endpoint's answer (KuCoin bullet, GMO ws-auth) cannot be used.

    The message says what was wrong (a code, a missing field) and never contains
    the token itself, which grants access to a private stream.
    """


# -- shared helpers for the exchange modules ------------------------------------


def dumps(data: Any) -> str:
    """Compact JSON text of ``data``, non-ASCII kept as UTF-8 (what is sent)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def json_object(frame: Frame) -> dict[str, Any] | None:
    r"""``frame`` parsed as a JSON object, or ``None`` if it is anything else.

    Keepalive answers such as OKX's ``pong`` and Socket.IO's ``3`` are not JSON
    objects; they are not errors either, so they simply give ``None``.

    >>> json_object('{"op": "auth"}')
    {'op': 'auth'}
    >>> json_object("pong") is None, json_object(b"\xff") is None, json_object("[1]") is None
    (True, True, True)
    """
    try:
        obj = json.loads(frame)
    except (ValueError, TypeError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    return obj if isinstance(obj, dict) else None


def path_segments(parts: URLParts) -> tuple[str, ...]:
    """The non-empty ``/``-separated segments of the URL path.

    >>> from botters.protocol._request import _split_url
    >>> path_segments(_split_url("wss://stream.bybit.com/v5/public/spot"))
    ('v5', 'public', 'spot')
    """
    return tuple(s for s in parts.path.split("/") if s)


def reason_text(value: object) -> str:
    """A short, single-line reason for a log line, from an exchange's error field."""
    text = value if isinstance(value, str) else dumps(value)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"


# -- value types -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AppPing:
    """An exchange's application-level keepalive: what to send, how often, what answers.

    Exchanges that drop a connection unless the client sends its own ping
    *message* (not a WebSocket PING frame) document the payload and a maximum
    interval; the session machine sends :meth:`payload` every :attr:`interval`
    seconds and may treat missing answers (:meth:`is_pong`) as a dead peer.

    Some payloads carry the time (BitTrade ``{"pong": <ms>}``) or an id (KuCoin
    ``{"id": ..., "type": "ping"}``), so the payload is built per send from
    ``now`` and ``nonce`` rather than stored.

    A ``str`` payload goes out as a text frame, ``bytes`` as a binary frame.
    """

    interval: float
    """Seconds between two pings."""
    build: Callable[[float, str], Frame] = field(repr=False)
    """``(now, nonce) -> payload``."""
    pong: Callable[[Frame], bool] | None = field(default=None, repr=False)
    """Recognises the exchange's answer; ``None`` when the exchange sends none."""
    timeout: float | None = None
    """Seconds to wait for the answer before the peer counts as dead, when the
    exchange documents one (KuCoin's ``pingTimeout``); ``None`` leaves it to the
    session's own policy."""

    def payload(self, *, now: float, nonce: str = "") -> Frame:
        """The frame to send now.

        Args:
            now: Wall-clock seconds (``time.time()``), for payloads that carry it.
            nonce: A fresh random id from the adapter, for payloads that carry one.
        """
        return self.build(now, nonce)

    def is_pong(self, frame: Frame) -> bool:
        """Whether ``frame`` is the exchange's answer to this ping.

        Such frames still reach the user's handlers (pybotters delivered them
        too); this only tells the session that the peer is alive.
        """
        return self.pong is not None and self.pong(frame)

    @classmethod
    def constant(
        cls,
        payload: Frame,
        *,
        interval: float,
        pong: Callable[[Frame], bool] | None = None,
        timeout: float | None = None,
    ) -> AppPing:
        """A ping whose payload never changes (``ping``, ``{"op":"ping"}``, ``2``).

        >>> p = AppPing.constant("ping", interval=15.0, pong=lambda f: f == "pong")
        >>> p.payload(now=0.0), p.is_pong("pong"), p.is_pong('{"event":"pong"}')
        ('ping', True, False)
        """
        return cls(interval=interval, build=lambda now, nonce: payload, pong=pong, timeout=timeout)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginMessage:
    """The exact login message for one connection.

    Send :attr:`text` as a text frame. :attr:`data` is the same message as a
    ``dict``, for tests and for adapters that must build their own frame. The
    ``repr`` shows neither: a login carries the API key, a signature and, for
    OKX/OKJ/Bitget, the passphrase in clear.
    """

    exchange: str
    """The exchange that asked for it (``"okx"``)."""
    data: dict[str, Any] = field(repr=False)
    """The message as a ``dict``."""
    text: str = field(repr=False)
    """The JSON text to send, byte for byte."""

    def __repr__(self) -> str:
        return f"LoginMessage(exchange={self.exchange!r}, <{len(self.text)} characters hidden>)"

    __str__ = __repr__

    @classmethod
    def of(cls, exchange: str, data: dict[str, Any]) -> LoginMessage:
        """Build one from its ``dict``, serialising it compactly."""
        return cls(exchange=exchange, data=data, text=dumps(data))


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginReply:
    """The exchange's answer to a login: accepted or rejected, and why."""

    status: Literal["ok", "rejected"]
    """``"ok"`` when the exchange accepted the login."""
    reason: str = ""
    """For a rejection, the exchange's own error text (code and message),
    shortened to one line; safe to log (never contains credentials)."""

    @property
    def ok(self) -> bool:
        """True when the login was accepted."""
        return self.status == "ok"

    @classmethod
    def accepted(cls) -> LoginReply:
        """An accepted login."""
        return cls(status="ok")

    @classmethod
    def rejected(cls, *reasons: object) -> LoginReply:
        """A rejected login; ``reasons`` (codes, messages) are joined for the log.

        >>> LoginReply.rejected(10004, "invalid  sign").reason
        '10004 invalid sign'
        """
        text = " ".join(reason_text(r) for r in reasons if r not in (None, ""))
        return cls(status="rejected", reason=reason_text(text or "no reason given"))


class LoginBuilder(Protocol):
    """Builds an exchange's login ``dict`` for one connection (pure)."""

    def __call__(
        self, parts: URLParts, credentials: Credentials, /, *, now: float, nonce: str
    ) -> dict[str, Any]: ...


class OutgoingSigner(Protocol):
    """Returns a signed **copy** of a message the user sends, or the message itself.

    It must never modify ``message`` (or anything inside it): the session keeps
    the user's original and signs it again, freshly, after every reconnect.
    """

    def __call__(
        self,
        parts: URLParts,
        message: Mapping[str, Any],
        credentials: Credentials,
        /,
        *,
        now: float,
    ) -> Mapping[str, Any]: ...


def _always(parts: URLParts) -> bool:
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class WsRoute:
    """What botters knows about one exchange's WebSocket hosts.

    Every field but ``exchange``, ``hosts`` and ``api_name`` is optional: a host
    may be registered only so the session knows it is a known exchange that
    needs nothing special (GMO Coin, Binance market streams).
    """

    exchange: str
    """The exchange module that owns the route (``"okx"``)."""
    hosts: tuple[str, ...]
    """Exact, lower-case ``wss`` host names."""
    api_name: str | Callable[[URLParts], str]
    """The ``apis`` name whose credentials log in / sign, or a function of the URL."""
    login: LoginBuilder | None = field(default=None, repr=False)
    """Builds the login message; ``None`` when the exchange has no login message."""
    needs_login: Callable[[URLParts], bool] = field(default=_always, repr=False)
    """Whether a connection to this URL logs in (public paths do not)."""
    classify_reply: Callable[[Frame], LoginReply | None] | None = field(default=None, repr=False)
    """Recognises the login reply; see :func:`classify_login_reply`."""
    app_ping: AppPing | Callable[[URLParts], AppPing | None] | None = None
    """The keepalive, or a function choosing it by URL (BitTrade pings per path)."""
    sign_outgoing: OutgoingSigner | None = field(default=None, repr=False)
    """Signs messages the user sends, where the exchange wants them signed."""
    answer_ping: Callable[[URLParts, Frame], Frame | None] | None = field(default=None, repr=False)
    """Answers the exchange's own app-level pings; see :func:`answer_server_ping`."""
    pacing: Pacing | Callable[[URLParts], Pacing | None] | None = None
    """The documented per-connection send limit, or a function choosing it by URL
    (Binance's spot and futures hosts differ); ``None`` where none is documented."""
    request_id: str | Callable[[URLParts], str] = "id"
    """The field a request's id goes in, which its reply echoes (or a function
    choosing it by URL: Bybit's trade stream and its other streams differ)."""

    def name_for(self, parts: URLParts) -> str:
        """The API name whose credentials serve a connection to ``parts``."""
        name = self.api_name
        return name if isinstance(name, str) else name(parts)

    def ping_for(self, parts: URLParts) -> AppPing | None:
        """The keepalive for a connection to ``parts``, if the exchange wants one."""
        ping = self.app_ping
        if ping is None or isinstance(ping, AppPing):
            return ping
        return ping(parts)

    def pacing_for(self, parts: URLParts) -> Pacing | None:
        """The send limit of a connection to ``parts``, if the exchange documents one."""
        pacing = self.pacing
        if pacing is None or isinstance(pacing, Pacing):
            return pacing
        return pacing(parts)

    def request_id_for(self, parts: URLParts) -> str:
        """The id field of requests on a connection to ``parts``."""
        field_name = self.request_id
        return field_name if isinstance(field_name, str) else field_name(parts)

    def logs_in(self, parts: URLParts) -> bool:
        """Whether a connection to ``parts`` sends a login message (given credentials)."""
        return self.login is not None and self.needs_login(parts)


# -- the registry --------------------------------------------------------------------

_TABLE: dict[str, WsRoute] = {}


def _table() -> dict[str, WsRoute]:
    if not _TABLE:
        table: dict[str, WsRoute] = {}
        for name in WS_EXCHANGES:
            module = importlib.import_module(f"botters.protocol.exchanges.{name}._ws")
            routes: Iterable[WsRoute] = module.WS_ROUTES
            for route in routes:
                for host in route.hosts:
                    if host != host.lower() or not host:
                        raise AssertionError(f"{name}: WebSocket hosts must be lower-case")
                    if host in table:
                        raise AssertionError(f"{host} registered twice for WebSockets")
                    table[host] = route
        _TABLE.update(table)
    return _TABLE


def _parts(url: str | URLParts) -> URLParts | None:
    if isinstance(url, URLParts):
        return url
    try:
        return _split_url(url)
    except ConfigError:
        return None


def _lookup(url: str | URLParts) -> tuple[WsRoute, URLParts] | None:
    parts = _parts(url)
    if parts is None or parts.scheme != "wss":
        return None
    route = _table().get(parts.host)
    return None if route is None else (route, parts)


def ws_route_for(url: str | URLParts) -> WsRoute | None:
    """The route for ``url``'s exact ``wss`` host, or ``None``.

    ``None`` for ``ws://`` (never sent credentials), for hosts botters does not
    know, for look-alikes of known hosts and for strings that are not URLs.

    >>> ws_route_for("wss://stream.bybit.com/v5/private").exchange
    'bybit'
    >>> ws_route_for("ws://stream.bybit.com/v5/private") is None
    True
    >>> ws_route_for("wss://stream.bybit.com.evil.example/v5/private") is None
    True
    """
    found = _lookup(url)
    return None if found is None else found[0]


def registered_ws_hosts() -> Mapping[str, WsRoute]:
    """Every ``wss`` host botters knows, with its route (a read-only copy)."""
    return dict(_table())


def _as_apis(apis: Apis | Mapping[str, object]) -> Apis:
    return apis if isinstance(apis, Apis) else parse_apis(apis)


def resolve_ws(
    url: str | URLParts, apis: Apis | Mapping[str, object]
) -> tuple[WsRoute, Credentials] | None:
    """The route for ``url`` and the credentials it would use, or ``None``.

    ``None`` when the host is not a registered ``wss`` host or ``apis`` has no
    entry for the route's API name (the connection then runs unauthenticated,
    as in pybotters).
    """
    found = _lookup(url)
    if found is None:
        return None
    route, parts = found
    creds = _as_apis(apis).get(route.name_for(parts))
    return None if creds is None else (route, creds)


def build_login(
    url: str | URLParts, credentials: Credentials, *, now: float, nonce: str = ""
) -> LoginMessage | None:
    """The login message to send right after connecting to ``url``, or ``None``.

    Call it again on every reconnect: each login carries a fresh timestamp.
    ``None`` means no login is sent: the host is unknown or not ``wss``, the
    exchange authenticates another way (token in the URL, signed handshake), or
    the path is public (Bybit, Bitget and OKX ``.../public`` paths; pybotters
    logged in to OKX's public endpoint, its quirk 8.13).

    Args:
        url: The connection URL.
        credentials: The credentials for the route's API name (see
            :func:`resolve_ws`).
        now: Wall-clock seconds (``time.time()``).
        nonce: A fresh random string from the adapter (bitFlyer requires 16 to
            255 characters; others ignore it).

    Raises:
        ConfigError: The exchange needs a nonce and ``nonce`` is unusable.
    """
    found = _lookup(url)
    if found is None:
        return None
    route, parts = found
    if route.login is None or not route.needs_login(parts):
        return None
    data = route.login(parts, credentials, now=now, nonce=nonce)
    return LoginMessage.of(route.exchange, data)


def classify_login_reply(url: str | URLParts, frame: Frame) -> LoginReply | None:
    """Whether ``frame``, received while waiting to log in to ``url``, is the login reply.

    Returns a :class:`LoginReply` (accepted or rejected, with the exchange's
    reason) when it is, and ``None`` for every other frame, which must then be
    delivered to the user's handlers as usual. Never raises on odd input: a
    frame that is not JSON is simply not the reply.

    Only meaningful between sending :func:`build_login`'s message and getting
    its reply: exchanges that answer errors generically (OKX's ``event: error``)
    cannot say which request an error belongs to, and the login is the only
    request in flight then.
    """
    route = ws_route_for(url)
    if route is None or route.classify_reply is None:
        return None
    return route.classify_reply(frame)


def app_ping_for(url: str | URLParts) -> AppPing | None:
    """The app-level keepalive for a connection to ``url``, or ``None``.

    ``None`` means the exchange needs only WebSocket PING/PONG frames, which
    the adapters' WebSocket libraries answer themselves.
    """
    found = _lookup(url)
    return None if found is None else found[0].ping_for(found[1])


def pacing_for(url: str | URLParts) -> Pacing | None:
    """The documented limit on how fast a client may send on one connection to ``url``.

    ``None`` for hosts botters does not know, for ``ws://`` URLs and where the
    exchange documents no per-connection limit. The session machine applies
    it unless told otherwise (``SessionConfig(pacing=...)``).

    >>> print(pacing_for("wss://stream.binance.com:9443/ws"))
    5 messages per 1 s
    >>> pacing_for("wss://stream.bybit.com/v5/public/linear") is None
    True
    """
    found = _lookup(url)
    return None if found is None else found[0].pacing_for(found[1])


def request_id_field(url: str | URLParts) -> str:
    """The field a request on ``url`` carries its id in, and its reply echoes.

    ``"id"`` for hosts botters does not know and for most that it does
    (Binance's WebSocket API, OKX); Bybit names it ``reqId`` on its trade
    stream and ``req_id`` elsewhere (see
    :mod:`botters.protocol.exchanges.bybit._ws`).

    >>> request_id_field("wss://ws-api.binance.com/ws-api/v3")
    'id'
    >>> request_id_field("wss://stream.bybit.com/v5/trade"), request_id_field("ws://127.0.0.1/")
    ('reqId', 'id')
    """
    found = _lookup(url)
    return "id" if found is None else found[0].request_id_for(found[1])


def answer_server_ping(url: str | URLParts, frame: Frame) -> Frame | None:
    """The answer to ``frame`` when it is the exchange's own app-level ping, else ``None``.

    A few exchanges ping the client with a *message* and drop it unless the
    client answers with a matching message: Socket.IO v4 (bitbank) sends ``2``
    and wants ``3``; BitTrade sends ``{"ping": n}`` / ``{"action": "ping", ...}``
    and wants the same value back as a pong. The session sends the returned
    frame at once (text for ``str``, binary for ``bytes``). The ping itself
    still reaches the user's handlers, as every frame does.
    """
    found = _lookup(url)
    if found is None:
        return None
    route, parts = found
    answer = route.answer_ping
    return None if answer is None else answer(parts, frame)


def sign_outgoing(
    url: str | URLParts, message: Mapping[str, Any], credentials: Credentials, *, now: float
) -> Mapping[str, Any]:
    """Sign a message the user sends on ``url``, at send time, on a copy.

    ``message`` is never modified. When the exchange wants it signed (Binance
    WebSocket API requests, Bybit order-entry requests), a new ``dict`` with a
    fresh timestamp and signature is returned; fields the signer owns
    (``signature``, ``timestamp``...) are replaced, so signing an already
    signed message gives a valid, fresh signature. Otherwise ``message`` itself
    is returned unchanged.

    Args:
        url: The connection URL the message goes to.
        message: The user's message (a JSON object).
        credentials: The credentials for the route's API name.
        now: Wall-clock seconds (``time.time()``).

    Raises:
        SigningError: A Binance PEM key cannot be used.
    """
    found = _lookup(url)
    if found is None:
        return message
    route, parts = found
    if route.sign_outgoing is None:
        return message
    return route.sign_outgoing(parts, message, credentials, now=now)
