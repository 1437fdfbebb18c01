"""The simulator's own check of OKX v5 signatures.

Written from OKX's documentation with :mod:`hmac` and :mod:`base64`,
independently of botters' signers, so that a bug in a signer shows up as a
rejected request instead of being agreed with:

* REST (https://www.okx.com/docs-v5/en/#overview-rest-authentication):
  ``OK-ACCESS-SIGN`` is the base64 HMAC-SHA256, keyed with the secret, of
  ``OK-ACCESS-TIMESTAMP + METHOD + requestPath + body``, where ``requestPath``
  carries the query string as sent; the timestamp is ISO 8601 UTC with
  milliseconds (``2020-12-08T09:08:57.715Z``) and expires 30 seconds after
  it; ``OK-ACCESS-PASSPHRASE`` is the passphrase in plain text. Errors are
  HTTP 401 with OKX's codes: 50103/50104/50106/50107 for a missing header,
  50111 an unknown key, 50105 a wrong passphrase, 50112 a malformed and 50102
  an expired timestamp, 50113 a bad signature.
* WebSocket login (https://www.okx.com/docs-v5/en/#overview-websocket-login):
  ``{"op": "login", "args": [{"apiKey", "passphrase", "timestamp", "sign"}]}``
  where ``timestamp`` is Unix time in seconds and ``sign`` the base64
  HMAC-SHA256 of ``timestamp + "GET" + "/users/self/verify"``, also valid for
  30 seconds. Failures are ``{"event": "error", "code": ...}``: 60005 an
  unknown key, 60024 a wrong passphrase, 60004 a malformed and 60006 an
  expired timestamp, 60007 a bad signature, 60009 anything else.

Messages never contain the secret or the passphrase.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from ._dialect import RestError, Secret

__all__ = ["b64_hmac", "check_rest", "check_ws_login"]

EXPIRES_AFTER: Final = 30.0
_ISO_MS: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_SECONDS: Final = re.compile(r"[0-9]{1,12}(\.[0-9]{1,6})?")


def b64_hmac(secret: str, text: str) -> str:
    """Standard base64 of the HMAC-SHA256 of ``text`` keyed with ``secret``."""
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogateescape"), given.encode("utf-8", "surrogateescape")
    )


def _denied(code: int, message: str) -> RestError:
    return RestError(401, code, message)


def check_rest(
    headers: Mapping[str, str],
    method: str,
    path_qs: str,
    body: bytes,
    keys: Mapping[str, Secret],
    *,
    now: float,
    window: float,
) -> str:
    """The API key of a good signed request.

    Raises:
        RestError: HTTP 401 with OKX's code.
    """
    for name, code in (
        ("OK-ACCESS-KEY", 50103),
        ("OK-ACCESS-PASSPHRASE", 50104),
        ("OK-ACCESS-SIGN", 50106),
        ("OK-ACCESS-TIMESTAMP", 50107),
    ):
        if not headers.get(name):
            raise _denied(code, f"Request header {name} cannot be empty.")
    key = headers["OK-ACCESS-KEY"]
    secret = keys.get(key)
    if secret is None:
        raise _denied(50111, "Invalid OK-ACCESS-KEY.")
    if not _same(secret.passphrase, headers["OK-ACCESS-PASSPHRASE"]):
        raise _denied(50105, "Request header OK-ACCESS-PASSPHRASE incorrect.")
    timestamp = headers["OK-ACCESS-TIMESTAMP"]
    if not _ISO_MS.fullmatch(timestamp):
        raise _denied(50112, "Invalid OK-ACCESS-TIMESTAMP.")
    try:
        when = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        raise _denied(50112, "Invalid OK-ACCESS-TIMESTAMP.") from None
    if abs(when.timestamp() - now) > window:
        raise _denied(50102, "Timestamp request expired.")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise _denied(50113, "Invalid Sign") from None
    expected = b64_hmac(secret.secret, f"{timestamp}{method}{path_qs}{text}")
    if not _same(expected, headers["OK-ACCESS-SIGN"]):
        raise _denied(50113, "Invalid Sign")
    return key


def check_ws_login(
    args: Any, keys: Mapping[str, Secret], *, now: float, window: float
) -> tuple[str | None, str, str]:
    """``(api_key, "0", "")`` for good ``login`` args, else ``(None, code, msg)``."""
    entry = args[0] if isinstance(args, list) and len(args) == 1 else None
    if not isinstance(entry, dict) or not all(
        isinstance(entry.get(name), str) for name in ("apiKey", "passphrase", "timestamp", "sign")
    ):
        return None, "60009", "Login failed."
    secret = keys.get(entry["apiKey"])
    if secret is None:
        return None, "60005", "Invalid OK-ACCESS-KEY"
    if not _same(secret.passphrase, entry["passphrase"]):
        return None, "60024", "Wrong passphrase"
    timestamp = entry["timestamp"]
    if not _SECONDS.fullmatch(timestamp):
        return None, "60004", "Invalid timestamp"
    if abs(float(timestamp) - now) > window:
        return None, "60006", "Timestamp request expired"
    expected = b64_hmac(secret.secret, f"{timestamp}GET/users/self/verify")
    if not _same(expected, entry["sign"]):
        return None, "60007", "Invalid sign"
    return entry["apiKey"], "0", ""
