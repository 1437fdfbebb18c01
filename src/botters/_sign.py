"""Signing for embedders: :func:`sign_request` with the clock filled in."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from typing import Any

from ._apis import load_apis
from .protocol._credentials import Apis
from .protocol._registry import sign_request as _sign_pure
from .protocol._request import Request

__all__ = ["sign_request"]


def sign_request(
    request: Request,
    apis: Apis | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    *,
    now: float | None = None,
    nonce: str | None = None,
) -> Request:
    """Sign ``request`` for its exchange, reading the clock if ``now`` is not given.

    This is the entry point for using botters' signers with another HTTP stack
    (``requests``, ``httpx``, ``urllib``): build a :class:`~botters.Request`, sign
    it, and send ``method``, ``url``, ``headers`` and ``body`` exactly as they are.

    Args:
        request: The request from :meth:`botters.Request.build`.
        apis: Credentials as for :class:`botters.Client` (dict, JSON file path,
            :class:`~botters.protocol.Apis`, or ``None`` for the implicit sources).
        now: Seconds since the epoch; ``time.time()`` when omitted.
        nonce: Random string for schemes that need one; generated when omitted.

    Returns:
        The signed request, or ``request`` unchanged if its host is not one
        botters signs for or ``apis`` has no credentials for it.
    """
    return _sign_pure(
        request,
        apis if isinstance(apis, Apis) else load_apis(apis),
        now=time.time() if now is None else now,
        nonce=secrets.token_hex(16) if nonce is None else nonce,
    )
