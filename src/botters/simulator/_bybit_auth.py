"""The simulator's own check of Bybit v5 signatures.

Written from Bybit's documentation with :mod:`hmac`, independently of botters'
signers, so that a bug in a signer shows up as a rejected request instead of
being agreed with:

* REST (https://bybit-exchange.github.io/docs/v5/guide#authentication):
  ``X-BAPI-SIGN`` is the hex HMAC-SHA256, keyed with the secret, of
  ``X-BAPI-TIMESTAMP + X-BAPI-API-KEY + X-BAPI-RECV-WINDOW + payload``, where
  the payload is the query string as sent for GET and the raw body for POST,
  and the receive window is the header's text (``""`` when there is none; the
  window is then 5000 ms). A request is accepted when
  ``server_time - recv_window <= timestamp < server_time + 1000``.
* WebSocket ``auth`` (https://bybit-exchange.github.io/docs/v5/ws/connect):
  ``{"op": "auth", "args": [api_key, expires, signature]}`` where
  ``signature`` is the hex HMAC-SHA256 of ``"GET/realtime" + expires`` and
  ``expires`` (milliseconds) must lie in the future.

Errors carry Bybit's ``retCode`` (https://bybit-exchange.github.io/docs/v5/error):
10003 for a missing or unknown key, 10004 for a bad signature, 10002 for a
timestamp outside the window. Messages never contain the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any, Final

from ._dialect import RestError, Secret

__all__ = ["check_rest", "check_ws_auth", "hex_hmac"]

DEFAULT_RECV_WINDOW_MS: Final = 5000
_AHEAD_MS: Final = 1000
_DIGITS: Final = re.compile(r"[0-9]{1,16}")
_HEX64: Final = re.compile(r"[0-9a-fA-F]{64}")


def hex_hmac(secret: str, text: str) -> str:
    """Hex HMAC-SHA256 of ``text`` keyed with ``secret``."""
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def _timestamp_error(timestamp: int, recv_window: int, now_ms: int, window: float | None) -> bool:
    if window is not None:
        return abs(timestamp - now_ms) > window * 1000
    return not now_ms - recv_window <= timestamp < now_ms + _AHEAD_MS


def check_rest(
    headers: Mapping[str, str],
    payload: str,
    keys: Mapping[str, Secret],
    *,
    now: float,
    window: float | None,
) -> str:
    """The API key of a good signed request.

    Args:
        headers: The request headers.
        payload: The query string as sent (GET) or the body text (POST).
        keys: Accepted keys.
        now: The server clock (seconds).
        window: Seconds the timestamp may be off either way, or ``None`` for
            Bybit's rule (``X-BAPI-RECV-WINDOW`` behind, 1 s ahead).

    Raises:
        RestError: with Bybit's ``retCode``.
    """
    key = headers.get("X-BAPI-API-KEY", "")
    if key not in keys:
        raise RestError(401, 10003, "API key is invalid.")
    timestamp = headers.get("X-BAPI-TIMESTAMP", "")
    recv_text = headers.get("X-BAPI-RECV-WINDOW", "")
    if not _DIGITS.fullmatch(timestamp) or (recv_text and not _DIGITS.fullmatch(recv_text)):
        raise RestError(200, 10002, "invalid request, please check your server timestamp")
    recv_window = int(recv_text) if recv_text else DEFAULT_RECV_WINDOW_MS
    now_ms = round(now * 1000)
    if _timestamp_error(int(timestamp), recv_window, now_ms, window):
        raise RestError(
            200,
            10002,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{timestamp}],server_timestamp[{now_ms}],recv_window[{recv_window}]",
        )
    text = f"{timestamp}{key}{recv_text}{payload}"
    sign = headers.get("X-BAPI-SIGN", "")
    if not _HEX64.fullmatch(sign) or not hmac.compare_digest(
        hex_hmac(keys[key].secret, text), sign.lower()
    ):
        raise RestError(200, 10004, f"error sign! origin_string[{text}]")
    return key


def check_ws_auth(args: Any, keys: Mapping[str, Secret], *, now: float) -> tuple[str | None, str]:
    """``(api_key, "")`` for good ``auth`` args, else ``(None, ret_msg)``."""
    if not isinstance(args, list) or len(args) != 3:
        return None, "Params Error"
    key, expires, signature = args
    if isinstance(expires, bool) or not isinstance(expires, int | str):
        return None, "Params Error"
    expires_text = str(expires)
    if not _DIGITS.fullmatch(expires_text) or int(expires_text) <= round(now * 1000):
        return None, "Params Error"
    if (
        not isinstance(key, str)
        or key not in keys
        or not isinstance(signature, str)
        or not _HEX64.fullmatch(signature)
    ):
        return None, "Request not authorized"
    expected = hex_hmac(keys[key].secret, f"GET/realtime{expires_text}")
    if not hmac.compare_digest(expected, signature.lower()):
        return None, "Request not authorized"
    return key, ""
