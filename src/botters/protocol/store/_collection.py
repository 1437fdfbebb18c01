"""``DataStoreCollection``: the stores of one exchange, fed by one ``onmessage``.

Theory of operation
-------------------

A collection is the handler you give a WebSocket (``hdlr_json=store.onmessage``):
every decoded message goes to :meth:`DataStoreCollection.onmessage`, which
routes it to its stores. ``onmessage`` never raises: a message the exchange
code cannot handle is logged (logger ``botters.store``) and the next message
is processed normally.

Talking back without tasks. Some feeds need the store to send something
(bitFlyer: unsubscribe from the board snapshot channel after the first
snapshot). The connection is passed as ``ws`` and the store calls its
:meth:`MessageSink.send_json_nowait`, a plain synchronous call that the
adapters implement by queueing the message on the connection. The store never
spawns a task and never awaits. With ``ws=None`` (replaying recorded messages,
tests, benchmarks) the store applies every message the same way and simply
has nobody to talk to.

Resynchronising. After a reconnect the session calls
:meth:`DataStoreCollection.feed_interrupted`; each store decides what "I may
have missed messages" means for it (order books drop their levels and report
themselves unsynced until a fresh snapshot). An order book that finds a gap in
the exchange's sequence asks for a resync through the ``ws`` it was given
(:class:`~botters.protocol.store.ResyncSink`); requests no connection could
carry wait in :meth:`DataStoreCollection.take_resync_requests`.

Time. Stores never read a clock. The adapters give each collection they feed
their own monotonic clock (:meth:`DataStoreCollection.set_clock`): order books
use it to time their updates (``staleness()``) and resync retries; replays and
tests can give a fake one.

Initial data. :meth:`DataStoreCollection.initialize` takes REST responses in
whatever form the caller has them: awaitables from either adapter (or from
aiohttp directly), response objects with ``.url`` and ``.json()`` (aiohttp,
httpx, requests), ``(url, parsed_json)`` pairs, or :class:`RestResponse`.
"""

from __future__ import annotations

import inspect
import logging
import reprlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, overload, runtime_checkable
from urllib.parse import parse_qsl, urlsplit

from botters.protocol._errors import BottersError, ConfigError

from ._async import Waiter, gather_settled, new_waiter
from ._keepalive import KeepAlive
from ._store import DataStore, Item
from ._sync import ResyncRequest

__all__ = ["DataStoreCollection", "InitializeError", "MessageSink", "RestResponse"]

logger = logging.getLogger("botters.store")

_short = reprlib.Repr()
_short.maxstring = 120
_short.maxother = 120

_S = TypeVar("_S", bound=DataStore)


class InitializeError(BottersError, ValueError):
    """A response given to ``initialize`` is the exchange's error reply (Bybit ``retCode != 0``).

    Raised once every other response has been applied, so one refused request
    does not cost the others. A :class:`ValueError` too, as pybotters raised.
    """


@runtime_checkable
class MessageSink(Protocol):
    """Where a store sends a message back to the exchange (the ``ws`` of ``onmessage``).

    Implementations must not block and must not raise for a closed
    connection: queue the message and send it when possible (or drop it with a
    log line if the connection is gone; the session will resubscribe anyway).
    """

    def send_json_nowait(self, data: Any) -> None:
        """Queue ``data`` to be JSON-encoded and sent on this connection."""


@dataclass(frozen=True, slots=True)
class RestResponse:
    """A REST response reduced to what ``initialize`` needs: its URL and parsed JSON body.

    Use it to initialize stores from recorded data or from any HTTP client::

        store.initialize_nowait(RestResponse(url, response_json))

    Attributes:
        url: The full request URL, query string included (the stores route
            on its path and sometimes on its query parameters).
        data: The decoded JSON body.
    """

    url: str
    data: Any
    sink: Any = field(default=None, compare=False, repr=False)
    """The botters client the response came from (it carries keep-alive requests), if any."""

    @property
    def path(self) -> str:
        """The URL path, e.g. ``"/v1/me/getpositions"``."""
        return urlsplit(self.url).path

    @property
    def params(self) -> dict[str, str]:
        """The query parameters (the last value wins for repeated names)."""
        return dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))


ResponseLike = Any
"""Anything ``initialize`` accepts; see :meth:`DataStoreCollection.initialize`."""


class DataStoreCollection:
    """A named set of :class:`DataStore` fed by one message handler (pybotters-compatible).

    Subclasses create their stores in ``_init`` with :meth:`_create`, route
    messages in ``_onmessage`` and, if they support initial REST data,
    implement ``_oninitialize``.
    """

    def __init__(self) -> None:
        self._stores: dict[str, DataStore] = {}
        self._waiters: list[Waiter] = []
        self._clock: Callable[[], float] | None = None
        self._keepalives: list[KeepAlive] = []
        self._init()

    def _init(self) -> None:
        """Hook run at the end of ``__init__``: create the stores here."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} stores={list(self._stores)}>"

    # ------------------------------------------------------------------ stores

    @overload
    def _create(
        self, name: str, *, keys: list[str] | None = ..., data: list[Item] | None = ...
    ) -> DataStore: ...

    @overload
    def _create(
        self,
        name: str,
        *,
        keys: list[str] | None = ...,
        data: list[Item] | None = ...,
        datastore_class: type[_S],
    ) -> _S: ...

    def _create(
        self,
        name: str,
        *,
        keys: list[str] | None = None,
        data: list[Item] | None = None,
        datastore_class: type[DataStore] = DataStore,
    ) -> DataStore:
        """Create the store ``name`` (replacing any store of that name) and return it."""
        store = datastore_class(name, keys=keys, data=data)
        if self._clock is not None:
            store._clock = self._clock
        store._wake_owner = self._wake
        self._stores[name] = store
        return store

    def _get(self, name: str, type_: type[_S] | None = None) -> Any:
        """Return the store ``name``, or ``None`` if there is none."""
        return self._stores.get(name)

    def __getitem__(self, name: str) -> DataStore:
        """Return the store ``name``; raises ``KeyError`` for an unknown name."""
        return self._stores[name]

    def __contains__(self, name: object) -> bool:
        return name in self._stores

    def __iter__(self) -> Iterator[str]:
        return iter(self._stores)

    # ------------------------------------------------------------------ messages

    def onmessage(self, msg: Any, ws: MessageSink | None = None) -> None:
        """Apply one decoded WebSocket message to the stores. Never raises.

        Args:
            msg: The decoded JSON message.
            ws: Where the stores may send replies (see :class:`MessageSink`);
                ``None`` when replaying or testing.
        """
        try:
            self._onmessage(msg, ws)
        except Exception:
            logger.exception("%r: failed to apply a message, skipped: %s", self, _short.repr(msg))
        if self._waiters:
            self._wake()

    def _wake(self) -> None:
        """Release every :meth:`wait` (after a message, an interruption or a fetched snapshot)."""
        waiters = self._waiters
        self._waiters = []
        for waiter in waiters:
            waiter.set()

    def _onmessage(self, msg: Any, ws: MessageSink | None = None) -> None:
        """Route one message to the stores. The base collection has no routing."""
        logger.info("%r: no message routing defined; ignored %s", self, _short.repr(msg))

    async def wait(self) -> None:
        """Wait until the next change from outside: a message, an interruption or a snapshot.

        Returns after the next :meth:`onmessage` call has been processed, after
        :meth:`feed_interrupted`, and after a store applied a snapshot it
        fetched for a resync (asyncio or trio).
        """
        waiter = new_waiter()
        self._waiters.append(waiter)
        try:
            await waiter.wait()
        finally:
            if not waiter.is_set():
                self._waiters.remove(waiter)

    def feed_interrupted(self) -> None:
        """Tell every store that messages may have been lost (called after a reconnect).

        Order books drop their levels and report themselves unsynced until a
        fresh snapshot arrives; other stores keep their items.
        """
        for store in self._stores.values():
            try:
                store._feed_interrupted()
            except Exception:
                logger.exception("%r: feed_interrupted failed for %r", self, store)
        if self._waiters:
            self._wake()

    def set_clock(self, clock: Callable[[], float] | None) -> None:
        """Give the stores a monotonic clock (seconds), e.g. ``loop.time``.

        Both adapters call this with their own clock when the collection is
        a handler of a ``WebSocketApp``; call it yourself when feeding
        ``onmessage`` by other means (a replay: a clock returning the recorded
        receive times). Order books then report ``staleness()`` and retry an
        unanswered resync request.
        """
        self._clock = clock
        for store in self._stores.values():
            store._clock = clock

    def take_resync_requests(self) -> list[ResyncRequest]:
        """Resync requests that no connection carried, and forget them.

        Order books give their requests to the ``ws`` their messages came
        with; when it cannot carry them (``ws=None``, or a ``ws`` without
        ``request_resync()``) they wait here. Carry each out (send a
        :class:`~botters.protocol.store.Resubscribe`'s messages, fetch a
        :class:`~botters.protocol.store.FetchSnapshot`'s URL and
        ``deliver()`` it) to bring the books back in sync.
        """
        taken: list[ResyncRequest] = []
        for store in self._stores.values():
            take = getattr(store, "_take_requests", None)
            if take is not None:
                taken.extend(take())
        return taken

    def take_keepalive_requests(self) -> list[KeepAlive]:
        """Keep-alive requests no client carried, and forget them.

        A store that needs a REST call repeated (Binance's listenKey) gives a
        :class:`~botters.protocol.store.KeepAlive` to the botters client the
        ``initialize`` response came from. For a response from elsewhere it
        waits here: send it every ``interval`` seconds yourself.
        """
        taken, self._keepalives = self._keepalives, []
        return taken

    def _keep_alive(self, request: KeepAlive, response: RestResponse) -> None:
        """Give ``request`` to the client ``response`` came from, or keep it for the caller."""
        carrier = getattr(response.sink, "keep_alive", None)
        if carrier is not None:
            try:
                carrier(request)
            except BottersError as exc:  # e.g. a trio client outside `async with`
                self._keepalives.append(request)
                logger.warning(
                    "%r: %r kept for take_keepalive_requests(): the client cannot carry it (%s)",
                    self,
                    request,
                    exc,
                )
            return
        self._keepalives.append(request)
        logger.info(
            "%r: %r kept for take_keepalive_requests() (the response came from no botters client)",
            self,
            request,
        )

    # ------------------------------------------------------------------ initial data

    async def initialize(self, *responses: ResponseLike) -> None:
        """Load initial data from REST responses (asyncio or trio).

        Each argument may be:

        * an awaitable resolving to any of the forms below, such as
          ``client.get("/v1/me/getpositions", params=...)`` or
          ``client.fetch("GET", ...)`` from either adapter;
        * a ``FetchResult`` (what ``client.fetch`` returns);
        * a response object with ``.url`` and ``.json()`` (``json()`` may be
          a coroutine, as in aiohttp, or a plain method, as in httpx/requests);
        * a ``(url, parsed_json)`` pair;
        * a :class:`RestResponse`.

        Awaitables are awaited concurrently; the responses are then applied in
        the order given, so the result does not depend on which request
        finished first. If some fail (the request failed, or the exchange
        answered with its error reply: :class:`InitializeError`), the others
        are still applied and the first failure (in argument order) is raised
        afterwards. A response for an endpoint the collection does not know,
        or whose body is not what the endpoint returns, is logged and skipped.
        """
        if not responses:
            return
        settled = await gather_settled([_resolve(r) for r in responses])
        errors: list[BaseException] = []
        for ok, value in settled:
            if not ok:
                errors.append(value)
                continue
            refused = self._apply_response(value)
            if refused is not None:
                errors.append(refused)
        if errors:
            raise errors[0]

    def initialize_nowait(self, *responses: RestResponse | tuple[Any, Any]) -> None:
        """Load initial data synchronously from already-read responses.

        Accepts :class:`RestResponse` values and ``(url, parsed_json)`` pairs,
        e.g. recorded data or responses read with a synchronous HTTP client.
        Raises the first :class:`InitializeError` once all are applied.
        """
        refusals = [self._apply_response(_coerce(response)) for response in responses]
        for refused in refusals:
            if refused is not None:
                raise refused

    def _apply_response(self, response: RestResponse) -> InitializeError | None:
        try:
            self._oninitialize(response)
        except InitializeError as exc:
            return exc
        except Exception:
            logger.exception(
                "%r: failed to apply the response of %s, skipped", self, _short.repr(response.url)
            )
        return None

    def _oninitialize(self, response: RestResponse) -> None:
        """Apply one REST response. Collections that support ``initialize`` override this."""
        logger.warning(
            "%r: initialize does not support %s; response ignored", self, _short.repr(response.url)
        )


def _coerce(response: Any) -> RestResponse:
    if isinstance(response, RestResponse):
        return response
    if isinstance(response, tuple) and len(response) == 2:
        return RestResponse(str(response[0]), response[1])
    raise ConfigError(
        "initialize_nowait() takes RestResponse values or (url, parsed_json) pairs, "
        f"not {type(response).__name__}"
    )


async def _resolve(response: Any) -> RestResponse:
    # Unwrap awaitables (e.g. a request context manager) until we reach a response.
    for _ in range(8):
        if isinstance(response, (RestResponse, tuple)):
            return _coerce(response)
        if hasattr(response, "response") and hasattr(response, "data"):
            # A FetchResult (``client.fetch(...)``): the body is read and parsed already.
            inner = response.response
            sink = getattr(inner, "keepalive_sink", None)
            return RestResponse(str(inner.url), response.data, sink)
        if hasattr(response, "url") and hasattr(response, "json"):
            data = response.json()
            if inspect.isawaitable(data):
                data = await data
            # Both botters clients mark their responses with themselves.
            sink = getattr(response, "keepalive_sink", None)
            return RestResponse(str(response.url), data, sink)
        if inspect.isawaitable(response):
            response = await response
            continue
        break
    raise ConfigError(
        "initialize() takes awaitables of responses, responses with .url and .json(), "
        f"(url, parsed_json) pairs or RestResponse values, not {type(response).__name__}"
    )
