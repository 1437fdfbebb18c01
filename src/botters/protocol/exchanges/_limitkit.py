"""Small, allocation-light readers shared by the exchanges' ``_limits`` tables.

A ``price`` function runs on every request, so it must not parse a whole query
string or JSON body to find the one value a cost depends on (Binance's depth
``limit``, Bybit's ``category``, bitFlyer's order ``size``). These helpers find
one field by scanning with :meth:`str.find` / :meth:`bytes.find`, which is
C code, and return ``None`` when the field is absent or not where expected;
callers then fall back to the most expensive reading.

They read the request exactly as it will be sent: values stay percent-encoded
(the fields the tables look at are numbers and plain words, which encode to
themselves).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "form_value",
    "header_float",
    "json_count",
    "json_value",
    "query_value",
    "to_int",
]


def query_value(query: str, key: str) -> str | None:
    """The first value of the parameter ``key`` (written with its ``=``) in a query, or ``None``.

    No string is built to search with: a hit counts only at the start of the
    query or right after a ``&``.

    >>> query_value("symbol=BTCUSDT&limit=500", "limit=")
    '500'
    >>> query_value("xlimit=5", "limit=") is None
    True
    """
    at = query.find(key)
    while at > 0 and query[at - 1] != "&":
        at = query.find(key, at + 1)
    if at < 0:
        return None
    start = at + len(key)
    end = query.find("&", start)
    return query[start:] if end < 0 else query[start:end]


def form_value(body: bytes, key: bytes) -> bytes | None:
    """The first value of ``key`` (written with its ``=``) in a form-encoded body, or ``None``.

    >>> form_value(b"symbol=BTCUSDT&limit=5", b"limit=")
    b'5'
    """
    at = body.find(key)
    while at > 0 and body[at - 1] != 0x26:  # '&'
        at = body.find(key, at + 1)
    if at < 0:
        return None
    start = at + len(key)
    end = body.find(b"&", start)
    return body[start:] if end < 0 else body[start:end]


_BLANK = b" \t\r\n"
_VALUE_END = b",}] \t\r\n"


def json_value(body: bytes, quoted_name: bytes) -> bytes | None:
    """The first scalar value of the JSON member ``quoted_name`` (``b'"size"'``), or ``None``.

    Strings are returned without their quotes; numbers and literals as written.
    The body is not parsed: the first occurrence of the quoted name followed by
    a colon is taken, which is right for the flat objects order APIs take.

    >>> json_value(b'{"category": "spot", "qty": 0.1}', b'"category"')
    b'spot'
    >>> json_value(b'{"category":"linear","qty":0.1}', b'"qty"')
    b'0.1'
    """
    at = body.find(quoted_name)
    while at >= 0:
        i = at + len(quoted_name)
        n = len(body)
        while i < n and body[i] in _BLANK:
            i += 1
        if i < n and body[i] == 0x3A:  # ':' -- a member name, not a string value
            i += 1
            while i < n and body[i] in _BLANK:
                i += 1
            if i >= n:
                return None
            if body[i] == 0x22:  # '"'
                end = body.find(b'"', i + 1)
                return None if end < 0 else body[i + 1 : end]
            end = i
            while end < n and body[end] not in _VALUE_END:
                end += 1
            return body[i:end]
        at = body.find(quoted_name, at + 1)
    return None


def json_count(body: bytes, quoted_name: bytes) -> int:
    """How many times the member name ``quoted_name`` occurs (objects in a batch), at least 1.

    >>> json_count(b'[{"instId": "A"}, {"instId": "B"}]', b'"instId"')
    2
    """
    return max(body.count(quoted_name), 1)


def to_int(raw: str | bytes | None) -> int | None:
    """``raw`` as a base-10 integer, or ``None`` if absent or not one."""
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def header_float(headers: Mapping[str, str], name: str) -> float | None:
    """A numeric response header (names lower-case), or ``None`` if absent or not a number."""
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value == value else None  # NaN reads as absent
