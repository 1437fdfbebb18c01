"""botters: exchange signing, WebSocket sessions and DataStores for trading bots.

``import botters`` is cheap and imports no event loop or HTTP library: names that
need aiohttp or trio are resolved on first access (PEP 562). Code written for
pybotters 1.x runs with ``import botters as pybotters``.
"""

from __future__ import annotations

from ._version import __version__
from .protocol._lazy import lazy_exports

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~5 ms)
if TYPE_CHECKING:
    from ._apis import load_apis
    from ._sign import sign_request
    from .protocol import (
        Apis,
        BinanceCOINMDataStore,
        BinanceSpotDataStore,
        BinanceUSDSMDataStore,
        BottersError,
        BybitDataStore,
        ConfigError,
        Credentials,
        CredentialsError,
        DataStore,
        DataStoreCollection,
        Headers,
        OKXDataStore,
        Request,
        SigningError,
        StoreChange,
        StoreStream,
        StoreStreamOverflow,
        bitFlyerDataStore,
        parse_apis,
    )
    from .transports._auth import Auth
    from .transports._errors import (
        ClientClosedError,
        ConnectError,
        ConnectionLostError,
        HandshakeError,
        HTTPStatusError,
        ReplyLostError,
        TLSError,
        TooManyRedirectsError,
        TransportError,
        TransportTimeoutError,
        WebSocketClosedError,
    )
    from .transports._streams import MessageStream, WebSocketQueue
    from .transports.aiohttp import (
        Client,
        FetchResult,
        NotJSONContent,
        WebSocketApp,
        WebSocketConnection,
    )

__all__ = [
    "Apis",
    "Auth",
    "BinanceCOINMDataStore",
    "BinanceSpotDataStore",
    "BinanceUSDSMDataStore",
    "BottersError",
    "BybitDataStore",
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
    "OKXDataStore",
    "ReplyLostError",
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

# name -> module that defines it, imported on first attribute access: ``import
# botters`` never pulls in aiohttp or trio, nor any signer or store it does not use.
_EXPORTS: dict[str, str] = {
    "load_apis": "botters._apis",
    "sign_request": "botters._sign",
    **dict.fromkeys(
        (
            "Apis",
            "BinanceCOINMDataStore",
            "BinanceSpotDataStore",
            "BinanceUSDSMDataStore",
            "BottersError",
            "BybitDataStore",
            "ConfigError",
            "Credentials",
            "CredentialsError",
            "DataStore",
            "DataStoreCollection",
            "Headers",
            "OKXDataStore",
            "Request",
            "SigningError",
            "StoreChange",
            "StoreStream",
            "StoreStreamOverflow",
            "bitFlyerDataStore",
            "parse_apis",
        ),
        "botters.protocol",
    ),
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
    "ReplyLostError": "botters.transports._errors",
    "TLSError": "botters.transports._errors",
    "TooManyRedirectsError": "botters.transports._errors",
    "TransportError": "botters.transports._errors",
    "TransportTimeoutError": "botters.transports._errors",
    "WebSocketApp": "botters.transports.aiohttp",
    "WebSocketClosedError": "botters.transports._errors",
    "WebSocketConnection": "botters.transports.aiohttp",
    "WebSocketQueue": "botters.transports._streams",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
