"""One JSON codec for the adapters: orjson when installed (the ``speed`` extra), else json.

Frames are parsed once, here, and the same object goes to every handler and
filtered stream. Both functions accept ``str`` and ``bytes`` and raise
:class:`json.JSONDecodeError` (orjson's error type subclasses it).

* :func:`fast_loads` is orjson's parser when available. It differs from
  ``json.loads`` on rare input: ``NaN``/``Infinity`` and lone surrogates are
  refused, integers beyond 64 bits become floats.
* :func:`loads` is what handlers get: :func:`fast_loads`, and on refusal a
  second try with ``json.loads``, so anything the standard library accepts is
  accepted. The hot path calls :func:`fast_loads` and only pays for the second
  try on the (rare) error path.

``dumps`` returns compact text (``separators=(",", ":")``, UTF-8 kept): what
botters puts in WebSocket frames. REST bodies are encoded by
:class:`botters.Request`, not here, so signatures never depend on which codec
is installed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["JSONDecodeError", "dumps", "fast_loads", "loads", "using_orjson"]

JSONDecodeError = json.JSONDecodeError

_std_loads: Callable[[str | bytes], Any] = json.loads


def _std_dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


fast_loads: Callable[[str | bytes], Any]
using_orjson: bool

try:
    import orjson
except ImportError:  # pragma: no cover - exercised when the extra is not installed
    using_orjson = False
    fast_loads = _std_loads
    dumps = _std_dumps
else:
    using_orjson = True
    fast_loads = orjson.loads
    _orjson_dumps = orjson.dumps

    def dumps(data: Any) -> str:
        """Compact JSON text (orjson; json for what orjson refuses, e.g. int keys)."""
        try:
            return _orjson_dumps(data).decode()
        except TypeError:
            return _std_dumps(data)


def loads(data: str | bytes) -> Any:
    """Parse JSON text; accepts everything ``json.loads`` accepts.

    Raises:
        json.JSONDecodeError: ``data`` is not JSON (or, for ``bytes``, not UTF-8).
    """
    try:
        return fast_loads(data)
    except JSONDecodeError:
        if not using_orjson:
            raise
    try:
        return _std_loads(data)
    except UnicodeDecodeError as exc:  # bytes that are not UTF-8: still "not JSON"
        raise JSONDecodeError(f"not UTF-8 text ({exc.reason})", "", 0) from None
