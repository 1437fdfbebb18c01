"""The trio adapter's response: a small type of botters' own, and its body decoding.

A :class:`Response` is handed out as soon as its head (status line and
headers) is read; its body is read on demand with :meth:`Response.read`,
:meth:`~Response.text`, :meth:`~Response.json` or by iterating
:meth:`~Response.iter_bytes`. The connection goes back to the pool the moment
the body has been read to its end; closing a response before that (``async
with`` ending, :meth:`~Response.aclose`, :meth:`~Response.release`) or any
error or cancellation while reading closes the connection instead, so a
half-read response can never leak into the next request.

``Content-Encoding: gzip`` / ``deflate`` bodies (botters asks for both) are
decoded incrementally; the result does not depend on how the bytes were split
in transit. Other encodings are returned as received.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from botters.transports._errors import ConnectionLostError, HTTPStatusError, TransportError
from botters.transports._json import loads as _loads

from ._errors import MAPPED, map_error

if TYPE_CHECKING:
    from ._http import HTTPConnection
    from ._pool import ConnectionPool

__all__ = ["Response", "ResponseHeaders"]

DRAIN_LIMIT: Final = 65536
"""Body bytes read to keep a connection when a response is dropped (redirects, errors)."""


class ResponseHeaders(Mapping[str, str]):
    """Response headers: case-insensitive, ordered, and multi-valued.

    As a mapping, each name appears once (as first received) and maps to its
    **first** value; :meth:`getall` gives every value of a name and
    :meth:`multi_items` every ``(name, value)`` pair in order, so repeated
    headers such as ``Set-Cookie`` are not lost. Values are decoded as
    ISO-8859-1, as HTTP defines.

    >>> h = ResponseHeaders([("Content-Type", "text/plain"), ("Set-Cookie", "a=1"),
    ...                      ("set-cookie", "b=2")])
    >>> h["content-type"], h.getall("SET-COOKIE"), len(h)
    ('text/plain', ['a=1', 'b=2'], 2)
    """

    __slots__ = ("_index", "_items")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = list(items)
        index: dict[str, list[str]] = {}
        for name, value in self._items:
            index.setdefault(name.lower(), []).append(value)
        self._index = index

    def __getitem__(self, name: str) -> str:
        return self._index[name.lower()][0]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for name, _ in self._items:
            key = name.lower()
            if key not in seen:
                seen.add(key)
                yield name

    def __len__(self) -> int:
        return len(self._index)

    def getall(self, name: str, default: list[str] | None = None) -> list[str]:
        """Every value of ``name``, in order (``default`` or ``[]`` when absent)."""
        values = self._index.get(name.lower())
        if values is None:
            return [] if default is None else default
        return list(values)

    def multi_items(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` pair as received, repeated names included."""
        return list(self._items)

    def __repr__(self) -> str:
        return f"ResponseHeaders({self._items!r})"


# -- decoding ------------------------------------------------------------------------------


class _Inflate:
    """One ``gzip`` or ``deflate`` layer; ``deflate`` accepts zlib-wrapped or raw data."""

    __slots__ = ("_gzip", "_obj", "_pending")

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._pending = b""
        self._obj: Any = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None

    def feed(self, data: bytes) -> bytes:
        if self._obj is None:
            # "deflate" means zlib-wrapped (RFC 9110), but some servers send raw
            # deflate: decide from the first two bytes (a zlib header checksum).
            data = self._pending + data
            if len(data) < 2:
                self._pending = data
                return b""
            self._pending = b""
            wrapped = data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            self._obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        out: bytes = self._obj.decompress(data)
        while self._gzip and self._obj.eof and self._obj.unused_data:
            # Concatenated gzip members are one body (RFC 1952).
            rest = self._obj.unused_data
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out += self._obj.decompress(rest)
        return out

    def flush(self) -> bytes:
        if self._obj is None:
            if self._pending:
                raise zlib.error("truncated deflate body")
            return b""
        out: bytes = self._obj.flush()
        if not self._obj.eof:
            raise zlib.error("truncated compressed body")
        return out


class _Decoder:
    """All the ``Content-Encoding`` layers of a body, undone in order."""

    __slots__ = ("_layers",)

    def __init__(self, content_encoding: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        layers: list[_Inflate] = []
        for coding in reversed(codings):  # the last applied is undone first
            if coding in ("gzip", "x-gzip"):
                layers.append(_Inflate(gzip=True))
            elif coding == "deflate":
                layers.append(_Inflate(gzip=False))
            elif coding != "identity":
                layers = []  # an encoding botters did not ask for: leave the body as it is
                break
        self._layers = layers

    def feed(self, data: bytes) -> bytes:
        for layer in self._layers:
            data = layer.feed(data)
        return data

    def flush(self) -> bytes:
        out = b""
        for layer in self._layers:
            out = (layer.feed(out) if out else b"") + layer.flush()
        return out


def _charset(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


# -- the response -----------------------------------------------------------------------------


class Response:
    """An HTTP response of :class:`botters.trio.Client`; its body is read on demand.

    Use it with ``async with`` (the connection is released or closed when the
    block ends), or read the body with :meth:`read`/:meth:`text`/:meth:`json`
    (which release the connection) and :meth:`release` otherwise.

    Attributes:
        status: The status code, e.g. ``200``.
        reason: The reason phrase (may be empty).
        headers: :class:`ResponseHeaders` (case-insensitive, multi-valued).
        url: The final URL (after redirects), as sent.
        method: The method of the request that got this response.
        http_version: ``"1.1"`` or ``"1.0"``.
        history: The redirect responses followed to get here, oldest first
            (their bodies drained; empty when there was no redirect).
    """

    __slots__ = (
        "_body",
        "_chunks",
        "_complete",
        "_conn",
        "_decoder",
        "_error",
        "_pool",
        "_safe_url",
        "headers",
        "history",
        "http_version",
        "keepalive_sink",
        "method",
        "reason",
        "status",
        "url",
    )

    def __init__(
        self,
        *,
        status: int,
        reason: str,
        headers: ResponseHeaders,
        url: str,
        method: str,
        http_version: str = "1.1",
        conn: HTTPConnection | None = None,
        pool: ConnectionPool | None = None,
        buffered: list[bytes] | None = None,
        complete: bool = True,
        safe_url: str | None = None,
        sink: Any = None,
    ) -> None:
        self.keepalive_sink: Any = sink
        """The client this came from: a store that needs a request repeated
        (Binance's listenKey) gives it to ``keepalive_sink.keep_alive``."""
        self.status = status
        self.reason = reason
        self.headers = headers
        self.url = url
        self.method = method
        self.http_version = http_version
        self.history: tuple[Response, ...] = ()
        self._safe_url = safe_url or url
        self._conn = conn
        self._pool = pool
        self._decoder = _Decoder(headers.get("content-encoding", ""))
        self._chunks: list[bytes] = list(buffered or ())
        self._complete = complete  # every body byte received from the connection
        self._body: bytes | None = None
        self._error: BaseException | None = None
        if complete:
            self._give_back()

    # -- state ---------------------------------------------------------------------------

    @property
    def ok(self) -> bool:
        """``status < 400``."""
        return self.status < 400

    @property
    def closed(self) -> bool:
        """Whether the connection is no longer held (body complete, released or failed)."""
        return self._conn is None

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case (``""`` when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of ``Content-Type``, if any."""
        return _charset(self.headers.get("content-type", ""))

    def _give_back(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and self._pool is not None:
            self._pool.release(conn)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            if self._pool is not None:
                self._pool.discard(conn)
            else:
                conn.close_now()

    # -- reading -------------------------------------------------------------------------

    async def _next_raw(self) -> bytes | None:
        """Next received body piece (still encoded), or ``None`` at the end."""
        if self._chunks:
            return self._chunks.pop(0)
        if self._complete:
            return None
        conn = self._conn
        if conn is None:
            raise ConnectionLostError(
                f"the response of {self._safe_url} was closed before its body was read",
                url=self._safe_url,
            )
        try:
            data = await conn.receive_data()
        except BaseException as exc:
            self._error = exc
            self._drop()
            if isinstance(exc, MAPPED):
                raise map_error(exc, self._safe_url) from exc
            if isinstance(exc, ConnectionLostError) and exc.url is None:
                raise ConnectionLostError(f"{exc} ({self._safe_url})", url=self._safe_url) from exc
            raise
        if data is None:
            self._complete = True
            self._give_back()
        return data

    async def read_chunk(self) -> bytes:
        """The next piece of the decoded body; ``b""`` once it is all read.

        Raises:
            ConnectionLostError: The connection broke (or the response was
                closed) before the end of the body.
            TransportError: The body is not valid for its ``Content-Encoding``
                or its framing (chunked encoding errors).
        """
        if self._error is not None and self._conn is None and not self._chunks:
            raise ConnectionLostError(
                f"the response body of {self._safe_url} is not available: reading it failed",
                url=self._safe_url,
            ) from self._error
        while True:
            raw = await self._next_raw()
            try:
                if raw is None:
                    return self._decoder.flush()
                out = self._decoder.feed(raw)
            except zlib.error as exc:
                self._drop()
                self._error = exc
                self._complete = True
                self._chunks.clear()
                raise map_error(exc, self._safe_url) from exc
            if out:
                return out

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """Iterate over the decoded body as it arrives: ``async for chunk in resp.iter_bytes()``."""
        return _BodyIterator(self)

    async def read(self) -> bytes:
        """The whole decoded body (cached: calling it again returns the same bytes)."""
        if self._body is not None:
            return self._body
        parts: list[bytes] = []
        while chunk := await self.read_chunk():
            parts.append(chunk)
        self._body = b"".join(parts)
        return self._body

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        """The body as text: ``encoding``, else the ``Content-Type`` charset, else UTF-8."""
        body = await self.read()
        if encoding is None:
            encoding = self.charset or "utf-8"
            try:
                return body.decode(encoding, errors)
            except LookupError:  # a charset Python does not know: fall back to UTF-8
                encoding = "utf-8"
        return body.decode(encoding, errors)

    async def json(
        self,
        *,
        encoding: str | None = None,
        loads: Callable[[str], Any] | None = None,
        content_type: str | None = None,
    ) -> Any:
        """The body parsed as JSON; ``None`` for an empty body (as aiohttp's ``json()``).

        Args:
            encoding: Text encoding (default: the ``Content-Type`` charset, else UTF-8).
            loads: A JSON parser taking ``str`` (default: botters' codec).
            content_type: Accepted for aiohttp compatibility and ignored: the
                body is parsed whatever its ``Content-Type`` (exchanges label
                JSON inconsistently).

        Raises:
            json.JSONDecodeError: The body is not JSON.
        """
        body = await self.read()
        if not body.strip():
            return None
        if loads is not None or encoding is not None:
            text = body.decode(encoding or self.charset or "utf-8")
            return (loads or _loads)(text)
        return _loads(body)

    # -- releasing -----------------------------------------------------------------------

    def release(self) -> None:
        """Stop using the response: the connection is kept if the body was read, else closed."""
        if self._conn is not None:
            self._drop()

    async def aclose(self) -> None:
        """Same as :meth:`release` (for ``async with`` and trio's ``aclose`` convention)."""
        self.release()

    async def _drain(self, limit: int = DRAIN_LIMIT) -> None:
        """Read and discard a small rest of the body so the connection can be reused."""
        received = 0
        try:
            while received <= limit:
                raw = await self._next_raw()
                if raw is None:
                    return
                received += len(raw)
        except TransportError:
            return
        self.release()

    def __del__(self) -> None:
        # A response dropped unread must not hold its connection (and its pool
        # permit) forever. Best effort: a finalizer may run outside trio.
        with contextlib.suppress(Exception):
            if self._conn is not None:
                self._drop()

    def raise_for_status(self) -> None:
        """Raise :class:`~botters.HTTPStatusError` when ``status >= 400``."""
        if self.status >= 400:
            raise HTTPStatusError(
                f"HTTP {self.status} {self.reason} ({self._safe_url})".replace("  ", " "),
                status=self.status,
                reason=self.reason,
                url=self._safe_url,
                headers=dict(self.headers),
            )

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        status = f"{self.status} {self.reason}".strip()
        return f"<Response [{status}] {self._safe_url}>"


class _BodyIterator(AsyncIterator[bytes]):
    __slots__ = ("_resp",)

    def __init__(self, resp: Response) -> None:
        self._resp = resp

    def __aiter__(self) -> _BodyIterator:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self._resp.read_chunk()
        if not chunk:
            raise StopAsyncIteration
        return chunk
