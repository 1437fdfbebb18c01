"""Every exchange's documented REST limits, collected on first use.

Each exchange package under :mod:`botters.protocol.exchanges` that documents
limits has a ``_limits`` module with a ``LIMITS`` value (an
:class:`~._model.ExchangeLimits`, or a tuple of them). They are imported only
when a limiter is first built, so signing alone never loads them.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from ._model import ExchangeLimits

__all__ = ["default_limits"]

_CACHE: list[ExchangeLimits] = []


def default_limits() -> tuple[ExchangeLimits, ...]:
    """The documented limits of every exchange botters knows, one entry per API family."""
    if not _CACHE:
        from botters.protocol.exchanges import EXCHANGES

        found: list[ExchangeLimits] = []
        hosts: set[str] = set()
        for name in EXCHANGES:
            module_name = f"botters.protocol.exchanges.{name}._limits"
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            value = module.LIMITS
            entries: Iterable[ExchangeLimits] = (
                (value,) if isinstance(value, ExchangeLimits) else value
            )
            for entry in entries:
                overlap = hosts & entry.hosts
                if overlap:
                    raise AssertionError(f"{name}: hosts limited twice: {sorted(overlap)}")
                hosts |= entry.hosts
                found.append(entry)
        _CACHE.extend(found)
    return tuple(_CACHE)
