"""``resolve=``: pinning host names to local addresses (a testing hook of both clients).

``{"api.bitflyer.com": ("127.0.0.1", 8443)}`` makes connections to that name
go to that address, while URLs, signatures, ``Host`` and TLS checks keep the
real name. The aiohttp adapter plugs the table into aiohttp's connector
(``PinnedResolver``); the trio adapter looks it up when it opens a stream.
Validating it is the same on both, so it is written once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

from botters.protocol._errors import ConfigError

__all__ = ["Pins", "parse_pins"]

Pins: TypeAlias = Mapping[str, tuple[str, int | None]]
"""``resolve=``: host name -> ``(address, port)``; a port of ``None`` keeps the URL's port."""


def parse_pins(resolve: Pins | None) -> dict[str, tuple[str, int | None]]:
    """Validate ``resolve=`` and return it keyed by lower-case host name.

    Raises:
        ConfigError: ``resolve`` is not a mapping of names to ``(address, port)``.
    """
    if resolve is None:
        return {}
    if not isinstance(resolve, Mapping):
        raise ConfigError("resolve= maps host names to (address, port) tuples")
    table: dict[str, tuple[str, int | None]] = {}
    for host, target in resolve.items():
        if not isinstance(host, str) or not (
            isinstance(target, tuple)
            and len(target) == 2
            and isinstance(target[0], str)
            and (target[1] is None or isinstance(target[1], int))
        ):
            raise ConfigError(
                "resolve= maps host names to (address, port) tuples, "
                f"e.g. {{'api.bitflyer.com': ('127.0.0.1', 8443)}}; got {host!r}: {target!r}"
            )
        table[host.lower()] = target
    return table
