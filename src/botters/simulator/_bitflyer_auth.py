"""The simulator's own check of bitFlyer signatures.

Written from bitFlyer's documentation, independently of botters' signers, so
that a bug in a signer shows up as a rejected request instead of being agreed
with:

* REST (https://lightning.bitflyer.com/docs#authentication): ``ACCESS-SIGN`` is
  the hex HMAC-SHA256, keyed with the API secret, of ``ACCESS-TIMESTAMP`` +
  HTTP method + request path (with its query string, as sent) + request body.
* Realtime API ``auth`` (https://bf-lightning-api.readme.io/docs/realtime-api-auth):
  ``signature`` is the hex HMAC-SHA256 of ``str(timestamp) + nonce``; the
  timestamp is a Unix time of 10 (seconds) or 13 (milliseconds) digits and the
  nonce a string of 16 to 255 characters.

Every function returns ``None`` when the request is good and a short reason
otherwise. Reasons never contain the secret or the expected signature.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

__all__ = ["NonceRegistry", "check_rest", "check_ws_auth"]

_DIGITS = re.compile(r"[0-9]+(\.[0-9]+)?")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


def _hex_hmac(secret: str, text: str) -> str:
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def _seconds(timestamp: float) -> float:
    # 13-digit timestamps are milliseconds, 10-digit ones seconds.
    return timestamp / 1000.0 if timestamp >= 1e11 else timestamp


def _window_error(timestamp: float, now: float, window: float) -> str | None:
    skew = _seconds(timestamp) - now
    if abs(skew) > window:
        return f"timestamp is {skew:+.1f} s away from the server clock (window ±{window:g} s)"
    return None


def check_rest(
    headers: Mapping[str, str],
    method: str,
    path_qs: str,
    body: bytes,
    keys: Mapping[str, str],
    *,
    now: float,
    window: float,
) -> tuple[str | None, str | None]:
    """Check a private REST request: ``(api_key, None)`` if good, else ``(None, reason)``."""
    key = headers.get("ACCESS-KEY")
    timestamp = headers.get("ACCESS-TIMESTAMP")
    sign = headers.get("ACCESS-SIGN")
    if not key or not timestamp or not sign:
        missing = [
            name
            for name, value in (
                ("ACCESS-KEY", key),
                ("ACCESS-TIMESTAMP", timestamp),
                ("ACCESS-SIGN", sign),
            )
            if not value
        ]
        return None, "missing header(s) " + ", ".join(missing)
    secret = keys.get(key)
    if secret is None:
        return None, "unknown ACCESS-KEY"
    if not _DIGITS.fullmatch(timestamp):
        return None, "ACCESS-TIMESTAMP is not a Unix time"
    error = _window_error(float(timestamp), now, window)
    if error:
        return None, "ACCESS-TIMESTAMP " + error
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, "body is not UTF-8"
    expected = _hex_hmac(secret, f"{timestamp}{method}{path_qs}{text}")
    if not _HEX64.fullmatch(sign) or not hmac.compare_digest(expected, sign.lower()):
        return None, "invalid ACCESS-SIGN"
    return key, None


class NonceRegistry:
    """The nonces recently used per key: a login must not replay one."""

    def __init__(self, capacity: int = 10000) -> None:
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._capacity = capacity

    def __contains__(self, item: tuple[str, str]) -> bool:
        return item in self._seen

    def add(self, item: tuple[str, str]) -> None:
        """Remember ``(api_key, nonce)``, forgetting the oldest beyond capacity."""
        self._seen[item] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)


def check_ws_auth(
    params: Any,
    keys: Mapping[str, str],
    nonces: NonceRegistry,
    *,
    now: float,
    window: float,
) -> tuple[str | None, str | None]:
    """Check ``auth`` params: ``(api_key, None)`` if good, else ``(None, reason)``.

    A good login's nonce is recorded, so the same nonce is refused next time.
    """
    if not isinstance(params, dict):
        return None, "params must be an object"
    key = params.get("api_key")
    timestamp = params.get("timestamp")
    nonce = params.get("nonce")
    signature = params.get("signature")
    if not isinstance(key, str) or key not in keys:
        return None, "unknown api_key"
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        return None, "timestamp must be a JSON integer"
    if len(str(timestamp)) not in (10, 13):
        return None, "timestamp must have 10 or 13 digits"
    error = _window_error(float(timestamp), now, window)
    if error:
        return None, error
    if not isinstance(nonce, str) or not 16 <= len(nonce) <= 255:
        return None, "nonce must be a string of 16 to 255 characters"
    if not isinstance(signature, str) or not _HEX64.fullmatch(signature):
        return None, "signature must be 64 hex digits"
    expected = _hex_hmac(keys[key], f"{timestamp}{nonce}")
    if not hmac.compare_digest(expected, signature.lower()):
        return None, "invalid signature"
    if (key, nonce) in nonces:
        return None, "nonce already used"
    nonces.add((key, nonce))
    return key, None
