"""The frozen :class:`Request` value: the exact bytes that are signed and sent.

Theory of operation
-------------------
A signature covers bytes, so botters fixes the bytes first and signs them second.
:meth:`Request.build` turns ``(method, url, params=, data=, base_url=)`` into a
final, percent-encoded URL and a final body; a signer then adds headers or query
parameters and returns a *new* ``Request``. Adapters send ``Request.url`` and
``Request.body`` without re-encoding them (aiohttp: ``yarl.URL(url, encoded=True)``
and ``data=bytes``), so what the exchange receives is byte-for-byte what was
signed.

URL encoding follows what pybotters users got through yarl, so the same inputs
produce the same signatures:

* ``params`` values are quoted like yarl's query values: letters, digits,
  ``-._~!$'()*,:@/?`` stay as they are, a space becomes ``+`` and everything else
  becomes ``%XX``. They are appended after any query already in the URL.
* A query or path already in the URL is kept as written; only characters that may
  not appear in a URL are percent-encoded (existing ``%XX`` escapes are kept).
* The scheme and host are lower-cased and a default port (443/80) is dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NamedTuple, TypeAlias, cast
from urllib.parse import quote, quote_plus, urlencode, urlsplit

from ._errors import ConfigError

__all__ = [
    "BodyFormat",
    "Headers",
    "Params",
    "Request",
    "URLParts",
    "encode_form",
    "encode_json",
    "encode_params",
]

BodyFormat: TypeAlias = Literal["json", "form"]
"""How a ``data`` mapping becomes body bytes: ``json.dumps`` or URL-encoded form."""

ParamValue: TypeAlias = str | int | float | bool
Params: TypeAlias = (
    Mapping[str, ParamValue | Sequence[ParamValue]] | Iterable[tuple[str, ParamValue]]
)
"""Query parameters: a mapping (sequence values repeat the key) or ``(key, value)`` pairs."""

JSON_CONTENT_TYPE: Final = "application/json"
FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"

_DEFAULT_PORTS: Final = {"https": 443, "wss": 443, "http": 80, "ws": 80}

# Characters that may stay unescaped, per RFC 3986 (unreserved + sub-delims + ":@"),
# with "/" for paths and "/?" for queries. "%" is handled separately: a valid
# escape is kept, a stray "%" is escaped.
_PATH_SAFE: Final = "!$&'()*+,;=:@/"
_QUERY_SAFE: Final = "!$&'()*+,;=:@/?"
# yarl's quoting of a query *value*: "&", "=", "+", ";" and "%" must be escaped.
_PARAM_SAFE: Final = "!$'()*,:@/?"

_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_CLEAN_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")
_CLEAN_QUERY = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*")


def _requote(text: str, safe: str, clean: re.Pattern[str], *, space_plus: bool) -> str:
    """Percent-encode what may not appear in a URL, keeping valid ``%XX`` escapes."""
    if clean.fullmatch(text):
        return text
    out: list[str] = []
    pos = 0
    for m in _ESCAPE.finditer(text):
        out.append(_quote_chunk(text[pos : m.start()], safe, space_plus=space_plus))
        out.append(m.group())
        pos = m.end()
    out.append(_quote_chunk(text[pos:], safe, space_plus=space_plus))
    return "".join(out)


def _quote_chunk(chunk: str, safe: str, *, space_plus: bool) -> str:
    if space_plus:
        return quote_plus(chunk, safe=safe)
    return quote(chunk, safe=safe)


def _param_str(key: str, value: object) -> str:
    # bool before int: True is an int. pybotters (yarl) refused bools outright;
    # exchanges expect lower-case JSON-style literals, so that is what we send.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise ConfigError(
        f"params[{key!r}] must be str, int, float or bool, not {type(value).__name__}"
    )


def encode_params(params: Params) -> str:
    """Encode query parameters exactly as botters puts them in a URL.

    >>> encode_params({"symbol": "BTCUSDT", "cursor": "a%3D1", "ids": [1, 2]})
    'symbol=BTCUSDT&cursor=a%253D1&ids=1&ids=2'
    """
    pairs: Iterable[tuple[str, Any]]
    pairs = params.items() if isinstance(params, Mapping) else params
    parts: list[str] = []
    for key, value in pairs:
        qkey = quote_plus(str(key), safe=_PARAM_SAFE)
        if isinstance(value, list | tuple):
            parts.extend(
                f"{qkey}={quote_plus(_param_str(key, v), safe=_PARAM_SAFE)}" for v in value
            )
        else:
            parts.append(f"{qkey}={quote_plus(_param_str(key, value), safe=_PARAM_SAFE)}")
    return "&".join(parts)


def encode_json(data: object) -> bytes:
    """Encode a JSON body the way pybotters did (``json.dumps`` defaults, UTF-8).

    The default separators (``", "`` and ``": "``) are kept on purpose: signatures
    published for pybotters cover exactly these bytes.

    >>> encode_json({"side": "BUY", "size": 0.01})
    b'{"side": "BUY", "size": 0.01}'
    """
    return json.dumps(data).encode()


def encode_form(data: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> bytes:
    """Encode a form body (``urlencode`` with ``doseq=True``; values pass through ``str``).

    >>> encode_form({"type": "MARKET", "quantity": "0.001"})
    b'type=MARKET&quantity=0.001'
    """
    pairs = data if isinstance(data, Mapping) else list(data)
    return urlencode(pairs, doseq=True).encode()


class URLParts(NamedTuple):
    """A normalised URL split into the pieces signers need."""

    scheme: str
    """Lower-case scheme, e.g. ``"https"``."""
    host: str
    """Lower-case host name without port, e.g. ``"api.bybit.com"``."""
    netloc: str
    """Host with a non-default port, e.g. ``"api.bybit.com"`` or ``"127.0.0.1:8080"``."""
    path: str
    """Percent-encoded path, never empty (``"/"`` at least)."""
    query: str
    """Percent-encoded query without ``?``; ``""`` when there is none."""


def _split_url(url: str) -> URLParts:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"invalid URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if not scheme or not host:
        raise ConfigError(f"URL must be absolute (scheme://host/...), got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ConfigError("URLs with user:password@ are not supported; send credentials via apis")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    host_part = f"[{host}]" if ":" in host else host  # IPv6 literals keep their brackets
    netloc = (
        host_part if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host_part}:{port}"
    )
    path = _requote(parts.path, _PATH_SAFE, _CLEAN_PATH, space_plus=False) or "/"
    query = _requote(parts.query, _QUERY_SAFE, _CLEAN_QUERY, space_plus=True)
    return URLParts(scheme, host, netloc, path, query)


def _join_url(p: URLParts) -> str:
    base = f"{p.scheme}://{p.netloc}{p.path}"
    return f"{base}?{p.query}" if p.query else base


class Headers(Mapping[str, str]):
    """An immutable, case-insensitive, order-preserving set of HTTP headers.

    Lookups ignore case (``h["content-type"]`` finds ``Content-Type``), iteration
    yields names as they were given. Each name holds one value: setting a name
    that exists replaces it in place. "Changing" headers returns a new object, so
    a :class:`Request` can never be altered after it is signed.

    >>> h = Headers({"Content-Type": "application/json"})
    >>> h["content-type"]
    'application/json'
    >>> dict(h.set({"X-Key": "1"}))
    {'Content-Type': 'application/json', 'X-Key': '1'}
    """

    __slots__ = ("_map",)

    _map: dict[str, tuple[str, str]]

    def __init__(
        self, headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None
    ) -> None:
        items: dict[str, tuple[str, str]] = {}
        if headers is not None:
            pairs = headers.items() if isinstance(headers, Mapping) else headers
            for name, value in pairs:
                if not isinstance(name, str) or not isinstance(value, str):
                    raise ConfigError(
                        f"header names and values must be str, got {type(name).__name__}"
                        f"/{type(value).__name__} for {name!r}"
                    )
                items[name.lower()] = (name, value)
        self._map = items

    @classmethod
    def _from_map(cls, items: dict[str, tuple[str, str]]) -> Headers:
        new = cls.__new__(cls)
        new._map = items
        return new

    def __getitem__(self, name: str) -> str:
        return self._map[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._map

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._map.values())

    def __len__(self) -> int:
        return len(self._map)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return {k: v for k, (_, v) in self._map.items()} == {
                k: v for k, (_, v) in other._map.items()
            }
        if isinstance(other, Mapping):
            return self == Headers(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset((k, v) for k, (_, v) in self._map.items()))

    def __repr__(self) -> str:
        # Some exchanges (OKX, OKJ, Bitget) want the passphrase in a header, in
        # clear; a repr may end up in a log, so such values are never shown.
        shown = {
            name: "<hidden>" if "passphrase" in key else value
            for key, (name, value) in self._map.items()
        }
        return f"Headers({shown!r})"

    def set(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> Headers:
        """Return new headers with ``headers`` added, replacing same-named ones."""
        items = dict(self._map)
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in pairs:
            items[name.lower()] = (name, value)
        return Headers._from_map(items)

    def remove(self, *names: str) -> Headers:
        """Return new headers without ``names`` (missing names are ignored)."""
        items = dict(self._map)
        for name in names:
            items.pop(name.lower(), None)
        return Headers._from_map(items)


_EMPTY_HEADERS: Final = Headers()


@dataclass(frozen=True, slots=True)
class Request:
    """An HTTP (or WebSocket handshake) request, final down to the byte.

    ``url`` is the complete, percent-encoded URL that goes on the wire and
    ``body`` the exact body bytes. Build one with :meth:`build`; signers return
    new instances, never modify one.

    >>> r = Request.build("GET", "https://api.bitflyer.com/v1/getticker",
    ...                   params={"product_code": "BTC_JPY"})
    >>> r.url
    'https://api.bitflyer.com/v1/getticker?product_code=BTC_JPY'
    >>> r.path_qs, r.body, dict(r.headers)
    ('/v1/getticker?product_code=BTC_JPY', b'', {})
    """

    method: str
    """Upper-case HTTP method."""
    url: str
    """The final URL, percent-encoded, exactly as sent."""
    headers: Headers = _EMPTY_HEADERS
    """Headers to send, including any a signer added."""
    body: bytes = b""
    """Body bytes exactly as sent; ``b""`` for no body."""
    _parts: URLParts | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        given: object = self.headers  # a plain dict is accepted for convenience
        if not isinstance(given, Headers):
            object.__setattr__(self, "headers", Headers(cast("Mapping[str, str]", given)))
        if self._parts is None:
            parts = _split_url(self.url)
            object.__setattr__(self, "_parts", parts)
            object.__setattr__(self, "url", _join_url(parts))
        if not self.method.isupper():
            object.__setattr__(self, "method", self.method.upper())

    @classmethod
    def build(
        cls,
        method: str,
        url: str,
        *,
        params: Params | None = None,
        data: Any = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        base_url: str = "",
        body_format: BodyFormat | None = None,
    ) -> Request:
        """Build the exact request that will be signed and sent.

        Args:
            method: HTTP method, any case.
            url: Absolute URL, or a path joined to ``base_url``.
            params: Query parameters appended after any query already in ``url``.
            data: The body. A mapping or list is encoded with ``body_format``;
                ``str``/``bytes`` are sent as given. ``None`` or an empty mapping
                means no body and no ``Content-Type``, on every method.
            headers: Extra headers. A ``Content-Type`` given here is kept.
            base_url: Prefix for relative ``url`` values, as in pybotters: plain
                concatenation, applied only when ``url`` has no scheme.
            body_format: ``"json"`` or ``"form"``. By default the format the
                target exchange expects (see :func:`botters.protocol.body_format_for`),
                or ``"form"`` for hosts botters does not know.
        """
        if base_url and "://" not in url:
            url = base_url + url
        parts = _split_url(url)
        if params:
            extra = encode_params(params)
            if extra:
                query = f"{parts.query}&{extra}" if parts.query else extra
                parts = parts._replace(query=query)
        hdrs = Headers(headers) if headers is not None else _EMPTY_HEADERS
        body = b""
        if isinstance(data, bytes | bytearray | memoryview):
            body = bytes(data)
        elif isinstance(data, str):
            body = data.encode()
        elif data is not None and not (isinstance(data, Mapping | list | tuple) and not data):
            if body_format is None:
                from ._registry import body_format_for

                body_format = body_format_for(parts.scheme, parts.host)
            if body_format == "json":
                body = encode_json(data)
                content_type = JSON_CONTENT_TYPE
            elif body_format == "form":
                body = encode_form(data)
                content_type = FORM_CONTENT_TYPE
            else:
                raise ConfigError(f"body_format must be 'json' or 'form', not {body_format!r}")
            if "content-type" not in hdrs:
                hdrs = hdrs.set({"Content-Type": content_type})
        return cls(method.upper(), _join_url(parts), hdrs, body, parts)

    # -- pieces signers need -------------------------------------------------

    @property
    def parts(self) -> URLParts:
        """The URL split into scheme, host, netloc, path and query."""
        assert self._parts is not None  # set in __post_init__
        return self._parts

    @property
    def scheme(self) -> str:
        """Lower-case scheme (``"https"``, ``"wss"``, ...)."""
        return self.parts.scheme

    @property
    def host(self) -> str:
        """Lower-case host without port; signers are chosen by this exact value."""
        return self.parts.host

    @property
    def path(self) -> str:
        """Percent-encoded path as sent."""
        return self.parts.path

    @property
    def query(self) -> str:
        """Percent-encoded query as sent, without ``?``."""
        return self.parts.query

    @property
    def path_qs(self) -> str:
        """Path plus ``?query`` when there is a query: what most exchanges sign."""
        p = self.parts
        return f"{p.path}?{p.query}" if p.query else p.path

    # -- derived requests ------------------------------------------------------

    def with_headers(self, headers: Mapping[str, str]) -> Request:
        """Return a copy with ``headers`` added (same-named headers replaced)."""
        return Request(self.method, self.url, self.headers.set(headers), self.body, self._parts)

    def with_query(self, query: str) -> Request:
        """Return a copy whose query is replaced by the already-encoded ``query``."""
        parts = self.parts._replace(query=query)
        return Request(self.method, _join_url(parts), self.headers, self.body, parts)

    def with_body(self, body: bytes, content_type: str | None = None) -> Request:
        """Return a copy with a new body (and ``Content-Type`` when given)."""
        headers = self.headers
        if content_type is not None:
            headers = headers.set({"Content-Type": content_type})
        return Request(self.method, self.url, headers, body, self._parts)
