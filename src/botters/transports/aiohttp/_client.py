"""``botters.Client``: pybotters' HTTP API on aiohttp, signed by the pure core.

Theory of operation
-------------------
Every request goes through three steps:

1. :meth:`botters.Request.build` turns ``(method, url, params, data)`` into the
   final URL and body bytes (``base_url`` is prepended to relative URLs by
   plain concatenation, as in pybotters);
2. :func:`botters.protocol.sign_request` signs it for its **exact** host with
   ``now=time.time()`` (unless ``auth=None``);
3. aiohttp sends it **without re-encoding**: ``yarl.URL(url, encoded=True)``,
   ``data=<the bytes>`` and the request's headers, so the exchange receives
   byte for byte what was signed.

Redirects. aiohttp follows redirects itself and, on a change of origin, drops
only the ``Authorization`` header; it would forward an exchange's signature
headers (``ACCESS-KEY``, ``X-BAPI-SIGN``...) to whatever host a ``Location``
names. So a *signed* request is sent with ``allow_redirects=False`` and botters
follows the redirects itself: when a hop leaves the original origin (scheme,
host, port), every header the signer added is removed, for that hop and all
later ones, and nothing is re-signed. Unsigned requests use aiohttp's own
redirect handling. Either way ``max_redirects`` (default 10) and
``allow_redirects=False`` are honoured; for redirects botters followed itself,
``response.history`` is empty.

Errors. aiohttp's exceptions raised by these methods are mapped to
:mod:`botters.transports._errors` types (see :func:`~._errors.map_error`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl as _ssl
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, cast

import aiohttp
import yarl
from multidict import CIMultiDict

from botters.protocol._errors import ConfigError
from botters.protocol._registry import resolve as _resolve_route
from botters.protocol._registry import sign_request
from botters.protocol._request import Request
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
from botters.transports._errors import ClientClosedError, TooManyRedirectsError, TransportError
from botters.transports._limits import RateLimitSetting, observe, wake

from ._errors import MAPPED, map_error
from ._resolver import PinnedResolver

if TYPE_CHECKING:
    from botters.protocol.session import Backoff
    from botters.protocol.store import KeepAlive
    from botters.transports._dispatch import HandlerSpec

    from ._ws import WebSocketApp


# Before CPython 3.12.8 (and in 3.13.0) a TLS transport closed while its
# shutdown is still in flight (a request cancelled mid-response) can outlive
# the event loop and leak its socket (python/cpython#118960). aiohttp then
# aborts such transports itself, at the latest when the session closes; on
# fixed versions it warns if asked to, so ask only where it is needed.
_SSL_CLOSE_LEAKS: Final = sys.version_info < (3, 12, 8) or (3, 13, 0) <= sys.version_info < (
    3,
    13,
    1,
)

__all__ = ["Client", "FetchResult", "NotJSONContent", "RequestContext"]


class Client(BaseClient[str | yarl.URL, aiohttp.ClientResponse]):
    """pybotters' ``Client`` on aiohttp: signed HTTP requests and managed WebSockets.

    Use it as an async context manager (it needs a running event loop)::

        async with botters.Client(apis=apis, base_url="https://api.bitflyer.com") as client:
            r = await client.fetch("GET", "/v1/me/getbalance")

    Args:
        apis: Credentials: a dict, a path to a JSON file, or ``None`` for the
            implicit sources (``./apis.json``, then ``$BOTTERS_APIS`` or
            ``$PYBOTTERS_APIS``). Read once, here.
        base_url: Prefix for relative request URLs (plain concatenation, only
            when the URL has no scheme; never applied to :meth:`ws_connect`).
        session: A caller-owned ``aiohttp.ClientSession`` to send through.
            botters never closes it and adds no default headers to it; it
            cannot be combined with session options.
        resolve: **Testing hook.** Pin host names to local addresses, e.g.
            ``{"api.bitflyer.com": ("127.0.0.1", 8443)}``: URLs, signatures
            and TLS checks keep the real name (see :class:`PinnedResolver`).
        ssl: TLS setting for the connector botters creates (an
            ``ssl.SSLContext`` trusting a test CA, or ``False``); aiohttp's
            default verification otherwise.
        rate_limit: REST rate limiting. ``True`` (default): every request to
            an exchange waits, if it must, until the exchange's documented
            limits allow it (:mod:`botters.protocol.limits`); a number scales
            those limits (``0.8``); a
            :class:`~botters.protocol.limits.RateLimiter` is used as given
            (share one between clients); ``False`` turns limiting off.
        **session_kwargs: Passed to ``aiohttp.ClientSession`` (``headers``,
            ``timeout``, ``connector``, ``raise_for_status``...). A
            ``User-Agent`` of ``botters/<version>`` is added unless given.
    """

    def __init__(
        self,
        apis: Any = None,
        base_url: str = "",
        *,
        session: aiohttp.ClientSession | None = None,
        resolve: Mapping[str, tuple[str, int | None]] | None = None,
        ssl: _ssl.SSLContext | bool | None = None,
        rate_limit: RateLimitSetting = True,
        **session_kwargs: Any,
    ) -> None:
        super().__init__(apis, base_url, rate_limit)
        self._resolver: PinnedResolver | None = None
        self._apps: set[WebSocketApp] = set()
        self._tasks: set[asyncio.Task[None]] = set()  # keep-alive loops (strong references)
        if session is not None:
            if session_kwargs or resolve is not None or ssl is not None:
                raise ConfigError(
                    "Client(session=...) sends through your session as it is: configure it "
                    "there instead of passing session options, resolve= or ssl="
                )
            self._session = session
            self._owns_session = False
            return
        headers: CIMultiDict[str] = CIMultiDict(session_kwargs.pop("headers", None) or {})
        if "User-Agent" not in headers:
            headers["User-Agent"] = USER_AGENT
        if resolve is not None or ssl is not None:
            if "connector" in session_kwargs:
                raise ConfigError(
                    "resolve= and ssl= configure the connector botters creates; with your own "
                    "connector=, give it resolver=PinnedResolver(...) and ssl= yourself"
                )
            if resolve is not None:
                self._resolver = PinnedResolver(resolve)
            session_kwargs["connector"] = aiohttp.TCPConnector(
                resolver=cast(Any, self._resolver),
                ssl=True if ssl is None else ssl,
                enable_cleanup_closed=_SSL_CLOSE_LEAKS,
            )
        self._session = aiohttp.ClientSession(headers=headers, **session_kwargs)
        self._owns_session = True

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop the keep-alive loops, close every WebSocketApp, then the session if botters made it.

        Every background task is cancelled and awaited and every socket is
        closed before this returns. Calling it twice is harmless. A session
        passed as ``session=`` stays open. On a :meth:`with_apis` view it only
        marks the view closed: the owner closes what they share.
        """
        if self._closed:
            return
        self._closed = True
        if self._view_owner() is not None:
            return
        try:
            while self._tasks:
                tasks = set(self._tasks)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self._tasks -= tasks
            while self._apps:
                await self._apps.pop().close()
        finally:
            if self._owns_session:
                await self._session.close()
            if self._resolver is not None:
                await self._resolver.close()
            # asyncio closes a transport's socket one loop iteration after
            # transport.close(): let that happen before we say all is closed.
            await asyncio.sleep(0)

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session requests go through."""
        return self._session

    # -- HTTP ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str | yarl.URL,
        *,
        params: Any = None,
        data: Any = None,
        auth: Any = Auth,
        **kwargs: Any,
    ) -> RequestContext[aiohttp.ClientResponse]:
        """Send a request; ``await`` it or use it with ``async with`` (see :class:`RequestContext`).

        Args:
            method: HTTP method.
            url: Absolute URL, or a path appended to ``base_url``.
            params: Query parameters (a dict, ``(key, value)`` pairs, or an
                already-encoded query string).
            data: The body: a dict or list is encoded the way the target
                exchange expects (JSON or form); ``str``/``bytes`` are sent as
                given. Other aiohttp payloads (``FormData``, streams) are
                passed through, and only to hosts botters does not sign.
            auth: :class:`~botters.Auth` (default) signs for the URL's exact
                host; ``None`` sends it unsigned; anything else (an
                ``aiohttp.BasicAuth``) goes to aiohttp unsigned.
            **kwargs: Other ``aiohttp.ClientSession.request`` options
                (``headers``, ``timeout``, ``allow_redirects``, ``ssl``...).
                ``json=`` is refused: botters signs ``data=``, so pass the
                dict as ``data=``.

        Raises:
            ConfigError: ``json=`` was given (raised at once).
        """
        refuse_json(kwargs)
        # A fresh copy of the options per send (sending consumes some of them).
        return RequestContext(lambda: self._send(method, url, params, data, auth, dict(kwargs)))

    async def fetch(
        self,
        method: str,
        url: str | yarl.URL,
        *,
        params: Any = None,
        data: Any = None,
        **kwargs: Any,
    ) -> FetchResult[aiohttp.ClientResponse]:
        """Send a request, read the whole body and parse it as JSON.

        Takes the same arguments as :meth:`request`. The response is released
        before this returns. ``data`` is the parsed JSON, ``None`` for an empty
        body (as aiohttp's ``json()`` gives), or a falsy :class:`NotJSONContent`.
        """
        async with self.request(method, url, params=params, data=data, **kwargs) as resp:
            try:
                text = await resp.text(errors="replace")
            except MAPPED as exc:
                raise map_error(exc, str(resp.url.with_query(None))) from exc
        return FetchResult(resp, text, parse_body(text))

    async def _send(
        self,
        method: str,
        url: str | yarl.URL,
        params: Any,
        data: Any,
        auth: Any,
        kwargs: dict[str, Any],
    ) -> aiohttp.ClientResponse:
        if self._closed:
            raise ClientClosedError("this Client is closed")
        headers = kwargs.pop("headers", None)
        passthrough: Any = None
        if data is not None and not isinstance(data, PLAIN_BODY):
            passthrough, data = data, None
        unsigned = self._build(method, url, params, data, headers)
        return await self._send_request(unsigned, auth, kwargs, passthrough)

    async def _send_request(
        self,
        unsigned: Request,
        auth: Any = Auth,
        kwargs: dict[str, Any] | None = None,
        passthrough: Any = None,
    ) -> aiohttp.ClientResponse:
        """Sign (per ``auth``) and send an already-built request, exactly as built."""
        if self._closed:
            raise ClientClosedError("this Client is closed")
        kwargs = {} if kwargs is None else kwargs
        reservation, key = self._reserve(unsigned, auth)
        if reservation is not None and reservation.at > time.time():
            await self._wait_turn(reservation)
        signed = unsigned
        if auth is Auth:
            if passthrough is not None and _resolve_route(unsigned, self._apis) is not None:
                raise ConfigError(
                    f"cannot sign a {type(passthrough).__name__} body for "
                    f"{safe_url(unsigned)}: pass data= as a dict, str or bytes"
                )
            signed = sign_request(unsigned, self._apis, now=time.time())
        elif isinstance(auth, aiohttp.BasicAuth):
            # As an Authorization header: aiohttp deprecates auth= (and drops that
            # header itself when a redirect leaves the origin).
            if not any(k.lower() == "authorization" for k in signed.headers):
                signed = signed.with_headers({"Authorization": auth.encode()})
        elif auth is not None:
            kwargs["auth"] = auth
        body: Any = passthrough if passthrough is not None else (signed.body or None)
        follow = signed is not unsigned and kwargs.get("allow_redirects", True)
        max_redirects = 10
        if follow:
            kwargs["allow_redirects"] = False
            max_redirects = kwargs.pop("max_redirects", 10)
        target = yarl.URL(signed.url, encoded=True)
        try:
            resp = await self._session.request(
                signed.method, target, data=body, headers=dict(signed.headers), **kwargs
            )
            if follow and resp.status in REDIRECTS:
                resp = await self._follow(resp, signed, unsigned, kwargs, max_redirects)
            if self._limiter is not None:
                observe(self._limiter, unsigned, resp.status, resp.headers, key)
            _mark(resp, self)
        except MAPPED as exc:
            raise map_error(exc, safe_url(signed)) from exc
        except RuntimeError as exc:
            if self._session.closed:
                raise ClientClosedError("the aiohttp session of this Client is closed") from exc
            raise
        return resp

    async def _wait_turn(self, reservation: Reservation) -> None:
        """Sleep until ``reservation``'s time (it may move); give it back if cancelled."""
        limiter = self._limiter
        assert limiter is not None
        event = asyncio.Event()
        reservation.waker = event
        try:
            while (delay := reservation.at - time.time()) > 0:
                event.clear()
                try:
                    async with asyncio.timeout(delay):
                        await event.wait()
                except TimeoutError:
                    pass
        except BaseException:
            wake(limiter.cancel(reservation, now=time.time()))
            raise
        finally:
            reservation.waker = None

    async def _follow(
        self,
        resp: aiohttp.ClientResponse,
        signed: Request,
        unsigned: Request,
        kwargs: dict[str, Any],
        max_redirects: int,
    ) -> aiohttp.ClientResponse:
        auth_headers = [
            name for name, value in signed.headers.items() if unsigned.headers.get(name) != value
        ]
        method = signed.method
        headers = dict(signed.headers)
        body: bytes | None = signed.body or None
        origin = resp.url.origin()
        hops = 0
        while resp.status in REDIRECTS:
            location = resp.headers.get("Location") or resp.headers.get("URI")
            if not location:
                return resp
            hops += 1
            status = resp.status
            if max_redirects and hops > max_redirects:
                resp.release()
                raise TooManyRedirectsError(
                    f"more than {max_redirects} redirects for {safe_url(signed)}",
                    status=status,
                    reason=resp.reason or "",
                    url=safe_url(signed),
                    headers=resp.headers,
                )
            try:
                target = resp.url.join(yarl.URL(location))
            except ValueError as exc:
                resp.release()
                raise TransportError(
                    f"redirect to an invalid URL from {safe_url(signed)}", url=safe_url(signed)
                ) from exc
            resp.release()
            if target.scheme not in ("http", "https"):
                raise TransportError(
                    f"redirect to a non-HTTP URL ({target.scheme}:) from {safe_url(signed)}",
                    url=safe_url(signed),
                )
            if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
                method = "GET"
                body = None
                headers = {
                    k: v
                    for k, v in headers.items()
                    if k.lower() not in ("content-type", "content-length")
                }
            if auth_headers and target.origin() != origin:
                # Leaving the origin that was signed for: the signature stays behind.
                dropped = {name.lower() for name in auth_headers}
                headers = {k: v for k, v in headers.items() if k.lower() not in dropped}
                auth_headers = []
            resp = await self._session.request(method, target, data=body, headers=headers, **kwargs)
        return resp

    # -- keep-alive requests ------------------------------------------------------------

    def _start_keepalive(self, request: KeepAlive) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise ConfigError(
                "keep_alive() needs a running event loop (call it from async code)"
            ) from None
        owner = self._view_owner()
        tasks = owner._tasks if isinstance(owner, Client) else self._tasks
        task = loop.create_task(
            self._keepalive_loop(request, asyncio.sleep), name=f"botters keep-alive {request!r}"
        )
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def _keepalive_options(self) -> dict[str, Any]:
        return {"timeout": aiohttp.ClientTimeout(total=KEEPALIVE_SEND_TIMEOUT)}

    # -- WebSocket -----------------------------------------------------------------------

    def ws_connect(
        self,
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
        **kwargs: Any,
    ) -> WebSocketApp:
        """Open a managed WebSocket (see :class:`WebSocketApp`); synchronous, like pybotters'.

        It starts connecting at once (a running event loop is required).
        ``await`` the returned app to wait until it is connected, logged in
        and subscribed.

        Args:
            url: ``wss://`` or ``ws://`` URL (``base_url`` is never applied).
            send_str: Text message(s) sent after every (re)connect.
            send_bytes: Binary message(s) sent after every (re)connect.
            send_json: A JSON message, or a list of them (a list is several
                messages, as in pybotters), sent after every (re)connect;
                dicts are signed afresh where the host signs messages.
            hdlr_str: Handler(s) ``h(msg: str, ws)`` for text frames.
            hdlr_bytes: Handler(s) ``h(msg: bytes, ws)`` for binary frames.
            hdlr_json: Handler(s) ``h(msg, ws)`` for frames parsed as JSON,
                e.g. ``store.onmessage`` or ``WebSocketQueue().onmessage``.
            backoff: Reconnect delays: pybotters' ``(min, max, factor,
                initial)`` tuple or a :class:`botters.protocol.session.Backoff`.
            heartbeat: Send a WebSocket PING after this many seconds without
                receiving anything; the connection is replaced when nothing
                arrives for 1.5 times as long. ``None`` turns both off.
            auth: :class:`~botters.Auth` logs in (and signs handshakes and
                messages) where the host needs it and ``apis`` has
                credentials; ``None`` never does.
            **kwargs: Session options (``dead_peer_timeout``,
                ``idle_timeout``, ``connect_timeout``, ``login_timeout``,
                ``http_timeout``, ``close_timeout``, ``stable_after``,
                ``max_age``, ``rotate_on``, ``rotation_overlap``,
                ``token_flow``, ``pacing``; see
                :class:`botters.protocol.session.SessionConfig`), handshake
                ``headers``, and other ``aiohttp.ClientSession.ws_connect``
                options (``protocols``, ``proxy``, ``ssl``, ``max_msg_size``,
                ``origin``...). pybotters' ``autoping`` is accepted and ignored:
                PINGs are always answered.
        """
        if self._closed:
            raise ClientClosedError("this Client is closed")
        from ._ws import WebSocketApp

        app = WebSocketApp(
            self,
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
            **kwargs,
        )
        self._apps.add(app)
        return app

    def _forget(self, app: WebSocketApp) -> None:
        self._apps.discard(app)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<botters.Client {state} base_url={self._base_url!r} apis={list(self._apis)}>"


def _mark(resp: aiohttp.ClientResponse, client: Client) -> None:
    """Mark ``resp`` as coming from ``client``, for ``DataStoreCollection.initialize``.

    A store that needs a request repeated (Binance's listenKey keep-alive)
    gives it to ``response.keepalive_sink``. aiohttp's response class is not
    ours and must not be subclassed, so the mark is a plain attribute of ours
    (aiohttp has none of that name); should aiohttp ever refuse new
    attributes, the store falls back to ``take_keepalive_requests()``.
    """
    with contextlib.suppress(AttributeError):
        resp.keepalive_sink = client  # type: ignore[attr-defined]
