"""Small helpers every signer shares: HMAC-SHA256 in hex or base64, and time units."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

__all__ = ["hmac_b64", "hmac_hex", "iso_ms", "ms", "utc_seconds_iso"]

_sha256 = hashlib.sha256


def hmac_hex(secret: bytes, message: str) -> str:
    """Lower-case hex HMAC-SHA256 of the UTF-8 ``message``."""
    return hmac.new(secret, message.encode(), _sha256).hexdigest()


def hmac_b64(secret: bytes, message: str) -> str:
    """Standard base64 (with padding) HMAC-SHA256 of the UTF-8 ``message``."""
    return base64.b64encode(hmac.new(secret, message.encode(), _sha256).digest()).decode()


def ms(now: float) -> int:
    """Milliseconds since the epoch, rounded to the nearest millisecond.

    Rounding (not truncating, as ``int(time.time() * 1000)`` does) makes
    ``ms(t / 1000) == t`` hold for every integer ``t``, so a timestamp given in
    milliseconds survives the trip through ``now`` in seconds exactly.
    """
    return round(now * 1000)


def iso_ms(now: float) -> str:
    """UTC ISO-8601 with milliseconds and ``Z``: ``2036-02-05T18:28:16.000Z`` (OKX)."""
    seconds, millis = divmod(ms(now), 1000)
    t = datetime.fromtimestamp(seconds, UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}Z"


def utc_seconds_iso(now: float) -> str:
    """UTC ``%Y-%m-%dT%H:%M:%S`` without fraction or zone (BitTrade/Huobi)."""
    return datetime.fromtimestamp(int(now), UTC).strftime("%Y-%m-%dT%H:%M:%S")
