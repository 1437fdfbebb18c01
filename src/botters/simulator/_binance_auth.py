"""The simulator's own check of Binance spot REST signatures (HMAC keys).

Written from Binance's documentation with :mod:`hmac`, independently of
botters' signer, so that a bug in the signer shows up as a rejected request
instead of being agreed with
(https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security):

* Every private request carries the key in the ``X-MBX-APIKEY`` header.
  USER_STREAM endpoints (``/api/v3/userDataStream``) need nothing else.
* SIGNED endpoints also carry ``timestamp`` (milliseconds) and ``signature``,
  in the query string or the form body. The signed text is ``totalParams``:
  the query string as sent, immediately followed by the body as sent, with
  no ``&`` between them, the ``signature`` parameter itself left out. The
  signature is the hex HMAC-SHA256 of that text keyed with the secret
  (upper- or lower-case hex).
* Timing: a request is accepted when ``timestamp < server_time + 1000`` and
  ``server_time - timestamp <= recvWindow`` (``recvWindow`` defaults to 5000
  and may not exceed 60000).

Errors carry Binance's codes (https://developers.binance.com/docs/binance-spot-api-docs/errors):
``-2014`` (HTTP 401) for a missing or malformed key, ``-2015`` (401) for an
unknown one, ``-1102`` for a missing ``timestamp`` or ``signature``, ``-1021``
for a timestamp outside the window, ``-1131`` for a bad ``recvWindow``,
``-1101`` for a parameter sent twice and ``-1022`` for a wrong signature.
Messages never contain the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Final
from urllib.parse import unquote_plus

from ._dialect import RestError, Secret

__all__ = ["check_api_key", "check_signed", "parse_params"]

DEFAULT_RECV_WINDOW_MS: Final = 5000
MAX_RECV_WINDOW_MS: Final = 60000
_AHEAD_MS: Final = 1000
_DIGITS: Final = re.compile(r"[0-9]{1,16}")
_HEX64: Final = re.compile(r"[0-9a-fA-F]{64}")
_KEY: Final = re.compile(r"[!-~]{1,128}")


def mandatory(name: str) -> RestError:
    """Binance's -1102 for a parameter that is missing or empty."""
    return RestError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def parse_params(text: str) -> list[tuple[str, str]]:
    """``name=value`` pairs of a query string or form body, decoded, in order.

    Raises:
        RestError: -1100 for text that is not a form (a pair without ``=``).
    """
    pairs = []
    for pair in text.split("&") if text else ():
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise RestError(400, -1100, f"Illegal characters found in a parameter: {pair[:40]!r}")
        pairs.append((unquote_plus(name), unquote_plus(value)))
    return pairs


def check_api_key(headers: Mapping[str, str], keys: Mapping[str, Secret]) -> str:
    """The ``X-MBX-APIKEY`` of a request, if it is an accepted key.

    Raises:
        RestError: -2014 (missing or malformed) or -2015 (unknown).
    """
    key = headers.get("X-MBX-APIKEY", "")
    if not _KEY.fullmatch(key):
        raise RestError(401, -2014, "API-key format invalid.")
    if key not in keys:
        raise RestError(401, -2015, "Invalid API-key, IP, or permissions for action.")
    return key


def _without_signature(text: str) -> tuple[str, list[str]]:
    """``text`` with its ``signature=`` pairs removed, and their values (still encoded)."""
    kept, signatures = [], []
    for pair in text.split("&") if text else ():
        name, _, value = pair.partition("=")
        if name == "signature":
            signatures.append(value)
        else:
            kept.append(pair)
    return "&".join(kept), signatures


def check_signed(
    headers: Mapping[str, str],
    query: str,
    body: str,
    keys: Mapping[str, Secret],
    *,
    now: float,
    window: float | None,
) -> tuple[str, dict[str, str]]:
    """The API key and the parameters (query and body) of a good SIGNED request.

    Args:
        headers: The request headers.
        query: The query string exactly as sent (percent-encoded).
        body: The form body exactly as sent (``""`` if none).
        keys: Accepted keys.
        now: The server clock (seconds).
        window: Seconds the timestamp may be off either way, or ``None`` for
            Binance's rule (``recvWindow`` behind, 1 s ahead).

    Raises:
        RestError: with Binance's code.
    """
    key = check_api_key(headers, keys)
    query_text, in_query = _without_signature(query)
    body_text, in_body = _without_signature(body)
    params: dict[str, str] = {}
    for name, value in [*parse_params(query_text), *parse_params(body_text)]:
        if name in params:
            raise RestError(400, -1101, f"Duplicate values for parameter '{name}'.")
        params[name] = value
    timestamp = params.get("timestamp", "")
    if not timestamp:
        raise mandatory("timestamp")
    if not _DIGITS.fullmatch(timestamp):
        raise RestError(400, -1100, "Illegal characters found in parameter 'timestamp'.")
    recv_text = params.get("recvWindow", "")
    if recv_text and not _DIGITS.fullmatch(recv_text):
        raise RestError(400, -1100, "Illegal characters found in parameter 'recvWindow'.")
    recv_window = int(recv_text) if recv_text else DEFAULT_RECV_WINDOW_MS
    if recv_window > MAX_RECV_WINDOW_MS:
        raise RestError(400, -1131, "recvWindow must be less than 60000")
    now_ms = round(now * 1000)
    stamp = int(timestamp)
    if window is not None:
        late = abs(stamp - now_ms) > window * 1000
        ahead = False
    else:
        ahead = stamp >= now_ms + _AHEAD_MS
        late = now_ms - stamp > recv_window
    if ahead:
        raise RestError(
            400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."
        )
    if late:
        raise RestError(400, -1021, "Timestamp for this request is outside of the recvWindow.")
    signatures = in_query + in_body
    if not signatures or not signatures[0]:
        raise mandatory("signature")
    if len(signatures) > 1:
        raise RestError(400, -1101, "Duplicate values for parameter 'signature'.")
    signature = signatures[0]
    expected = hmac.new(
        keys[key].secret.encode(), (query_text + body_text).encode(), hashlib.sha256
    ).hexdigest()
    if not _HEX64.fullmatch(signature) or not hmac.compare_digest(expected, signature.lower()):
        raise RestError(400, -1022, "Signature for this request is not valid.")
    return key, params
