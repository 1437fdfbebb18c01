r"""BitTrade (formerly Huobi Japan) WebSocket: login (signature v2.1) and keepalives.

Rules (https://api-doc.bittrade.co.jp/, "WebSocket" sections; the scheme is
Huobi's WebSocket v2 authentication, https://huobiapi.github.io/docs/spot/v1/en/#websocket-asset-and-order.
The BitTrade page could not be re-read when this was written: the login is
pinned by pybotters' vector, the ping forms by Huobi's documentation):

* Only the account/order stream ``wss://api-cloud.bittrade.co.jp/ws/v2`` takes a
  login; the market stream (``/ws``) and the retail stream (``/retail/ws``)
  never log in.
* Login: ``{"action": "req", "ch": "auth", "params": {"authType": "api",
  "accessKey", "signatureMethod": "HmacSHA256", "signatureVersion": "2.1",
  "timestamp", "signature"}}``. ``timestamp`` is UTC ``YYYY-MM-DDThh:mm:ss``.
  ``signature`` is the standard-base64 HMAC-SHA256 of
  ``"GET\n" + host + "\n" + path + "\n" + query`` where ``query`` is the four
  parameters ``accessKey``, ``signatureMethod``, ``signatureVersion`` and
  ``timestamp``, URL-encoded (``:`` becomes ``%3A``) and sorted by name: the
  same canonical form as the REST signature, with version ``2.1`` and
  lower-camel names.
* Reply: ``{"action": "req", "code": 200, "ch": "auth", ...}``; any other code is
  a rejection. pybotters kept waiting after a rejection (its quirk 8.5); botters
  reports it.
* The server pings the client with a message and drops it after missed
  answers: the market stream ``/ws`` sends gzip-compressed binary
  ``{"ping": n}`` and wants ``{"pong": n}``; ``/ws/v2`` sends
  ``{"action": "ping", "data": {"ts": n}}`` and wants
  ``{"action": "pong", "data": {"ts": n}}``. botters answers each with the same
  value (:func:`answer_ping`), which pybotters did not do.
* pybotters also sent its own keepalives per path, and botters keeps them
  (all text JSON): ``/ws`` gets ``{"pong": <ms>}`` every 5 s, ``/ws/v2`` gets
  ``{"action": "pong", "data": {"ts": <ms>}}`` every 20 s and ``/retail/ws``
  gets ``{"action": 5, "ts": <s>}`` every 10 s. The server does not answer
  these, so they carry no pong matcher.

Host: ``api-cloud.bittrade.co.jp`` (``bittrade``).
"""

from __future__ import annotations

import gzip
import zlib
from typing import Any, Final
from urllib.parse import quote

from botters.protocol._credentials import Credentials
from botters.protocol._hmac import hmac_b64, ms, utc_seconds_iso
from botters.protocol._request import URLParts
from botters.protocol._ws import AppPing, Frame, LoginReply, WsRoute, dumps, json_object

__all__ = [
    "APP_PINGS",
    "LOGIN_PATH",
    "WS_ROUTES",
    "answer_ping",
    "classify_reply",
    "decode",
    "login_message",
]

LOGIN_PATH: Final = "/ws/v2"
"""The only path that logs in."""


def _enc(text: str) -> str:
    return quote(text, safe="-_.~")


def login_message(
    parts: URLParts, credentials: Credentials, /, *, now: float, nonce: str = ""
) -> dict[str, Any]:
    """The ``ch: auth`` request (pure: same inputs, same output)."""
    signed = {
        "accessKey": credentials.key,
        "signatureMethod": "HmacSHA256",
        "signatureVersion": "2.1",
        "timestamp": utc_seconds_iso(now),
    }
    query = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in sorted(signed.items()))
    text = f"GET\n{parts.host}\n{parts.path}\n{query}"
    return {
        "action": "req",
        "ch": "auth",
        "params": {
            "authType": "api",
            **signed,
            "signature": hmac_b64(credentials.secret, text),
        },
    }


def _needs_login(parts: URLParts) -> bool:
    return parts.path.rstrip("/") == LOGIN_PATH


def classify_reply(frame: Frame) -> LoginReply | None:
    """The ``ch: auth`` response; ``None`` for anything else."""
    msg = json_object(frame)
    if msg is None or msg.get("ch") != "auth" or "code" not in msg:
        return None
    if msg["code"] == 200:
        return LoginReply.accepted()
    return LoginReply.rejected(msg["code"], msg.get("message") or msg.get("err-msg"))


APP_PINGS: Final = {
    "/ws": AppPing(interval=5.0, build=lambda now, nonce: dumps({"pong": ms(now)})),
    "/ws/v2": AppPing(
        interval=20.0,
        build=lambda now, nonce: dumps({"action": "pong", "data": {"ts": ms(now)}}),
    ),
    "/retail/ws": AppPing(
        interval=10.0, build=lambda now, nonce: dumps({"action": 5, "ts": int(now)})
    ),
}
"""The keepalive for each stream path."""


def decode(frame: Frame) -> str | None:
    """The text of a frame: gzip-compressed binary frames are decompressed.

    ``None`` when a binary frame is not valid gzip or not UTF-8.
    """
    if isinstance(frame, str):
        return frame
    try:
        return gzip.decompress(frame).decode()
    except (OSError, EOFError, zlib.error, UnicodeDecodeError):
        return None


def answer_ping(parts: URLParts, frame: Frame) -> Frame | None:
    """The pong for a server ping (either form), echoing its value; else ``None``.

    >>> from botters.protocol._request import _split_url
    >>> answer_ping(_split_url("wss://api-cloud.bittrade.co.jp/ws"), '{"ping": 1492420473027}')
    '{"pong":1492420473027}'
    """
    text = decode(frame)
    msg = None if text is None else json_object(text)
    if msg is None:
        return None
    if "ping" in msg and len(msg) == 1:
        return dumps({"pong": msg["ping"]})
    data = msg.get("data")
    if msg.get("action") == "ping" and isinstance(data, dict) and "ts" in data:
        return dumps({"action": "pong", "data": {"ts": data["ts"]}})
    return None


def _ping_for(parts: URLParts) -> AppPing | None:
    return APP_PINGS.get(parts.path.rstrip("/"))


WS_ROUTES: Final = (
    WsRoute(
        exchange="bittrade",
        hosts=("api-cloud.bittrade.co.jp",),
        api_name="bittrade",
        login=login_message,
        needs_login=_needs_login,
        classify_reply=classify_reply,
        app_ping=_ping_for,
        answer_ping=answer_ping,
    ),
)
