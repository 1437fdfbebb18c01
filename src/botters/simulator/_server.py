"""The simulator's core: one port, one event loop, a moving market, connections, faults.

Theory of operation
-------------------
Everything the simulator owns (the engine's markets and account, connections,
armed faults, waiters) lives on **one asyncio event loop**: the caller's loop
after ``await sim.start()`` (or ``async with``), or a loop in a background
thread after :meth:`Simulator.start_in_thread` (or ``with``). Public methods
may be called from any thread: :meth:`Simulator._call` runs them directly when
already on the simulator's loop (or when no loop runs it) and otherwise hands
them to the loop and blocks until they have run, so their effect is visible
when they return.

What the exchange looks like on the wire is the *dialect*'s business
(``_dialect.py``; bitFlyer, Bybit v5, OKX v5): its REST routes, signature
checks, WebSocket paths and messages. This module runs it: the HTTP server,
the WebSocket handshakes and read loops (each text frame goes to
``dialect.on_text``), REST faults and error counting, and the ticks.

A market tick (every ``tick_interval`` seconds, or on :meth:`Simulator.advance`)
moves every product's book, executes users' resting orders the market
crossed, then hands each product's result to the dialect, which queues the
private events and the market data on every subscribed connection.

Waiters (:meth:`Simulator.wait_until` and friends) register a predicate that
is re-evaluated on the loop after every state change; when it holds, the
waiter's own framework (asyncio, trio or a blocked thread) is woken through a
thread-safe callback.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from ssl import SSLContext
from types import MappingProxyType, TracebackType
from typing import Any, Final, Self, TypeVar

try:
    from aiohttp import WSMsgType, web
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("botters.simulator needs aiohttp: pip install 'botters[aiohttp]'") from exc

from ._account import Account
from ._binance import UserStreamRequest
from ._bitflyer import DEMO_APIS, HOSTS
from ._connection import SimConnection
from ._dialect import Dialect, RestError, Route
from ._engine import Engine
from ._exchanges import DIALECTS, EXCHANGES
from ._faults import Fault, RestFault
from ._market import MarketSpec

__all__ = [
    "DEMO_APIS",
    "SIMULATED_HOSTS",
    "SimStats",
    "Simulator",
]

logger = logging.getLogger("botters.simulator")

_T = TypeVar("_T")

SIMULATED_HOSTS: Final = HOSTS
"""bitFlyer's production hosts, which a client routes to the default simulator.

Other exchanges: :data:`SIMULATED_HOSTS_BY_EXCHANGE` (and :attr:`Simulator.hosts`).
"""

_FAULT_COUNTS: Final = (
    "diffs_skipped",
    "diffs_duplicated",
    "diffs_reordered",
    "checksums_corrupted",
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
    """Logins (bitFlyer ``auth``, Bybit ``op: auth``, OKX ``op: login``) accepted."""
    logins_rejected: int
    """Logins rejected (bad credentials or ``Fault(reject_login=True)``)."""
    rest_requests: int
    """REST requests received."""
    rest_rejected: int
    """REST requests answered with an error (auth, validation or a :class:`RestFault`)."""
    orders: int
    """Orders accepted."""
    diffs_skipped: int
    """Book diffs a ``Fault(skip_diff_after=...)`` left out (one per connection hit)."""
    diffs_duplicated: int
    """Book diffs a ``Fault(duplicate_diff_after=...)`` sent twice."""
    diffs_reordered: int
    """Book diffs a ``Fault(reorder_diff_after=...)`` held back behind the next one."""
    checksums_corrupted: int
    """OKX ``books`` updates a ``Fault(corrupt_checksum_after=...)`` sent a wrong checksum in."""


class _Waiter:
    __slots__ = ("error", "predicate", "wake")

    def __init__(self, predicate: Callable[[Simulator], bool], wake: Callable[[], None]) -> None:
        self.predicate = predicate
        self.wake = wake
        self.error: BaseException | None = None


class Simulator:
    """A local exchange: REST, WebSocket, a moving market, an account, faults.

    Speaks one exchange's API per instance (``exchange=``):

    * ``"bitflyer"`` (the default): REST at bitFlyer's paths (``GET
      /v1/getticker``, ``/v1/getboard``, ``/v1/getmarkets``; signed ``POST
      /v1/me/sendchildorder``, ``/v1/me/cancelchildorder``, ``GET
      /v1/me/getchildorders``, ``/v1/me/getpositions``,
      ``/v1/me/getcollateral``) and the JSON-RPC Realtime API at
      ``/json-rpc`` (``auth``, ``subscribe``, ``unsubscribe``; channels
      ``lightning_board_snapshot_{product}``, ``lightning_board_{product}``,
      ``lightning_ticker_{product}``, ``lightning_executions_{product}``,
      and after ``auth`` ``child_order_events``).
    * ``"bybit"``: Bybit v5 (see ``_bybit.py``): public WebSockets at
      ``/v5/public/linear`` and ``/v5/public/spot`` (``orderbook.{depth}.{symbol}``,
      ``publicTrade.{symbol}``, ``tickers.{symbol}``), the private one at
      ``/v5/private`` (``order``, ``execution``, ``position``, ``wallet``)
      and signed REST under ``/v5/``.
    * ``"okx"``: OKX v5 (see ``_okx.py``): WebSockets at ``/ws/v5/public``
      (``books``, ``books5``, ``trades``, ``tickers``) and ``/ws/v5/private``
      (``orders``, ``positions``, ``account``, ``balance_and_position``),
      signed REST under ``/api/v5/``.
    * ``"binance"``: Binance Spot (see ``_binance.py``): market streams at
      ``/ws/<stream>``, ``/stream?streams=...`` and ``/ws`` (``SUBSCRIBE``;
      ``<symbol>@depth@100ms``, ``@depth``, ``@depth5``, ``@trade``,
      ``@aggTrade``, ``@bookTicker``), ``GET /api/v3/depth`` whose
      ``lastUpdateId`` syncs with the diffs as Binance documents, the
      listenKey user data stream at ``/ws/<listenKey>`` (``executionReport``,
      ``outboundAccountPosition``; see :meth:`user_stream_requests`) and
      signed REST under ``/api/v3/``.
    * ``"binanceusdsm"``: Binance USDⓈ-M futures (see ``_binance_usdm.py``):
      the same streams and rules with ``pu`` linking the diffs, ``/fapi/``
      REST, the listenKey at ``/fapi/v1/listenKey``, ``ORDER_TRADE_UPDATE``
      and ``ACCOUNT_UPDATE``; credentials under ``"binance"`` as for Spot.

    **Addressing it so that requests are signed.** The exchanges' signatures
    cover timestamps, methods, paths, queries and bodies: never the scheme,
    host or port. The simulator therefore accepts any ``Host`` header and
    serves REST and every WebSocket path on the same port. What must hold is
    that the *client* believes it talks to the production hosts (bitFlyer's
    ``https://api.bitflyer.com`` and ``wss://ws.lightstream.bitflyer.com``,
    Bybit's ``api.bybit.com`` and ``stream.bybit.com``, OKX's ``www.okx.com``
    and ``ws.okx.com``, Binance's ``api.binance.com`` and
    ``stream.binance.com``, or ``fapi.binance.com`` and
    ``fstream.binance.com``), since botters signs only those exact hosts. So:
    serve TLS with a certificate naming them (``ssl=``), keep the production
    URLs in the client, pin the host names to :attr:`address`
    (:attr:`resolve`, for ``botters.Client(resolve=...)``; the pinned port
    replaces the URL's, so ``wss://ws.okx.com:8443/ws/v5/public`` works
    as it is) and trust the test CA::

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
        exchange: Which API to speak: one of :data:`EXCHANGES`.
        seed: Seeds every product's market; the same seed gives the same books.
        products: Product codes of the exchange's default markets
            (:data:`DEFAULT_MARKETS_BY_EXCHANGE`) or :class:`MarketSpec`;
            ``None`` for the exchange's default (``FX_BTC_JPY``,
            ``BTCUSDT``, ``BTC-USDT-SWAP``, Binance ``BTCUSDT``).
        tick_interval: Seconds between market ticks; ``None`` for none (tick
            with :meth:`advance`).
        host: The address to listen on.
        port: The port; ``0`` picks a free one.
        ssl: A server-side :class:`ssl.SSLContext` to serve https/wss.
        apis: The credentials accepted, in the ``apis=`` shape
            (``{"bitflyer": [key, secret]}``, ``{"bybit": [key, secret]}``,
            ``{"okx": [key, secret, passphrase]}``, ``{"binance": [key, secret]}``);
            the exchange's
            :data:`DEMO_APIS_BY_EXCHANGE` entry if ``None``.
        timestamp_window: Seconds a signed timestamp may be off the clock;
            ``None`` for the exchange's own rule (bitFlyer 60 s, OKX 30 s,
            Bybit ``X-BAPI-RECV-WINDOW`` behind and 1 s ahead, Binance
            ``recvWindow`` behind and 1 s ahead).
        collateral: The account's starting collateral in the account
            currency (JPY on bitFlyer, USDT on Bybit, OKX and Binance; Binance
            also starts with 1 of every base asset).
        start_time: The market clock at tick 0 (Unix seconds; wall clock if
            ``None``). Market times are ``start_time + ticks * tick_interval``
            (1 s per tick when ``tick_interval`` is ``None``), so messages are
            reproducible for a given seed and ``start_time``.
        snapshot_every: Also send a board snapshot to the snapshot channel's
            subscribers every this many ticks (bitFlyer only).
        clock: Wall clock for the timestamp window (``time.time``).
        close_timeout: Seconds to wait for a client's close frame in reply.
        okx_checksum: Whether OKX ``books`` pushes carry the CRC32 checksum
            (``True``, so that clients' checksum code is exercised) or
            ``0``, as production OKX sends since June 2026.
        ws_ping_interval: Seconds between the WebSocket PING frames the
            server sends on every connection, dropping one that answered
            none of three; ``None`` for the exchange's habit (Binance
            every 20 s, a minute to answer; the others send none), ``0`` for none.
    """

    def __init__(
        self,
        *,
        exchange: str = "bitflyer",
        seed: int | str = 0,
        products: Iterable[str | MarketSpec] | None = None,
        tick_interval: float | None = 0.1,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl: SSLContext | None = None,
        apis: Mapping[str, Any] | None = None,
        timestamp_window: float | None = None,
        collateral: int | float = 1_000_000,
        start_time: float | None = None,
        snapshot_every: int | None = None,
        clock: Callable[[], float] = time.time,
        close_timeout: float = 1.0,
        okx_checksum: bool = True,
        ws_ping_interval: float | None = None,
    ) -> None:
        if exchange not in DIALECTS:
            raise ValueError(f"unknown exchange {exchange!r}: one of {', '.join(EXCHANGES)}")
        dialect_type = DIALECTS[exchange]
        known = dialect_type.markets
        specs: list[MarketSpec] = []
        for product in dialect_type.default_products if products is None else products:
            if isinstance(product, MarketSpec):
                specs.append(product)
            elif product in known:
                specs.append(known[product])
            else:
                raise ValueError(
                    f"unknown product {product!r}: pass a MarketSpec or one of {', '.join(known)}"
                )
        if not specs:
            raise ValueError("products must name at least one product")
        if tick_interval is not None and tick_interval <= 0:
            raise ValueError("tick_interval must be > 0 or None")
        if ws_ping_interval is not None and ws_ping_interval < 0:
            raise ValueError("ws_ping_interval must be >= 0 or None")
        if snapshot_every is not None and snapshot_every < 1:
            raise ValueError("snapshot_every must be >= 1 or None")
        self.seed = seed
        self.exchange = exchange
        self._tick_interval = tick_interval
        self._tick_seconds = tick_interval if tick_interval is not None else 1.0
        self._host = host
        self._port = port
        self._ssl = ssl
        self._window = timestamp_window
        account = Account(
            collateral,
            currency=dialect_type.currency,
            unified=dialect_type.unified,
            whole_units=dialect_type.whole_units,
        )
        self._engine = Engine(specs, seed, account)
        self._start_time = clock() if start_time is None else start_time
        self._snapshot_every = snapshot_every
        self._clock = clock
        self._close_timeout = close_timeout
        self._ws_ping_interval = (
            dialect_type.ping_interval if ws_ping_interval is None else ws_ping_interval
        )
        keys = dialect_type.parse_apis(dialect_type.demo_apis if apis is None else apis)
        key, secret = next(iter(keys.items()))
        accepted = (key, secret.secret, secret.passphrase)[: 3 if secret.passphrase else 2]
        self._apis: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {dialect_type.api_name or exchange: accepted}
        )

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
        self._rest_fault: RestFault | None = None  # the one the request being answered took
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
                *_FAULT_COUNTS,
            ),
            0,
        )
        self._dialect: Dialect = dialect_type(self, keys, okx_checksum=okx_checksum)

    def __repr__(self) -> str:
        where = f" {self.rest_url}" if self._bound_port else ""
        return (
            f"<Simulator {self.exchange} {self._state}{where} "
            f"products={list(self._engine.markets)}>"
        )

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
        """``(host, port)`` to connect to: where a resolver maps the exchange's hosts."""
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
        """The first WebSocket URL, e.g. ``ws://127.0.0.1:54321/json-rpc``.

        bitFlyer's Realtime API, Bybit's ``/v5/public/linear``, OKX's
        ``/ws/v5/public``; the others with :meth:`ws_url_for`.
        """
        return self.ws_url_for(self._dialect.ws_paths[0])

    def ws_url_for(self, path: str) -> str:
        """The URL of the WebSocket at ``path``, e.g. ``ws://127.0.0.1:54321/v5/private``.

        Raises:
            ValueError: the exchange serves no WebSocket at ``path`` (see :attr:`ws_paths`).
        """
        if not self._dialect.serves_ws(path):
            raise ValueError(
                f"{self.exchange} serves no WebSocket at {path!r}: "
                f"one of {', '.join(self._dialect.ws_paths)}"
            )
        ws_scheme = "wss" if self._ssl is not None else "ws"
        return f"{ws_scheme}://{self._host}:{self.port}{path}"

    @property
    def ws_paths(self) -> tuple[str, ...]:
        """The WebSocket paths served, e.g. ``("/ws/v5/public", "/ws/v5/private")``."""
        return self._dialect.ws_paths

    @property
    def hosts(self) -> tuple[str, ...]:
        """The exchange's production host names (:data:`SIMULATED_HOSTS_BY_EXCHANGE`)."""
        return self._dialect.hosts

    @property
    def apis(self) -> Mapping[str, tuple[str, ...]]:
        """The credentials accepted, in the ``apis=`` shape: hand them to the client.

        ``{"okx": (key, secret, passphrase)}``; the exchange's
        :data:`DEMO_APIS_BY_EXCHANGE` entry unless ``apis=`` named others.
        """
        return self._apis

    @property
    def resolve(self) -> dict[str, tuple[str, int]]:
        """Each of the exchange's :attr:`hosts` mapped to :attr:`address`.

        For a client that pins host names to addresses, e.g.
        ``botters.Client(apis=DEMO_APIS, resolve=sim.resolve, ssl=client_ctx)``:
        it keeps the production URLs (so it signs) and connects here. Needs
        ``ssl=`` (the client only signs ``https``/``wss`` URLs).
        """
        return dict.fromkeys(self._dialect.hosts, self.address)

    @property
    def products(self) -> tuple[str, ...]:
        """The product codes served."""
        return tuple(self._engine.markets)

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
        for path in (*self._dialect.ws_paths, *self._dialect.ws_patterns):
            app.router.add_get(path, self._ws_handler)
        for route in self._dialect.routes():
            if route.method == "GET":  # HEAD too, as aiohttp's add_get does
                app.router.add_get(route.path, self._rest(route))
            else:
                app.router.add_route(route.method, route.path, self._rest(route))
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
            "simulator (%s) serving %s and %s (products %s, seed %r)",
            self.exchange,
            self.rest_url,
            self.ws_url,
            ", ".join(self._engine.markets),
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
        """Wait until an open connection (or ``connection``) is subscribed to ``channel``.

        ``channel`` is spelled as the exchange names it:

        * bitFlyer: the channel, ``"lightning_board_FX_BTC_JPY"``;
        * Bybit: the topic, ``"orderbook.50.BTCUSDT"``, ``"order"``;
        * OKX: ``"{channel}:{instId}"`` for a channel of one instrument,
          ``"books:BTC-USDT-SWAP"``, and the bare channel otherwise,
          ``"orders"``, ``"account"``;
        * Binance: the stream name, ``"btcusdt@depth@100ms"``, or the
          listenKey of a user data stream.
        """

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

    def book_levels(
        self, symbol: str, depth: int | None = None
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """The authoritative book of ``symbol``: ``(bids, asks)``, best first.

        Each level is ``(price, size)`` exactly as the exchange prints it
        (bitFlyer ``("10000000", "0.01")``, Bybit ``("65000.10", "0.125")``,
        OKX ``("65000.1", "0.125")``), at most ``depth`` levels a side. A
        client that rebuilt the book from the messages it was sent (and
        dropped levels beyond its subscribed depth) holds exactly this; book
        faults never change it.

        Raises:
            KeyError: the simulator does not serve ``symbol``.
        """
        self._engine.market(symbol)
        return self._call(self._dialect.book_levels, symbol, depth)

    def board_snapshot(self, product_code: str) -> dict[str, list[dict[str, Any]]]:
        """The authoritative book, shaped like ``bitFlyerDataStore.board.sorted(...)``.

        ``{"bids": [...], "asks": [...]}``, best first, each level
        ``{"product_code", "side", "price", "size"}`` with bitFlyer's JSON
        numbers: compare it with ``store.board.sorted({"product_code": product_code})``.
        """
        market = self._engine.market(product_code)

        def read() -> dict[str, list[dict[str, Any]]]:
            spec = market.spec
            bids, asks = market.levels()
            return {
                side: [
                    {
                        "product_code": product_code,
                        "side": side,
                        "price": _number(spec.price(p)),
                        "size": float(spec.size(s)),
                    }
                    for p, s in levels
                ]
                for side, levels in (("bids", bids), ("asks", asks))
            }

        return self._call(read)

    def mid_price(self, product_code: str) -> int | float:
        """``(best_bid + best_ask) // 2`` in ticks, in price units (bitFlyer's ``mid_price``)."""
        market = self._engine.market(product_code)
        return self._call(lambda: _number(market.spec.price(market.mid_price)))

    def ticker(self, product_code: str) -> dict[str, Any]:
        """The current ticker of ``product_code``, as the exchange's REST API shows it.

        bitFlyer ``GET /v1/getticker``, a Bybit ``GET /v5/market/tickers`` row,
        an OKX ``GET /api/v5/market/ticker`` row.
        """
        self._engine.market(product_code)
        return self._call(self._dialect.ticker, product_code)

    def child_orders(self) -> list[dict[str, Any]]:
        """Every order, newest first, as the exchange's REST API shows them.

        bitFlyer ``GET /v1/me/getchildorders`` rows, Bybit ``GET
        /v5/order/realtime`` rows, OKX ``GET /api/v5/trade/orders-pending`` rows.
        """
        return self._call(self._dialect.orders)

    def positions(self) -> list[dict[str, Any]]:
        """Open positions of every product, as the exchange's REST API shows them.

        bitFlyer ``GET /v1/me/getpositions`` lots, Bybit ``GET /v5/position/list``
        rows, OKX ``GET /api/v5/account/positions`` rows.
        """
        return self._call(self._dialect.positions)

    def collateral(self) -> dict[str, Any]:
        """The collateral, as the exchange's REST API shows it.

        bitFlyer ``GET /v1/me/getcollateral``, the Bybit ``GET
        /v5/account/wallet-balance`` account, the OKX ``GET /api/v5/account/balance``
        account.
        """
        return self._call(self._dialect.balance)

    def user_stream_requests(self) -> tuple[UserStreamRequest, ...]:
        """Every listenKey request received (Binance), oldest first.

        ``POST``, ``PUT`` (keep-alive) and ``DELETE`` of ``/api/v3/userDataStream``,
        refused ones included, each with the key, the wall clock (``clock=``)
        it arrived at and whether it was accepted. To wait for the n-th
        keep-alive::

            await sim.wait_until(
                lambda s: sum(r.method == "PUT" for r in s.user_stream_requests()) >= n
            )

        Raises:
            RuntimeError: the exchange has no listenKeys.
        """
        return self._call(self._dialect.user_stream_requests)

    def active_listen_keys(self) -> tuple[str, ...]:
        """The listenKeys alive now (Binance; at most one: POST returns the live key).

        Raises:
            RuntimeError: the exchange has no listenKeys.
        """
        return self._call(self._dialect.active_listen_keys)

    def expire_listen_key(self, listen_key: str) -> None:
        """End ``listen_key`` now as if its 60 minutes had passed without a keep-alive.

        Its user data connections get ``{"e": "listenKeyExpired", ...}`` and
        nothing more; a keep-alive of it is refused with ``-1125``; ``POST``
        creates a new key.

        Raises:
            KeyError: the simulator never created ``listen_key``.
            RuntimeError: the exchange has no listenKeys.
        """
        self._call(self._dialect.expire_listen_key, listen_key)

    def _now(self) -> float:
        """The market clock."""
        return self._start_time + self._ticks * self._tick_seconds

    # ================================================================= faults

    def inject(self, fault: Fault, *, count: int = 1) -> None:
        """Arm ``fault`` for the next ``count`` WebSocket handshakes.

        Each handshake takes the oldest armed fault (if any) and applies it
        to its connection, counting frames (and book diffs) from the
        connection's first.

        Raises:
            ValueError: ``count`` < 1, or the exchange cannot have this fault
                (``corrupt_checksum_after`` without checksums).
        """
        if count < 1:
            raise ValueError("count must be >= 1")
        self._check_fault(fault)

        def arm() -> None:
            self._armed.extend([fault] * count)
            logger.debug("fault armed for the next %d connection(s): %r", count, fault)

        self._call(arm)

    def _check_fault(self, fault: Fault) -> None:
        self._dialect.check_fault(fault)

    def _fault_applied(self, counter: str) -> None:
        self._counts[counter] += 1

    def inject_rest(self, fault: RestFault, *, count: int = 1, path: str | None = None) -> None:
        """Arm ``fault`` for the next ``count`` REST requests (to ``path`` only, if given)."""
        if count < 1:
            raise ValueError("count must be >= 1")
        self._dialect.check_rest_fault(fault)

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

    def move_price(self, product_code: str, price: int | float | str | Decimal) -> None:
        """Tick once, with ``product_code``'s fair price set to ``price``.

        Other products move as usual. ``price`` is in price units, rounded to
        the nearest tick.

        The book follows: levels the move crosses trade away and a fresh
        diff, ticker and executions go out, so resting orders it crosses fill.
        """
        spec = self._engine.market(product_code).spec
        self._call(self._tick, {product_code: spec.ticks(price)})

    def pause(self) -> None:
        """Stop the automatic ticks (the market holds still until :meth:`resume`).

        :meth:`advance` and :meth:`move_price` still tick. Use it to compare a
        client's book with :meth:`book_levels` (or :meth:`board_snapshot`) at a quiet moment.
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
        for result in self._engine.tick(self._now(), targets):
            self._dialect.on_tick(result)
        self._changed()

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
            return self._dialect.error_response(RestError(503, -503, "the simulator is stopping"))
        if fault is not None and fault.refuse is not None:
            self._counts["handshakes_refused"] += 1
            logger.warning(
                "fault: refused WebSocket handshake #%d with HTTP %d",
                self._counts["handshakes"],
                fault.refuse,
            )
            self._changed()
            return self._dialect.error_response(
                RestError(fault.refuse, -fault.refuse, "handshake refused (simulated fault)")
            )
        ws = web.WebSocketResponse(autoping=False, autoclose=False, timeout=self._close_timeout)
        await ws.prepare(request)
        conn = SimConnection(self, len(self._connections) + 1, ws, request.transport, request.path)
        self._connections.append(conn)
        logger.debug("connection #%d accepted from %s", conn._number, request.remote)
        writer = asyncio.create_task(conn._write_loop())
        conn._writer = writer
        if fault is not None:
            conn._apply(fault)
        self._dialect.on_open(conn, request)
        pinger = None
        if self._ws_ping_interval:
            pinger = asyncio.create_task(conn._ping_loop(self._ws_ping_interval))
        self._changed()
        try:
            await self._read_loop(conn, ws, writer)
        finally:
            conn._open = False
            if pinger is not None:
                pinger.cancel()
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
                    self._dialect.on_text(conn, msg.data)
                self._changed()
            elif kind is WSMsgType.BINARY:
                conn._received += 1
                if not conn._silent:
                    self._dialect.on_binary(conn, msg.data)
                self._changed()
            elif kind is WSMsgType.PING:
                if not conn._silent:
                    conn._queue.append(("pong", msg.data))
                    conn._wake.set()
            elif kind is WSMsgType.PONG:
                conn._pongs_received += 1
                conn._unanswered = 0
                self._changed()
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

    # =================================================================== REST

    def _rest(self, route: Route) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.StreamResponse:
            task = asyncio.current_task()
            assert task is not None
            self._handlers.add(task)
            try:
                return await self._handle_rest(request, route)
            finally:
                self._handlers.discard(task)
                self._changed()

        return handler

    async def _handle_rest(self, request: web.Request, route: Route) -> web.StreamResponse:
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
            return self._dialect.fault_response(fault.status)
        # Authentication and the endpoint run at once, without awaiting: what
        # they leave for each other (the fault, parsed parameters) cannot mix.
        self._rest_fault = fault
        try:
            if route.private:
                self._dialect.authenticate(request, body)
            return route.endpoint(request, body)
        except RestError as exc:
            self._counts["rest_rejected"] += 1
            logger.warning("rejected %s %s: %s", request.method, request.path, exc)
            return self._dialect.error_response(exc)
        finally:
            self._rest_fault = None

    def _take_rest_fault(self, path: str) -> RestFault | None:
        for i, (fault, only) in enumerate(self._armed_rest):
            if only is None or only == path:
                del self._armed_rest[i]
                return fault
        return None


def _number(value: Decimal) -> int | float:
    """A price or size as a JSON number: integers stay integers."""
    return int(value) if value == value.to_integral_value() else float(value)


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
