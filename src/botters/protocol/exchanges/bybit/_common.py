"""Shared bits of the Bybit stores: the logger, short reprs, warn-once sets."""

from __future__ import annotations

import logging
import reprlib
from typing import Any, Final

logger = logging.getLogger("botters.store.bybit")

short = reprlib.Repr()
short.maxstring = 120
short.maxother = 120
short.maxlist = 6
short.maxdict = 8

MAX_REMEMBERED: Final = 1024
"""Distinct things (topics, statuses) a :class:`Once` remembers; later ones are not."""


class Once:
    """A bounded set of things already warned about: one WARNING each, then DEBUG.

    Bounded so that a feed of ever-new garbage topics cannot grow it without
    limit; past the bound every new thing is reported at DEBUG only.
    """

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: set[Any] = set()

    def first(self, thing: Any) -> bool:
        """Whether ``thing`` deserves its one WARNING now (remembering it)."""
        try:
            if thing in self.seen or len(self.seen) >= MAX_REMEMBERED:
                return False
            self.seen.add(thing)
        except TypeError:  # unhashable: cannot remember it, but it is news
            return True
        return True

    def clear(self) -> None:
        """Forget everything (warn again)."""
        self.seen.clear()
