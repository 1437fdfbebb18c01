"""GMO Coin WebSocket: the private-stream access-token flow.

Rules (https://api.coin.z.com/docs/en/#private-ws-api and
https://api.coin.z.com/docs/en/#ws-auth-post):

* Public stream: ``wss://api.coin.z.com/ws/public/v1``, no authentication.
* Private stream: the access token is part of the URL,
  ``wss://api.coin.z.com/ws/private/v1/{token}`` (:func:`private_url`); there is
  no login message.
* The token comes from the Private REST API: ``POST /private/v1/ws-auth``
  creates one (:func:`create_token_request`), ``PUT`` with ``{"token": ...}``
  extends it by 60 minutes (:func:`extend_token_request`), ``DELETE`` with
  ``{"token": ...}`` deletes it (:func:`delete_token_request`). A token expires
  60 minutes after it was created or last extended, and at most 5 exist at a
  time. These helpers return unsigned requests; the REST signer signs them
  (GMO signs ``PUT``/``DELETE`` without their body). The create request sends
  ``{}`` as GMO's own example does.
* The answer to create is ``{"status": 0, "data": "<token>", ...}``
  (:func:`parse_token`); a non-zero ``status`` is an error.
* Keepalive: "A ping will be sent from the server to a client once per minute.
  If there's no response (pong) from a client 3 consecutive times, the
  WebSocket will be disconnected": WebSocket PING frames, answered by the
  WebSocket library. There is no app-level ping.

* Send limit (https://api.coin.z.com/docs/en/, "Restrictions": for the Public
  and the Private WebSocket API, "1 request (subscribe/unsubscribe) per
  second", counted per IP address; restated at
  https://gmo-docs.shion1305.com/docs/getting-started/rate-limiting):
  :data:`PACING`. botters paces *every* data frame on the connection, which is
  conservative: subscribe and unsubscribe are the only messages a GMO client
  sends. The limit is per IP; pacing is per connection, so a bot with a public
  and a private connection open at once must keep their subscriptions apart
  itself (e.g. open the second one after the first is subscribed).

Host: ``api.coin.z.com`` (``gmocoin``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote

from botters.protocol._errors import ConfigError
from botters.protocol._pacing import Pacing
from botters.protocol._request import Request
from botters.protocol._ws import WsRoute, WsTokenError, dumps

__all__ = [
    "PACING",
    "PRIVATE_WS",
    "TOKEN_LIFETIME",
    "WS_AUTH_URL",
    "WS_ROUTES",
    "create_token_request",
    "delete_token_request",
    "extend_token_request",
    "parse_token",
    "private_url",
]

WS_AUTH_URL: Final = "https://api.coin.z.com/private/v1/ws-auth"
"""The REST endpoint that creates, extends and deletes access tokens."""
PRIVATE_WS: Final = "wss://api.coin.z.com/ws/private/v1/"
"""The private stream's URL, without the token."""
TOKEN_LIFETIME: Final = 3600.0
"""Seconds a token stays valid after it is created or extended."""

_JSON: Final = {"Content-Type": "application/json"}


def _check(token: str) -> str:
    if not token or not isinstance(token, str):
        raise ConfigError("a GMO Coin access token must be a non-empty string")
    return token


def create_token_request() -> Request:
    """The unsigned ``POST /private/v1/ws-auth`` that creates a token."""
    return Request.build("POST", WS_AUTH_URL, data="{}", headers=_JSON)


def extend_token_request(token: str) -> Request:
    """The unsigned ``PUT /private/v1/ws-auth`` that extends ``token`` by 60 minutes."""
    return Request.build("PUT", WS_AUTH_URL, data=dumps({"token": _check(token)}), headers=_JSON)


def delete_token_request(token: str) -> Request:
    """The unsigned ``DELETE /private/v1/ws-auth`` that deletes ``token``."""
    return Request.build("DELETE", WS_AUTH_URL, data=dumps({"token": _check(token)}), headers=_JSON)


def parse_token(response: Mapping[str, Any]) -> str:
    """The token in a create answer.

    Raises:
        WsTokenError: ``status`` is not 0 (the error codes and messages are
            given) or there is no token.

    >>> parse_token({"status": 0, "data": "xxxxxxxxxxxxxxxxxxxx"})
    'xxxxxxxxxxxxxxxxxxxx'
    """
    if not isinstance(response, Mapping):
        raise WsTokenError("GMO Coin ws-auth answer is not a JSON object")
    status = response.get("status")
    if status != 0:
        messages = response.get("messages")
        raise WsTokenError(f"GMO Coin ws-auth failed: status {status!r} {messages!r}")
    token = response.get("data")
    if not isinstance(token, str) or not token:
        raise WsTokenError("GMO Coin ws-auth answer has no token")
    return token


def private_url(token: str) -> str:
    """The private stream URL for ``token`` (percent-encoded as a path segment).

    >>> private_url("abc123")
    'wss://api.coin.z.com/ws/private/v1/abc123'
    """
    return PRIVATE_WS + quote(_check(token), safe="")


PACING: Final = Pacing(messages=1, per=1.0, source="https://api.coin.z.com/docs/en/")
"""One frame a second (the documented limit is one subscribe/unsubscribe a second)."""

WS_ROUTES: Final = (
    WsRoute(exchange="gmocoin", hosts=("api.coin.z.com",), api_name="gmocoin", pacing=PACING),
)
