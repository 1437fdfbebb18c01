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

__all__ = [
    "API_NAMES",
    "PASSPHRASE_REQUIRED",
    "Apis",
    "BodyFormat",
    "BottersError",
    "ConfigError",
    "Credentials",
    "CredentialsError",
    "Headers",
    "Params",
    "Request",
    "Route",
    "Signer",
    "SigningError",
    "body_format_for",
    "encode_form",
    "encode_json",
    "encode_params",
    "parse_apis",
    "registered_hosts",
    "resolve",
    "route_for",
    "sign_request",
]
