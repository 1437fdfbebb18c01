"""Binance WebSocket: WebSocket API request signing, ``session.logon``, keepalive choice.

WebSocket API (spot https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/request-security,
USDⓈ-M https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-api-general-info,
COIN-M https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-api-general-info):

* Every method has a security type. ``NONE`` methods (market data, ``ping``,
  ``time``...) take no key; ``USER_STREAM`` (listenKey management) and
  ``MARKET_DATA`` methods take only ``params.apiKey``; every other method
  (``TRADE``, ``USER_DATA``: ``order.place``, ``account.status``,
  ``session.logon``...) is SIGNED.
* A SIGNED request carries ``params.apiKey``, ``params.timestamp`` (ms, a JSON
  integer) and ``params.signature``. The payload signed is every other param,
  sorted by name, joined as ``name=value`` with ``&``, **not** URL-encoded
  (non-ASCII is signed as raw UTF-8). Strings are signed as they are; numbers
  and booleans as their JSON text (``100``, ``true``). The signature is hex
  HMAC-SHA256, or base64 Ed25519/RSA for a PEM key, via
  :func:`botters.protocol.exchanges.binance.sign_payload`.
* botters signs at send time on a copy (:func:`sign_request_message`). It owns
  ``apiKey``, ``timestamp`` and ``signature``: a message that was signed before
  (e.g. the initial messages replayed after a reconnect) is re-signed from
  scratch, its stale ``signature`` dropped. pybotters signed in place and so
  signed the old signature into the new payload on reconnect (its quirk 8.8).
  A caller's ``recvWindow`` is kept.
* ``session.logon`` authenticates the whole connection; "only Ed25519 keys are
  supported" for it (the docs' HMAC example still shows the signature format).
  botters does **not** log in automatically: requests are self-authenticating
  once signed, which works with every key type, exactly as in pybotters. A bot
  that wants a logged-in session (e.g. for ``userDataStream.subscribe``) sends
  ``{"method": "session.logon", "params": {}}`` among its initial messages;
  it is signed afresh on every reconnect like any other request.
  :func:`session_logon` builds that message directly.

Market streams (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams):
the server sends a PING frame every 20 s (3 minutes for futures) and the
client must answer with a PONG frame, which WebSocket libraries do by
themselves; "unsolicited pong frames are allowed, but will not prevent
disconnection". pybotters sent an unsolicited empty PONG every 60 s; since the
docs say that keeps nothing alive, botters sends no app-level keepalive to
Binance and relies on answering the server's pings.

Send pacing (botters paces every frame it sends; see
:class:`~botters.protocol._pacing.Pacing`):

* spot streams, https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
  ("WebSocket Limits"): "WebSocket connections have a limit of 5 incoming
  messages per second. A message is considered: a PING frame, a PONG frame, a
  JSON controlled message (e.g. subscribe, unsubscribe)"; "a connection that
  goes beyond the limit will be disconnected; IPs that are repeatedly
  disconnected may be banned". So :data:`SPOT_STREAM_PACING`, control frames
  counted. ``data-stream.binance.vision`` is documented on the same page as a
  base endpoint of the same streams (market data only) and gets the same limit.
* USDⓈ-M futures streams,
  https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams,
  and COIN-M, https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams:
  "WebSocket connections have a limit of 10 incoming messages per second",
  same consequences. Those pages do not define "message"; PING/PONG frames
  are counted as the spot page defines it (conservative: botters sends few).
* Not paced, because botters found no per-connection message limit documented
  for them: the WebSocket API hosts (their limits are request weights per IP,
  which depend on the method), ``vstream.binance.com`` and the testnets.

Hosts: WebSocket API ``ws-api.binance.com``, ``ws-fapi.binance.com`` and
``ws-dapi.binance.com`` (``binance``); ``ws-api.testnet.binance.vision`` and
the ``/ws-api/`` paths of ``testnet.binance.vision`` (``binancespot_testnet``);
the ``/ws-fapi/`` and ``/ws-dapi/`` paths of ``testnet.binancefuture.com``
(``binancefuture_testnet``). Market-stream hosts are registered with nothing
to do, so the session knows them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import ms
from botters.protocol._pacing import Pacing
from botters.protocol._request import URLParts
from botters.protocol._ws import WsRoute, path_segments
from botters.protocol.exchanges.binance._auth import sign_payload

__all__ = [
    "API_KEY_METHODS",
    "FUTURES_STREAM_PACING",
    "PUBLIC_METHODS",
    "SPOT_STREAM_PACING",
    "WS_API_PATHS",
    "WS_ROUTES",
    "session_logon",
    "sign_request_message",
    "signature_payload",
]

WS_API_PATHS: Final = frozenset({"ws-api", "ws-fapi", "ws-dapi"})
"""First path segments of the WebSocket API (as opposed to market streams)."""

PUBLIC_METHODS: Final = frozenset(
    {
        "ping",
        "time",
        "exchangeInfo",
        "depth",
        "trades.recent",
        "trades.aggregate",
        "klines",
        "uiKlines",
        "avgPrice",
        "ticker",
        "ticker.24hr",
        "ticker.tradingDay",
        "ticker.price",
        "ticker.book",
        # These act on the session itself (logged in with session.logon) and take no key.
        "session.status",
        "session.logout",
        "userDataStream.subscribe",
        "userDataStream.unsubscribe",
    }
)
"""``NONE`` methods: sent unchanged."""

API_KEY_METHODS: Final = frozenset(
    {
        "userDataStream.start",
        "userDataStream.ping",
        "userDataStream.stop",
        "trades.historical",
    }
)
"""``USER_STREAM`` / ``MARKET_DATA`` methods: ``params.apiKey`` only, no signature."""

_OWNED: Final = frozenset({"apiKey", "timestamp", "signature"})


def _value_text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def signature_payload(params: Mapping[str, Any]) -> str:
    """The text Binance signs for a WebSocket API request: sorted, raw ``k=v&...``.

    ``signature`` itself is never part of it.

    >>> signature_payload({"timestamp": 1, "apiKey": "k", "symbol": "１２３", "test": True})
    'apiKey=k&symbol=１２３&test=true&timestamp=1'
    """
    return "&".join(f"{k}={_value_text(params[k])}" for k in sorted(params) if k != "signature")


def sign_request_message(
    parts: URLParts,
    message: Mapping[str, Any],
    credentials: Credentials,
    /,
    *,
    now: float,
) -> Mapping[str, Any]:
    """Sign one WebSocket API request on a copy, per its method's security type.

    Messages on market-stream paths, messages without a ``method`` and ``NONE``
    methods are returned as they are. Otherwise a new message is returned with
    new ``params``; the caller's ``message`` and ``params`` are untouched.

    Raises:
        SigningError: The secret is a PEM key that cannot be used.
    """
    segments = path_segments(parts)
    method = message.get("method")
    if not segments or segments[0] not in WS_API_PATHS:
        return message
    if not isinstance(method, str) or method in PUBLIC_METHODS:
        return message
    old = message.get("params")
    params = {k: v for k, v in old.items() if k not in _OWNED} if isinstance(old, Mapping) else {}
    params["apiKey"] = credentials.key
    if method not in API_KEY_METHODS:
        params["timestamp"] = ms(now)
        params["signature"] = sign_payload(credentials, signature_payload(params))
    return {**message, "params": params}


def session_logon(
    credentials: Credentials, *, now: float, request_id: str | int | None = None
) -> dict[str, Any]:
    """A signed ``session.logon`` request (send it on a WebSocket API connection).

    Binance documents this method for Ed25519 keys only; with other keys the
    server rejects it, and requests should be signed one by one instead (which
    :func:`botters.protocol.sign_outgoing` does).

    Args:
        credentials: Binance credentials (an Ed25519 PEM key, ideally).
        now: Wall-clock seconds.
        request_id: The request's ``id``, echoed in the reply; omitted when ``None``.
    """
    message: dict[str, Any] = {} if request_id is None else {"id": request_id}
    message["method"] = "session.logon"
    params = {"apiKey": credentials.key, "timestamp": ms(now)}
    params["signature"] = sign_payload(credentials, signature_payload(params))
    message["params"] = params
    return message


SPOT_STREAM_PACING: Final = Pacing(
    messages=5,
    per=1.0,
    count_control=True,
    source="https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams",
)
"""Spot market streams: 5 messages a second, PING and PONG frames included."""

FUTURES_STREAM_PACING: Final = Pacing(
    messages=10,
    per=1.0,
    count_control=True,
    source="https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams",
)
"""USDⓈ-M and COIN-M futures market streams: 10 messages a second."""


def _api(hosts: tuple[str, ...], name: str) -> WsRoute:
    return WsRoute(
        exchange="binance", hosts=hosts, api_name=name, sign_outgoing=sign_request_message
    )


WS_ROUTES: Final = (
    _api(("ws-api.binance.com", "ws-fapi.binance.com", "ws-dapi.binance.com"), "binance"),
    _api(("ws-api.testnet.binance.vision", "testnet.binance.vision"), "binancespot_testnet"),
    _api(("testnet.binancefuture.com",), "binancefuture_testnet"),
    WsRoute(
        exchange="binance",
        hosts=("stream.binance.com", "data-stream.binance.vision"),
        api_name="binance",
        pacing=SPOT_STREAM_PACING,
    ),
    WsRoute(
        exchange="binance",
        hosts=("fstream.binance.com", "dstream.binance.com"),
        api_name="binance",
        pacing=FUTURES_STREAM_PACING,
    ),
    WsRoute(exchange="binance", hosts=("vstream.binance.com",), api_name="binance"),
    WsRoute(
        exchange="binance",
        hosts=(
            "stream.binancefuture.com",
            "fstream.binancefuture.com",
            "dstream.binancefuture.com",
        ),
        api_name="binancefuture_testnet",
    ),
)
