"""The ``Auth`` sentinel of the ``auth=`` keyword (pybotters-compatible)."""

from __future__ import annotations

from typing import Final

__all__ = ["Auth", "AuthType"]


class Auth:
    """Sentinel for ``auth=``: "sign this request the way its exchange wants".

    ``auth=Auth`` is the default of every request and ``ws_connect`` method;
    pass ``auth=None`` to send one request (or connect one WebSocket) without
    any signing or login. It is the class itself that is the value, exactly as
    in pybotters (``auth=pybotters.Auth``); it is never instantiated.
    """

    def __init__(self) -> None:
        raise TypeError("botters.Auth is a sentinel: pass the class itself (auth=Auth)")


AuthType = type[Auth]
"""The type of the sentinel, for annotations: ``auth: AuthType | None = Auth``."""

AUTH: Final = Auth
