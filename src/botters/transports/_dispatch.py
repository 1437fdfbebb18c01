"""Delivering received frames to handlers and filtered streams (the receive hot path).

Theory of operation
-------------------
Every received text or binary frame goes through :meth:`Dispatcher.deliver`,
synchronously, in the task that received it:

1. each ``hdlr_str`` (text) or ``hdlr_bytes`` (binary) handler is called with
   the raw data;
2. if there is any ``hdlr_json`` handler or open :class:`MessageStream`, the
   frame is parsed **once** (orjson when installed) and the same object goes to
   every JSON handler, then to every stream, which keeps it if it matches;
3. a frame that is not JSON is skipped by the JSON handlers and the streams.
   It is logged once per connection at WARNING (then at DEBUG), unless it is a
   keepalive the exchange is known to send as plain text (``ping``/``pong``
   and whatever the session recognises as its app-level pong).

Handlers are plain synchronous callables ``h(msg, ws)``: they are called
directly, with no task or callback scheduled per frame. The usual
configuration, exactly one JSON handler (``hdlr_json=store.onmessage``) and
no other handler or stream, takes a shorter way: when the adapter has already
parsed the frame, :meth:`Dispatcher.deliver` calls that handler at once (no
loops over empty handler lists, no further call level);
:meth:`Dispatcher._changed` keeps that shortcut up to date. A handler that
raises is logged with its traceback (logger ``botters.ws``) and the next
handler and the next frame are processed as usual.

Handler lists are tuples replaced on every change, so a handler may add or
remove handlers (or open and close streams) while a frame is being delivered:
the change applies from the next frame.
"""

from __future__ import annotations

import inspect
import logging
import reprlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Literal, TypeAlias

from botters.protocol._errors import ConfigError
from botters.protocol.store._collection import DataStoreCollection

from ._json import fast_loads, loads
from ._streams import DEFAULT_MAXSIZE, MessageStream

__all__ = [
    "NOT_JSON",
    "UNPARSED",
    "Dispatcher",
    "Handler",
    "HandlerKind",
    "HandlerSpec",
    "as_handlers",
]

logger = logging.getLogger("botters.ws")

_short = reprlib.Repr()
_short.maxstring = 120
_short.maxother = 120
_short.maxlevel = 3

Handler: TypeAlias = Callable[[Any, Any], object]
"""A synchronous ``h(msg, ws)``; its return value is ignored."""

HandlerSpec: TypeAlias = Handler | Iterable[Handler] | None
"""What ``hdlr_*`` arguments take: one handler, a list of handlers, or ``None``."""

HandlerKind: TypeAlias = Literal["str", "bytes", "json"]

_KEEPALIVE_TEXT: Final = frozenset({"ping", "pong"})


class _Sentinel:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


NOT_JSON: Final[Any] = _Sentinel("NOT_JSON")
"""What :meth:`Dispatcher.parse` returns for a frame that is not JSON."""

UNPARSED: Final[Any] = _Sentinel("UNPARSED")
"""The default ``parsed`` of :meth:`Dispatcher.text`: "not parsed yet, parse if needed"."""


def _check(handler: object) -> Handler:
    if not callable(handler):
        raise ConfigError(f"a handler must be callable h(msg, ws), not {type(handler).__name__}")
    if inspect.iscoroutinefunction(handler):
        raise ConfigError(
            f"handler {handler!r} is an async function, but handlers are called "
            "synchronously for every frame; consume messages with a WebSocketQueue "
            "or app.stream() instead, or spawn your own task from a sync handler"
        )
    return handler


def as_handlers(spec: HandlerSpec) -> tuple[Handler, ...]:
    """Normalise an ``hdlr_*`` argument (one handler, a list, or ``None``) to a tuple."""
    if spec is None:
        return ()
    if callable(spec):
        return (_check(spec),)
    if isinstance(spec, str | bytes | Mapping):
        raise ConfigError(f"a handler must be callable h(msg, ws), not {type(spec).__name__}")
    return tuple(_check(h) for h in spec)


class Dispatcher:
    """The handlers and filtered streams of one ``WebSocketApp`` (shared by all adapters).

    Args:
        hdlr_str: Called with each text frame's ``str``.
        hdlr_bytes: Called with each binary frame's ``bytes``.
        hdlr_json: Called with each text or binary frame parsed as JSON.
        name: What log lines call the connection (its URL).
    """

    __slots__ = (
        "_bytes",
        "_json",
        "_one",
        "_str",
        "_streams",
        "_warned",
        "is_keepalive",
        "name",
        "wants_json",
    )

    def __init__(
        self,
        *,
        hdlr_str: HandlerSpec = None,
        hdlr_bytes: HandlerSpec = None,
        hdlr_json: HandlerSpec = None,
        name: str = "",
    ) -> None:
        self._str = as_handlers(hdlr_str)
        self._bytes = as_handlers(hdlr_bytes)
        self._json = as_handlers(hdlr_json)
        self._streams: tuple[MessageStream, ...] = ()
        self.wants_json = False
        """Whether frames must be parsed: there are JSON handlers or open streams."""
        self._one: Handler | None = None
        self._changed()
        self._warned = False
        self.name = name
        self.is_keepalive: Callable[[str | bytes], bool] | None = None
        """Set by the session: recognises the exchange's plain-text keepalive answers,
        which are not JSON and not worth a log line."""

    # -- configuration ---------------------------------------------------------------

    def add_handler(self, handler: Handler, kind: HandlerKind = "json") -> None:
        """Add a handler for ``kind`` frames (``"str"``, ``"bytes"`` or ``"json"``)."""
        checked = _check(handler)
        if kind == "json":
            self._json = (*self._json, checked)
        elif kind == "str":
            self._str = (*self._str, checked)
        elif kind == "bytes":
            self._bytes = (*self._bytes, checked)
        else:
            raise ConfigError(f"kind must be 'str', 'bytes' or 'json', not {kind!r}")
        self._changed()

    def remove_handler(self, handler: Handler, kind: HandlerKind | None = None) -> bool:
        """Remove ``handler`` (from ``kind``, or from every kind). Returns whether it was found.

        Handlers compare with ``==``, so ``store.onmessage`` (a new bound-method
        object on every attribute access) removes the one added earlier.
        """
        found = False

        def without(handlers: tuple[Handler, ...]) -> tuple[Handler, ...]:
            nonlocal found
            kept = tuple(h for h in handlers if h != handler)
            found = found or len(kept) != len(handlers)
            return kept

        if kind not in (None, "str", "bytes", "json"):
            raise ConfigError(f"kind must be 'str', 'bytes' or 'json', not {kind!r}")
        if kind in (None, "json"):
            self._json = without(self._json)
        if kind in (None, "str"):
            self._str = without(self._str)
        if kind in (None, "bytes"):
            self._bytes = without(self._bytes)
        self._changed()
        return found

    def _changed(self) -> None:
        """Recompute what the hot path reads, after any change of handlers or streams."""
        self.wants_json = bool(self._json or self._streams)
        alone = len(self._json) == 1 and not (self._str or self._bytes or self._streams)
        self._one = self._json[0] if alone else None

    @property
    def handlers(self) -> Mapping[HandlerKind, tuple[Handler, ...]]:
        """The current handlers by kind (a snapshot)."""
        return {"str": self._str, "bytes": self._bytes, "json": self._json}

    def open_stream(
        self, filters: tuple[Mapping[str, Any], ...], *, maxsize: int = DEFAULT_MAXSIZE
    ) -> MessageStream:
        """A new :class:`MessageStream` fed with this connection's JSON messages."""
        stream = MessageStream(filters, maxsize=maxsize, detach=self._detach)
        self._streams = (*self._streams, stream)
        self._changed()
        return stream

    def _detach(self, stream: MessageStream) -> None:
        self._streams = tuple(s for s in self._streams if s is not stream)
        self._changed()

    @property
    def streams(self) -> tuple[MessageStream, ...]:
        """The open filtered streams."""
        return self._streams

    def close_streams(self) -> None:
        """Close every stream (their readers finish what is buffered, then stop)."""
        streams, self._streams = self._streams, ()
        self._changed()
        for stream in streams:
            stream.close()

    def collections(self) -> list[DataStoreCollection]:
        """The DataStoreCollections among the handlers (``hdlr_json=store.onmessage``)."""
        found: list[DataStoreCollection] = []
        for handler in (*self._json, *self._str, *self._bytes):
            owner = handler if isinstance(handler, DataStoreCollection) else None
            if owner is None:
                owner = getattr(handler, "__self__", None)
            if isinstance(owner, DataStoreCollection) and all(owner is not c for c in found):
                found.append(owner)
        return found

    def feed_interrupted(self) -> None:
        """Tell every DataStoreCollection handler that messages may have been missed."""
        for collection in self.collections():
            collection.feed_interrupted()  # never raises (it logs per store)

    def new_connection(self) -> None:
        """Reset per-connection state (the once-per-connection non-JSON warning)."""
        self._warned = False

    # -- the hot path ----------------------------------------------------------------

    def parse(self, data: str | bytes) -> Any:
        """``data`` parsed as JSON, or :data:`NOT_JSON` (logged, see the module docs)."""
        try:
            return fast_loads(data)
        except ValueError:
            return self._slow_parse(data)

    def deliver(self, data: str | bytes, ws: Any, parsed: Any = UNPARSED) -> None:
        """Deliver one text (``str``) or binary (``bytes``) frame.

        ``parsed`` is its JSON if the caller already parsed it (or
        :data:`NOT_JSON`); by default it is parsed here when needed.
        """
        one = self._one
        if one is not None and parsed is not UNPARSED and parsed is not NOT_JSON:
            # The usual case (one JSON handler, such as store.onmessage): straight to it.
            try:
                one(parsed, ws)
            except Exception:
                self._handler_failed(one, "json", parsed)
            return
        text = type(data) is str
        for h in self._str if text else self._bytes:
            try:
                h(data, ws)
            except Exception:
                self._handler_failed(h, "str" if text else "bytes", data)
        if parsed is UNPARSED:
            if not self.wants_json:
                return
            parsed = self.parse(data)
        if parsed is NOT_JSON:
            return
        for h in self._json:
            try:
                h(parsed, ws)
            except Exception:
                self._handler_failed(h, "json", parsed)
        for stream in self._streams:
            stream.offer(parsed)

    text = deliver
    """:meth:`deliver` for a text frame."""
    binary = deliver
    """:meth:`deliver` for a binary frame."""

    def _slow_parse(self, data: str | bytes) -> Any:
        try:
            return loads(data)
        except ValueError as exc:
            self._not_json(data, exc)
            return NOT_JSON

    def _not_json(self, data: str | bytes, exc: ValueError) -> None:
        if isinstance(data, str) and data in _KEEPALIVE_TEXT:
            return
        check = self.is_keepalive
        if check is not None:
            try:
                if check(data):
                    return
            except Exception:
                logger.exception("keepalive check failed for %s", self.name)
        kind = "text" if isinstance(data, str) else "binary"
        if self._warned:
            logger.debug(
                "%s: %s frame is not JSON (%s); JSON handlers skipped it: %s",
                self.name,
                kind,
                exc,
                _short.repr(data),
            )
            return
        self._warned = True
        logger.warning(
            "%s: %s frame is not JSON (%s); JSON handlers skipped it: %s "
            "(further non-JSON frames on this connection are logged at DEBUG; "
            "use hdlr_str/hdlr_bytes for frames that are not JSON)",
            self.name,
            kind,
            exc,
            _short.repr(data),
        )

    def _handler_failed(self, handler: Handler, kind: str, msg: Any) -> None:
        logger.exception(
            "%s: %s handler %r raised; it stays registered and the stream goes on (message: %s)",
            self.name,
            kind,
            handler,
            _short.repr(msg),
        )
