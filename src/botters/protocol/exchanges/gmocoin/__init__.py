"""gmocoin: placeholder until its signer lands."""

from __future__ import annotations

ROUTES = ()
