"""Keep-alive requests: REST calls a store needs repeated, carried out by the client.

Binance's user-data streams live as long as their ``listenKey``, which expires
60 minutes after it was created or last extended; pybotters' store spawned a
task from ``initialize`` that PUT the key every 30 minutes. The botters core
never spawns a task (DESIGN.md), so a store *describes* the repetition as a
:class:`KeepAlive` value and hands it over, the same way order books hand
out resync requests:

* to the client whose response ``initialize`` was given (both botters clients
  implement :class:`KeepAliveSink` and mark their responses with it), which
  sends the request every :attr:`KeepAlive.interval` seconds, signed, until the
  client closes or :meth:`KeepAlive.stop` is called;
* or, when the response came from elsewhere (``RestResponse``, httpx,
  recorded data), or the client cannot carry it (a trio client outside
  ``async with``), to :meth:`DataStoreCollection.take_keepalive_requests`, for
  the caller to carry out.

What a carrier decides is decided here, once, so both clients agree: when the
next send is due (:meth:`KeepAlive.next_delay`: on schedule after a success,
a capped doubling backoff after failures) and what of the request may be
logged (:meth:`KeepAlive.redact`: a listenKey grants access to a private
stream, so only its first characters are shown).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, runtime_checkable

__all__ = ["RETRY_FIRST", "RETRY_MAX", "KeepAlive", "KeepAliveSink"]

RETRY_FIRST: Final = 1.0
"""Seconds before the first retry of a failed send."""
RETRY_MAX: Final = 60.0
"""The longest wait between two retries (the backoff doubles up to it)."""

_SHOWN: Final = 4
"""Characters of a secret-like value that log lines keep (enough to tell two apart)."""
_SECRET_NAMES: Final = ("listenkey", "token")
_IN_TEXT: Final = re.compile(r"(?i)((?:listenKey|token)[\"']?\s*[=:]\s*[\"']?)([A-Za-z0-9_\-.]+)")


@dataclass(eq=False)
class KeepAlive:
    """A REST request to send now (or after ``first_delay``) and then every ``interval`` s.

    Attributes:
        method: HTTP method (``"PUT"``).
        url: Absolute URL; the client signs it as any request to that host.
        params: Query parameters (e.g. Spot's ``{"listenKey": ...}``).
        interval: Seconds between two sends.
        first_delay: Seconds before the first send (0: at once, as pybotters).
        name: What it keeps alive, for log lines (never a secret).
    """

    method: str
    url: str
    params: Mapping[str, Any] = field(default_factory=dict)
    interval: float = 1800.0
    first_delay: float = 0.0
    name: str = ""
    stopped: bool = field(default=False, init=False)
    """Set by :meth:`stop`; the carrier stops at its next turn."""

    def stop(self) -> None:
        """Stop repeating (e.g. a newer listenKey replaced this one)."""
        self.stopped = True

    def next_delay(self, failures: int) -> float:
        """Seconds until the next send, after ``failures`` failed sends in a row.

        ``0``: the last send succeeded, so the next one is due on schedule
        (:attr:`interval`, counted from that success: Binance extends a
        listenKey's life from the last keep-alive). After a failure the send
        is retried sooner, :data:`RETRY_FIRST` s, then twice as long each
        time up to :data:`RETRY_MAX`, and never later than the schedule
        would: a key about to expire deserves a retry, but a flood of them
        would only spend the rate limit.

        >>> k = KeepAlive("PUT", "https://api.binance.com/api/v3/userDataStream")
        >>> [k.next_delay(n) for n in range(0, 9)]
        [1800.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
        >>> KeepAlive("PUT", "https://x.example/", interval=0.05).next_delay(3)
        0.05
        """
        if failures <= 0:
            return self.interval
        backoff = RETRY_FIRST * 2.0 ** min(failures - 1, 30)
        return min(backoff, RETRY_MAX, self.interval)

    def redact(self, text: str) -> str:
        """``text`` with this request's listenKey/token values cut to their first characters.

        For log lines about the request (its URL, params, the exchange's
        answer): the values of params named like ``listenKey`` or ``token``
        are replaced wherever they occur, and so is anything written as
        ``listenKey=...`` / ``"listenKey": "..."``.

        >>> key = "pqia91ma19a5s61cv6a81"
        >>> k = KeepAlive("PUT", "https://x.example/", params={"listenKey": key})
        >>> k.redact(f"PUT https://x.example/?listenKey={key} failed")
        'PUT https://x.example/?listenKey=pqia… failed'
        >>> k.redact('{"listenKey":"other123456"}')
        '{"listenKey":"othe…"}'
        """
        for name, value in self.params.items():
            secret = any(word in name.lower() for word in _SECRET_NAMES)
            if secret and isinstance(value, str) and len(value) > _SHOWN:
                text = text.replace(value, value[:_SHOWN] + "…")
        return _IN_TEXT.sub(_cut, text)

    def describe(self) -> str:
        """``METHOD url?params`` for a log line, secrets cut (see :meth:`redact`)."""
        query = "&".join(f"{k}={v}" for k, v in self.params.items())
        return self.redact(f"{self.method} {self.url}{'?' + query if query else ''}")

    def __repr__(self) -> str:
        state = "stopped" if self.stopped else f"every {self.interval:g} s"
        return f"<KeepAlive {self.name or self.method} {state}>"


@runtime_checkable
class KeepAliveSink(Protocol):
    """Who can carry out a :class:`KeepAlive`: both botters clients."""

    def keep_alive(self, request: KeepAlive) -> None:
        """Start repeating ``request`` in the background; must not block.

        Raises only when it cannot carry the request at all (a
        :class:`~botters.ConfigError` for a trio client outside ``async
        with``, :class:`~botters.ClientClosedError` for a closed client);
        :meth:`DataStoreCollection._keep_alive` then keeps the request for
        ``take_keepalive_requests()``.
        """


def _cut(match: re.Match[str]) -> str:
    value = match.group(2)
    if value.endswith("…") or len(value) <= _SHOWN:
        return match.group(0)
    return match.group(1) + value[:_SHOWN] + "…"
