"""The sans-I/O core of botters: knowledge, not I/O.

Everything here is pure: it imports no event loop, socket, TLS or HTTP library,
and never reads the clock or a random source. Time and nonces are arguments.
That is what lets the same signers, session logic and DataStores run under
asyncio, trio, or any HTTP client you embed them in.

Names are imported on first use (:mod:`._lazy`): ``import botters.protocol``
loads no signer, store or exchange module, and using one exchange's DataStore
loads that exchange only.
"""

from __future__ import annotations

from ._lazy import lazy_exports

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~5 ms)
if TYPE_CHECKING:
    from ._credentials import (
        API_NAMES,
        PASSPHRASE_REQUIRED,
        Apis,
        Credentials,
        parse_apis,
    )
    from ._errors import (
        BottersError,
        ConfigError,
        CredentialsError,
        SigningError,
    )
    from ._pacing import Pacing
    from ._registry import (
        Route,
        Signer,
        body_format_for,
        registered_hosts,
        resolve,
        route_for,
        sign_request,
    )
    from ._request import (
        BodyFormat,
        Headers,
        Params,
        Request,
        encode_form,
        encode_json,
        encode_params,
    )
    from ._ws import (
        AppPing,
        LoginMessage,
        LoginReply,
        WsRoute,
        WsTokenError,
        answer_server_ping,
        app_ping_for,
        build_login,
        classify_login_reply,
        pacing_for,
        registered_ws_hosts,
        resolve_ws,
        sign_outgoing,
        ws_route_for,
    )
    from .exchanges.binance._store import (
        BinanceCOINMDataStore,
        BinanceSpotDataStore,
        BinanceUSDSMDataStore,
    )
    from .exchanges.bitflyer._store import bitFlyerDataStore
    from .exchanges.bybit._store import BybitDataStore
    from .exchanges.okx._store import OKXDataStore
    from .store import (
        DEFAULT_STREAM_MAXSIZE,
        BookState,
        BookStatus,
        DataStore,
        DataStoreCollection,
        FetchSnapshot,
        Link,
        MessageSink,
        OrderBookStore,
        RestResponse,
        Resubscribe,
        ResyncRequest,
        ResyncSink,
        StoreChange,
        StoreStream,
        StoreStreamClosed,
        StoreStreamOverflow,
    )

_EXPORTS: dict[str, str] = {
    "API_NAMES": "botters.protocol._credentials",
    "PASSPHRASE_REQUIRED": "botters.protocol._credentials",
    "Apis": "botters.protocol._credentials",
    "Credentials": "botters.protocol._credentials",
    "parse_apis": "botters.protocol._credentials",
    "BottersError": "botters.protocol._errors",
    "ConfigError": "botters.protocol._errors",
    "CredentialsError": "botters.protocol._errors",
    "SigningError": "botters.protocol._errors",
    "Route": "botters.protocol._registry",
    "Signer": "botters.protocol._registry",
    "body_format_for": "botters.protocol._registry",
    "registered_hosts": "botters.protocol._registry",
    "resolve": "botters.protocol._registry",
    "route_for": "botters.protocol._registry",
    "sign_request": "botters.protocol._registry",
    "BodyFormat": "botters.protocol._request",
    "Headers": "botters.protocol._request",
    "Params": "botters.protocol._request",
    "Request": "botters.protocol._request",
    "encode_form": "botters.protocol._request",
    "encode_json": "botters.protocol._request",
    "encode_params": "botters.protocol._request",
    "Pacing": "botters.protocol._pacing",
    "pacing_for": "botters.protocol._ws",
    "AppPing": "botters.protocol._ws",
    "LoginMessage": "botters.protocol._ws",
    "LoginReply": "botters.protocol._ws",
    "WsRoute": "botters.protocol._ws",
    "WsTokenError": "botters.protocol._ws",
    "answer_server_ping": "botters.protocol._ws",
    "app_ping_for": "botters.protocol._ws",
    "build_login": "botters.protocol._ws",
    "classify_login_reply": "botters.protocol._ws",
    "registered_ws_hosts": "botters.protocol._ws",
    "resolve_ws": "botters.protocol._ws",
    "sign_outgoing": "botters.protocol._ws",
    "ws_route_for": "botters.protocol._ws",
    "BinanceCOINMDataStore": "botters.protocol.exchanges.binance._store",
    "BinanceSpotDataStore": "botters.protocol.exchanges.binance._store",
    "BinanceUSDSMDataStore": "botters.protocol.exchanges.binance._store",
    "bitFlyerDataStore": "botters.protocol.exchanges.bitflyer._store",
    "BybitDataStore": "botters.protocol.exchanges.bybit._store",
    "OKXDataStore": "botters.protocol.exchanges.okx._store",
    "DEFAULT_STREAM_MAXSIZE": "botters.protocol.store",
    "BookState": "botters.protocol.store",
    "BookStatus": "botters.protocol.store",
    "DataStore": "botters.protocol.store",
    "DataStoreCollection": "botters.protocol.store",
    "FetchSnapshot": "botters.protocol.store",
    "Link": "botters.protocol.store",
    "MessageSink": "botters.protocol.store",
    "OrderBookStore": "botters.protocol.store",
    "Resubscribe": "botters.protocol.store",
    "ResyncRequest": "botters.protocol.store",
    "ResyncSink": "botters.protocol.store",
    "RestResponse": "botters.protocol.store",
    "StoreChange": "botters.protocol.store",
    "StoreStream": "botters.protocol.store",
    "StoreStreamClosed": "botters.protocol.store",
    "StoreStreamOverflow": "botters.protocol.store",
}
"""Public name -> the module defining it (imported on first access)."""

__all__ = [
    "API_NAMES",
    "DEFAULT_STREAM_MAXSIZE",
    "PASSPHRASE_REQUIRED",
    "Apis",
    "AppPing",
    "BinanceCOINMDataStore",
    "BinanceSpotDataStore",
    "BinanceUSDSMDataStore",
    "BodyFormat",
    "BookState",
    "BookStatus",
    "BottersError",
    "BybitDataStore",
    "ConfigError",
    "Credentials",
    "CredentialsError",
    "DataStore",
    "DataStoreCollection",
    "FetchSnapshot",
    "Headers",
    "Link",
    "LoginMessage",
    "LoginReply",
    "MessageSink",
    "OKXDataStore",
    "OrderBookStore",
    "Pacing",
    "Params",
    "Request",
    "RestResponse",
    "Resubscribe",
    "ResyncRequest",
    "ResyncSink",
    "Route",
    "Signer",
    "SigningError",
    "StoreChange",
    "StoreStream",
    "StoreStreamClosed",
    "StoreStreamOverflow",
    "WsRoute",
    "WsTokenError",
    "answer_server_ping",
    "app_ping_for",
    "bitFlyerDataStore",
    "body_format_for",
    "build_login",
    "classify_login_reply",
    "encode_form",
    "encode_json",
    "encode_params",
    "pacing_for",
    "parse_apis",
    "registered_hosts",
    "registered_ws_hosts",
    "resolve",
    "resolve_ws",
    "route_for",
    "sign_outgoing",
    "sign_request",
    "ws_route_for",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
