"""A resolver that pins host names to addresses: for tests against local servers.

Signing is keyed by the **exact** host (DESIGN.md), so a test cannot point the
client at ``https://127.0.0.1:8443`` and still see bitFlyer's signature. It can
keep ``https://api.bitflyer.com/...`` and pin the *name* to a local address:

.. code-block:: python

    ctx = ssl.create_default_context(cafile=...)  # trusts the local server's cert
    async with botters.Client(apis=apis, resolve={"api.bitflyer.com": ("127.0.0.1", 8443)},
                              ssl=ctx) as client:
        await client.fetch("GET", "https://api.bitflyer.com/v1/me/getbalance")

The URL, the signature, TLS server-name checking and the ``Host`` header all
still say ``api.bitflyer.com``; only the TCP connection goes to 127.0.0.1.
:class:`PinnedResolver` is given to aiohttp's ``TCPConnector(resolver=...)``;
it follows aiohttp's resolver interface by duck typing (no aiohttp class is
subclassed).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any

from botters.transports._pins import parse_pins

__all__ = ["PinnedResolver"]


class PinnedResolver:
    """Resolves the pinned host names to fixed ``(address, port)`` pairs.

    Args:
        pins: ``{"api.bitflyer.com": ("127.0.0.1", 8443)}``. A port of ``None``
            keeps the URL's port. Names are matched case-insensitively.
        fallback: The resolver for every other name (aiohttp's default when
            ``None``). Pass one that refuses everything to make sure a test
            never reaches the network.
    """

    def __init__(self, pins: Mapping[str, tuple[str, int | None]], *, fallback: Any = None) -> None:
        self._pins = parse_pins(pins)
        self._fallback = fallback
        self._owns_fallback = False

    @property
    def pins(self) -> Mapping[str, tuple[str, int | None]]:
        """The pinned names (lower-case) and their targets."""
        return dict(self._pins)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[dict[str, Any]]:
        """Resolver interface of aiohttp: the addresses to connect to for ``host``."""
        pinned = self._pins.get(host.lower())
        if pinned is None:
            if self._fallback is None:
                import aiohttp

                self._fallback = aiohttp.DefaultResolver()
                self._owns_fallback = True
            result: list[dict[str, Any]] = await self._fallback.resolve(host, port, family)
            return result
        address, pinned_port = pinned
        addr_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [
            {
                "hostname": host,
                "host": address,
                "port": port if pinned_port is None else pinned_port,
                "family": addr_family,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        """Resolver interface of aiohttp: release the fallback resolver if it made one."""
        if self._owns_fallback:
            fallback, self._fallback = self._fallback, None
            self._owns_fallback = False
            await fallback.close()

    def __repr__(self) -> str:
        return f"PinnedResolver({self._pins!r})"
