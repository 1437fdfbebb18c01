"""OKJ (OKCoin Japan, ``www.okcoin.jp``) REST authentication.

OKJ runs OKX's older v3 API and signs requests exactly as OKX v5 does
(https://dev.okcoin.jp/en/, "Authentication"): base64 HMAC-SHA256 of
``timestamp(ISO, ms) + METHOD + requestPath(?query) + body`` in
``OK-ACCESS-SIGN``, with ``OK-ACCESS-KEY``, ``OK-ACCESS-TIMESTAMP``, the plain
``OK-ACCESS-PASSPHRASE`` and ``Content-Type: application/json``. So OKJ reuses
:func:`botters.protocol.exchanges.okx.sign` rather than a copy of it: a fix to
one is a fix to both. Only the host and the API name (``okj``) differ.
"""

from __future__ import annotations

from typing import Final

from botters.protocol._registry import Route
from botters.protocol.exchanges.okx import sign

__all__ = ["HOSTS", "ROUTES", "sign"]

HOSTS: Final = ("www.okcoin.jp",)
"""REST hosts that take OKJ signatures."""

ROUTES = (Route("okj", HOSTS, "okj", sign, "json"),)
