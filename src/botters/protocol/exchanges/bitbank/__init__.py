"""bitbank: REST signer for the private API.

See :mod:`botters.protocol.exchanges.bitbank._auth` for the rule.
"""

from __future__ import annotations

from ._auth import ROUTES, sign

__all__ = ["ROUTES", "sign"]
