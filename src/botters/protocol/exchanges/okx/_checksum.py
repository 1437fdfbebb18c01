"""OKX order-book checksum (CRC32 of the top 25 levels of each side).

Rule (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel,
"Checksum"): take the first 25 bids and the first 25 asks of the *updated*
book, best first, and join ``price:size`` of each level with ``:``,
alternating ``bid1:ask1:bid2:ask2:...``; when one side has fewer than 25
levels, its missing levels are skipped and the other side's levels follow.
The CRC32 of that string, read as a **signed** 32-bit integer, is the push's
``checksum``. The documented examples::

    bids [3366.1, 7], [3366, 6]   asks [3366.8, 9], [3368, 8]
    -> "3366.1:7:3366.8:9:3366:6:3368:8"

    bids [3366.1, 7]              asks [3366.8, 9], [3368, 8], [3372, 8]
    -> "3366.1:7:3366.8:9:3368:8:3372:8"

Prices and sizes are used exactly as OKX sent them (``"3366"``, not
``"3366.0"``): the store keeps the level strings as received.

Deprecation: OKX announced (2026-05-21) that from 2026-06-23 in production the
``checksum`` field of ``books``, ``books-l2-tbt`` and ``books50-l2-tbt`` stays
in pushes but is always ``0`` and "must no longer be used"
(https://www.okx.com/help/okx-order-book-channels-checksum-field-deprecation).
A checksum of ``0`` therefore means "not provided" and is never checked.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from itertools import zip_longest
from typing import Any, Final

__all__ = ["DEPTH", "checksum", "checksum_string"]

DEPTH: Final = 25
"""Levels per side that the checksum covers."""


def checksum_string(bids: Sequence[tuple[Any, Any]], asks: Sequence[tuple[Any, Any]]) -> str:
    """The string OKX checksums: ``bid1px:bid1sz:ask1px:ask1sz:...`` over the top 25.

    Args:
        bids: ``(price, size)`` pairs, best (highest) first.
        asks: ``(price, size)`` pairs, best (lowest) first.
    """
    parts: list[str] = []
    for bid, ask in zip_longest(bids[:DEPTH], asks[:DEPTH]):
        if bid is not None:
            parts.append(f"{bid[0]}:{bid[1]}")
        if ask is not None:
            parts.append(f"{ask[0]}:{ask[1]}")
    return ":".join(parts)


def checksum(bids: Sequence[tuple[Any, Any]], asks: Sequence[tuple[Any, Any]]) -> int:
    """OKX's checksum of a book: the CRC32 of :func:`checksum_string` as a signed int32."""
    crc = zlib.crc32(checksum_string(bids, asks).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def levels(items: Iterable[dict[str, Any]]) -> list[tuple[Any, Any]]:
    """``(px, sz)`` pairs of stored level items, in the order given."""
    return [(item["px"], item["sz"]) for item in items]
