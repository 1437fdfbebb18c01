"""KuCoin WebSocket: the bullet token flow and the keepalive.

Rules (https://www.kucoin.com/docs-new/websocket-api/base-info/introduction):

* Before connecting, POST ``/api/v1/bullet-public`` (no auth) or
  ``/api/v1/bullet-private`` (signed like any private REST call) on
  ``https://api.kucoin.com`` (spot and margin) or
  ``https://api-futures.kucoin.com`` (futures). :func:`bullet_request` builds
  that request; the REST signer signs the private one.
* The answer holds ``data.token`` and ``data.instanceServers``, each with an
  ``endpoint`` (``wss://ws-api-spot.kucoin.com/``), ``pingInterval`` and
  ``pingTimeout`` in milliseconds. Connect to
  ``{endpoint}?token={token}&connectId={connectId}`` where ``connectId`` is a
  unique id chosen by the client (the adapter's randomness: an argument here).
  :func:`parse_bullet` checks the answer and builds that URL. The token is the
  authentication, so there is no login message.
* Keepalive: send ``{"id": <unique id>, "type": "ping"}`` every
  ``pingInterval``; the server answers ``{"id": <same id>, "type": "pong"}``
  and drops a client that stays silent past ``pingTimeout``. pybotters ignored
  the server's numbers and pinged every 15 s (its quirk 8.15); botters takes
  them from the bullet answer (:attr:`Bullet.app_ping`). The route's default
  (18 s, the usual ``pingInterval``) applies only to a URL that did not come
  from :func:`parse_bullet`.

* Send limit (https://www.kucoin.com/docs-new/rate-limit, "Websocket Rate
  Limit", "Number of Uplink Messages"): "Message limit sent to the server: 100
  per 10 seconds": :data:`PACING`, every data frame (pings included). The page
  does not say per what; botters paces each connection.

Hosts: ``ws-api-spot.kucoin.com`` and ``ws-api-futures.kucoin.com`` (``kucoin``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple
from urllib.parse import quote

from botters.protocol._errors import ConfigError
from botters.protocol._pacing import Pacing
from botters.protocol._request import Request, _split_url
from botters.protocol._ws import AppPing, Frame, WsRoute, WsTokenError, dumps, json_object

__all__ = [
    "APP_PING",
    "DEFAULT_INTERVAL",
    "DEFAULT_TIMEOUT",
    "FUTURES_REST",
    "PACING",
    "SPOT_REST",
    "WS_ROUTES",
    "Bullet",
    "app_ping",
    "bullet_request",
    "is_pong",
    "parse_bullet",
]

SPOT_REST: Final = "https://api.kucoin.com"
"""Spot and margin REST base URL."""
FUTURES_REST: Final = "https://api-futures.kucoin.com"
"""Futures REST base URL."""

DEFAULT_INTERVAL: Final = 18.0
"""Seconds between pings when the bullet answer is not known (KuCoin's usual value)."""
DEFAULT_TIMEOUT: Final = 10.0
"""Seconds to wait for a pong when the bullet answer is not known."""

_OK: Final = "200000"


def _ping(now: float, nonce: str) -> str:
    return dumps({"id": nonce, "type": "ping"})


def is_pong(frame: Frame) -> bool:
    """Whether ``frame`` is a ``type: pong`` answer."""
    msg = json_object(frame)
    return msg is not None and msg.get("type") == "pong"


def app_ping(interval: float, timeout: float | None = None) -> AppPing:
    """KuCoin's keepalive with the server's interval and timeout (seconds).

    The ping's ``id`` is the ``nonce`` passed to :meth:`AppPing.payload`, so each
    ping can carry a fresh unique id.

    >>> app_ping(18.0).payload(now=0.0, nonce="a1b2")
    '{"id":"a1b2","type":"ping"}'
    """
    return AppPing(interval=interval, build=_ping, pong=is_pong, timeout=timeout)


APP_PING: Final = app_ping(DEFAULT_INTERVAL, DEFAULT_TIMEOUT)
"""The default keepalive, for URLs that did not come from a bullet answer."""


def bullet_request(*, private: bool, futures: bool = False) -> Request:
    """The unsigned POST that asks for a WebSocket token.

    A private one must then be signed (:func:`botters.protocol.sign_request`
    signs it with the ``kucoin`` credentials).
    """
    base = FUTURES_REST if futures else SPOT_REST
    path = "/api/v1/bullet-private" if private else "/api/v1/bullet-public"
    return Request.build("POST", base + path)


class Bullet(NamedTuple):
    """What a bullet answer says: where to connect and how to keep the connection."""

    url: str
    """``{endpoint}?token=...&connectId=...``: the URL to connect to."""
    ping_interval: float
    """Seconds between keepalive pings (the server's ``pingInterval``)."""
    ping_timeout: float
    """Seconds the server waits for a ping before dropping the client."""

    def __repr__(self) -> str:
        # The URL carries the token, which grants access to a private stream.
        return (
            f"Bullet(url=<hidden>, ping_interval={self.ping_interval!r}, "
            f"ping_timeout={self.ping_timeout!r})"
        )

    @property
    def app_ping(self) -> AppPing:
        """The keepalive this connection needs."""
        return app_ping(self.ping_interval, self.ping_timeout)


def _positive_ms(server: Mapping[str, Any], name: str) -> float:
    value = server.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise WsTokenError(f"KuCoin bullet answer: {name} must be a positive number of ms")
    return float(value) / 1000


def parse_bullet(response: Mapping[str, Any], *, connect_id: str) -> Bullet:
    """Check a bullet answer and build the URL to connect to.

    The first instance server is used, as KuCoin's own SDKs do.

    Args:
        response: The parsed JSON answer of ``bullet-public``/``bullet-private``.
        connect_id: A unique id for this connection (the adapter's randomness).

    Raises:
        ConfigError: ``connect_id`` is empty.
        WsTokenError: The answer is an error (its code and message are given,
            never the token) or lacks a token, a ``wss`` endpoint or the ping
            timings.

    >>> b = parse_bullet({"code": "200000", "data": {"token": "T0k+n", "instanceServers": [
    ...     {"endpoint": "wss://ws-api-spot.kucoin.com/", "pingInterval": 18000,
    ...      "pingTimeout": 10000}]}}, connect_id="c1")
    >>> b.url, b.ping_interval, b.ping_timeout
    ('wss://ws-api-spot.kucoin.com/?token=T0k%2Bn&connectId=c1', 18.0, 10.0)
    """
    if not connect_id:
        raise ConfigError("KuCoin needs a non-empty connectId for each connection")
    if not isinstance(response, Mapping):
        raise WsTokenError("KuCoin bullet answer is not a JSON object")
    code = response.get("code")
    if str(code) != _OK:
        raise WsTokenError(
            f"KuCoin bullet request failed: code {code!r} {response.get('msg', '')!r}"
        )
    data = response.get("data")
    if not isinstance(data, Mapping):
        raise WsTokenError("KuCoin bullet answer has no data object")
    token = data.get("token")
    if not isinstance(token, str) or not token:
        raise WsTokenError("KuCoin bullet answer has no token")
    servers = data.get("instanceServers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], Mapping):
        raise WsTokenError("KuCoin bullet answer lists no instance server")
    server = servers[0]
    endpoint = server.get("endpoint")
    if not isinstance(endpoint, str):
        raise WsTokenError("KuCoin bullet answer: the instance server has no endpoint")
    try:
        parts = _split_url(endpoint)
    except ConfigError:
        raise WsTokenError("KuCoin bullet answer: the endpoint is not a URL") from None
    if parts.scheme != "wss":
        raise WsTokenError("KuCoin bullet answer: the endpoint is not a wss:// URL")
    query = f"token={quote(token, safe='')}&connectId={quote(connect_id, safe='')}"
    separator = "&" if "?" in endpoint else "?"
    return Bullet(
        url=f"{endpoint}{separator}{query}",
        ping_interval=_positive_ms(server, "pingInterval"),
        ping_timeout=_positive_ms(server, "pingTimeout"),
    )


PACING: Final = Pacing(messages=100, per=10.0, source="https://www.kucoin.com/docs-new/rate-limit")
"""100 messages per 10 seconds."""

WS_ROUTES: Final = (
    WsRoute(
        exchange="kucoin",
        hosts=("ws-api-spot.kucoin.com", "ws-api-futures.kucoin.com"),
        api_name="kucoin",
        app_ping=APP_PING,
        pacing=PACING,
    ),
)
