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
  recorded data), to :meth:`DataStoreCollection.take_keepalive_requests`, for
  the caller to carry out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["KeepAlive", "KeepAliveSink"]


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

    def __repr__(self) -> str:
        state = "stopped" if self.stopped else f"every {self.interval:g} s"
        return f"<KeepAlive {self.name or self.method} {state}>"


@runtime_checkable
class KeepAliveSink(Protocol):
    """Who can carry out a :class:`KeepAlive`: both botters clients."""

    def keep_alive(self, request: KeepAlive) -> None:
        """Start repeating ``request`` in the background; must not block or raise."""
