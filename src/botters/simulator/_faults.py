"""What can go wrong on purpose: WebSocket and REST fault descriptions.

A :class:`Fault` describes the misbehaviour of one WebSocket connection. It is
either armed for the next connection attempts (:meth:`Simulator.inject`) or
applied to a live connection (:meth:`SimConnection.inject`). Counts
(``*_after``) are numbers of text frames the simulator sends on the connection
(replies, channel messages and garbage frames alike; pongs and close frames do
not count): on a fresh connection they count from its first frame, on a live
connection from the moment the fault is applied. ``0`` means "at once".

The book faults (``*_diff_after``, ``corrupt_checksum_after``) count *book
diffs* instead: the incremental order-book messages offered to the connection
(bitFlyer's ``lightning_board_{product}``, Bybit's ``orderbook.*`` deltas,
OKX's ``books`` updates; never snapshots), counting those the connection would
have been sent had no fault intervened. ``0`` means "the next diff". They
change only what the client receives: the simulator's own book (the truth of
:meth:`Simulator.book_levels`) moves on as if nothing happened.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Fault", "RestFault"]


def _check_count(name: str, value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or value < 0):
        raise ValueError(f"{name} must be None or an int >= 0, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """Misbehaviour of one WebSocket connection (combine fields freely).

    Attributes:
        refuse: Answer the WebSocket handshake with this HTTP status (e.g.
            ``503``) instead of upgrading. Only meaningful for a fault armed
            for the next connection.
        reject_login: Refuse every login on the connection, whatever its
            signature: bitFlyer answers ``auth`` with a JSON-RPC error, Bybit
            ``auth`` with ``success: false``, OKX ``login`` with
            ``event: error`` code ``60009``.
        reply_delay: Seconds to hold back every reply to a client request
            (login, subscribe, unsubscribe, pings, errors). Channel data
            keeps flowing, so replies can arrive after data.
        drop_after: After this many frames, drop the TCP connection
            abruptly: no close frame, no FIN handshake from the WebSocket layer.
        silent_after: After this many frames, go silent: send nothing more
            (no data, no replies, no pongs, no close frame, not even an answer
            to the client's close frame) and ignore everything received, until
            the client gives up and closes the TCP connection. This is what a
            dead peer behind a black-holing network looks like.
        garbage_after: After this many frames, send one text frame that is
            not JSON, then carry on normally.
        close_after: After this many frames, close the WebSocket with
            ``close_code`` and ``close_reason``.
        close_code: The close code for ``close_after``.
        close_reason: The close reason for ``close_after``.
        skip_diff_after: After this many book diffs, leave out the next one: a
            sequence gap (the diff after it no longer links: Bybit's ``u``
            jumps by 2, OKX's ``prevSeqId`` names a ``seqId`` never seen). On
            bitFlyer, which has no sequence numbers, one board diff is lost.
        duplicate_diff_after: After this many book diffs, send the next one twice.
        reorder_diff_after: After this many book diffs, hold the next one back
            and send it right after the diff that follows it on the same
            topic (two consecutive diffs swapped).
        corrupt_checksum_after: After this many book diffs, send the next one
            with a wrong ``checksum`` (OKX only; a checksum is only ever wrong
            on that one message: the book it describes is still the truth).
    """

    refuse: int | None = None
    reject_login: bool = False
    reply_delay: float = 0.0
    drop_after: int | None = None
    silent_after: int | None = None
    garbage_after: int | None = None
    close_after: int | None = None
    close_code: int = 1011
    close_reason: str = "simulated close"
    skip_diff_after: int | None = None
    duplicate_diff_after: int | None = None
    reorder_diff_after: int | None = None
    corrupt_checksum_after: int | None = None

    def __post_init__(self) -> None:
        if self.refuse is not None and not 400 <= self.refuse <= 599:
            raise ValueError(f"refuse must be an HTTP error status (400-599), got {self.refuse!r}")
        if self.reply_delay < 0:
            raise ValueError(f"reply_delay must be >= 0, got {self.reply_delay!r}")
        for name in (
            "drop_after",
            "silent_after",
            "garbage_after",
            "close_after",
            "skip_diff_after",
            "duplicate_diff_after",
            "reorder_diff_after",
            "corrupt_checksum_after",
        ):
            _check_count(name, getattr(self, name))
        if not (
            self.close_code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011)
            or 3000 <= self.close_code <= 4999
        ):
            raise ValueError(f"close_code {self.close_code!r} may not be sent in a close frame")
        if len(self.close_reason.encode()) > 123:
            raise ValueError("close_reason must fit in 123 bytes (RFC 6455)")


@dataclass(frozen=True, slots=True, kw_only=True)
class RestFault:
    """Misbehaviour of one REST request.

    Attributes:
        delay: Seconds to wait before handling the request.
        status: Answer with this HTTP status and the exchange's error body
            instead of handling the request (e.g. ``500``, ``503``, ``429``).
        book_age: Answer a book snapshot request (Binance ``GET
            /api/v3/depth``) with the book as it was this many book events
            ago (``0``: as now), its update id as it was then, so that a
            client must replay the diffs it buffered since. Binance only.
    """

    delay: float = 0.0
    status: int | None = None
    book_age: int | None = None

    def __post_init__(self) -> None:
        if self.delay < 0:
            raise ValueError(f"delay must be >= 0, got {self.delay!r}")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP error status (400-599), got {self.status!r}")
        _check_count("book_age", self.book_age)
