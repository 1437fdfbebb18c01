"""MEXC: REST signers for spot v3 and the contract / open-api v2 scheme.

See :mod:`botters.protocol.exchanges.mexc._auth` for the rules.
"""

from __future__ import annotations

from ._auth import ROUTES, sign, sign_contract

__all__ = ["ROUTES", "sign", "sign_contract"]
