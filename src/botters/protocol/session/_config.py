"""Session settings: one frozen, validated value per WebSocket session."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol, TypeAlias
from urllib.parse import urlsplit

from botters.protocol._credentials import Apis, parse_apis
from botters.protocol._errors import ConfigError
from botters.protocol._pacing import Pacing
from botters.protocol._ws import dumps

from ._events import OutgoingData
from ._tokens import TokenFlow

__all__ = ["Backoff", "MessagePredicate", "RandomSource", "SessionConfig"]

MessagePredicate: TypeAlias = Callable[[Any], bool]
"""A test on a parsed message (``dict``, ``list``...), e.g. "is this listenKeyExpired?"."""


class RandomSource(Protocol):
    """What the machine needs from its injected RNG; ``random.Random`` fits.

    The adapter creates it (``random.Random()``, or ``random.SystemRandom()``
    for unpredictable nonces); tests pass a seeded one.
    """

    def random(self) -> float:
        """A float in ``[0, 1)``."""
        ...

    def getrandbits(self, k: int, /) -> int:
        """An int with ``k`` random bits."""
        ...


def _positive(name: str, value: object, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number of seconds, not {type(value).__name__}")
    v = float(value)
    if math.isnan(v) or math.isinf(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be a finite number {bound}, got {value!r}")
    return v


def _optional(name: str, value: object) -> float | None:
    return None if value is None else _positive(name, value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Backoff:
    """Capped exponential backoff with jitter.

    The delay before attempt ``n`` (``n`` counts failures since the last
    connection that stayed up ``stable_after`` seconds):

    * ``n == 1``: uniform in ``[0, initial]``. Many clients dropped at once by
      the same exchange then come back spread out, not in one burst.
    * ``n >= 2``: ``base = min_delay * factor ** (n - 2)``, then
      ``min(max_delay, base * (1 + jitter * u))`` with ``u`` uniform in
      ``[0, 1)``. So every delay lies in ``[min_delay, max_delay]``.

    pybotters' ``backoff=(min, max, factor, initial)`` tuple is accepted
    wherever a :class:`Backoff` is (:meth:`of`), with the same defaults
    ``(1.92, 60.0, 1.618, 5.0)``. Unlike pybotters, delays are not truncated
    to whole seconds and keep their jitter.
    """

    min_delay: float = 1.92
    max_delay: float = 60.0
    factor: float = 1.618
    initial: float = 5.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        _positive("backoff min_delay", self.min_delay)
        _positive("backoff max_delay", self.max_delay)
        _positive("backoff initial", self.initial, allow_zero=True)
        _positive("backoff jitter", self.jitter, allow_zero=True)
        if not isinstance(self.factor, int | float) or isinstance(self.factor, bool):
            raise ConfigError("backoff factor must be a number")
        if not 1.0 <= self.factor < math.inf:
            raise ConfigError(f"backoff factor must be >= 1, got {self.factor!r}")
        if self.max_delay < self.min_delay:
            raise ConfigError(
                f"backoff max_delay ({self.max_delay}) is below min_delay ({self.min_delay})"
            )

    @classmethod
    def of(cls, value: Backoff | Sequence[float]) -> Backoff:
        """A :class:`Backoff` from itself or from pybotters' 4-tuple."""
        if isinstance(value, Backoff):
            return value
        if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 4:
            raise ConfigError(
                f"backoff must be a Backoff or a (min, max, factor, initial) tuple, got {value!r}"
            )
        lo, hi, factor, initial = value
        return cls(min_delay=lo, max_delay=hi, factor=factor, initial=initial)

    def delay(self, attempt: int, u: float) -> float:
        """The delay before attempt ``attempt`` (>= 1), given a uniform ``u`` in ``[0, 1)``."""
        if attempt <= 1:
            return self.initial * u
        # Exponent capped so that factor ** n cannot overflow; the cap on the
        # result is reached long before.
        base = self.min_delay * self.factor ** min(attempt - 2, 256)
        return min(self.max_delay, base * (1.0 + self.jitter * u))


_AUTO: Final = "auto"


def _normalise_sends(sends: object) -> tuple[OutgoingData, ...]:
    if isinstance(sends, str | bytes | Mapping):
        sends = (sends,)
    if not isinstance(sends, Sequence):
        raise ConfigError("sends must be a sequence of str, bytes or dict messages")
    out: list[OutgoingData] = []
    for i, item in enumerate(sends):
        if isinstance(item, bytearray | memoryview):
            item = bytes(item)
        if not isinstance(item, str | bytes | Mapping):
            raise ConfigError(f"sends[{i}] must be str, bytes or a dict, not {type(item).__name__}")
        if isinstance(item, Mapping):
            try:
                dumps(item)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"sends[{i}] cannot be sent as JSON: {exc}") from None
        out.append(item)
    return tuple(out)


def _check_url(url: object) -> str:
    if not isinstance(url, str):
        raise ConfigError(f"url must be a str, not {type(url).__name__}")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ConfigError(f"invalid WebSocket URL: {exc}") from None
    if parts.scheme.lower() not in ("ws", "wss") or not parts.netloc:
        # Show the scheme and host only: the rest may hold a token.
        raise ConfigError(
            f"url must be an absolute ws:// or wss:// URL, got scheme {parts.scheme!r}"
        )
    return url


def _filters_predicate(filters: Sequence[Mapping[str, Any]]) -> MessagePredicate:
    frozen = tuple(tuple(f.items()) for f in filters)

    def matches(msg: Any) -> bool:
        if not isinstance(msg, Mapping):
            return False
        for items in frozen:
            for key, value in items:
                if key not in msg or msg[key] != value:
                    break
            else:
                return True
        return False

    return matches


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionConfig:
    """Everything one WebSocket session needs; validated on construction.

    Durations are seconds of the adapter's monotonic clock.
    """

    url: str
    """``ws://`` or ``wss://``; with a token flow, the base the flow completes
    (see :mod:`botters.protocol.session._tokens`)."""
    rng: RandomSource = field(repr=False)
    """Jitter and nonces (bitFlyer login nonce, KuCoin ``connectId`` and ping ids)."""
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Extra handshake headers, sent on every connect."""
    sends: Sequence[OutgoingData] = field(default=(), repr=False)
    """Initial messages (pybotters' ``send_str``/``send_bytes``/``send_json``),
    sent in this order after every (re)connect, after the login is accepted.
    ``dict`` messages are signed afresh, on a copy, when the host signs outgoing
    messages, and sent as compact JSON text."""
    apis: Apis | Mapping[str, Any] | None = field(default=None, repr=False)
    """Credentials for the login message and outgoing-message signing."""
    heartbeat: float | None = 10.0
    """Send a WebSocket PING after this long without receiving anything (and
    again every ``heartbeat`` while it stays silent); ``None`` = never.
    pybotters' default."""
    dead_peer_timeout: float | Literal["auto"] | None = _AUTO
    """Give the connection up when nothing at all (data, pong, anything) has
    arrived for this long. ``"auto"``: ``1.5 * heartbeat`` (aiohttp's
    heartbeat-plus-half); without a heartbeat, the exchange's app ping interval
    plus its pong timeout (or twice the interval); without either, off.
    ``None``: off."""
    idle_timeout: float | None = None
    """Report :class:`~._events.Idle` after this long without a *data* frame
    (pings, pongs and login replies do not count); ``None`` = never."""
    connect_timeout: float = 30.0
    """Abandon a handshake that takes longer."""
    login_timeout: float = 10.0
    """Abandon a connection whose login is not answered in time."""
    http_timeout: float = 30.0
    """Abandon a token request that takes longer."""
    close_timeout: float = 5.0
    """Forget a closing connection the adapter never reported lost."""
    backoff: Backoff | Sequence[float] = field(default_factory=Backoff)
    """Reconnect delays; pybotters' 4-tuple is accepted."""
    stable_after: float = 30.0
    """A connection that stayed open this long resets the backoff when lost."""
    max_age: float | None = None
    """Replace a connection (make-before-break) once it is this old, e.g.
    ``23.5 * 3600`` before Binance's 24-hour cut."""
    rotate_on: MessagePredicate | Sequence[Mapping[str, Any]] | None = field(
        default=None, repr=False
    )
    """Replace the connection (make-before-break) when a parsed message matches:
    a predicate, or dicts of which any one must be a subset of the message."""
    rotation_overlap: float = 5.0
    """After the replacement is open, how long both connections deliver."""
    token_flow: TokenFlow | None = None
    """A REST step before each connect (KuCoin bullet, GMO token, listenKey)."""
    pacing: Pacing | bool | Literal["auto"] | None = _AUTO
    """How fast frames may go out on one connection. ``"auto"`` (or ``True``):
    the limit the exchange documents for the URL's host
    (:func:`~botters.protocol._ws.pacing_for`), none for other hosts; a
    :class:`~botters.protocol.Pacing`: that limit, on every host; ``None`` or
    ``False``: no pacing. Every frame the session sends is paced: the login,
    the initial messages after every connect, keepalives, user sends and the
    stores' resync requests."""

    def __post_init__(self) -> None:
        _check_url(self.url)
        if not hasattr(self.rng, "random") or not hasattr(self.rng, "getrandbits"):
            raise ConfigError("rng must be a random.Random (or offer random() and getrandbits())")
        set_ = object.__setattr__
        headers = dict(self.headers)
        for k, v in headers.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise ConfigError("headers must map str to str")
        set_(self, "headers", headers)
        set_(self, "sends", _normalise_sends(self.sends))
        if self.apis is not None and not isinstance(self.apis, Apis):
            if not isinstance(self.apis, Mapping):
                raise ConfigError("apis must be an Apis or a pybotters-style dict")
            set_(self, "apis", parse_apis(self.apis))
        set_(self, "backoff", Backoff.of(self.backoff))
        set_(self, "heartbeat", _optional("heartbeat", self.heartbeat))
        if self.dead_peer_timeout != _AUTO:
            set_(self, "dead_peer_timeout", _optional("dead_peer_timeout", self.dead_peer_timeout))
        set_(self, "idle_timeout", _optional("idle_timeout", self.idle_timeout))
        for name in ("connect_timeout", "login_timeout", "http_timeout", "close_timeout"):
            set_(self, name, _positive(name, getattr(self, name)))
        set_(self, "stable_after", _positive("stable_after", self.stable_after, allow_zero=True))
        set_(self, "max_age", _optional("max_age", self.max_age))
        set_(
            self,
            "rotation_overlap",
            _positive("rotation_overlap", self.rotation_overlap, allow_zero=True),
        )
        rotate_on = self.rotate_on
        if rotate_on is not None and not callable(rotate_on):
            if isinstance(rotate_on, Mapping):
                rotate_on = (rotate_on,)
            if (
                isinstance(rotate_on, str | bytes)
                or not isinstance(rotate_on, Sequence)
                or not rotate_on
                or not all(isinstance(f, Mapping) and f for f in rotate_on)
            ):
                raise ConfigError(
                    "rotate_on must be a predicate or a non-empty list of non-empty dicts"
                )
            set_(self, "rotate_on", _filters_predicate(rotate_on))
        pacing = self.pacing
        if pacing is True:
            pacing = _AUTO
        elif pacing is False:
            pacing = None
        if pacing is not None and pacing != _AUTO and not isinstance(pacing, Pacing):
            raise ConfigError(
                f"pacing must be 'auto', a Pacing, or None (off), not {type(pacing).__name__}"
            )
        set_(self, "pacing", pacing)
        flow = self.token_flow
        if flow is not None and not all(
            hasattr(flow, name)
            for name in (
                "fetch",
                "fetched",
                "renew",
                "renewed",
                "expired",
                "checks_messages",
                "renew_interval",
            )
        ):
            raise ConfigError("token_flow must implement the TokenFlow protocol")

    @property
    def backoff_policy(self) -> Backoff:
        """:attr:`backoff`, normalised (always a :class:`Backoff`)."""
        value = self.backoff
        assert isinstance(value, Backoff)  # normalised in __post_init__
        return value

    @property
    def credentials(self) -> Apis | None:
        """:attr:`apis`, normalised."""
        value = self.apis
        assert value is None or isinstance(value, Apis)
        return value

    @property
    def pacing_policy(self) -> Pacing | Literal["auto"] | None:
        """:attr:`pacing`, normalised (``True``/``False`` resolved)."""
        value = self.pacing
        assert value is None or value == _AUTO or isinstance(value, Pacing)
        return value

    @property
    def message_predicate(self) -> MessagePredicate | None:
        """:attr:`rotate_on`, normalised to a predicate."""
        value = self.rotate_on
        assert value is None or callable(value)
        return value
