"""bitbank public stream (Socket.IO over WebSocket): keepalive in both Engine.IO versions.

Rules (https://github.com/bitbankinc/bitbank-api-docs/blob/master/public-stream.md):

* The endpoint is ``wss://stream.bitbank.cc/socket.io/?EIO=4&transport=websocket``;
  since 2022-07-26 the server runs Socket.IO 4.x (Engine.IO protocol v4). It
  has no login: the private stream is PubNub, not WebSocket.
* The heartbeat direction depends on the Engine.IO version the client asks for
  with ``EIO=`` (https://socket.io/docs/v4/engine-io-protocol/, "Heartbeat"):

  - ``EIO=4``: the **server** sends the ping packet ``2`` every
    ``pingInterval`` (25 s in the docs' examples) and the client must answer
    ``3``; a client-sent ``2`` is a protocol error there. botters answers each
    ``2`` with ``3`` (:func:`botters.protocol.answer_server_ping`) and sends no
    ping of its own.
  - ``EIO=3`` (what pybotters' users connect with; the server still accepts
    it): the **client** sends ``2`` and the server answers ``3``. botters sends
    ``2`` every 15 s, as pybotters did.

Host: ``stream.bitbank.cc`` (``bitbank``).
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qs

from botters.protocol._request import URLParts
from botters.protocol._ws import AppPing, Frame, WsRoute

__all__ = ["APP_PING_EIO3", "WS_ROUTES", "engine_io_version", "is_pong"]


def engine_io_version(parts: URLParts) -> int:
    """The ``EIO`` query parameter (4 when absent or unreadable: the server's own version)."""
    values = parse_qs(parts.query).get("EIO", [])
    return int(values[0]) if values and values[0].isdigit() else 4


def is_pong(frame: Frame) -> bool:
    """Whether ``frame`` is Engine.IO's pong packet ``3``."""
    return frame == "3"


APP_PING_EIO3: Final = AppPing.constant("2", interval=15.0, pong=is_pong)
"""The client ping of Engine.IO v3: ``2`` every 15 s."""


def _ping_for(parts: URLParts) -> AppPing | None:
    return APP_PING_EIO3 if engine_io_version(parts) == 3 else None


def _answer(parts: URLParts, frame: Frame) -> Frame | None:
    if frame == "2" and engine_io_version(parts) >= 4:
        return "3"
    return None


WS_ROUTES: Final = (
    WsRoute(
        exchange="bitbank",
        hosts=("stream.bitbank.cc",),
        api_name="bitbank",
        app_ping=_ping_for,
        answer_ping=_answer,
    ),
)
