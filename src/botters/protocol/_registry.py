"""Which signer signs which request: a registry keyed by **exact** scheme and host.

Theory of operation
-------------------
Every exchange module under :mod:`botters.protocol.exchanges` declares the hosts
it signs for as :class:`Route` values. The registry maps ``(scheme, host)`` to a
route; nothing else is consulted:

* only ``https`` (REST) and ``wss`` (WebSocket handshakes that carry signed
  headers, e.g. BitMEX) are ever registered, so a plain ``http://`` or ``ws://``
  URL is never signed;
* the host must be equal to a registered host, so ``api.bybit.com.evil.example``
  and ``evilapi.bybit.com`` are never signed;
* the port is ignored (it is not part of an exchange's identity).

The table is built on first use, so importing :mod:`botters.protocol` stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from ._credentials import Apis, Credentials, parse_apis
from ._request import BodyFormat, Request

__all__ = [
    "Route",
    "Signer",
    "body_format_for",
    "registered_hosts",
    "resolve",
    "route_for",
    "sign_request",
]

SIGNED_SCHEMES: Final = frozenset({"https", "wss"})


class Signer(Protocol):
    """A pure function from an unsigned request to the signed one.

    ``now`` is the wall-clock time in seconds (``time.time()``); ``nonce`` is a
    random string for the few schemes that need one (bitFlyer's WebSocket auth).
    Signers read nothing else: the same inputs always give the same output.
    """

    def __call__(
        self, request: Request, credentials: Credentials, /, *, now: float, nonce: str | None
    ) -> Request: ...


@dataclass(frozen=True, slots=True)
class Route:
    """How requests to a set of hosts are encoded and signed."""

    exchange: str
    """The exchange module that owns the route (``"okx"``)."""
    hosts: tuple[str, ...]
    """Exact, lower-case host names."""
    api_name: str | Callable[[Request], str]
    """The ``apis`` name to sign with, or a function choosing it per request."""
    signer: Signer
    """The signing function."""
    body_format: BodyFormat = "json"
    """How a ``data`` mapping is encoded for these hosts."""
    scheme: str = "https"
    """``"https"`` for REST, ``"wss"`` for handshake signing."""

    def name_for(self, request: Request) -> str:
        """The API name whose credentials sign ``request``."""
        name = self.api_name
        return name if isinstance(name, str) else name(request)


_TABLE: dict[tuple[str, str], Route] = {}


def _table() -> dict[tuple[str, str], Route]:
    if not _TABLE:
        from .exchanges import EXCHANGES

        table: dict[tuple[str, str], Route] = {}
        for module_name in EXCHANGES:
            module = importlib.import_module(f"botters.protocol.exchanges.{module_name}")
            routes: Iterable[Route] = getattr(module, "ROUTES", ())
            for route in routes:
                if route.scheme not in SIGNED_SCHEMES:
                    raise AssertionError(f"{module_name}: only https/wss may be signed")
                for host in route.hosts:
                    key = (route.scheme, host)
                    if key in table:
                        raise AssertionError(f"{host} registered twice")
                    table[key] = route
        _TABLE.update(table)
    return _TABLE


def route_for(request: Request) -> Route | None:
    """The route for ``request``'s exact scheme and host, or ``None``."""
    return _table().get((request.scheme, request.host))


def body_format_for(scheme: str, host: str) -> BodyFormat:
    """The body encoding the exchange at ``host`` expects; ``"form"`` if unknown.

    ``"form"`` for unknown hosts is what aiohttp (and so pybotters) did with a
    ``data`` dict.
    """
    if scheme == "http":
        scheme = "https"  # same exchange, same encoding; it just won't be signed
    route = _table().get((scheme, host))
    return route.body_format if route is not None else "form"


def registered_hosts() -> Mapping[tuple[str, str], Route]:
    """Every ``(scheme, host)`` botters signs for, with its route (read-only view)."""
    return dict(_table())


def _as_apis(apis: Apis | Mapping[str, object]) -> Apis:
    return apis if isinstance(apis, Apis) else parse_apis(apis)


def resolve(
    request: Request, apis: Apis | Mapping[str, object]
) -> tuple[Route, Credentials] | None:
    """The route and credentials that would sign ``request``, or ``None``.

    ``None`` means the request goes out unsigned: its scheme/host is not
    registered, or ``apis`` has no entry for the API name.
    """
    route = route_for(request)
    if route is None:
        return None
    creds = _as_apis(apis).get(route.name_for(request))
    if creds is None:
        return None
    return route, creds


def sign_request(
    request: Request,
    apis: Apis | Mapping[str, object],
    *,
    now: float,
    nonce: str | None = None,
) -> Request:
    """Sign ``request`` with the credentials its exact host calls for.

    Returns ``request`` itself, unchanged, when it must not be signed (see
    :func:`resolve`). This is the pure core: pass the time explicitly.
    :func:`botters.sign_request` fills in ``now`` for you.

    Args:
        request: The request, built with :meth:`Request.build`.
        apis: Parsed :class:`Apis` (fast) or a pybotters-style ``apis`` dict.
        now: Seconds since the epoch, as from ``time.time()``.
        nonce: A random string for schemes that need one.
    """
    found = resolve(request, apis)
    if found is None:
        return request
    route, creds = found
    return route.signer(request, creds, now=now, nonce=nonce)
