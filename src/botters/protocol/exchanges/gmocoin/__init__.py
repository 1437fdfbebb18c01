"""GMO Coin (crypto): REST signer.

See :mod:`botters.protocol.exchanges.gmocoin._auth` for the rule.
"""

from __future__ import annotations

from ._auth import ROUTES, sign

__all__ = ["ROUTES", "sign"]
