"""Token flows: a REST call the session must make before it can connect.

Theory of operation
-------------------
Some private streams are not authenticated by a login message but by a token
that a REST call hands out and that goes into the URL. The session machine
drives such a flow through :class:`~._events.HttpRequest` actions; the flow
itself is a pure strategy object (frozen, no state of its own) that answers
four questions:

1. :meth:`TokenFlow.fetch`: before a connect, which request to make, given the
   token from last time (``None`` at first). A flow may reuse a token by
   extending it (GMO, listenKey) instead of creating a new one.
2. :meth:`TokenFlow.fetched`: given that request and its answer, either a
   :class:`Ticket` (the URL to connect to, the token, maybe the keepalive to
   use) or a follow-up request (the extension failed: create a new one). It
   raises :class:`~botters.protocol.WsTokenError` when the answer is unusable;
   the session reports that and backs off.
3. :meth:`TokenFlow.renew` / :meth:`TokenFlow.renewed`: while connected, every
   :attr:`TokenFlow.renew_interval` seconds, a request that keeps the token
   alive, and whether it worked. A failed renewal makes the session replace the
   connection (make-before-break) with a fresh token.
4. :meth:`TokenFlow.expired`: whether a parsed message says the token is dead
   (Binance's ``listenKeyExpired``); the session then replaces the connection
   with a fresh token.

Requests are returned **unsigned**. The adapter sends them as it sends any
REST request, so the client's signer registry signs the private ones.

Three flows ship: :class:`KuCoinBullet`, :class:`GMOCoinToken` and
:class:`ListenKey` (Binance Spot / USDⓈ-M / COIN-M, MEXC Spot).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol
from urllib.parse import quote

from botters.protocol._request import Request
from botters.protocol._ws import AppPing, WsTokenError
from botters.protocol.exchanges.gmocoin import _ws as gmo
from botters.protocol.exchanges.kucoin import _ws as kucoin

__all__ = [
    "GMOCoinToken",
    "HttpResult",
    "KuCoinBullet",
    "ListenKey",
    "Ticket",
    "TokenFlow",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpResult:
    """An HTTP answer as the flows see it."""

    status: int | None
    body: Any = None
    """The parsed JSON body, or ``None``."""
    error: str | None = None
    """Why no answer came (transport error, timeout), or ``None``."""

    @property
    def ok(self) -> bool:
        """A 2xx answer arrived."""
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def describe(self) -> str:
        """A one-line reason for a log (never the body: it may hold a token)."""
        if self.error is not None:
            return self.error
        return f"HTTP {self.status}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticket:
    """What a token flow hands back: where to connect, and the token to keep."""

    url: str = field(repr=False)
    token: str = field(repr=False)
    app_ping: AppPing | None = None
    """The keepalive this connection needs, when the answer says (KuCoin)."""


class TokenFlow(Protocol):
    """A REST step before each connect; see the module docstring."""

    @property
    def renew_interval(self) -> float | None:
        """Seconds between renewals while connected; ``None`` for none."""
        ...

    def fetch(self, *, url: str, token: str | None) -> Request:
        """The request to make before connecting to ``url``."""
        ...

    def fetched(
        self, request: Request, result: HttpResult, *, url: str, token: str | None, nonce: str
    ) -> Ticket | Request:
        """A ticket, or a follow-up request; raises ``WsTokenError`` when unusable."""
        ...

    def renew(self, token: str) -> Request | None:
        """The request that keeps ``token`` alive, or ``None``."""
        ...

    def renewed(self, result: HttpResult) -> bool:
        """Whether the renewal worked."""
        ...

    def expired(self, message: Any) -> bool:
        """Whether a parsed message says the token is no longer valid."""
        ...

    @property
    def checks_messages(self) -> bool:
        """Whether :meth:`expired` can ever be true (if not, messages are not shown to it)."""
        ...


def _append_token(url: str, token: str) -> str:
    """``url`` with ``{listenKey}``/``{token}`` replaced, or ``/token`` appended."""
    quoted = quote(token, safe="")
    for placeholder in ("{listenKey}", "{token}"):
        if placeholder in url:
            return url.replace(placeholder, quoted)
    return url.rstrip("/") + "/" + quoted


def _failed(what: str, result: HttpResult) -> WsTokenError:
    return WsTokenError(f"{what} failed: {result.describe()}")


@dataclass(frozen=True, slots=True, kw_only=True)
class KuCoinBullet:
    """KuCoin: POST a bullet before **every** connect; URL and ping timing from its answer.

    https://www.kucoin.com/docs-new/websocket-api/base-info/introduction. The
    configured URL is not used: the answer names the endpoint. A token is not
    reused, because KuCoin documents none of its lifetime and a reused one was
    seen to fail after about 24 hours.
    """

    private: bool = False
    """``bullet-private`` (signed) instead of ``bullet-public``."""
    futures: bool = False
    """The futures REST host instead of spot/margin."""

    @property
    def renew_interval(self) -> float | None:
        """No renewal."""
        return None

    def fetch(self, *, url: str, token: str | None) -> Request:
        """The bullet POST."""
        return kucoin.bullet_request(private=self.private, futures=self.futures)

    def fetched(
        self, request: Request, result: HttpResult, *, url: str, token: str | None, nonce: str
    ) -> Ticket | Request:
        """The endpoint URL with a fresh ``connectId``, and the server's ping timing."""
        if not result.ok:
            raise _failed("KuCoin bullet request", result)
        bullet = kucoin.parse_bullet(result.body, connect_id=nonce)
        return Ticket(url=bullet.url, token="", app_ping=bullet.app_ping)

    def renew(self, token: str) -> Request | None:
        """No renewal."""
        return None

    def renewed(self, result: HttpResult) -> bool:
        """No renewal."""
        return True

    def expired(self, message: Any) -> bool:
        """KuCoin announces no expiry."""
        return False

    @property
    def checks_messages(self) -> bool:
        """No."""
        return False


@dataclass(frozen=True, slots=True, kw_only=True)
class GMOCoinToken:
    """GMO Coin private stream: a ``ws-auth`` token in the URL, extended while connected.

    https://api.coin.z.com/docs/en/#ws-auth-post. Before a connect, an existing
    token is extended (``PUT``); if that fails (expired, e.g. after the weekly
    maintenance) or there is none, a new one is created (``POST``). The token
    goes into the URL as its last path segment: configure
    ``wss://api.coin.z.com/ws/private/v1``. GMO allows five tokens per account,
    so reusing one matters. While connected it is extended every
    :attr:`renew_every` seconds (a token lives 60 minutes).
    """

    renew_every: float = 1800.0

    @property
    def renew_interval(self) -> float | None:
        """:attr:`renew_every`."""
        return self.renew_every

    def fetch(self, *, url: str, token: str | None) -> Request:
        """Extend the known token, or create one."""
        if token:
            return gmo.extend_token_request(token)
        return gmo.create_token_request()

    def fetched(
        self, request: Request, result: HttpResult, *, url: str, token: str | None, nonce: str
    ) -> Ticket | Request:
        """Use the extended token, or create one when extending failed."""
        if request.method == "PUT":
            if token and self.renewed(result):
                return Ticket(url=_append_token(url, token), token=token)
            return gmo.create_token_request()
        if not result.ok:
            raise _failed("GMO Coin ws-auth request", result)
        new = gmo.parse_token(result.body)
        return Ticket(url=_append_token(url, new), token=new)

    def renew(self, token: str) -> Request | None:
        """``PUT /private/v1/ws-auth``."""
        return gmo.extend_token_request(token)

    def renewed(self, result: HttpResult) -> bool:
        """A 2xx with ``status: 0``."""
        body = result.body
        return result.ok and isinstance(body, Mapping) and body.get("status") == 0

    def expired(self, message: Any) -> bool:
        """GMO announces no expiry on the stream."""
        return False

    @property
    def checks_messages(self) -> bool:
        """No."""
        return False


_LISTEN_KEY_EXPIRED: Final = "listenKeyExpired"


@dataclass(frozen=True, slots=True, kw_only=True)
class ListenKey:
    """A listenKey user-data stream: POST for a key, PUT to keep it alive.

    The key goes into the configured URL: at ``{listenKey}`` when the URL has
    that placeholder (MEXC: ``wss://wbs-api.mexc.com/ws?listenKey={listenKey}``),
    else as a last path segment (Binance: ``wss://stream.binance.com:9443/ws``).
    Before a reconnect a known key is kept alive (PUT) and reused; if that
    fails, a new one is made. While connected the key is kept alive every
    :attr:`renew_every` seconds (keys live 60 minutes; both exchanges advise
    30). A ``{"e": "listenKeyExpired"}`` message replaces the connection with a
    new key.

    Use the constructors :meth:`binance_usdm`, :meth:`binance_coinm` and
    :meth:`mexc_spot`, or give another exchange's ``endpoint`` (Binance margin,
    portfolio margin). There is no Binance **Spot** constructor: Binance marks
    the Spot/margin listenKey REST endpoints deprecated in favour of the
    WebSocket API's ``userDataStream.subscribe`` (send it, with
    ``session.logon``, among a WebSocket API session's initial messages), and
    ``POST /api/v3/userDataStream`` is reported to answer ``410 Gone`` since
    late 2025.

    Rules: Binance futures https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams
    (a PUT answering ``-1125`` "This listenKey does not exist" means POST a new
    one; ``listenKeyExpired`` event:
    https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-User-Data-Stream-Expired);
    MEXC Spot https://www.mexc.com/api-docs/spot-v3/websocket-user-data-streams
    (``wss://wbs-api.mexc.com/ws?listenKey=...``; PUT takes ``listenKey``;
    "It is recommended to send a request every 30 minutes").
    """

    endpoint: str
    """The REST URL that creates (POST) and keeps alive (PUT) a key."""
    key_in_query: bool = True
    """Whether the PUT names the key as a ``listenKey`` query parameter
    (Binance futures keep alive the account's only key without it)."""
    renew_every: float = 1800.0
    expiry_event: str | None = _LISTEN_KEY_EXPIRED
    """The ``e`` value of the message announcing the key's expiry."""

    @classmethod
    def binance_usdm(cls, *, base: str = "https://fapi.binance.com") -> ListenKey:
        """``/fapi/v1/listenKey`` (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams)."""
        return cls(endpoint=base + "/fapi/v1/listenKey", key_in_query=False)

    @classmethod
    def binance_coinm(cls, *, base: str = "https://dapi.binance.com") -> ListenKey:
        """``/dapi/v1/listenKey`` (https://developers.binance.com/docs/derivatives/coin-margined-futures/user-data-streams)."""
        return cls(endpoint=base + "/dapi/v1/listenKey", key_in_query=False)

    @classmethod
    def mexc_spot(cls, *, base: str = "https://api.mexc.com") -> ListenKey:
        """``/api/v3/userDataStream`` (https://www.mexc.com/api-docs/spot-v3/websocket-user-data-streams)."""
        return cls(endpoint=base + "/api/v3/userDataStream", expiry_event=None)

    @property
    def renew_interval(self) -> float | None:
        """:attr:`renew_every`."""
        return self.renew_every

    def _create(self) -> Request:
        return Request.build("POST", self.endpoint)

    def _keepalive(self, token: str) -> Request:
        params = {"listenKey": token} if self.key_in_query else None
        return Request.build("PUT", self.endpoint, params=params)

    def fetch(self, *, url: str, token: str | None) -> Request:
        """Keep the known key alive, or create one."""
        return self._keepalive(token) if token else self._create()

    def fetched(
        self, request: Request, result: HttpResult, *, url: str, token: str | None, nonce: str
    ) -> Ticket | Request:
        """Reuse the kept-alive key, or create one when that failed."""
        if request.method == "PUT":
            if token and result.ok:
                return Ticket(url=_append_token(url, token), token=token)
            return self._create()
        if not result.ok:
            raise _failed("listenKey request", result)
        body = result.body
        key = body.get("listenKey") if isinstance(body, Mapping) else None
        if not isinstance(key, str) or not key:
            raise WsTokenError("listenKey answer has no listenKey")
        return Ticket(url=_append_token(url, key), token=key)

    def renew(self, token: str) -> Request | None:
        """The keep-alive PUT."""
        return self._keepalive(token)

    def renewed(self, result: HttpResult) -> bool:
        """A 2xx answer."""
        return result.ok

    def expired(self, message: Any) -> bool:
        """``{"e": "listenKeyExpired", ...}``."""
        return (
            self.expiry_event is not None
            and isinstance(message, Mapping)
            and message.get("e") == self.expiry_event
        )

    @property
    def checks_messages(self) -> bool:
        """When an :attr:`expiry_event` is set."""
        return self.expiry_event is not None
