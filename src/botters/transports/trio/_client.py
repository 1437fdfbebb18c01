"""``botters.trio.Client``: pybotters' HTTP API on trio, HTTP/1.1 over h11, signed by the core.

Theory of operation
-------------------
A request goes through the same three steps as on aiohttp:

1. :meth:`botters.Request.build` fixes the URL and body bytes;
2. :func:`botters.protocol.sign_request` signs them for the **exact** host with
   ``now=time.time()`` (unless ``auth=None``);
3. the request's ``path?query`` and body are written by h11 as they are: no
   re-encoding, so the exchange receives byte for byte what was signed.

Sending (:meth:`Client._exchange`) takes a connection from the bounded
keep-alive pool (:mod:`._pool`; at most ``max_connections_per_host`` per
``(scheme, host, port)``), writes the request, reads the response head and
returns a :class:`~._response.Response` whose body is read on demand. A
connection whose response was read to the end goes back to the pool; any
error or cancellation, and any response closed half-read, closes it. If a
*reused* connection turns out closed by the server before a single response
byte arrived, a request with a safe method (GET, HEAD, OPTIONS, TRACE) is sent
once more on a fresh connection; other methods never are (an order must not
be placed twice), they raise :class:`~botters.ConnectionLostError`.

Redirects (301, 302, 303, 307, 308) are followed by botters, at most
``max_redirects`` times. When a hop leaves the original origin (scheme, host,
port), every header the signer added and any ``Authorization`` header are
removed for that hop and all later ones; nothing is re-signed.

Time. ``connect_timeout`` bounds TCP connect plus TLS handshake; a request's
``timeout=`` (seconds) bounds it up to the response head (``fetch``: up to the
end of the body). Everything else is bounded by the caller's cancel scopes
(``with trio.fail_after(5): await client.fetch(...)``). All deadlines use
trio's clock, so :class:`trio.testing.MockClock` drives them.

Structured concurrency. ``async with Client() as client:`` opens a nursery the
client owns: background work (WebSocket connections) runs there and nowhere
else, and is cancelled and awaited when the block ends. A background task that
fails ends the block and is raised as **one** botters exception, never an
``ExceptionGroup``; an exception raised by the block's own code comes out
unchanged. HTTP requests run in the caller's task and need no nursery, so a
client used only for HTTP also works without ``async with`` (call
:meth:`Client.aclose` when done).
"""

from __future__ import annotations

import logging
import ssl as _ssl
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urljoin

import trio

from botters.protocol._errors import BottersError, ConfigError
from botters.protocol._registry import resolve as _resolve_route
from botters.protocol._registry import sign_request
from botters.protocol._request import Headers, Request, URLParts
from botters.protocol.limits import Reservation
from botters.transports._auth import Auth
from botters.transports._client import (
    KEEPALIVE_SEND_TIMEOUT,
    PLAIN_BODY,
    REDIRECTS,
    USER_AGENT,
    BaseClient,
    FetchResult,
    NotJSONContent,
    RequestContext,
    parse_body,
    refuse_json,
    safe_url,
)
from botters.transports._errors import (
    ClientClosedError,
    ConnectionLostError,
    TooManyRedirectsError,
    TransportError,
    TransportTimeoutError,
)
from botters.transports._limits import RateLimitSetting, observe, wake

from ._errors import MAPPED, map_error
from ._http import Body, Key, StaleConnectionError
from ._net import make_ssl_context, open_stream, parse_pins
from ._pool import DEFAULT_KEEPALIVE_EXPIRY, DEFAULT_MAX_PER_HOST, ConnectionPool
from ._response import Response, ResponseHeaders
from ._ws import WebSocketApp, ws_connect

if TYPE_CHECKING:
    from botters.protocol.store import KeepAlive

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_HEADER_SIZE",
    "DEFAULT_MAX_REDIRECTS",
    "Client",
    "FetchResult",
    "NotJSONContent",
    "RequestContext",
]

logger = logging.getLogger("botters.trio")

DEFAULT_CONNECT_TIMEOUT: Final = 10.0
"""Seconds for TCP connect plus TLS handshake."""
DEFAULT_MAX_REDIRECTS: Final = 10
"""Redirects followed before :class:`~botters.TooManyRedirectsError`."""
DEFAULT_MAX_HEADER_SIZE: Final = 65536
"""Bytes a response head (status line and headers) may take; more is refused."""

_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_DEFAULT_PORTS: Final = {"https": 443, "http": 80}


def _port(parts: URLParts) -> int:
    host_part = f"[{parts.host}]" if ":" in parts.host else parts.host
    rest = parts.netloc[len(host_part) :]
    if rest.startswith(":") and rest[1:].isdigit():
        return int(rest[1:])
    return _DEFAULT_PORTS[parts.scheme]


def _origin(request: Request) -> Key:
    p = request.parts
    return (p.scheme, p.host, _port(p))


def _leaves(group: BaseExceptionGroup[Any]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            out.extend(_leaves(exc))
        else:
            out.append(exc)
    return out


def _reraise(exc: BaseException) -> None:
    """Raise ``exc`` keeping the context it had (not the group it was unwrapped from)."""
    context, suppress = exc.__context__, exc.__suppress_context__
    try:
        raise exc
    finally:
        exc.__context__, exc.__suppress_context__ = context, suppress


class Client(BaseClient[str, Response]):
    """pybotters' ``Client`` on trio: signed HTTP/1.1 requests (and managed WebSockets).

    Use it as an async context manager inside ``trio.run``::

        async with botters.trio.Client(apis=apis, base_url="https://api.bitflyer.com") as client:
            r = await client.fetch("GET", "/v1/me/getbalance")

    Args:
        apis: Credentials: a dict, a path to a JSON file, or ``None`` for the
            implicit sources (``./apis.json``, then ``$BOTTERS_APIS`` or
            ``$PYBOTTERS_APIS``). Read once, here.
        base_url: Prefix for relative request URLs (plain concatenation, only
            when the URL has no scheme; never applied to :meth:`ws_connect`).
        headers: Headers added to every request unless the request sets them.
            A ``User-Agent`` of ``botters/<version>`` is added unless given.
        resolve: **Testing hook.** Pin host names to local addresses, e.g.
            ``{"api.bitflyer.com": ("127.0.0.1", 8443)}``: URLs, signatures,
            the ``Host`` header and TLS checks (SNI, certificate name) keep the
            real name; only the TCP connection goes to the pinned address.
        ssl: TLS: ``None``/``True`` for the stdlib default context (system
            CAs, hostname checks), an ``ssl.SSLContext`` (e.g. trusting a test
            CA; used as it is), or ``False`` for no verification at all.
        connect_timeout: Seconds (trio's clock) for TCP connect plus TLS
            handshake; ``None`` for no limit. Default
            :data:`DEFAULT_CONNECT_TIMEOUT` (10 s).
        max_connections_per_host: Bound on open connections, and so on
            requests in flight, per ``(scheme, host, port)``; more requests
            wait for a free connection. Default 10.
        keepalive_expiry: Seconds an idle connection is kept for reuse.
            Default 15 s.
        max_redirects: Redirects followed per request. Default 10.
        max_header_size: Bytes a response head may take. Default 64 KiB.
        raise_for_status: Raise :class:`~botters.HTTPStatusError` for every
            response with a status >= 400 (per request: ``raise_for_status=``).
        rate_limit: REST rate limiting. ``True`` (default): every request to
            an exchange waits, if it must, until the exchange's documented
            limits allow it (:mod:`botters.protocol.limits`); a number scales
            those limits (``0.8``); a
            :class:`~botters.protocol.limits.RateLimiter` is used as given
            (share one between clients); ``False`` turns limiting off. The
            wait is not part of a request's ``timeout=``; the caller's cancel
            scopes do cover it.

    Raises:
        ConfigError: An option aiohttp has but this client does not
            (``session=``, ``connector=``, ``timeout=ClientTimeout``...).
    """

    def __init__(
        self,
        apis: Any = None,
        base_url: str = "",
        *,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        resolve: Mapping[str, tuple[str, int | None]] | None = None,
        ssl: _ssl.SSLContext | bool | None = None,
        connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
        max_connections_per_host: int = DEFAULT_MAX_PER_HOST,
        keepalive_expiry: float = DEFAULT_KEEPALIVE_EXPIRY,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        raise_for_status: bool = False,
        rate_limit: RateLimitSetting = True,
        **unsupported: Any,
    ) -> None:
        if unsupported:
            raise ConfigError(
                f"botters.trio.Client does not take {', '.join(sorted(unsupported))}: "
                "it has no aiohttp session; see its docstring for the options it has"
            )
        if not (ssl is None or isinstance(ssl, bool | _ssl.SSLContext)):
            raise ConfigError(f"ssl= takes an ssl.SSLContext, True, False or None, not {ssl!r}")
        if not isinstance(max_connections_per_host, int) or max_connections_per_host < 1:
            raise ConfigError("max_connections_per_host must be an int >= 1")
        if connect_timeout is not None and connect_timeout <= 0:
            raise ConfigError("connect_timeout must be > 0 seconds, or None")
        super().__init__(apis, base_url, rate_limit)
        defaults = Headers(headers) if headers is not None else Headers()
        if "user-agent" not in defaults:
            defaults = defaults.set({"User-Agent": USER_AGENT})
        self._headers = defaults
        self._pins = parse_pins(resolve)
        self._ssl_setting = ssl
        self._ssl_context: _ssl.SSLContext | None = None
        self._connect_timeout = connect_timeout
        self._max_redirects = max_redirects
        self._raise_for_status = raise_for_status
        self._pool = ConnectionPool(
            self._connect,
            max_per_host=max_connections_per_host,
            keepalive_expiry=keepalive_expiry,
            max_header_size=max_header_size,
        )
        self._apps: set[WebSocketApp] = set()
        self._nursery: trio.Nursery | None = None
        self._nursery_cm: Any = None
        self._failure: BaseException | None = None

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        if self._closed:
            raise ClientClosedError("this Client is closed")
        if self._view_owner() is not None:
            return self  # a with_apis() view: the owner's nursery does the work
        if self._nursery_cm is not None:
            raise RuntimeError("this Client is already in use by an `async with` block")
        cm = trio.open_nursery()
        self._nursery = await cm.__aenter__()
        self._nursery_cm = cm
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if self._view_owner() is not None:
            await self.close()
            return False
        cm, self._nursery_cm = self._nursery_cm, None
        nursery, self._nursery = self._nursery, None
        body_exc = exc
        try:
            await self.close()
        except BaseException as close_exc:  # e.g. Cancelled: the caller's scope is cancelled
            if body_exc is None:
                body_exc = close_exc
        assert nursery is not None
        nursery.cancel_scope.cancel()
        suppressed = False
        try:
            suppressed = bool(
                await cm.__aexit__(
                    type(body_exc) if body_exc is not None else None,
                    body_exc,
                    body_exc.__traceback__ if body_exc is not None else None,
                )
            )
        except BaseExceptionGroup as group:
            if self._failure is None:
                _reraise(self._flatten(group, body_exc))
        if self._failure is not None:
            raise self._failure_error() from self._failure
        if body_exc is not None and body_exc is not exc and not suppressed:
            _reraise(body_exc)
        return suppressed

    @staticmethod
    def _flatten(group: BaseExceptionGroup[Any], body_exc: BaseException | None) -> BaseException:
        """One exception for what a nursery raised (the body's own, when it is there)."""
        leaves = _leaves(group)
        real = [e for e in leaves if not isinstance(e, trio.Cancelled)]
        if not real:
            return body_exc if isinstance(body_exc, trio.Cancelled) else leaves[0]
        if body_exc is not None and any(e is body_exc for e in real):
            return body_exc
        if len(real) == 1:
            return real[0]
        return BottersError(f"{len(real)} failures in botters.trio.Client: {real!r}")

    def _failure_error(self) -> BaseException:
        failure = self._failure
        assert failure is not None
        if isinstance(failure, BottersError):
            return failure
        return BottersError(
            f"a background task of botters.trio.Client failed: {type(failure).__name__}: {failure}"
        )

    async def close(self) -> None:
        """Close every WebSocket app, then every connection. Calling it twice is harmless.

        Requests afterwards raise :class:`~botters.ClientClosedError`; a
        response still being read fails with :class:`~botters.ConnectionLostError`.
        Background tasks are cancelled and awaited when the ``async with``
        block ends. On a :meth:`with_apis` view it only marks the view closed:
        the owner closes what they share.
        """
        if self._closed:
            return
        self._closed = True
        if self._view_owner() is not None:
            return
        try:
            while self._apps:
                app = self._apps.pop()
                try:
                    await app.close()
                except Exception:
                    logger.exception("%r: closing %r failed", self, app)
        finally:
            self._pool.close()

    aclose = close
    """trio's name for :meth:`close`."""

    # -- for the adapter's own modules (the WebSocket half) -------------------------------

    def _spawn(self, async_fn: Callable[..., Awaitable[Any]], *args: Any, name: Any = None) -> None:
        """Run ``async_fn(*args)`` in the client's nursery (requires ``async with``).

        If it raises, the failure is logged, the ``async with`` block is
        cancelled and the failure is raised from the block's end as one
        botters exception.
        """
        if self._closed:
            raise ClientClosedError("this Client is closed")
        owner = self._view_owner()
        if owner is not None:
            # A with_apis() view: its work runs (and fails) in the owner's nursery.
            assert isinstance(owner, Client)
            owner._spawn(async_fn, *args, name=name)
            return
        if self._nursery is None:
            raise ConfigError(
                "this needs a running client: use `async with botters.trio.Client(...) as client:`"
            )
        self._nursery.start_soon(self._guarded, async_fn, args, name=name or async_fn)

    async def _guarded(
        self, async_fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]
    ) -> None:
        try:
            await async_fn(*args)
        except Exception as exc:
            if self._failure is None:
                self._failure = exc
                logger.error("%r: background task %r failed", self, async_fn, exc_info=exc)
            if self._nursery is not None:
                self._nursery.cancel_scope.cancel()

    def _forget(self, app: WebSocketApp) -> None:
        self._apps.discard(app)

    # -- keep-alive requests ------------------------------------------------------------

    def _start_keepalive(self, request: KeepAlive) -> None:
        # In the client's nursery (a view's: its owner's), so the loop ends with
        # `async with`; _spawn raises ConfigError outside it.
        self._spawn(
            self._keepalive_loop, request, trio.sleep, name=f"botters keep-alive {request!r}"
        )

    def _keepalive_options(self) -> dict[str, Any]:
        return {"timeout": KEEPALIVE_SEND_TIMEOUT}

    def _tls_context(self) -> _ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = make_ssl_context(self._ssl_setting)
        return self._ssl_context

    async def _open_stream(
        self, host: str, port: int, *, tls: bool, url: str | None = None
    ) -> trio.abc.Stream:
        """A new connection with this client's pins, TLS settings and connect timeout.

        See :func:`botters.transports.trio.open_stream`; the WebSocket half
        uses this for its handshakes.
        """
        return await open_stream(
            host,
            port,
            tls=self._tls_context() if tls else False,
            resolve=self._pins,
            connect_timeout=self._connect_timeout,
            url=url,
        )

    async def _connect(self, key: Key, url: str | None) -> trio.abc.Stream:
        scheme, host, port = key
        return await self._open_stream(host, port, tls=scheme == "https", url=url)

    # -- HTTP ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        auth: Any = Auth,
        timeout: float | None = None,
        allow_redirects: bool = True,
        max_redirects: int | None = None,
        raise_for_status: bool | None = None,
        **unsupported: Any,
    ) -> RequestContext[Response]:
        """Send a request; ``await`` it or use it with ``async with`` (see :class:`RequestContext`).

        Args:
            method: HTTP method.
            url: Absolute ``http(s)://`` URL, or a path appended to ``base_url``.
            params: Query parameters (a dict, ``(key, value)`` pairs, or an
                already-encoded query string).
            data: The body: a dict or list is encoded the way the target
                exchange expects (JSON or form); ``str``/``bytes`` are sent as
                given (with ``Content-Length``). An iterable or async iterable
                of ``bytes`` is streamed with chunked transfer encoding, and
                only to hosts botters does not sign.
            headers: Extra headers for this request.
            auth: :class:`~botters.Auth` (default) signs for the URL's exact
                host; ``None`` sends it unsigned; a ``(login, password)`` pair
                sends HTTP Basic credentials, unsigned.
            timeout: Seconds (trio's clock) until the response head has
                arrived; :class:`~botters.TransportTimeoutError` after that.
            allow_redirects: Follow redirects (default ``True``).
            max_redirects: Overrides the client's ``max_redirects``.
            raise_for_status: Overrides the client's ``raise_for_status``.
            **unsupported: aiohttp options this client does not have: refused.

        Raises:
            ConfigError: ``json=`` or another option this client does not have
                was given (raised at once).
        """
        refuse_json(unsupported)
        if unsupported:
            raise ConfigError(
                f"botters.trio.Client.request does not take {', '.join(sorted(unsupported))}"
            )
        _check_timeout(timeout)
        options = {
            "timeout": timeout,
            "allow_redirects": allow_redirects,
            "max_redirects": max_redirects,
            "raise_for_status": raise_for_status,
        }

        def send() -> Awaitable[Response]:
            return self._send(method, url, params, data, headers, auth, options)

        return RequestContext(send)

    async def fetch(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        data: Any = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> FetchResult[Response]:
        """Send a request, read the whole body and parse it as JSON.

        Takes the same arguments as :meth:`request`; ``timeout`` here bounds
        the whole exchange, body included. The connection is released before
        this returns. ``data`` is the parsed JSON, ``None`` for an empty body,
        or a falsy :class:`NotJSONContent`.
        """
        _check_timeout(timeout)
        if timeout is None:
            return await self._fetch(method, url, params, data, kwargs)
        with trio.move_on_after(timeout):
            return await self._fetch(method, url, params, data, kwargs)
        where = self._display_url(url)
        raise TransportTimeoutError(f"timed out after {timeout} s ({where})", url=where)

    def _display_url(self, url: str) -> str:
        """``url`` (joined to ``base_url``) without query or fragment, for messages."""
        full = url if "://" in url else self._base_url + url
        return full.split("#", 1)[0].split("?", 1)[0]

    async def _fetch(
        self, method: str, url: str, params: Any, data: Any, kwargs: dict[str, Any]
    ) -> FetchResult[Response]:
        async with self.request(method, url, params=params, data=data, **kwargs) as resp:
            text = await resp.text(errors="replace")
        return FetchResult(resp, text, parse_body(text))

    async def _send(
        self,
        method: str,
        url: str,
        params: Any,
        data: Any,
        headers: Any,
        auth: Any,
        options: dict[str, Any],
    ) -> Response:
        if self._closed:
            raise ClientClosedError("this Client is closed")
        stream: Body | None = None
        if data is not None and not isinstance(data, PLAIN_BODY):
            if not isinstance(data, AsyncIterable | Iterable):
                raise ConfigError(
                    "data= takes a dict, list, str, bytes or an (async) iterable of bytes, "
                    f"not {type(data).__name__}"
                )
            stream, data = data, None
        unsigned = self._build(method, url, params, data, headers)
        return await self._send_request(unsigned, auth, options, stream)

    async def _send_request(
        self,
        unsigned: Request,
        auth: Any = Auth,
        options: Mapping[str, Any] | None = None,
        stream: Body | None = None,
    ) -> Response:
        """Sign (per ``auth``) and send an already-built request, exactly as built.

        ``options``: ``timeout``, ``allow_redirects``, ``max_redirects``,
        ``raise_for_status`` as in :meth:`request`. The WebSocket half uses
        this for token requests.
        """
        if self._closed:
            raise ClientClosedError("this Client is closed")
        opts = dict(options or {})
        if unsigned.scheme not in _DEFAULT_PORTS:
            raise ConfigError(
                f"HTTP requests need an http:// or https:// URL, not {unsigned.scheme}:"
            )
        reservation, key = self._reserve(unsigned, auth)
        if reservation is not None and reservation.at > time.time():
            await self._wait_turn(reservation)
        signed = unsigned
        if auth is Auth:
            if stream is not None and _resolve_route(unsigned, self._apis) is not None:
                raise ConfigError(
                    f"cannot sign a streamed body for {safe_url(unsigned)}: "
                    "pass data= as a dict, str or bytes"
                )
            signed = sign_request(unsigned, self._apis, now=time.time())
        elif isinstance(auth, tuple) and len(auth) == 2:
            if "authorization" not in signed.headers:
                import base64

                token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
                signed = signed.with_headers({"Authorization": f"Basic {token}"})
        elif auth is not None:
            raise ConfigError(
                "auth= takes botters.Auth, None or a (login, password) pair, "
                f"not {type(auth).__name__}"
            )
        timeout = opts.get("timeout")
        if timeout is None:
            resp = await self._send_following(signed, unsigned, stream, opts)
        else:
            got: Response | None = None
            with trio.move_on_after(timeout):
                got = await self._send_following(signed, unsigned, stream, opts)
            if got is None:
                url = safe_url(signed)
                raise TransportTimeoutError(f"timed out after {timeout} s ({url})", url=url)
            resp = got
        if self._limiter is not None:
            observe(self._limiter, unsigned, resp.status, resp.headers, key)
        return resp

    async def _wait_turn(self, reservation: Reservation) -> None:
        """Sleep until ``reservation``'s time (it may move); give it back if cancelled."""
        limiter = self._limiter
        assert limiter is not None
        event = trio.Event()
        reservation.waker = event
        try:
            while (delay := reservation.at - time.time()) > 0:
                with trio.move_on_after(delay):
                    await event.wait()
                if event.is_set():
                    event = trio.Event()
                    reservation.waker = event
        except BaseException:
            wake(limiter.cancel(reservation, now=time.time()))
            raise
        finally:
            reservation.waker = None

    async def _send_following(
        self,
        signed: Request,
        unsigned: Request,
        stream: Body | None,
        opts: Mapping[str, Any],
    ) -> Response:
        allow_redirects = opts.get("allow_redirects", True)
        max_redirects = opts.get("max_redirects")
        if max_redirects is None:
            max_redirects = self._max_redirects
        raise_for_status = opts.get("raise_for_status")
        if raise_for_status is None:
            raise_for_status = self._raise_for_status
        # The headers the signer added or changed: they never leave the signed origin.
        auth_headers = {
            name.lower()
            for name, value in signed.headers.items()
            if unsigned.headers.get(name) != value
        } | {"authorization"}
        origin = _origin(signed)
        request = signed
        history: list[Response] = []
        resp = await self._exchange(request, stream)
        try:
            while allow_redirects and resp.status in REDIRECTS:
                location = resp.headers.get("location")
                if not location:
                    break
                status = resp.status
                if len(history) >= max_redirects:
                    await resp._drain()
                    resp.release()
                    url = safe_url(signed)
                    raise TooManyRedirectsError(
                        f"more than {max_redirects} redirects for {url}",
                        status=status,
                        reason=resp.reason,
                        url=url,
                        headers=dict(resp.headers),
                    )
                method = request.method
                body = request.body
                headers = request.headers
                to_get = (status == 303 and method != "HEAD") or (
                    status in (301, 302) and method == "POST"
                )
                if stream is not None and not to_get:
                    break  # a streamed body cannot be sent again: return the redirect itself
                try:
                    target = Request(method, urljoin(resp.url, location.strip()), headers, body)
                except ConfigError as exc:
                    resp.release()
                    url = safe_url(signed)
                    raise TransportError(f"redirect to an invalid URL from {url}", url=url) from exc
                if target.scheme not in _DEFAULT_PORTS:
                    resp.release()
                    url = safe_url(signed)
                    raise TransportError(
                        f"redirect to a non-HTTP URL ({target.scheme}:) from {url}", url=url
                    )
                await resp._drain()
                resp.release()
                history.append(resp)
                if to_get:
                    method, body, stream = "GET", b"", None
                    headers = headers.remove("Content-Type", "Content-Length", "Transfer-Encoding")
                if _origin(target) != origin:
                    # Leaving the origin that was signed for: the signature stays behind.
                    headers = headers.remove(*auth_headers, "Host")
                request = Request(method, target.url, headers, body)
                resp = await self._exchange(request, stream)
            if raise_for_status and resp.status >= 400:
                await resp._drain()
                resp.release()
                resp.raise_for_status()
        except BaseException:
            resp.release()
            raise
        resp.history = tuple(history)
        return resp

    def _wire_headers(self, request: Request, stream: Body | None) -> list[tuple[str, str]]:
        given = request.headers
        out: list[tuple[str, str]] = []
        if "host" not in given:
            out.append(("Host", request.parts.netloc))
        out.extend((k, v) for k, v in self._headers.items() if k not in given)
        if "accept" not in given and "accept" not in self._headers:
            out.append(("Accept", "*/*"))
        if "accept-encoding" not in given and "accept-encoding" not in self._headers:
            out.append(("Accept-Encoding", "gzip, deflate"))
        out.extend(given.items())
        if "content-length" not in given and "transfer-encoding" not in given:
            if stream is not None:
                out.append(("Transfer-Encoding", "chunked"))
            elif request.body or request.method in ("POST", "PUT", "PATCH"):
                out.append(("Content-Length", str(len(request.body))))
        return out

    async def _exchange(self, request: Request, stream: Body | None) -> Response:
        """One request/response on a pooled connection; the body is left to the Response."""
        safe = safe_url(request)
        key = _origin(request)
        headers = self._wire_headers(request, stream)
        body: Body = stream if stream is not None else request.body
        retry = request.method in _SAFE_METHODS and stream is None
        while True:
            conn = await self._pool.acquire(key, safe)
            try:
                try:
                    await conn.send_request(request.method, request.path_qs, headers, body)
                except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                    if conn.requests > 1 and not self._closed:
                        raise StaleConnectionError("the kept-alive connection was closed") from exc
                    raise
                head = await conn.receive_head()
                buffered, complete = conn.buffered_data()
                return Response(
                    sink=self,
                    status=head.status_code,
                    reason=head.reason.decode("latin-1"),
                    headers=ResponseHeaders(
                        (k.decode("latin-1"), v.decode("latin-1"))
                        for k, v in head.headers.raw_items()
                    ),
                    url=request.url,
                    method=request.method,
                    http_version=head.http_version.decode("ascii", "replace"),
                    conn=conn,
                    pool=self._pool,
                    buffered=buffered,
                    complete=complete,
                    safe_url=safe,
                )
            except StaleConnectionError as exc:
                self._pool.discard(conn)
                if retry:
                    retry = False
                    logger.debug("%s: kept-alive connection was closed, retrying once", safe)
                    continue
                raise ConnectionLostError(f"connection lost ({safe}): {exc}", url=safe) from exc
            except BaseException as exc:
                self._pool.discard(conn)
                if self._closed and isinstance(exc, MAPPED):
                    raise ClientClosedError("this Client was closed during the request") from exc
                if isinstance(exc, MAPPED):
                    raise map_error(exc, safe) from exc
                if isinstance(exc, ConnectionLostError) and exc.url is None:
                    raise ConnectionLostError(f"{exc} ({safe})", url=safe) from exc
                raise

    # -- WebSocket -----------------------------------------------------------------------

    def ws_connect(self, url: str, **kwargs: Any) -> WebSocketApp:
        """Open a managed WebSocket in the client's nursery; see :func:`botters.trio.ws_connect`.

        Needs the client's nursery (``async with botters.trio.Client() as client``).
        """
        if self._closed:
            raise ClientClosedError("this Client is closed")
        return ws_connect(self, url, **kwargs)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<botters.trio.Client {state} base_url={self._base_url!r} apis={list(self._apis)}>"


def _check_timeout(timeout: object) -> None:
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0
    ):
        raise ConfigError(
            f"timeout= takes seconds (a number >= 0) or None, not {timeout!r}; "
            "with trio you can also wrap the call in `with trio.fail_after(...)`"
        )
