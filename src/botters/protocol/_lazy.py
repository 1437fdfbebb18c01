"""Lazy package exports (PEP 562): a name's module is imported when the name is first used.

Why: ``import botters`` and ``import botters.protocol`` must stay cheap however
many exchanges botters knows. A bot that uses one exchange's DataStore pays for
that exchange's module and the store machinery, not for sixteen others; a script
that only signs requests never imports a DataStore.

Each package lists ``name -> module`` and installs the two module hooks::

    _EXPORTS = {"Request": "botters.protocol._request", ...}
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

For type checkers the package also imports the names under ``TYPE_CHECKING``.
The first access imports the module and caches the value in the package's
namespace, so later accesses are plain attribute reads.
"""

from __future__ import annotations

import importlib
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~5 ms)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` for the names in ``exports``.

    Args:
        package: The package's ``__name__``.
        exports: Public name -> absolute name of the module defining it.
    """

    def getattr_(name: str) -> Any:
        module_name = exports.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_name), name)
        setattr(sys.modules[package], name, value)
        return value

    def dir_() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return getattr_, dir_
