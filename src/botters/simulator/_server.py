"""The simulator server: bitFlyer-like REST and JSON-RPC WebSocket on 127.0.0.1.

Theory of operation
-------------------
Everything the simulator owns (markets, the account, connections, armed
faults, waiters) lives on **one asyncio event loop**: the caller's loop after
``await sim.start()`` (or ``async with``), or a loop in a background thread
after :meth:`Simulator.start_in_thread` (or ``with``). Public methods may be
called from any thread: :meth:`Simulator._call` runs them directly when
already on the simulator's loop (or when no loop runs it) and otherwise hands
them to the loop and blocks until they have run, so their effect is visible
when they return.

A market tick (every ``tick_interval`` seconds, or on :meth:`Simulator.advance`)
moves every product's book, then executes users' resting orders the market
crossed, then queues the tick's messages on every subscribed connection.

Each WebSocket connection has one *writer task*, the only code that sends on
it: replies, channel messages, pongs and fault actions all go through its
queue, so frames never interleave and "after N frames" is exact. The handler
task reads: it answers JSON-RPC requests, queues pongs (``autoping`` is off so
that a silent connection can stop answering pings) and ends when the peer goes.

Waiters (:meth:`Simulator.wait_until` and friends) register a predicate that
is re-evaluated on the loop after every state change; when it holds, the
waiter's own framework (asyncio, trio or a blocked thread) is woken through a
thread-safe callback.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from ssl import SSLContext
from types import MappingProxyType, TracebackType
from typing import Any, Final, Self, TypeVar

try:
    from aiohttp import WSCloseCode, WSMsgType, web
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("botters.simulator needs aiohttp: pip install 'botters[aiohttp]'") from exc

from ._account import Account, Order, OrderError
from ._auth import NonceRegistry, check_rest, check_ws_auth
from ._faults import Fault, RestFault
from ._market import DEFAULT_MARKETS, Market, MarketSpec, TickData

__all__ = [
    "DEMO_APIS",
    "SIMULATED_HOSTS",
    "SimConnection",
    "SimStats",
    "Simulator",
]

logger = logging.getLogger("botters.simulator")

_T = TypeVar("_T")

DEMO_APIS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {"bitflyer": ("botters-demo-key", "botters-demo-secret")}
)
"""Credentials the simulator accepts by default (``apis=`` shape of botters and pybotters)."""

SIMULATED_HOSTS: Final = ("api.bitflyer.com", "ws.lightstream.bitflyer.com")
"""The production hosts a client routes to the simulator (see :class:`Simulator`)."""

GARBAGE_FRAME: Final = "}{ this frame is not JSON \x00"
"""The text of the frame sent by ``Fault(garbage_after=...)``."""

_PRIVATE_CHANNELS: Final = frozenset({"child_order_events", "parent_order_events"})
_JSONRPC: Final = "2.0"


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _channel_message(channel: str, message: Any) -> str:
    return _dumps(
        {
            "jsonrpc": _JSONRPC,
            "method": "channelMessage",
            "params": {"channel": channel, "message": message},
        }
    )


def _rest_error(status: int, code: int, message: str) -> web.Response:
    # bitFlyer's error body; the negative codes are the simulator's own.
    return web.json_response(
        {"status": code, "error_message": message, "data": None}, status=status
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SimStats:
    """Counters since the simulator started (a snapshot)."""

    ticks: int
    """Market ticks so far."""
    handshakes: int
    """WebSocket handshake attempts, refused ones included."""
    handshakes_refused: int
    """Handshakes answered with an HTTP error by a ``Fault(refuse=...)``."""
    connections_accepted: int
    """WebSocket connections upgraded."""
    connections_open: int
    """WebSocket connections open now."""
    logins_accepted: int
    """``auth`` requests accepted."""
    logins_rejected: int
    """``auth`` requests rejected (bad credentials or ``Fault(reject_login=True)``)."""
    rest_requests: int
    """REST requests received."""
    rest_rejected: int
    """REST requests answered with an error (auth, validation or a :class:`RestFault`)."""
    orders: int
    """Child orders accepted."""


class _Waiter:
    __slots__ = ("error", "predicate", "wake")

    def __init__(self, predicate: Callable[[Simulator], bool], wake: Callable[[], None]) -> None:
        self.predicate = predicate
        self.wake = wake
        self.error: BaseException | None = None


class SimConnection:
    """One accepted WebSocket connection, as tests see it (thread-safe handle).

    Read its state through the properties; make it misbehave with
    :meth:`inject` or the shortcuts :meth:`drop`, :meth:`go_silent`,
    :meth:`send_garbage` and :meth:`close`.
    """

    def __init__(
        self,
        sim: Simulator,
        number: int,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport | None,
    ) -> None:
        self._sim = sim
        self._number = number
        self._ws = ws
        self._transport = transport
        self._queue: deque[tuple[Any, ...]] = deque()
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._open = True
        self._ending = False  # a close or drop is queued: send nothing else
        self._silent = False
        self._sent = 0
        self._received = 0
        self._peer_close: int | None = None
        self._subscriptions: set[str] = set()
        self._key: str | None = None
        # Fault state: absolute frame counts at which each fault fires.
        self._drop_at: int | None = None
        self._silent_at: int | None = None
        self._garbage_at: int | None = None
        self._close_at: int | None = None
        self._close_code = 1011
        self._close_reason = ""
        self._reject_login = False
        self._reply_delay = 0.0

    def __repr__(self) -> str:
        return f"<SimConnection #{self._number} {'open' if self._open else 'closed'}>"

    # ---------------------------------------------------------------- reading

    @property
    def number(self) -> int:
        """1 for the first accepted connection, then 2, 3, ..."""
        return self._number

    @property
    def open(self) -> bool:
        """Whether the connection is still open."""
        return self._sim._call(lambda: self._open)

    @property
    def silent(self) -> bool:
        """Whether the connection went silent."""
        return self._sim._call(lambda: self._silent)

    @property
    def authenticated(self) -> bool:
        """Whether an ``auth`` request succeeded on this connection."""
        return self._sim._call(lambda: self._key is not None)

    @property
    def subscriptions(self) -> frozenset[str]:
        """The channels this connection is subscribed to now."""
        return self._sim._call(lambda: frozenset(self._subscriptions))

    @property
    def messages_sent(self) -> int:
        """Text frames sent so far (replies, channel messages, garbage)."""
        return self._sim._call(lambda: self._sent)

    @property
    def client_close_code(self) -> int | None:
        """The code of the close frame the client sent, or ``None`` if it sent none."""
        return self._sim._call(lambda: self._peer_close)

    @property
    def messages_received(self) -> int:
        """Text frames received so far."""
        return self._sim._call(lambda: self._received)

    # ----------------------------------------------------------------- faults

    def inject(self, fault: Fault) -> None:
        """Apply ``fault`` to this live connection; counts start from now.

        Raises:
            ValueError: ``fault.refuse`` is set (a live connection has no handshake left).
        """
        if fault.refuse is not None:
            raise ValueError("refuse= only applies to a handshake: use Simulator.inject()")
        self._sim._call(self._apply, fault)

    def drop(self) -> None:
        """Drop the TCP connection now, without a close frame."""
        self.inject(Fault(drop_after=0))

    def go_silent(self) -> None:
        """Stop sending anything (pongs included) and ignore everything received."""
        self.inject(Fault(silent_after=0))

    def send_garbage(self) -> None:
        """Send one frame that is not JSON, next."""
        self.inject(Fault(garbage_after=0))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the WebSocket with ``code`` and ``reason``, next."""
        self.inject(Fault(close_after=0, close_code=code, close_reason=reason))

    # --------------------------------------------------- loop-thread internals

    def _apply(self, fault: Fault) -> None:
        base = self._sent
        if fault.drop_after is not None:
            self._drop_at = base + fault.drop_after
        if fault.silent_after is not None:
            self._silent_at = base + fault.silent_after
        if fault.garbage_after is not None:
            self._garbage_at = base + fault.garbage_after
        if fault.close_after is not None:
            self._close_at = base + fault.close_after
            self._close_code = fault.close_code
            self._close_reason = fault.close_reason
        if fault.reject_login:
            self._reject_login = True
        if fault.reply_delay:
            self._reply_delay = fault.reply_delay
        self._check_faults()

    def _check_faults(self) -> None:
        """Fire the faults whose frame count is reached (after each frame sent)."""
        if not self._open or self._ending or self._silent:
            return
        sent = self._sent
        n = self._number
        if self._drop_at is not None and sent >= self._drop_at:
            self._drop_at = None
            logger.info("fault: connection #%d: dropping TCP after %d frames", n, sent)
            self._ending = True
            self._queue.clear()
            self._queue.append(("abort",))
            self._wake.set()
            return
        if self._silent_at is not None and sent >= self._silent_at:
            self._silent_at = None
            logger.info(
                "fault: connection #%d: going silent after %d frames (no data, no pongs)", n, sent
            )
            self._silent = True
            self._queue.clear()
            self._sim._changed()
            return
        if self._close_at is not None and sent >= self._close_at:
            self._close_at = None
            logger.info(
                "fault: connection #%d: closing with code %d (%r) after %d frames",
                n,
                self._close_code,
                self._close_reason,
                sent,
            )
            self._ending = True
            self._queue.clear()
            self._queue.append(("close", self._close_code, self._close_reason))
            self._wake.set()
            return
        if self._garbage_at is not None and sent >= self._garbage_at:
            self._garbage_at = None
            logger.info("fault: connection #%d: sending a non-JSON frame after %d frames", n, sent)
            self._queue.appendleft(("text", GARBAGE_FRAME))
            self._wake.set()

    def _send(self, text: str) -> None:
        """Queue one text frame (dropped if the connection is ending or silent)."""
        if self._open and not self._ending and not self._silent:
            self._queue.append(("text", text))
            self._wake.set()

    def _reply(self, text: str) -> None:
        if self._reply_delay > 0:
            loop = asyncio.get_running_loop()
            loop.call_later(self._reply_delay, self._send, text)
        else:
            self._send(text)

    def _shutdown(self) -> None:
        """The simulator stops: close (or, if silent, drop) the connection."""
        if not self._open:
            return
        self._ending = True
        self._queue.clear()
        if self._silent:
            self._silent = False
            self._queue.append(("abort",))
        else:
            self._queue.append(("close", int(WSCloseCode.GOING_AWAY), "simulator stopping"))
        self._wake.set()

    async def _write_loop(self) -> None:
        ws = self._ws
        queue = self._queue
        try:
            while True:
                while not queue:
                    self._wake.clear()
                    await self._wake.wait()
                item = queue.popleft()
                kind = item[0]
                if kind == "text":
                    if self._silent:
                        continue
                    await ws.send_str(item[1])
                    self._sent += 1
                    self._check_faults()
                    self._sim._changed()
                elif kind == "pong":
                    if not self._silent:
                        await ws.pong(item[1])
                elif kind == "close":
                    await ws.close(code=item[1], message=item[2].encode())
                    return
                elif kind == "abort":
                    if self._transport is not None:
                        self._transport.abort()
                    return
        except (ConnectionError, RuntimeError) as exc:
            logger.debug("connection #%d: send failed: %r", self._number, exc)


class Simulator:
    """A local bitFlyer-like exchange: REST, JSON-RPC WebSocket, a moving market, faults.

    Serves on one port (``host``, default ``127.0.0.1``):

    * REST at bitFlyer's paths: ``GET /v1/getticker``, ``/v1/getboard``,
      ``/v1/getmarkets``; private (signed) ``POST /v1/me/sendchildorder``,
      ``/v1/me/cancelchildorder``, ``GET /v1/me/getchildorders``,
      ``/v1/me/getpositions``, ``/v1/me/getcollateral``.
    * The Realtime API at ``/json-rpc``: ``auth``, ``subscribe``,
      ``unsubscribe``; channels ``lightning_board_snapshot_{product}``,
      ``lightning_board_{product}``, ``lightning_ticker_{product}``,
      ``lightning_executions_{product}`` and (after ``auth``)
      ``child_order_events`` and ``parent_order_events`` (never sent).

    **Addressing it so that requests are signed.** bitFlyer's signature covers
    the timestamp, method, path with query, and body: never the scheme, host
    or port. The simulator therefore accepts any ``Host`` header and serves
    REST and WebSocket on the same port. What must hold is that the *client*
    believes it talks to ``https://api.bitflyer.com`` and
    ``wss://ws.lightstream.bitflyer.com``, since botters signs only those
    exact hosts. So: serve TLS with a certificate naming the
    :data:`SIMULATED_HOSTS` (``ssl=``), keep the production URLs in the
    client, pin both host names to :attr:`address` (:attr:`resolve`, for
    ``botters.Client(resolve=...)``) and trust the test CA::

        server_ctx, client_ctx = make_tls_contexts()  # needs trustme
        async with Simulator(ssl=server_ctx) as sim:
            async with botters.Client(
                apis=DEMO_APIS, resolve=sim.resolve, ssl=client_ctx
            ) as client:
                await client.fetch("GET", "https://api.bitflyer.com/v1/me/getcollateral")

    A client may instead sign for the production URL and send the same
    path, headers and body to :attr:`rest_url` (plain ``http`` works then).

    With ``trustme`` by hand (a test tool, not a botters dependency)::

        ca = trustme.CA()
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*SIMULATED_HOSTS, "127.0.0.1").configure_cert(server_ctx)
        client_ctx = ssl.create_default_context()
        ca.configure_trust(client_ctx)

    Args:
        seed: Seeds every product's market; the same seed gives the same books.
        products: Product codes of :data:`DEFAULT_MARKETS` or :class:`MarketSpec`.
        tick_interval: Seconds between market ticks; ``None`` for none (tick
            with :meth:`advance`).
        host: The address to listen on.
        port: The port; ``0`` picks a free one.
        ssl: A server-side :class:`ssl.SSLContext` to serve https/wss.
        apis: The credentials accepted, ``{"bitflyer": [key, secret]}``.
        timestamp_window: Seconds a request's timestamp may be off the clock.
        collateral: The account's starting collateral in yen.
        start_time: The market clock at tick 0 (Unix seconds; wall clock if
            ``None``). Market times are ``start_time + ticks * tick_interval``
            (1 s per tick when ``tick_interval`` is ``None``), so messages are
            reproducible for a given seed and ``start_time``.
        snapshot_every: Also send a board snapshot to the snapshot channel's
            subscribers every this many ticks.
        clock: Wall clock for the timestamp window (``time.time``).
        close_timeout: Seconds to wait for a client's close frame in reply.
    """

    def __init__(
        self,
        *,
        seed: int | str = 0,
        products: Iterable[str | MarketSpec] = ("FX_BTC_JPY",),
        tick_interval: float | None = 0.1,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl: SSLContext | None = None,
        apis: Mapping[str, Any] | None = None,
        timestamp_window: float = 60.0,
        collateral: int | float = 1_000_000,
        start_time: float | None = None,
        snapshot_every: int | None = None,
        clock: Callable[[], float] = time.time,
        close_timeout: float = 1.0,
    ) -> None:
        specs: list[MarketSpec] = []
        for product in products:
            if isinstance(product, MarketSpec):
                specs.append(product)
            elif product in DEFAULT_MARKETS:
                specs.append(DEFAULT_MARKETS[product])
            else:
                raise ValueError(
                    f"unknown product {product!r}: pass a MarketSpec or one of "
                    f"{', '.join(DEFAULT_MARKETS)}"
                )
        if not specs:
            raise ValueError("products must name at least one product")
        if tick_interval is not None and tick_interval <= 0:
            raise ValueError("tick_interval must be > 0 or None")
        if snapshot_every is not None and snapshot_every < 1:
            raise ValueError("snapshot_every must be >= 1 or None")
        self.seed = seed
        self._markets: dict[str, Market] = {s.product_code: Market(s, seed) for s in specs}
        self._tick_interval = tick_interval
        self._tick_seconds = tick_interval if tick_interval is not None else 1.0
        self._host = host
        self._port = port
        self._ssl = ssl
        self._keys = self._parse_apis(DEMO_APIS if apis is None else apis)
        self._window = timestamp_window
        self._account = Account(collateral)
        self._start_time = clock() if start_time is None else start_time
        self._snapshot_every = snapshot_every
        self._clock = clock
        self._close_timeout = close_timeout
        self._nonces = NonceRegistry()

        self._state = "new"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._runner: web.AppRunner | None = None
        self._tick_task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self._stopping: asyncio.Event | None = None
        self._bound_port = 0
        self._thread: threading.Thread | None = None
        self._thread_stop: asyncio.Event | None = None

        self._ticks = 0
        self._paused = False
        self._connections: list[SimConnection] = []
        self._armed: deque[Fault] = deque()
        self._armed_rest: deque[tuple[RestFault, str | None]] = deque()
        self._waiters: list[_Waiter] = []
        self._counts = dict.fromkeys(
            (
                "handshakes",
                "handshakes_refused",
                "logins_accepted",
                "logins_rejected",
                "rest_requests",
                "rest_rejected",
                "orders",
            ),
            0,
        )

    @staticmethod
    def _parse_apis(apis: Mapping[str, Any]) -> dict[str, str]:
        entry = apis.get("bitflyer") if isinstance(apis, Mapping) else None
        if (
            not isinstance(entry, list | tuple)
            or len(entry) < 2
            or not all(isinstance(v, str) and v for v in entry[:2])
        ):
            raise ValueError('apis must be {"bitflyer": [key, secret]}')
        return {entry[0]: entry[1]}

    def __repr__(self) -> str:
        where = f" {self.rest_url}" if self._bound_port else ""
        return f"<Simulator {self._state}{where} products={list(self._markets)}>"

    # ============================================================== addresses

    @property
    def port(self) -> int:
        """The port the simulator listens (or listened) on.

        Raises:
            RuntimeError: not started yet.
        """
        if not self._bound_port:
            raise RuntimeError("the simulator has not been started")
        return self._bound_port

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` to connect to: where a resolver maps the bitFlyer hosts."""
        return (self._host, self.port)

    @property
    def scheme(self) -> str:
        """``"https"`` when serving TLS, else ``"http"``."""
        return "https" if self._ssl is not None else "http"

    @property
    def rest_url(self) -> str:
        """The REST base URL, e.g. ``http://127.0.0.1:54321`` (append ``/v1/...``)."""
        return f"{self.scheme}://{self._host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The Realtime API URL, e.g. ``ws://127.0.0.1:54321/json-rpc``."""
        ws_scheme = "wss" if self._ssl is not None else "ws"
        return f"{ws_scheme}://{self._host}:{self.port}/json-rpc"

    @property
    def resolve(self) -> dict[str, tuple[str, int]]:
        """Each of the :data:`SIMULATED_HOSTS` mapped to :attr:`address`.

        For a client that pins host names to addresses, e.g.
        ``botters.Client(apis=DEMO_APIS, resolve=sim.resolve, ssl=client_ctx)``:
        it keeps the production URLs (so it signs) and connects here. Needs
        ``ssl=`` (the client only signs ``https``/``wss`` URLs).
        """
        return dict.fromkeys(SIMULATED_HOSTS, self.address)

    @property
    def products(self) -> tuple[str, ...]:
        """The product codes served."""
        return tuple(self._markets)

    # ============================================================== lifecycle

    async def start(self) -> None:
        """Start serving on the running asyncio loop.

        Raises:
            RuntimeError: already started (a simulator runs once).
        """
        if self._state != "new":
            raise RuntimeError(f"the simulator is {self._state}; it can only be started once")
        self._state = "starting"
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_get("/json-rpc", self._ws_handler)
        app.router.add_get("/v1/getticker", self._rest(self._getticker, private=False))
        app.router.add_get("/v1/getboard", self._rest(self._getboard, private=False))
        app.router.add_get("/v1/getmarkets", self._rest(self._getmarkets, private=False))
        app.router.add_get("/v1/markets", self._rest(self._getmarkets, private=False))
        app.router.add_post("/v1/me/sendchildorder", self._rest(self._sendchildorder))
        app.router.add_post("/v1/me/cancelchildorder", self._rest(self._cancelchildorder))
        app.router.add_get("/v1/me/getchildorders", self._rest(self._getchildorders))
        app.router.add_get("/v1/me/getpositions", self._rest(self._getpositions))
        app.router.add_get("/v1/me/getcollateral", self._rest(self._getcollateral))
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            shutdown_timeout=self._close_timeout,
            handler_cancellation=True,
        )
        try:
            await runner.setup()
            site = web.TCPSite(runner, self._host, self._port, ssl_context=self._ssl)
            await site.start()
        except BaseException:
            await runner.cleanup()
            self._state = "stopped"
            raise
        self._runner = runner
        self._bound_port = int(runner.addresses[0][1])
        if self._tick_interval is not None:
            self._tick_task = asyncio.create_task(self._tick_loop(self._tick_interval))
        self._state = "running"
        logger.info(
            "simulator serving %s and %s (products %s, seed %r)",
            self.rest_url,
            self.ws_url,
            ", ".join(self._markets),
            self.seed,
        )

    async def stop(self) -> None:
        """Close every connection, stop serving, and wake pending waiters with an error."""
        if self._state != "running":
            return
        self._state = "stopping"
        assert self._stopping is not None
        assert self._runner is not None
        self._stopping.set()
        if self._tick_task is not None:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
            self._tick_task = None
        for conn in self._connections:
            conn._shutdown()
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=self._close_timeout + 1.0)
        await self._runner.cleanup()
        self._runner = None
        self._state = "stopped"
        for waiter in self._waiters:
            waiter.error = RuntimeError("the simulator stopped")
            waiter.wake()
        self._waiters.clear()
        logger.info("simulator stopped")

    async def __aenter__(self) -> Self:
        """Start on this asyncio loop; under trio, start in a background thread."""
        if _current_library() == "trio":
            import trio

            await trio.to_thread.run_sync(self.start_in_thread)
        else:
            await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._thread is None:
            await self.stop()
        elif _current_library() == "trio":
            import trio

            await trio.to_thread.run_sync(self.stop_thread)
        else:
            await asyncio.to_thread(self.stop_thread)

    def start_in_thread(self, timeout: float = 10.0) -> Self:
        """Run the simulator on its own event loop in a background thread.

        For code without a running asyncio loop: trio tests, synchronous tests,
        the ``botters demo`` command. Stop it with :meth:`stop_thread` (or use
        ``with Simulator(...) as sim:``).

        Raises:
            RuntimeError: already started, or it did not start within ``timeout``.
            OSError: the port could not be bound.
        """
        if self._state != "new" or self._thread is not None:
            raise RuntimeError(f"the simulator is {self._state}; it can only be started once")
        ready = threading.Event()
        failure: list[BaseException] = []

        async def main() -> None:
            self._thread_stop = asyncio.Event()
            try:
                await self.start()
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                await self._thread_stop.wait()
            finally:
                await self.stop()

        def run() -> None:
            asyncio.run(main())

        self._thread = threading.Thread(target=run, name="botters-simulator", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError(f"the simulator did not start within {timeout} s")
        if failure:
            self._thread.join(timeout)
            self._thread = None
            raise failure[0]
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stop a simulator started with :meth:`start_in_thread` and join its thread.

        Raises:
            RuntimeError: the thread did not end within ``timeout``.
        """
        thread = self._thread
        if thread is None:
            return
        loop, stop = self._loop, self._thread_stop
        if loop is not None and stop is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stop.set)
        thread.join(timeout)
        if thread.is_alive():
            raise RuntimeError(f"the simulator thread did not stop within {timeout} s")
        self._thread = None

    def __enter__(self) -> Self:
        """Start in a background thread (see :meth:`start_in_thread`)."""
        return self.start_in_thread()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_thread()

    # ======================================================= thread-safe calls

    def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run ``fn(*args)`` on the simulator's loop and return its result."""
        loop = self._loop
        if (
            loop is None
            or self._loop_thread == threading.get_ident()
            or self._state in ("new", "stopped")
            or loop.is_closed()
        ):
            return fn(*args)
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()

        def run() -> None:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:
                    future.set_exception(exc)

        try:
            loop.call_soon_threadsafe(run)
        except RuntimeError:  # the loop closed meanwhile
            return fn(*args)
        return future.result(timeout=30.0)

    def _changed(self) -> None:
        """State changed (loop thread): wake the waiters whose predicate now holds."""
        if not self._waiters:
            return
        for waiter in list(self._waiters):
            try:
                done = waiter.predicate(self)
            except BaseException as exc:
                waiter.error = exc
                done = True
            if done:
                self._waiters.remove(waiter)
                waiter.wake()

    def _register(self, waiter: _Waiter) -> None:
        if self._state == "stopped":
            waiter.error = RuntimeError("the simulator stopped")
            waiter.wake()
            return
        self._waiters.append(waiter)
        self._changed_one(waiter)

    def _changed_one(self, waiter: _Waiter) -> None:
        try:
            done = waiter.predicate(self)
        except BaseException as exc:
            waiter.error = exc
            done = True
        if done:
            self._waiters.remove(waiter)
            waiter.wake()

    def _unregister(self, waiter: _Waiter) -> None:
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)

    # ================================================================ waiting

    async def wait_until(
        self, predicate: Callable[[Simulator], bool], *, timeout: float | None = 10.0
    ) -> None:
        """Wait until ``predicate(sim)`` is true (asyncio or trio; any thread).

        The predicate runs on the simulator's loop after every state change
        (a connection, a frame sent, a subscription, a tick, a REST request...):
        keep it quick and side-effect free.

        Raises:
            TimeoutError: it did not become true within ``timeout`` seconds.
            RuntimeError: the simulator stopped first.
        """
        library = _current_library()
        if library == "trio":
            import trio

            token = trio.lowlevel.current_trio_token()
            event = trio.Event()

            def wake_trio() -> None:
                with contextlib.suppress(trio.RunFinishedError):
                    token.run_sync_soon(event.set)

            waiter = _Waiter(predicate, wake_trio)
            self._call(self._register, waiter)
            try:
                with trio.fail_after(timeout if timeout is not None else float("inf")):
                    await event.wait()
            except trio.TooSlowError:
                raise TimeoutError(f"condition not met within {timeout} s") from None
            finally:
                self._call(self._unregister, waiter)
        else:
            loop = asyncio.get_running_loop()
            future: asyncio.Future[None] = loop.create_future()

            def resolve() -> None:
                if not future.done():
                    future.set_result(None)

            def wake_asyncio() -> None:
                with contextlib.suppress(RuntimeError):  # the waiting loop closed
                    loop.call_soon_threadsafe(resolve)

            waiter = _Waiter(predicate, wake_asyncio)
            self._call(self._register, waiter)
            try:
                async with asyncio.timeout(timeout):
                    await future
            except TimeoutError:
                raise TimeoutError(f"condition not met within {timeout} s") from None
            finally:
                self._call(self._unregister, waiter)
        if waiter.error is not None:
            raise waiter.error

    def wait_until_blocking(
        self, predicate: Callable[[Simulator], bool], *, timeout: float | None = 10.0
    ) -> None:
        """:meth:`wait_until` for synchronous code: block this thread.

        Raises:
            TimeoutError: it did not become true within ``timeout`` seconds.
            RuntimeError: called on the simulator's own loop (it would
                deadlock), or the simulator stopped first.
        """
        if self._loop_thread == threading.get_ident() and self._state == "running":
            raise RuntimeError("wait_until_blocking() on the simulator's loop would deadlock")
        event = threading.Event()
        waiter = _Waiter(predicate, event.set)
        self._call(self._register, waiter)
        try:
            if not event.wait(timeout):
                raise TimeoutError(f"condition not met within {timeout} s")
        finally:
            self._call(self._unregister, waiter)
        if waiter.error is not None:
            raise waiter.error

    async def wait_for_connections(self, n: int, *, timeout: float | None = 10.0) -> SimConnection:
        """Wait until ``n`` WebSocket connections were accepted in all; return the n-th."""
        await self.wait_until(lambda s: len(s._connections) >= n, timeout=timeout)
        return self._call(lambda: self._connections[n - 1])

    async def wait_for_subscription(
        self,
        channel: str,
        *,
        connection: SimConnection | None = None,
        timeout: float | None = 10.0,
    ) -> SimConnection:
        """Wait until an open connection (or ``connection``) is subscribed to ``channel``."""

        def find() -> SimConnection | None:
            candidates = [connection] if connection is not None else self._connections
            return next((c for c in candidates if c._open and channel in c._subscriptions), None)

        await self.wait_until(lambda s: find() is not None, timeout=timeout)
        found = self._call(find)
        if found is None:  # unsubscribed again in between
            raise RuntimeError(f"the subscription to {channel} ended before it was seen")
        return found

    async def wait_for_ticks(self, n: int, *, timeout: float | None = 10.0) -> None:
        """Wait until the market has ticked ``n`` times since the start."""
        await self.wait_until(lambda s: s._ticks >= n, timeout=timeout)

    # =========================================================== observations

    @property
    def stats(self) -> SimStats:
        """Counters since the start (a consistent snapshot)."""
        return self._call(self._stats)

    def _stats(self) -> SimStats:
        return SimStats(
            ticks=self._ticks,
            connections_accepted=len(self._connections),
            connections_open=sum(1 for c in self._connections if c._open),
            **self._counts,
        )

    @property
    def connections(self) -> tuple[SimConnection, ...]:
        """Every accepted connection so far, open or closed, oldest first."""
        return self._call(lambda: tuple(self._connections))

    @property
    def open_connections(self) -> tuple[SimConnection, ...]:
        """The connections open now, oldest first."""
        return self._call(lambda: tuple(c for c in self._connections if c._open))

    def board_snapshot(self, product_code: str) -> dict[str, list[dict[str, Any]]]:
        """The authoritative book, shaped like ``bitFlyerDataStore.board.sorted(...)``.

        ``{"bids": [...], "asks": [...]}``, best first, each level
        ``{"product_code", "side", "price", "size"}``: compare it with
        ``store.board.sorted({"product_code": product_code})``.
        """
        market = self._market(product_code)

        def read() -> dict[str, list[dict[str, Any]]]:
            bids, asks = market.levels()
            return {
                "bids": [
                    {"product_code": product_code, "side": "bids", "price": p, "size": s}
                    for p, s in bids
                ],
                "asks": [
                    {"product_code": product_code, "side": "asks", "price": p, "size": s}
                    for p, s in asks
                ],
            }

        return self._call(read)

    def mid_price(self, product_code: str) -> int:
        """The ``mid_price`` of the last board message of ``product_code``."""
        market = self._market(product_code)
        return self._call(lambda: market.mid_price)

    def ticker(self, product_code: str) -> dict[str, Any]:
        """The current ticker of ``product_code`` (as ``GET /v1/getticker``)."""
        market = self._market(product_code)
        return self._call(lambda: market.ticker(self._now()))

    def child_orders(self) -> list[dict[str, Any]]:
        """Every child order, newest first (``GET /v1/me/getchildorders`` rows)."""
        return self._call(
            lambda: self._account.rows(
                product_code=None, state=None, acceptance_id=None, order_id=None, count=10**9
            )
        )

    def positions(self) -> list[dict[str, Any]]:
        """Open position lots (``GET /v1/me/getpositions`` rows, all products)."""
        return self._call(lambda: self._account.positions(None, self._marks()))

    def collateral(self) -> dict[str, Any]:
        """``GET /v1/me/getcollateral``."""
        return self._call(lambda: self._account.collateral_summary(self._marks()))

    def _market(self, product_code: str) -> Market:
        try:
            return self._markets[product_code]
        except KeyError:
            raise KeyError(f"the simulator does not serve {product_code!r}") from None

    def _marks(self) -> dict[str, int]:
        return {code: m.mid_price for code, m in self._markets.items()}

    def _now(self) -> float:
        """The market clock."""
        return self._start_time + self._ticks * self._tick_seconds

    # ================================================================= faults

    def inject(self, fault: Fault, *, count: int = 1) -> None:
        """Arm ``fault`` for the next ``count`` WebSocket handshakes.

        Each handshake takes the oldest armed fault (if any) and applies it
        to its connection, counting frames from the connection's first.
        """
        if count < 1:
            raise ValueError("count must be >= 1")

        def arm() -> None:
            self._armed.extend([fault] * count)
            logger.debug("fault armed for the next %d connection(s): %r", count, fault)

        self._call(arm)

    def inject_rest(self, fault: RestFault, *, count: int = 1, path: str | None = None) -> None:
        """Arm ``fault`` for the next ``count`` REST requests (to ``path`` only, if given)."""
        if count < 1:
            raise ValueError("count must be >= 1")

        def arm() -> None:
            self._armed_rest.extend([(fault, path)] * count)
            logger.debug("REST fault armed for the next %d request(s): %r", count, fault)

        self._call(arm)

    def clear_faults(self) -> None:
        """Disarm every fault armed for future handshakes and REST requests."""

        def clear() -> None:
            self._armed.clear()
            self._armed_rest.clear()

        self._call(clear)

    def drop_all(self) -> None:
        """Drop every open connection abruptly (a network outage)."""

        def drop() -> None:
            for conn in self._connections:
                if conn._open:
                    conn._apply(Fault(drop_after=0))

        self._call(drop)

    # ================================================================= market

    def advance(self, ticks: int = 1) -> None:
        """Move the market ``ticks`` ticks now (works with or without automatic ticks)."""
        if ticks < 0:
            raise ValueError("ticks must be >= 0")

        def run() -> None:
            for _ in range(ticks):
                self._tick()

        self._call(run)

    def move_price(self, product_code: str, price: int) -> None:
        """Tick once, with ``product_code``'s fair price set to ``price``.

        Other products move as usual.

        The book follows: levels the move crosses trade away and a fresh
        diff, ticker and executions go out, so resting orders it crosses fill.
        """
        self._market(product_code)
        self._call(self._tick, {product_code: price})

    def pause(self) -> None:
        """Stop the automatic ticks (the market holds still until :meth:`resume`).

        :meth:`advance` and :meth:`move_price` still tick. Use it to compare a
        client's book with :meth:`board_snapshot` at a quiet moment.
        """
        self._call(setattr, self, "_paused", True)

    def resume(self) -> None:
        """Restart the automatic ticks stopped by :meth:`pause`."""
        self._call(setattr, self, "_paused", False)

    async def _tick_loop(self, interval: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            # Fixed-rate ticks; after a stall, carry on from now rather than
            # firing a burst of catch-up ticks.
            deadline = max(deadline + interval, loop.time())
            await asyncio.sleep(deadline - loop.time())
            if not self._paused:
                self._tick()

    def _tick(self, targets: Mapping[str, int] | None = None) -> None:
        self._ticks += 1
        now = self._now()
        for code, market in self._markets.items():
            data = market.step(now, to_price=(targets or {}).get(code))
            self._fill_resting(market, now)
            self._broadcast_tick(code, market, data)
        self._changed()

    def _broadcast_tick(self, code: str, market: Market, data: TickData) -> None:
        diff_channel = f"lightning_board_{code}"
        snapshot_channel = f"lightning_board_snapshot_{code}"
        ticker_channel = f"lightning_ticker_{code}"
        executions_channel = f"lightning_executions_{code}"
        periodic = self._snapshot_every is not None and self._ticks % self._snapshot_every == 0
        frames: dict[str, str] = {}
        for conn in self._connections:
            if not conn._open:
                continue
            subs = conn._subscriptions
            if diff_channel in subs:
                if diff_channel not in frames:
                    frames[diff_channel] = _channel_message(diff_channel, data.board)
                conn._send(frames[diff_channel])
            if periodic and snapshot_channel in subs:
                if snapshot_channel not in frames:
                    frames[snapshot_channel] = _channel_message(
                        snapshot_channel, market.board_message()
                    )
                conn._send(frames[snapshot_channel])
            if ticker_channel in subs:
                if ticker_channel not in frames:
                    frames[ticker_channel] = _channel_message(ticker_channel, data.ticker)
                conn._send(frames[ticker_channel])
            if data.executions and executions_channel in subs:
                if executions_channel not in frames:
                    frames[executions_channel] = _channel_message(
                        executions_channel, data.executions
                    )
                conn._send(frames[executions_channel])

    def _fill_resting(self, market: Market, now: float) -> None:
        events = []
        for order in self._account.active(market.product_code):
            if order.child_order_type != "LIMIT":
                continue
            crossed = (
                market.best_ask <= order.price
                if order.side == "BUY"
                else market.best_bid >= order.price
            )
            if crossed:
                events.append(
                    self._account.execute(order, order.price, margin=market.spec.margin, now=now)
                )
        if events:
            self._emit_order_events(events)

    def _emit_order_events(self, events: list[dict[str, Any]]) -> None:
        frame = _channel_message("child_order_events", events)
        for conn in self._connections:
            if conn._open and conn._key is not None and "child_order_events" in conn._subscriptions:
                conn._send(frame)

    # ============================================================== WebSocket

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            return await self._ws_session(request)
        finally:
            self._handlers.discard(task)

    async def _ws_session(self, request: web.Request) -> web.StreamResponse:
        self._counts["handshakes"] += 1
        fault = self._armed.popleft() if self._armed else None
        if self._state != "running":
            return _rest_error(503, -503, "the simulator is stopping")
        if fault is not None and fault.refuse is not None:
            self._counts["handshakes_refused"] += 1
            logger.warning(
                "fault: refused WebSocket handshake #%d with HTTP %d",
                self._counts["handshakes"],
                fault.refuse,
            )
            self._changed()
            return _rest_error(fault.refuse, -fault.refuse, "handshake refused (simulated fault)")
        ws = web.WebSocketResponse(autoping=False, autoclose=False, timeout=self._close_timeout)
        await ws.prepare(request)
        conn = SimConnection(self, len(self._connections) + 1, ws, request.transport)
        self._connections.append(conn)
        logger.debug("connection #%d accepted from %s", conn._number, request.remote)
        writer = asyncio.create_task(conn._write_loop())
        conn._writer = writer
        if fault is not None:
            conn._apply(fault)
        self._changed()
        try:
            await self._read_loop(conn, ws, writer)
        finally:
            conn._open = False
            if not writer.done():
                writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            logger.debug("connection #%d closed (code %s)", conn._number, ws.close_code)
            self._changed()
        return ws

    async def _read_loop(
        self, conn: SimConnection, ws: web.WebSocketResponse, writer: asyncio.Task[None]
    ) -> None:
        while True:
            msg = await ws.receive()
            kind = msg.type
            if kind is WSMsgType.TEXT:
                conn._received += 1
                if not conn._silent:
                    self._on_request(conn, msg.data)
                self._changed()
            elif kind is WSMsgType.BINARY:
                conn._received += 1
                if not conn._silent:
                    self._reject_ws(conn, None, -32700, "Parse error: binary frames are not JSON")
            elif kind is WSMsgType.PING:
                if not conn._silent:
                    conn._queue.append(("pong", msg.data))
                    conn._wake.set()
            elif kind is WSMsgType.PONG:
                pass
            elif kind is WSMsgType.CLOSE:
                conn._peer_close = msg.data if isinstance(msg.data, int) else 1005
                self._changed()
                if conn._silent:
                    # A dead peer answers nothing: wait for the client to drop
                    # the TCP connection (handler cancellation) or for stop().
                    assert self._stopping is not None
                    await self._stopping.wait()
                    await _settle(writer, self._close_timeout + 1.0)  # stop() queued a drop
                    return
                if not conn._ending:
                    conn._ending = True
                    conn._queue.clear()
                    code = msg.data if isinstance(msg.data, int) else 1000
                    if code in (1005, 1006, 1015) or not 1000 <= code <= 4999:
                        code = 1000
                    conn._queue.append(("close", code, ""))
                    conn._wake.set()
                await _settle(writer, self._close_timeout + 1.0)
                return
            elif kind is WSMsgType.CLOSING:
                # Our writer is closing the connection: let it finish.
                await _settle(writer, self._close_timeout + 1.0)
                return
            else:  # CLOSED, ERROR
                return

    def _on_request(self, conn: SimConnection, text: str) -> None:
        try:
            msg = json.loads(text)
        except ValueError:
            self._reject_ws(conn, None, -32700, "Parse error")
            return
        if not isinstance(msg, dict):
            self._reject_ws(conn, None, -32600, "Invalid Request")
            return
        has_id = "id" in msg
        request_id = msg.get("id")
        method = msg.get("method")
        params = msg.get("params")

        def reply(result: Any) -> None:
            if has_id:
                conn._reply(_dumps({"jsonrpc": _JSONRPC, "id": request_id, "result": result}))

        def error(code: int, message: str) -> None:
            # JSON-RPC 2.0: notifications (no "id") get no response, not even an error.
            self._reject_ws(conn, request_id if has_id else _NO_REPLY, code, message)

        if method == "auth":
            if conn._reject_login:
                self._counts["logins_rejected"] += 1
                logger.warning("fault: connection #%d: login rejected on purpose", conn._number)
                if has_id:
                    conn._reply(
                        _dumps(
                            {
                                "jsonrpc": _JSONRPC,
                                "id": request_id,
                                "error": {"code": -32000, "message": "authentication rejected"},
                            }
                        )
                    )
                return
            key, reason = check_ws_auth(
                params, self._keys, self._nonces, now=self._clock(), window=self._window
            )
            if key is None:
                self._counts["logins_rejected"] += 1
                error(-32000, f"authentication failed: {reason}")
                return
            conn._key = key
            self._counts["logins_accepted"] += 1
            logger.debug("connection #%d authenticated", conn._number)
            reply(True)
        elif method in ("subscribe", "unsubscribe"):
            channel = params.get("channel") if isinstance(params, dict) else None
            if not isinstance(channel, str):
                error(-32602, "Invalid params: params.channel must be a string")
                return
            if method == "unsubscribe":
                conn._subscriptions.discard(channel)
                reply(True)
                return
            product = self._channel_product(channel)
            if product is None:
                error(-32602, f"Invalid params: unknown channel {channel!r}")
                return
            if channel in _PRIVATE_CHANNELS and conn._key is None:
                error(-32001, f"authentication required to subscribe to {channel}")
                return
            conn._subscriptions.add(channel)
            reply(True)
            self._on_subscribed(conn, channel, product)
        else:
            error(-32601, f"Method not found: {method!r}")

    def _channel_product(self, channel: str) -> str | None:
        """The product a public channel names, ``""`` for a private channel, else ``None``."""
        if channel in _PRIVATE_CHANNELS:
            return ""
        for prefix in (
            "lightning_board_snapshot_",
            "lightning_board_",
            "lightning_ticker_",
            "lightning_executions_",
        ):
            if channel.startswith(prefix):
                code = channel[len(prefix) :]
                return code if code in self._markets else None
        return None

    def _on_subscribed(self, conn: SimConnection, channel: str, product: str) -> None:
        # A snapshot goes out on subscribing to the snapshot channel, and again
        # on subscribing to the diff channel while subscribed to the snapshot
        # channel: then the diffs that follow always apply to the last
        # snapshot, whatever the order of the two subscriptions and however
        # the ticks fall between them.
        snapshot_channel = f"lightning_board_snapshot_{product}"
        if channel == snapshot_channel or (
            channel == f"lightning_board_{product}" and snapshot_channel in conn._subscriptions
        ):
            market = self._markets[product]
            conn._send(_channel_message(snapshot_channel, market.board_message()))
        elif channel == f"lightning_ticker_{product}":
            conn._send(_channel_message(channel, self._markets[product].ticker(self._now())))

    def _reject_ws(self, conn: SimConnection, request_id: Any, code: int, message: str) -> None:
        logger.warning("connection #%d: rejected request: %s", conn._number, message)
        if request_id is _NO_REPLY:
            return
        conn._reply(
            _dumps(
                {
                    "jsonrpc": _JSONRPC,
                    "id": request_id,
                    "error": {"code": code, "message": message},
                }
            )
        )

    # =================================================================== REST

    def _rest(
        self,
        endpoint: Callable[[web.Request, bytes], web.Response],
        *,
        private: bool = True,
    ) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.StreamResponse:
            task = asyncio.current_task()
            assert task is not None
            self._handlers.add(task)
            try:
                return await self._handle_rest(request, endpoint, private)
            finally:
                self._handlers.discard(task)
                self._changed()

        return handler

    async def _handle_rest(
        self,
        request: web.Request,
        endpoint: Callable[[web.Request, bytes], web.Response],
        private: bool,
    ) -> web.StreamResponse:
        self._counts["rest_requests"] += 1
        body = await request.read()
        fault = self._take_rest_fault(request.path)
        if fault is not None and fault.delay:
            logger.info("fault: delaying %s %s by %g s", request.method, request.path, fault.delay)
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            self._counts["rest_rejected"] += 1
            logger.warning(
                "fault: answering %s %s with HTTP %d", request.method, request.path, fault.status
            )
            return _rest_error(fault.status, -fault.status, "simulated failure")
        if private:
            key, reason = check_rest(
                request.headers,
                request.method,
                request.raw_path,
                body,
                self._keys,
                now=self._clock(),
                window=self._window,
            )
            if key is None:
                self._counts["rest_rejected"] += 1
                logger.warning("rejected %s %s: %s", request.method, request.path, reason)
                return _rest_error(401, -500, f"authentication failed: {reason}")
        try:
            return endpoint(request, body)
        except _BadRequestError as exc:
            self._counts["rest_rejected"] += 1
            logger.warning("rejected %s %s: %s", request.method, request.path, exc)
            return _rest_error(400, exc.code, str(exc))

    def _take_rest_fault(self, path: str) -> RestFault | None:
        for i, (fault, only) in enumerate(self._armed_rest):
            if only is None or only == path:
                del self._armed_rest[i]
                return fault
        return None

    def _product_param(self, request: web.Request, *, required: bool) -> str | None:
        code = request.query.get("product_code")
        if code is None:
            if required:
                return next(iter(self._markets))
            return None
        if code not in self._markets:
            raise _BadRequestError(-120, f"unknown product_code {code!r}")
        return code

    def _getticker(self, request: web.Request, body: bytes) -> web.Response:
        code = self._product_param(request, required=True)
        assert code is not None
        return web.json_response(self._markets[code].ticker(self._now()))

    def _getboard(self, request: web.Request, body: bytes) -> web.Response:
        code = self._product_param(request, required=True)
        assert code is not None
        return web.json_response(self._markets[code].board_message())

    def _getmarkets(self, request: web.Request, body: bytes) -> web.Response:
        return web.json_response(
            [
                {"product_code": code, "market_type": "FX" if m.spec.margin else "Spot"}
                for code, m in self._markets.items()
            ]
        )

    def _json_body(self, body: bytes) -> Any:
        try:
            return json.loads(body)
        except ValueError:
            raise _BadRequestError(-100, "the body is not JSON") from None

    def _sendchildorder(self, request: web.Request, body: bytes) -> web.Response:
        now = self._now()
        try:
            order = self._account.place(self._json_body(body), products=set(self._markets), now=now)
        except OrderError as exc:
            raise _BadRequestError(-106, str(exc)) from None
        self._counts["orders"] += 1
        events = [self._account.order_event(order, now)]
        market = self._markets[order.product_code]
        fill = self._marketable(order, market)
        if fill is not None:
            events.append(self._account.execute(order, fill, margin=market.spec.margin, now=now))
        logger.debug("order %s accepted", order.child_order_acceptance_id)
        for event in events:
            self._emit_order_events([event])
        return web.json_response({"child_order_acceptance_id": order.child_order_acceptance_id})

    @staticmethod
    def _marketable(order: Order, market: Market) -> int | None:
        """The price ``order`` executes at on arrival, or ``None`` if it rests."""
        if order.side == "BUY":
            best = market.best_ask
            if order.child_order_type == "MARKET" or order.price >= best:
                return best
        else:
            best = market.best_bid
            if order.child_order_type == "MARKET" or order.price <= best:
                return best
        return None

    def _cancelchildorder(self, request: web.Request, body: bytes) -> web.Response:
        try:
            order = self._account.find(self._json_body(body))
        except OrderError as exc:
            raise _BadRequestError(-111, str(exc)) from None
        self._emit_order_events([self._account.cancel(order, self._now())])
        return web.Response(status=200)

    def _getchildorders(self, request: web.Request, body: bytes) -> web.Response:
        query = request.query
        count_text = query.get("count", "100")
        if not count_text.isdigit() or int(count_text) < 1:
            raise _BadRequestError(-100, "count must be a positive integer")
        state = query.get("child_order_state")
        if state is not None and state not in (
            "ACTIVE",
            "COMPLETED",
            "CANCELED",
            "EXPIRED",
            "REJECTED",
        ):
            raise _BadRequestError(-100, f"unknown child_order_state {state!r}")
        rows = self._account.rows(
            product_code=self._product_param(request, required=False),
            state=state,
            acceptance_id=query.get("child_order_acceptance_id"),
            order_id=query.get("child_order_id"),
            count=int(count_text),
        )
        return web.json_response(rows)

    def _getpositions(self, request: web.Request, body: bytes) -> web.Response:
        code = self._product_param(request, required=False)
        if code is None or not self._markets[code].spec.margin:
            raise _BadRequestError(-100, "product_code must name a margin product, e.g. FX_BTC_JPY")
        return web.json_response(self._account.positions(code, self._marks()))

    def _getcollateral(self, request: web.Request, body: bytes) -> web.Response:
        return web.json_response(self._account.collateral_summary(self._marks()))


class _BadRequestError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


_NO_REPLY: Final[Any] = object()


async def _settle(task: asyncio.Task[None], timeout: float) -> None:
    """Wait for ``task`` to finish, at most ``timeout`` seconds (never raising its error)."""
    if not task.done():
        await asyncio.wait({task}, timeout=timeout)


def _current_library() -> str:
    """``"trio"`` or ``"asyncio"``: which framework runs the calling task."""
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_task()
        except RuntimeError:
            pass
        else:
            return "trio"
    asyncio.get_running_loop()  # raises RuntimeError outside both
    return "asyncio"
