"""One connection's paced sends: the sliding window and the frames waiting for it.

Theory of operation
-------------------
An :class:`Outbox` exists only for a connection whose route (or the user)
sets a :class:`~botters.protocol.Pacing`; every other connection sends as it
always did, at no extra cost.

The window is the send times of the last ``messages`` counted frames (a
bounded deque). A counted frame may go at ``now`` when fewer than
``messages`` frames were sent yet, or when the oldest of the last
``messages`` went at least ``per`` seconds ago: then no window of ``per``
seconds can hold more than ``messages`` of them. :meth:`Outbox.free_at` is
that instant, so the machine's deadline is exactly when the next frame may go.

Two queues, released in this order:

* **urgent**: keepalive frames (PING/PONG when they count, the exchange's
  app-level ping, answers to its pings). They overtake queued data because a
  keepalive stuck behind a long backlog of subscriptions would get the
  connection dropped; they still wait for a free slot, at most ``per``
  seconds, because sending them at once could break the limit;
* **normal**: everything else (the login, the initial messages, user sends,
  stores' resync requests), strictly first in, first out.

The machine records a frame's time when it *releases* it (emits its
:class:`~._events.SendFrame`); the adapter writes it right after. This module
is pure: times are arguments.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Final

from botters.protocol._pacing import Pacing

from ._events import Action, OutgoingData

__all__ = ["INITIAL", "OWN", "USER", "Entry", "Outbox"]

OWN: Final = 0
"""A frame of the machine's own (login, keepalive): made again on the next connection."""
INITIAL: Final = 1
"""One of the initial messages: replayed on the next connection."""
USER: Final = 2
"""A user send (or a store's): lost with the connection; its sender is told."""


class Entry:
    """A frame waiting for the window: the action to emit, and what to re-sign it from."""

    __slots__ = ("action", "at", "data", "tag", "ticket")

    def __init__(
        self,
        action: Action,
        tag: int,
        *,
        data: OutgoingData | None = None,
        ticket: int | None = None,
    ) -> None:
        self.action = action
        self.tag = tag
        self.data = data
        """The user's ``dict``, to sign afresh when released (``None``: send as is)."""
        self.ticket = ticket
        self.at = 0.0
        """When it was queued: one released later than that waited (and is re-signed)."""


class Outbox:
    """The sliding window of one connection and its two queues (see the module docs)."""

    __slots__ = ("_normal", "_sent", "_urgent", "pacing", "warned")

    def __init__(self, pacing: Pacing) -> None:
        self.pacing: Final = pacing
        self._sent: deque[float] = deque(maxlen=pacing.messages)
        self._normal: deque[Entry] = deque()
        self._urgent: deque[Entry] = deque()
        self.warned = False
        """Whether the current backlog was reported (reset once it is gone)."""

    @property
    def waiting(self) -> int:
        """Frames waiting, both queues."""
        return len(self._normal) + len(self._urgent)

    @property
    def backlog(self) -> int:
        """Frames waiting in the normal queue."""
        return len(self._normal)

    def free_at(self) -> float:
        """The earliest time the next counted frame may go (``-inf``: now)."""
        sent = self._sent
        if len(sent) < self.pacing.messages:
            return -math.inf
        return sent[0] + self.pacing.per

    def record(self, now: float) -> None:
        """A counted frame goes at ``now``."""
        self._sent.append(now)

    def push(self, entry: Entry, *, urgent: bool) -> None:
        """Queue a frame that may not go yet."""
        (self._urgent if urgent else self._normal).append(entry)

    def release(self, now: float) -> list[Entry]:
        """Take every queued frame that may go at ``now``, urgent ones first, in order."""
        out: list[Entry] = []
        urgent, normal = self._urgent, self._normal
        while (urgent or normal) and self.free_at() <= now:
            out.append(urgent.popleft() if urgent else normal.popleft())
            self._sent.append(now)
        if not normal:
            self.warned = False
        return out

    def withdraw(self, ticket: int) -> bool:
        """Remove the queued user send with ``ticket``; whether it was still queued."""
        for entry in self._normal:
            if entry.ticket == ticket:
                self._normal.remove(entry)
                if not self._normal:
                    self.warned = False
                return True
        return False

    def clear(self) -> list[Entry]:
        """Drop everything queued (the connection is gone); returns what was dropped."""
        dropped = [*self._urgent, *self._normal]
        self._urgent.clear()
        self._normal.clear()
        self.warned = False
        return dropped

    def drain_time(self) -> float:
        """About how long the normal queue takes to go out (whole windows)."""
        pacing = self.pacing
        return math.ceil(len(self._normal) / pacing.messages) * pacing.per
