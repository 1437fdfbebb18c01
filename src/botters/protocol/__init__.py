"""The sans-I/O core of botters: knowledge, not I/O.

Everything here is pure: it imports no event loop, socket, TLS or HTTP library,
and never reads the clock or a random source. Time and nonces are arguments.
That is what lets the same signers, session logic and DataStores run under
asyncio, trio, or any HTTP client you embed them in.
"""

from __future__ import annotations

from ._credentials import API_NAMES, PASSPHRASE_REQUIRED, Apis, Credentials, parse_apis
from ._errors import BottersError, ConfigError, CredentialsError, SigningError
from ._registry import (
    Route,
    Signer,
    body_format_for,
    registered_hosts,
    resolve,
    route_for,
    sign_request,
)
from ._request import BodyFormat, Headers, Params, Request, encode_form, encode_json, encode_params
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
    registered_ws_hosts,
    resolve_ws,
    sign_outgoing,
    ws_route_for,
)
from .exchanges.bitflyer import bitFlyerDataStore
from .store import (
    DEFAULT_STREAM_MAXSIZE,
    DataStore,
    DataStoreCollection,
    MessageSink,
    OrderBookStore,
    RestResponse,
    StoreChange,
    StoreStream,
    StoreStreamClosed,
    StoreStreamOverflow,
)

__all__ = [
    "API_NAMES",
    "DEFAULT_STREAM_MAXSIZE",
    "PASSPHRASE_REQUIRED",
    "Apis",
    "AppPing",
    "BodyFormat",
    "BottersError",
    "ConfigError",
    "Credentials",
    "CredentialsError",
    "DataStore",
    "DataStoreCollection",
    "Headers",
    "LoginMessage",
    "LoginReply",
    "MessageSink",
    "OrderBookStore",
    "Params",
    "Request",
    "RestResponse",
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
