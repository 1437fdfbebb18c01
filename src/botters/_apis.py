"""Finding and reading ``apis`` credentials: the one place botters reads config files.

This is I/O (files, environment), so it lives outside :mod:`botters.protocol`;
the parsing and checking it hands off to is pure.

Precedence, as in pybotters, plus ``BOTTERS_APIS``:

1. ``apis`` given as a dict: used as is.
2. ``apis`` given as a path (``str``, ``bytes``, ``os.PathLike``): that JSON file.
3. Nothing given: ``./apis.json`` if it exists, else the file named by the
   ``BOTTERS_APIS`` environment variable, else by ``PYBOTTERS_APIS`` (so a
   migrating user's environment keeps working), else no credentials.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .protocol._credentials import Apis, parse_apis
from .protocol._errors import CredentialsError

__all__ = ["ENV_VARS", "load_apis"]

ENV_VARS = ("BOTTERS_APIS", "PYBOTTERS_APIS")
"""Environment variables naming an apis file, in the order they are tried."""


def _read_file(path: Path) -> Apis:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CredentialsError(f"apis file not found: {str(path)!r}") from None
    except OSError as exc:
        raise CredentialsError(f"cannot read apis file {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CredentialsError(f"apis file {str(path)!r} is not UTF-8 text") from None
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        # exc.msg/lineno/colno only: the document itself may hold secrets.
        raise CredentialsError(
            f"apis file {str(path)!r} is not valid JSON: {exc.msg} "
            f"(line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(data, dict):
        raise CredentialsError(
            f"apis file {str(path)!r} must hold a JSON object "
            f'{{"name": ["key", "secret"]}}, not a JSON {type(data).__name__}'
        )
    return parse_apis(data, source=str(path))


def load_apis(apis: Mapping[str, Any] | str | bytes | os.PathLike[str] | None = None) -> Apis:
    """Resolve ``apis`` the way :class:`botters.Client` does.

    Args:
        apis: A dict, a path to a JSON file, an :class:`~botters.protocol.Apis`,
            or ``None`` for the implicit sources (see the module docs).

    Raises:
        CredentialsError: The named file is missing, unreadable, not JSON or not
            a JSON object, or ``apis`` has an unusable type. The message names
            the file or API name and never shows a secret.
    """
    if isinstance(apis, Apis):
        return apis
    if isinstance(apis, Mapping):
        return parse_apis(apis)
    if isinstance(apis, bytes):
        return _read_file(Path(os.fsdecode(apis)))
    if isinstance(apis, str | os.PathLike):
        return _read_file(Path(apis))
    if apis is not None:
        raise CredentialsError(
            f"apis must be a dict or a path to a JSON file, not {type(apis).__name__}"
        )
    local = Path.cwd() / "apis.json"
    if local.is_file():
        return _read_file(local)
    for var in ENV_VARS:
        value = os.environ.get(var)
        if value:
            path = Path(value)
            if not path.is_file():
                raise CredentialsError(f"${var} names {value!r}, which is not a file")
            return _read_file(path)
    return Apis()
