"""What the two HTTP clients share: pybotters' result types and building a request.

Both ``botters.Client`` (aiohttp) and ``botters.trio.Client`` build and sign
a request the same way and hand back the same kinds of objects; only sending
differs. So the adapter-neutral half lives here, once:

* :class:`FetchResult`, :class:`NotJSONContent` and :class:`RequestContext`,
  generic in the adapter's response type (aiohttp's ``ClientResponse``,
  :class:`botters.trio.Response`), so ``fetch(...).response`` keeps its
  precise type on each adapter;
* :class:`BaseClient`: the credentials, ``base_url``, :meth:`BaseClient.build`
  and the ``get``/``post``/``put``/``delete`` shorthands, on top of each
  adapter's ``request``; and :meth:`BaseClient.keep_alive`, which repeats a
  store's :class:`~botters.protocol.store.KeepAlive` through the client (the
  loop is here, once; each adapter only starts it as a task it owns).

Nothing here imports aiohttp or trio.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, Protocol, Self, TypeVar

from botters._apis import load_apis
from botters._version import __version__
from botters.protocol._credentials import Apis
from botters.protocol._errors import ConfigError
from botters.protocol._registry import resolve, sign_request
from botters.protocol._request import Request
from botters.protocol.limits import RateLimiter, Reservation

from ._auth import Auth
from ._errors import ClientClosedError
from ._json import JSONDecodeError, loads
from ._limits import make_limiter

if TYPE_CHECKING:
    from botters.protocol.store import KeepAlive

__all__ = [
    "KEEPALIVE_SEND_TIMEOUT",
    "PLAIN_BODY",
    "REDIRECTS",
    "USER_AGENT",
    "BaseClient",
    "FetchResult",
    "NotJSONContent",
    "RequestContext",
    "header_pairs",
    "parse_body",
    "refuse_json",
    "safe_url",
]

logger = logging.getLogger("botters.http")

KEEPALIVE_SEND_TIMEOUT: Final = 30.0
"""Seconds one keep-alive send may take before it counts as failed (and is retried)."""

_BODY_SHOWN: Final = 200
"""Characters of a failed keep-alive's answer that its log line shows."""

USER_AGENT: Final = f"botters/{__version__}"
"""The ``User-Agent`` both clients send unless told otherwise."""

REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
"""Statuses whose ``Location`` a client follows."""

PLAIN_BODY: Final = (Mapping, list, tuple, str, bytes, bytearray, memoryview)
"""``data=`` values that :meth:`botters.Request.build` encodes (and so can be signed)."""


class _Response(Protocol):
    """What :class:`RequestContext` needs of a response: ``async with`` releases it."""

    async def __aenter__(self) -> object: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> object: ...


R = TypeVar("R")
RespT = TypeVar("RespT", bound=_Response)
UrlT = TypeVar("UrlT")


@dataclass
class NotJSONContent:
    """``FetchResult.data`` when the body is not JSON: falsy, and holds the decode error.

    ``if result.data:`` therefore guards JSON use (as in pybotters).
    """

    error: JSONDecodeError

    def __bool__(self) -> bool:
        return False


@dataclass
class FetchResult(Generic[R]):
    """What ``Client.fetch`` returns (pybotters-compatible).

    Attributes:
        response: The adapter's response (aiohttp's ``ClientResponse`` on
            :class:`botters.Client`, :class:`botters.trio.Response` on
            :class:`botters.trio.Client`); its body is already read and its
            connection released.
        text: The body decoded as text (undecodable bytes replaced).
        data: The body parsed as JSON; ``None`` for an empty body; a falsy
            :class:`NotJSONContent` when the body is not JSON.
    """

    response: R
    text: str
    data: Any


def parse_body(text: str) -> Any:
    """``FetchResult.data``: the JSON of ``text``, ``None`` if blank, else NotJSONContent."""
    if not text.strip():
        return None
    try:
        return loads(text)
    except JSONDecodeError as exc:
        return NotJSONContent(exc)


class RequestContext(Generic[RespT]):
    """What the request methods return: ``await`` it, or use it with ``async with``.

    Both give the adapter's response (aiohttp's ``ClientResponse`` on
    :class:`botters.Client`, as pybotters does; :class:`botters.trio.Response`
    on :class:`botters.trio.Client`) with its head read and its body not yet
    read::

        resp = await client.get(url)            # read it, then resp.release()
        async with client.get(url) as resp:     # released when the block ends
            data = await resp.json()

    The request is built, signed and sent when it is awaited or entered, not
    when the method is called, so the signature's timestamp is fresh. A
    context that is never awaited sends nothing (and warns about nothing).
    """

    __slots__ = ("_resp", "_send")

    def __init__(self, send: Callable[[], Awaitable[RespT]]) -> None:
        self._send = send
        self._resp: RespT | None = None

    def __await__(self) -> Generator[Any, None, RespT]:
        return self._send().__await__()

    async def __aenter__(self) -> RespT:
        resp = await self._send()
        self._resp = resp
        await resp.__aenter__()
        return resp

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        resp, self._resp = self._resp, None
        if resp is not None:
            await resp.__aexit__(exc_type, exc, tb)


def safe_url(request: Request) -> str:
    """Scheme, host and path of ``request``: what messages show (queries may hold secrets)."""
    p = request.parts
    return f"{p.scheme}://{p.netloc}{p.path}"


def header_pairs(headers: Any) -> list[tuple[str, str]]:
    """``headers`` (a mapping, pairs or ``None``) as a list of pairs."""
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return [(str(k), v) for k, v in headers.items()]
    return list(headers)


def refuse_json(kwargs: Mapping[str, Any]) -> None:
    """Raise :class:`~botters.ConfigError` for ``json=``: botters signs the ``data=`` it sends."""
    if "json" in kwargs:
        raise ConfigError(
            "json= is not supported: botters signs the body given as data=. "
            "Pass the dict as data=...; it is sent as JSON to exchanges that expect JSON"
        )


class BaseClient(Generic[UrlT, RespT]):
    """The part of both clients that does not depend on how bytes are sent.

    Subclasses implement :meth:`request` (and ``fetch``, ``ws_connect``...);
    ``UrlT`` is what URLs they take (aiohttp's also takes a ``yarl.URL``),
    ``RespT`` their response type.
    """

    def __init__(self, apis: Any, base_url: str, rate_limit: Any = True) -> None:
        self._apis: Apis = load_apis(apis)
        self._base_url = base_url
        self._owner: BaseClient[Any, Any] | None = None  # set on with_apis() views only
        self._closed = False
        self._limiter: RateLimiter | None = make_limiter(rate_limit)
        # The KeepAlive requests being carried; shared by reference with views.
        self._carried: set[KeepAlive] = set()

    @property
    def limiter(self) -> RateLimiter | None:
        """The REST rate limiter every request is booked with (``None``: ``rate_limit=False``).

        Read it to see what is used (``client.limiter.usage(now=time.time())``),
        or pass it to another client's ``rate_limit=`` so both share the budgets.
        """
        return self._limiter

    def _reserve(self, request: Request, auth: Any) -> tuple[Reservation | None, str | None]:
        """Book ``request`` with the limiter: its reservation, and the key it counts against."""
        limiter = self._limiter
        if limiter is None:
            return None, None
        key = None
        if auth is Auth:
            found = resolve(request, self._apis)
            if found is not None:
                key = found[1].key
        return limiter.reserve(request, now=time.time(), key=key), key

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (on a :meth:`with_apis` view: or on its owner)."""
        return self._closed

    @property
    def apis(self) -> Apis:
        """The credentials, parsed (their ``repr`` never shows a secret)."""
        return self._apis

    # -- views with other credentials ---------------------------------------------------
    #
    # A view is a shallow copy of the owning client: it shares every connection
    # resource (aiohttp session, trio pool and nursery, rate limiter, the set of
    # WebSocket apps) by reference and has its own ``_apis`` and closed flag.
    # The adapters' close()/async-with/_spawn ask ``_view_owner()`` first, so a
    # view never closes or enters what it shares.

    @property
    def _closed(self) -> bool:
        owner = self._owner
        return self._closed_flag or (owner is not None and owner._closed_flag)

    @_closed.setter
    def _closed(self, value: bool) -> None:
        self._closed_flag = value

    def _view_owner(self) -> BaseClient[Any, Any] | None:
        """The client this one is a :meth:`with_apis` view of; ``None`` for an owning client."""
        return self._owner

    def with_apis(self, apis: Any) -> Self:
        """A view of this client that signs with other credentials over the same connections.

        One bot often acts for several accounts (a main account and a
        sub-account, or one key per strategy) against the same exchange. A
        second client per account would open its own connections and keep
        its own rate-limit budget; a view shares this client's connection
        pool (aiohttp session / trio pool), its rate limiter and its
        lifetime, and differs only in the credentials requests are signed
        with::

            async with botters.Client(apis=main_apis) as client:
                sub = client.with_apis({"bybit": [sub_key, sub_secret]})
                await sub.fetch("GET", "https://api.bybit.com/v5/account/wallet-balance", ...)

        The view's :meth:`close` (and leaving ``async with view``) only marks
        the view closed: the shared session, pool and nursery belong to the
        owning client, which closes them. WebSocket apps opened through a
        view sign with the view's credentials, run where the owner's run
        (on trio: the owner's nursery) and are closed by the owner; close a
        view only when nothing started through it needs it any more. Once
        the owner is closed, its views are closed too. A view of a view is a
        view of the same owner.

        Args:
            apis: Credentials as :class:`botters.Client` takes them (a dict,
                a JSON file path, an :class:`~botters.protocol.Apis`; ``None``
                reads the implicit sources again).

        Raises:
            ClientClosedError: this client (or its owner) is closed.
            CredentialsError: ``apis`` cannot be read or parsed.
        """
        if self._closed:
            raise ClientClosedError("this Client is closed")
        # Copying a view copies the same shared references as copying its owner.
        view = copy.copy(self)
        view._apis = load_apis(apis)
        view._owner = self._owner if self._owner is not None else self
        view._closed_flag = False
        return view

    @property
    def base_url(self) -> str:
        """The prefix for relative request URLs."""
        return self._base_url

    # -- keep-alive requests -------------------------------------------------------------

    @property
    def keepalives(self) -> tuple[KeepAlive, ...]:
        """The :class:`~botters.protocol.store.KeepAlive` requests being repeated now.

        A request leaves this once its loop has ended: after
        :meth:`KeepAlive.stop <botters.protocol.store.KeepAlive.stop>` (at the
        loop's next turn) or when the client closes.
        """
        return tuple(self._carried)

    def keep_alive(self, request: KeepAlive) -> None:
        """Repeat ``request`` in the background until it is stopped or the client closes.

        This is how a store's REST call that must be repeated (Binance's
        listenKey ``PUT``) gets carried out: a store given a response of this
        client (every response carries ``keepalive_sink``: this client) hands
        its :class:`~botters.protocol.store.KeepAlive` here. The request is
        sent through this client, so it is signed and rate-limited like any
        request, first after ``request.first_delay`` s and then every
        ``request.interval`` s. A failure (an exception or a non-2xx answer)
        is logged on ``botters.http`` at WARNING and retried sooner
        (:meth:`KeepAlive.next_delay
        <botters.protocol.store.KeepAlive.next_delay>`: 1, 2, 4 ... 60 s),
        then the schedule resumes; it never stops the client. Returns at
        once; giving the same request twice does nothing.

        The background task belongs to the client (on a :meth:`with_apis`
        view: to its owner; the view's credentials sign): it is cancelled
        and awaited when the client closes.

        Raises:
            ClientClosedError: the client is closed.
            ConfigError: the client cannot run a background task (trio:
                outside ``async with``; asyncio: no running event loop).
        """
        if self._closed:
            raise ClientClosedError("this Client is closed")
        if request in self._carried or request.stopped:
            return
        self._start_keepalive(request)
        self._carried.add(request)
        logger.debug("%r: carrying %r (%s)", self, request, request.describe())

    def _start_keepalive(self, request: KeepAlive) -> None:
        """Run :meth:`_keepalive_loop` for ``request`` as a task the client owns."""
        raise NotImplementedError

    def _keepalive_options(self) -> dict[str, Any]:
        """``fetch`` options bounding one keep-alive send by :data:`KEEPALIVE_SEND_TIMEOUT`."""
        raise NotImplementedError

    async def _keepalive_loop(
        self, request: KeepAlive, sleep: Callable[[float], Awaitable[object]]
    ) -> None:
        """Send ``request`` on its schedule until it is stopped or the client closes.

        Adapter-neutral: ``sleep`` is the adapter's. Never raises but for
        cancellation, so it can run in a trio nursery without taking the
        client down.
        """
        failures = 0
        delay = request.first_delay
        what = request.name or request.describe()
        try:
            while True:
                if delay > 0:
                    await sleep(delay)
                if request.stopped or self._closed:
                    return
                try:
                    result = await self.fetch(  # type: ignore[attr-defined]
                        request.method,
                        request.url,
                        params=dict(request.params),
                        **self._keepalive_options(),
                    )
                except ClientClosedError:
                    return
                except Exception as exc:
                    failures += 1
                    delay = request.next_delay(failures)
                    reason = request.redact(str(exc) or type(exc).__name__)[:_BODY_SHOWN]
                    logger.warning(
                        "keep-alive %s failed (%s: %s); retrying in %g s",
                        what,
                        type(exc).__name__,
                        reason,
                        delay,
                    )
                    continue
                status = result.response.status
                if 200 <= status < 300:
                    if failures:
                        logger.info("keep-alive %s succeeded again", what)
                    failures = 0
                    delay = request.interval
                    continue
                failures += 1
                delay = request.next_delay(failures)
                body = " ".join(str(result.text).split())
                if len(body) > _BODY_SHOWN:
                    body = body[: _BODY_SHOWN - 1] + "…"
                logger.warning(
                    "keep-alive %s failed: HTTP %d %s; retrying in %g s",
                    what,
                    status,
                    request.redact(body),
                    delay,
                )
        finally:
            self._carried.discard(request)

    def request(self, method: str, url: UrlT, **kwargs: Any) -> RequestContext[RespT]:
        """Send a request (see the adapter's client)."""
        raise NotImplementedError

    def get(self, url: UrlT, *, params: Any = None, **kwargs: Any) -> RequestContext[RespT]:
        """``request("GET", url, ...)``."""
        return self.request("GET", url, params=params, **kwargs)

    def post(self, url: UrlT, *, data: Any = None, **kwargs: Any) -> RequestContext[RespT]:
        """``request("POST", url, ...)``."""
        return self.request("POST", url, data=data, **kwargs)

    def put(self, url: UrlT, *, data: Any = None, **kwargs: Any) -> RequestContext[RespT]:
        """``request("PUT", url, ...)``."""
        return self.request("PUT", url, data=data, **kwargs)

    def delete(self, url: UrlT, *, data: Any = None, **kwargs: Any) -> RequestContext[RespT]:
        """``request("DELETE", url, ...)``."""
        return self.request("DELETE", url, data=data, **kwargs)

    def build(
        self,
        method: str,
        url: UrlT,
        *,
        params: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        auth: Any = Auth,
        now: float | None = None,
    ) -> Request:
        """The exact request botters would send (built and, unless ``auth=None``, signed).

        Useful to inspect or log what goes out; the request methods do this,
        then send the result without re-encoding it. Headers the client or
        the transport add when sending (``User-Agent``, ``Host``,
        ``Content-Length``...) are not part of it.
        """
        request = self._build(method, url, params, data, headers)
        if auth is Auth:
            return sign_request(request, self._apis, now=time.time() if now is None else now)
        return request

    def _build(self, method: str, url: UrlT, params: Any, data: Any, headers: Any) -> Request:
        url_str = str(url)
        if isinstance(params, str):
            if params:
                joined = url_str if "://" in url_str else self._base_url + url_str
                url_str = f"{joined}{'&' if '?' in joined else '?'}{params}"
            params = None
        pairs = header_pairs(headers)
        if isinstance(data, str) and not any(k.lower() == "content-type" for k, _ in pairs):
            # What aiohttp labels a str body with; kept so both adapters (and
            # pybotters) send the same.
            pairs.append(("Content-Type", "text/plain; charset=utf-8"))
        return Request.build(
            method,
            url_str,
            params=params,
            data=data,
            headers=pairs if headers is not None or pairs else None,
            base_url=self._base_url,
        )
