"""What a dialect is: one exchange's wire format on top of the neutral engine.

Theory of operation
-------------------
The simulator's core (``_server.py``) owns the event loop, the HTTP server,
the connections and their writer queues, the waiters and the clock; the
engine (``_engine.py``) owns the markets and the account. A :class:`Dialect`
is everything in between that differs per exchange:

* REST: its :meth:`~Dialect.routes` (path -> endpoint), how a private request
  proves who sent it (:meth:`~Dialect.authenticate`, written from the
  exchange's documentation with :mod:`hmac`, never with botters' signers), and
  the shape of its errors (:meth:`~Dialect.error_response`);
* WebSocket: the paths it serves, and what it answers to every text frame
  (:meth:`~Dialect.on_text`): login, subscribe, unsubscribe, app-level pings;
* market data: what a tick sends to whom (:meth:`~Dialect.on_tick`), and how
  prices and sizes are printed (:meth:`~Dialect.price_text`,
  :meth:`~Dialect.size_text`), which also defines the truth tests compare
  against (:meth:`~Dialect.book_levels`).

Every method runs on the simulator's loop. A dialect sends only through
:class:`~._connection.SimConnection` (``_send``, ``_reply``, ``_send_diff``),
so the faults and the frame counts apply to every exchange alike.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from ._connection import SimConnection
from ._engine import TickResult
from ._faults import Fault, RestFault
from ._market import MarketSpec

if TYPE_CHECKING:
    from ._server import Simulator

__all__ = ["Dialect", "RestError", "Route", "Secret", "dumps", "plain"]


def dumps(obj: Any) -> str:
    """Compact JSON, as exchanges send it."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: ``"0.5"``, ``"10"``, ``"0"``."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True, slots=True)
class Secret:
    """An API key's secret (and passphrase): never shown in a ``repr``."""

    secret: str
    passphrase: str = ""

    def __repr__(self) -> str:
        return "Secret(...)"


@dataclass(frozen=True, slots=True)
class Route:
    """One REST endpoint: ``endpoint(request, body)`` answers ``method path``."""

    method: str
    path: str
    endpoint: Callable[[web.Request, bytes], web.Response]
    private: bool = True


class RestError(Exception):
    """A REST request the dialect refuses: HTTP ``status``, the exchange's ``code``."""

    def __init__(self, status: int, code: int | str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Dialect(ABC):
    """One exchange's REST and WebSocket API over the engine (one per Simulator)."""

    name: ClassVar[str]
    """The exchange, and its API name in ``apis=`` (``"bitflyer"``, ``"bybit"``, ``"okx"``)."""
    api_name: ClassVar[str] = ""
    """The API name in ``apis=`` when it is not :attr:`name` (USDⓈ-M's is ``"binance"``)."""
    hosts: ClassVar[tuple[str, ...]]
    """The production host names a client pins to the simulator."""
    ws_paths: ClassVar[tuple[str, ...]]
    """The WebSocket paths served; the first is :attr:`Simulator.ws_url`'s."""
    ws_patterns: ClassVar[tuple[str, ...]] = ()
    """More WebSocket routes, as aiohttp path patterns (Binance's ``/ws/{streams}``)."""
    markets: ClassVar[Mapping[str, MarketSpec]]
    """The products that ``products=`` may name by code."""
    default_products: ClassVar[tuple[str, ...]]
    demo_apis: ClassVar[Mapping[str, tuple[str, ...]]]
    """The credentials accepted unless ``apis=`` says otherwise."""
    currency: ClassVar[str]
    """The account currency: the collateral's."""
    unified: ClassVar[bool]
    """Whether the collateral is the account currency's spot balance (see ``_account.py``)."""
    whole_units: ClassVar[bool] = False
    """Whether closed positions book whole currency units (bitFlyer's yen), not exact amounts."""
    window: ClassVar[float]
    ping_interval: ClassVar[float | None] = None
    """Seconds between the server's PING frames by default (``None``: it sends none)."""
    """Seconds a signed timestamp may be off by default."""
    checksums: bool = False
    """Whether book diffs carry a checksum that ``Fault(corrupt_checksum_after=...)`` can break."""

    def __init__(
        self, sim: Simulator, keys: Mapping[str, Secret], *, okx_checksum: bool = True
    ) -> None:
        """Serve ``sim``'s engine; accept ``keys``; ``okx_checksum``: OKX's option (see OKX)."""
        self.sim = sim
        self.engine = sim._engine
        self.keys = keys

    @classmethod
    def parse_apis(cls, apis: Mapping[str, Any]) -> dict[str, Secret]:
        """``{key: Secret}`` from ``apis=`` (the shape botters and pybotters take).

        Raises:
            ValueError: ``apis`` has no usable entry for this exchange.
        """
        size = len(next(iter(cls.demo_apis.values())))
        api = cls.api_name or cls.name
        entry = apis.get(api) if isinstance(apis, Mapping) else None
        if (
            not isinstance(entry, list | tuple)
            or len(entry) < size
            or not all(isinstance(v, str) and v for v in entry[:size])
        ):
            shape = ", ".join(("key", "secret", "passphrase")[:size])
            raise ValueError(f'apis must be {{"{api}": [{shape}]}}')
        return {entry[0]: Secret(*entry[1:size])}

    def check_fault(self, fault: Fault) -> None:
        """Refuse a fault this exchange cannot have.

        Raises:
            ValueError: ``corrupt_checksum_after`` without checksums.
        """
        if fault.corrupt_checksum_after is not None and not self.checksums:
            raise ValueError(
                f"corrupt_checksum_after: the {self.name} simulator sends no book checksums"
                + (" (okx_checksum=False)" if self.name == "okx" else "")
            )

    def check_rest_fault(self, fault: RestFault) -> None:
        """Refuse a REST fault this exchange cannot have.

        Raises:
            ValueError: ``book_age`` on an exchange without sequenced book snapshots.
        """
        if fault.book_age is not None:
            raise ValueError(f"book_age: the {self.name} simulator has no sequenced REST snapshot")

    def rest_fault(self) -> RestFault | None:
        """The :class:`RestFault` the REST request being answered took, if any."""
        return self.sim._rest_fault

    def now_ms(self) -> int:
        """The market clock in milliseconds (what messages are stamped with)."""
        return round(self.sim._now() * 1000)

    def clock(self) -> float:
        """The wall clock that signed timestamps are checked against."""
        return self.sim._clock()

    def window_for(self, default: float) -> float:
        """``timestamp_window=`` if the caller gave one, else ``default``."""
        window = self.sim._window
        return default if window is None else window

    # ------------------------------------------------------------------ REST

    @abstractmethod
    def routes(self) -> list[Route]:
        """The REST endpoints."""

    @abstractmethod
    def authenticate(self, request: web.Request, body: bytes) -> str:
        """The API key a private request is signed with.

        Raises:
            RestError: it is not signed right (missing, unknown key, bad signature,
                timestamp out of the window).
        """

    @abstractmethod
    def error_response(self, error: RestError) -> web.Response:
        """``error`` in the exchange's error shape."""

    def fault_response(self, status: int) -> web.Response:
        """The answer to a request a ``RestFault(status=...)`` fails."""
        return self.error_response(RestError(status, -status, "simulated failure"))

    # ------------------------------------------------------------- WebSocket

    def serves_ws(self, path: str) -> bool:
        """Whether a WebSocket is served at ``path`` (one of :attr:`ws_paths` by default)."""
        return path in self.ws_paths

    def on_open(self, conn: SimConnection, request: web.Request) -> None:
        """A connection was accepted (Binance subscribes the streams its URL names)."""
        return

    @abstractmethod
    def on_text(self, conn: SimConnection, text: str) -> None:
        """Answer one text frame from the client."""

    @abstractmethod
    def on_binary(self, conn: SimConnection, data: bytes) -> None:
        """Answer one binary frame from the client."""

    def login_rejected(self, conn: SimConnection) -> None:
        """Count a refused login (the dialect logs it and sends the answer)."""
        self.sim._counts["logins_rejected"] += 1

    def login_accepted(self, conn: SimConnection, key: str) -> None:
        """Count and remember a good login."""
        conn._key = key
        self.sim._counts["logins_accepted"] += 1

    # ---------------------------------------------------------------- market

    @abstractmethod
    def on_tick(self, result: TickResult) -> None:
        """Send one product's tick (fills first, then market data) to its subscribers."""

    @abstractmethod
    def price_text(self, spec: MarketSpec, ticks: int) -> str:
        """A price as the exchange prints it."""

    @abstractmethod
    def size_text(self, spec: MarketSpec, lots: int) -> str:
        """A size as the exchange prints it."""

    def book_levels(
        self, symbol: str, depth: int | None = None
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """The simulator's book of ``symbol``, printed: ``(bids, asks)``, best first."""
        market = self.engine.market(symbol)
        spec = market.spec
        bids, asks = market.levels(depth)
        return (
            [(self.price_text(spec, p), self.size_text(spec, s)) for p, s in bids],
            [(self.price_text(spec, p), self.size_text(spec, s)) for p, s in asks],
        )

    # ------------------------------------------ listenKeys (Binance), for the tests

    def user_stream_requests(self) -> tuple[Any, ...]:
        """Every listenKey request so far (only Binance has them)."""
        raise RuntimeError(f"the {self.name} simulator has no listenKey user data stream")

    def active_listen_keys(self) -> tuple[str, ...]:
        """The listenKeys alive now (only Binance has them)."""
        raise RuntimeError(f"the {self.name} simulator has no listenKey user data stream")

    def expire_listen_key(self, key: str) -> None:
        """End ``key`` as if it timed out (only Binance has them)."""
        raise RuntimeError(f"the {self.name} simulator has no listenKey user data stream")

    # ------------------------------------------------- account, for the tests

    @abstractmethod
    def ticker(self, symbol: str) -> Any:
        """The current ticker of ``symbol``, as the exchange's REST API shows it."""

    @abstractmethod
    def orders(self) -> list[Any]:
        """Every order, newest first, as the exchange's REST API shows them."""

    @abstractmethod
    def positions(self) -> list[Any]:
        """Open positions, as the exchange's REST API shows them."""

    @abstractmethod
    def balance(self) -> Any:
        """The collateral or wallet, as the exchange's REST API shows it."""
