"""What the demo needs to know about one exchange: a :class:`Profile`.

The runner (``_runner.py``) does the same things on every exchange: send the
REST calls the feeds need first (if any) into the store, connect the feeds,
wait for the first book, draw it, place an order, wait for its events and the
position (or, on a spot venue, the balances), print a summary. A profile
answers the questions whose answers differ: which REST calls come first (a
Binance listenKey), which URLs and subscriptions, which store, how that store
spells a book level or a ticker, what the order request looks like, which
private messages are the order's events. It never waits or prints: what it
needs from the network it names (:class:`SetupCall`), the runner sends, and
the profile reads the answers back from the store.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Generic, Literal, TypeVar

from botters.protocol.store import DataStore, DataStoreCollection, OrderBookStore
from botters.simulator import DEFAULT_MARKETS_BY_EXCHANGE

__all__ = [
    "Feed",
    "HeaderShown",
    "OrderCall",
    "OrderEvent",
    "Position",
    "Profile",
    "SetupCall",
    "decimal",
    "price_text",
    "size_text",
]

S = TypeVar("S", bound=DataStoreCollection)

HeaderShown = Literal["plain", "hex", "base64", "secret"]
"""How the demo shows a signature header: in full, abbreviated, or not at all."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Feed:
    """One WebSocket the demo keeps open."""

    label: str
    """Shown in front of the URL: ``"Realtime"``, ``"public"``, ``"private"``."""
    url: str
    """The production URL (the client pins its host to the simulator)."""
    shown: str = ""
    """The URL as the demo prints it, when ``url`` holds what is not printed in full (a
    listenKey); ``""``: ``url`` itself."""
    subscribe: list[Any]
    """The JSON messages sent after every (re)connect."""
    channels: tuple[str, ...]
    """The subscriptions as the summary names them (``"orderbook.50"``, ``"orders"``)."""
    confirmed: tuple[str, ...]
    """The subscriptions to see at the simulator before going on, spelled as
    :meth:`~botters.simulator.Simulator.wait_for_subscription` takes them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCall:
    """The signed REST request that places the demo's order."""

    path: str
    """Appended to the profile's ``rest_url``."""
    data: dict[str, Any]
    """The JSON body."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SetupCall:
    """A REST request sent before the feeds connect, its answer given to ``store.initialize``."""

    method: str
    path: str
    """Appended to the profile's ``rest_url``."""
    params: dict[str, Any] = field(default_factory=dict)
    """The query."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEvent:
    """One private event about an order, as the demo prints it."""

    order_id: str
    label: str
    """What happened, in the exchange's words: ``"ORDER"``, ``"order Filled"``."""
    detail: str
    accepted: bool = False
    """The exchange acknowledges the order (bitFlyer ``ORDER``, Bybit ``New``, OKX ``live``)."""
    fill: bool = False
    """An execution of (part of) the order."""
    closed: bool = False
    """The order is done: filled, cancelled, rejected or expired."""
    filled: bool = False
    """Closed because it was filled (its executions may be separate events)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """An open position, as the demo prints it."""

    side: str
    """``"BUY"`` or ``"SELL"``."""
    size: Any
    price: Any
    extra: str = ""
    """Shown after the price, e.g. ``" (unrealisedPnl -0.0002)"``."""


class Profile(abc.ABC, Generic[S]):
    """One exchange as the demo drives it (see the module docstring)."""

    exchange: ClassVar[str]
    """The simulator's ``exchange=`` and the CLI's ``--exchange``."""
    name: ClassVar[str]
    """How people write it: ``"bitFlyer"``, ``"Bybit"``, ``"OKX"``."""
    default_product: ClassVar[str]
    rest_url: ClassVar[str]
    """The production REST base URL."""
    subscriptions: ClassVar[str] = "channels"
    """What the exchange calls a subscription: ``"channels"`` or ``"topics"``."""
    book_name: ClassVar[str]
    """The book's channel or topic in step names: ``"board"``, ``"orderbook.50"``."""
    book_key: ClassVar[str]
    """The level field naming the product: ``sorted({book_key: product})`` reads its book."""
    book_sides: ClassVar[tuple[str, str]]
    """The bids' and the asks' keys in what ``sorted()`` returns."""
    level_fields: ClassVar[tuple[str, str]]
    """A level's price and size fields."""
    seq_name: ClassVar[str | None] = None
    """The field that numbers the book's updates (``"u"``, ``"seqId"``), if any."""
    ticker_key: ClassVar[str]
    """The ticker store's key field."""
    ticker_fields: ClassVar[tuple[str, str, str, str]]
    """The ticker's last price, best bid, best ask and volume fields."""
    signature: ClassVar[tuple[tuple[str, HeaderShown], ...]]
    """The headers the signer adds, in the order shown, and how to show each."""
    signature_params: ClassVar[tuple[tuple[str, HeaderShown], ...]] = ()
    """The query parameters the signer adds (Binance's ``timestamp`` and ``signature``),
    shown after the headers."""
    login: ClassVar[bool] = True
    """The private feed logs in (bitFlyer ``auth``, Bybit ``op: auth``, OKX ``op: login``);
    Binance's user data stream needs none: its URL names a listenKey."""
    spot: ClassVar[bool] = False
    """Spot trading: no position; the order shows as a change of :meth:`balances`."""
    ticker_labels: ClassVar[tuple[str, str] | None] = None
    """How the frame names the last price and the volume, when the fields' names say
    little (Binance's ``c`` and ``v``); ``None``: the field names."""
    order_id_name: ClassVar[str]
    """The field of the order reply that names the order."""
    events_name: ClassVar[str]
    """Where the order's events come from, for the line above them."""
    accepted_what: ClassVar[str]
    """The event that acknowledges the order, for a step that waits for it."""
    done_what: ClassVar[str]
    """The event(s) that end it, for a step that waits for them."""
    position_what: ClassVar[str]
    """The position update (spot: the balance update), for a step that waits for it."""

    @property
    def products(self) -> tuple[str, ...]:
        """The products the demo trades here: the simulator's margin ones (spot: its spot ones)."""
        markets = DEFAULT_MARKETS_BY_EXCHANGE[self.exchange]
        return tuple(code for code, spec in markets.items() if spec.margin != self.spot)

    def setup(self, product: str) -> list[SetupCall]:
        """The REST calls whose answers the store must have before :meth:`feeds` (none here)."""
        return []

    @abc.abstractmethod
    def new_store(self) -> S:
        """The one DataStoreCollection every feed is folded into."""

    @abc.abstractmethod
    def feeds(self, product: str, store: S) -> list[Feed]:
        """The WebSockets to open, public first, once ``store`` holds the :meth:`setup` answers.

        Raises:
            LookupError: the store lacks what a feed needs (the answer was not what it
                should be); the message says what.
        """

    @abc.abstractmethod
    def channel_of(self, msg: Any, product: str) -> str | None:
        """The summary's name for the channel/topic of ``msg`` (``None``: a reply)."""

    @abc.abstractmethod
    def book_store(self, store: S) -> OrderBookStore:
        """The collection's order book store (``store.board``, ``store.orderbook``...)."""

    @abc.abstractmethod
    def ticker_store(self, store: S) -> DataStore:
        """The collection's ticker store."""

    @abc.abstractmethod
    def order(self, product: str, side: str, size: str) -> OrderCall:
        """A MARKET order; ``side`` is ``"BUY"`` or ``"SELL"``."""

    @abc.abstractmethod
    def order_id(self, status: int, data: Any) -> str | None:
        """The order id in an order reply, ``None`` if the order was refused."""

    @abc.abstractmethod
    def events(self, msg: Any) -> Sequence[OrderEvent]:
        """The order events a WebSocket message carries (most carry none)."""

    @abc.abstractmethod
    def positions(self, store: S, product: str) -> list[Position]:
        """The open positions in ``product``."""

    def balances(self, store: S, product: str) -> dict[str, str]:
        """Spot: the balances of ``product``'s assets, by asset, as the store holds them."""
        return {}

    def show_price(self, value: Any) -> str:
        """A price as the demo prints it (:func:`price_text`)."""
        return price_text(value)

    def show_size(self, value: Any) -> str:
        """A size as the demo prints it (:func:`size_text`)."""
        return size_text(value)


def decimal(value: Any) -> Decimal:
    """An exchange's decimal string as a number; ``0`` for anything else (``""``, ``None``)."""
    try:
        number = Decimal(value) if isinstance(value, str) and value else Decimal(0)
    except InvalidOperation:
        return Decimal(0)
    return number if number.is_finite() else Decimal(0)


def price_text(value: Any) -> str:
    """A price with thousands separators, keeping the exchange's decimals."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float):
        return f"{value:,}"
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        if number.is_finite():
            return f"{number:,}"
    return str(value)


def size_text(value: Any) -> str:
    """A size: a JSON number without float noise, a string as the exchange printed it."""
    if isinstance(value, str):
        try:
            finite = Decimal(value).is_finite()
        except InvalidOperation:
            finite = False
        if finite:
            return value
    try:
        return f"{float(value):.8f}".rstrip("0").rstrip(".") or "0"
    except (TypeError, ValueError):
        return str(value)
