"""Reading ``[price, size]`` book levels, shared by the exchanges that send them as pairs.

Bybit and Binance both send each side of a book as a list of ``[price, size]``
string pairs. A level is kept exactly as sent (the strings the stores show)
and as floats (for sorting and the zero-size test); anything else is a
:class:`MalformedError` naming the offending value, which the store logs
before resyncing the book.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["MalformedError", "pair_level", "side_entries"]

_INF: Final = math.inf

_short = reprlib.Repr()
_short.maxstring = 120
_short.maxother = 120
_short.maxlist = 6
_short.maxdict = 8


class MalformedError(Exception):
    """A book message that cannot be applied as it is (the reason is the message)."""


def pair_level(level: Any) -> tuple[Any, Any, float, float]:
    """``(price, size, float(price), float(size))`` of a ``[price, size]`` level."""
    try:
        if type(level) is not list and type(level) is not tuple:
            raise TypeError
        price = level[0]
        size = level[1]
        if type(price) is bool or type(size) is bool:
            raise TypeError
        fprice = float(price)
        fsize = float(size)
    except (TypeError, ValueError, IndexError, KeyError, OverflowError):
        raise MalformedError(f"bad level {_short.repr(level)}") from None
    if not (-_INF < fprice < _INF and 0.0 <= fsize < _INF):
        raise MalformedError(f"bad level {_short.repr(level)}")
    return price, size, fprice, fsize


def side_entries(data: Mapping[str, Any], side: str) -> list[Any]:
    """The level list of ``side`` (empty if absent); a non-list is malformed."""
    entries = data.get(side)
    if entries is None:
        return []
    if type(entries) is not list:
        raise MalformedError(f"{side!r} is not a list: {_short.repr(entries)}")
    return entries
