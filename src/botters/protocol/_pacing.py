"""Send pacing: how fast a client may send on one WebSocket connection.

Exchanges cap the messages a client sends on one connection (Binance: 5 a
second on its spot streams, PING and PONG frames included; KuCoin: 100 per 10
seconds; GMO Coin: one subscribe or unsubscribe a second) and disconnect, or
ban, a client that sends faster. A :class:`Pacing` states one such rule as
data; each exchange's ``_ws`` module attaches the documented one to its
:class:`~botters.protocol._ws.WsRoute`, and the session machine enforces it
for every frame it sends (see :mod:`botters.protocol.session._outbox`).

The rule is a **sliding window**: at most :attr:`Pacing.messages` counted
frames in any window of :attr:`Pacing.per` seconds. That is never looser than
an exchange that counts in fixed windows (a fixed window is one of the sliding
ones), and it never lets a burst at the end of one fixed window meet a burst
at the start of the next.

This module is pure: no clock, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from ._errors import ConfigError

__all__ = ["Pacing"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Pacing:
    """At most ``messages`` frames in any ``per`` seconds on one connection.

    >>> Pacing(messages=5, per=1.0, count_control=True)
    Pacing(messages=5, per=1.0, count_control=True, source='')
    >>> str(Pacing(messages=100, per=10.0))
    '100 messages per 10 s'
    """

    messages: int
    """How many counted frames a window may hold (>= 1)."""
    per: float
    """The window's length in seconds (> 0)."""
    count_control: bool = False
    """Whether WebSocket PING and PONG frames count (Binance counts them)."""
    counts: Callable[[str | bytes], bool] | None = field(default=None, repr=False)
    """Which data frames count, when the exchange limits only some requests
    (OKX: subscribe, unsubscribe and login); ``None``: every data frame.
    Frames it rejects are neither counted nor delayed."""
    source: str = ""
    """Where the limit is documented (a URL), for the log and the docs."""

    def __post_init__(self) -> None:
        messages, per = self.messages, self.per
        if isinstance(messages, bool) or not isinstance(messages, int) or messages < 1:
            raise ConfigError(f"pacing messages must be an int >= 1, got {messages!r}")
        if isinstance(per, bool) or not isinstance(per, int | float):
            raise ConfigError(f"pacing per must be a number of seconds, got {per!r}")
        if math.isnan(per) or math.isinf(per) or per <= 0:
            raise ConfigError(f"pacing per must be a finite number > 0, got {per!r}")
        object.__setattr__(self, "per", float(per))
        if not isinstance(self.count_control, bool):
            raise ConfigError("pacing count_control must be True or False")
        if self.counts is not None and not callable(self.counts):
            raise ConfigError("pacing counts must be a function of the frame, or None")
        if not isinstance(self.source, str):
            raise ConfigError("pacing source must be a str")

    def __str__(self) -> str:
        noun = "message" if self.messages == 1 else "messages"
        return f"{self.messages} {noun} per {self.per:g} s"

    def counts_frame(self, frame: str | bytes) -> bool:
        """Whether a data frame counts against the limit."""
        return self.counts is None or bool(self.counts(frame))
