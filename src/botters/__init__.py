"""botters: exchange signing, WebSocket sessions and DataStores for trading bots.

``import botters`` is cheap and imports no event loop or HTTP library: names that
need aiohttp or trio are resolved on first access (PEP 562). Code written for
pybotters 1.x runs with ``import botters as pybotters``.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._apis import load_apis
from ._sign import sign_request
from ._version import __version__
from .protocol import (
    Apis,
    BottersError,
    ConfigError,
    Credentials,
    CredentialsError,
    DataStore,
    DataStoreCollection,
    Headers,
    Request,
    SigningError,
    StoreChange,
    StoreStream,
    StoreStreamOverflow,
    bitFlyerDataStore,
    parse_apis,
)

__all__ = [
    "Apis",
    "Auth",
    "BottersError",
    "Client",
    "ClientClosedError",
    "ConfigError",
    "ConnectError",
    "ConnectionLostError",
    "Credentials",
    "CredentialsError",
    "DataStore",
    "DataStoreCollection",
    "FetchResult",
    "HTTPStatusError",
    "HandshakeError",
    "Headers",
    "MessageStream",
    "NotJSONContent",
    "Request",
    "SigningError",
    "StoreChange",
    "StoreStream",
    "StoreStreamOverflow",
    "TLSError",
    "TooManyRedirectsError",
    "TransportError",
    "TransportTimeoutError",
    "WebSocketApp",
    "WebSocketClosedError",
    "WebSocketConnection",
    "WebSocketQueue",
    "__version__",
    "bitFlyerDataStore",
    "load_apis",
    "parse_apis",
    "sign_request",
]

# name -> module that defines it; imported on first attribute access so that
# ``import botters`` never pulls in aiohttp or trio.
_LAZY: dict[str, str] = {
    "Auth": "botters.transports._auth",
    "Client": "botters.transports.aiohttp",
    "ClientClosedError": "botters.transports._errors",
    "ConnectError": "botters.transports._errors",
    "ConnectionLostError": "botters.transports._errors",
    "FetchResult": "botters.transports.aiohttp",
    "HTTPStatusError": "botters.transports._errors",
    "HandshakeError": "botters.transports._errors",
    "MessageStream": "botters.transports._streams",
    "NotJSONContent": "botters.transports.aiohttp",
    "TLSError": "botters.transports._errors",
    "TooManyRedirectsError": "botters.transports._errors",
    "TransportError": "botters.transports._errors",
    "TransportTimeoutError": "botters.transports._errors",
    "WebSocketApp": "botters.transports.aiohttp",
    "WebSocketClosedError": "botters.transports._errors",
    "WebSocketConnection": "botters.transports.aiohttp",
    "WebSocketQueue": "botters.transports._streams",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'botters' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(_LAZY))
