"""One accepted WebSocket connection: its writer queue, its state and its faults.

Theory of operation
-------------------
Each connection has one *writer task*, the only code that sends on it:
replies, channel messages, pongs and fault actions all go through its queue,
so frames never interleave and "after N frames" is exact. The simulator's
loop owns every attribute; :class:`SimConnection`'s public methods hop onto
that loop (``Simulator._call``), so tests may call them from any thread.

Book diffs go through :meth:`SimConnection._send_diff`, where the book faults
act: a diff is counted when it is offered, then left out, doubled, held back
for one diff, or sent with a corrupted checksum. Only what this connection
receives changes; the market and every other connection are untouched.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from aiohttp import WSCloseCode, web

from ._faults import Fault

if TYPE_CHECKING:
    from ._server import Simulator

__all__ = ["GARBAGE_FRAME", "SimConnection"]

logger = logging.getLogger("botters.simulator")

GARBAGE_FRAME: Final = "}{ this frame is not JSON \x00"
"""The text of the frame sent by ``Fault(garbage_after=...)``."""


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
        path: str,
    ) -> None:
        self._sim = sim
        self._number = number
        self._path = path
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
        self._pings_sent = 0
        self._pongs_received = 0
        self._unanswered = 0  # PINGs sent since the last PONG
        # Subscription key (see Simulator.wait_for_subscription) -> the dialect's data.
        self._subscriptions: dict[str, Any] = {}
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
        # Book faults: absolute book-diff indices at which each fires.
        self._diffs = 0
        self._skip_at: int | None = None
        self._duplicate_at: int | None = None
        self._reorder_at: int | None = None
        self._corrupt_at: int | None = None
        self._held: dict[str, str] = {}  # topic -> the diff a reorder holds back

    def __repr__(self) -> str:
        return f"<SimConnection #{self._number} {'open' if self._open else 'closed'}>"

    # ---------------------------------------------------------------- reading

    @property
    def number(self) -> int:
        """1 for the first accepted connection, then 2, 3, ..."""
        return self._number

    @property
    def path(self) -> str:
        """The WebSocket path the client connected to, e.g. ``/v5/private``."""
        return self._path

    @property
    def conn_id(self) -> str:
        """The connection id the exchange's replies carry (Bybit ``conn_id``, OKX ``connId``)."""
        return f"sim{self._number:04d}"

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
        """Whether a login (``auth``, ``op: auth``, ``op: login``) succeeded here."""
        return self._sim._call(lambda: self._key is not None)

    @property
    def subscriptions(self) -> frozenset[str]:
        """The channels or topics this connection is subscribed to now.

        Spelled as :meth:`Simulator.wait_for_subscription` takes them.
        """
        return self._sim._call(lambda: frozenset(self._subscriptions))

    @property
    def messages_sent(self) -> int:
        """Text frames sent so far (replies, channel messages, garbage)."""
        return self._sim._call(lambda: self._sent)

    @property
    def diffs_offered(self) -> int:
        """Book diffs offered to this connection so far (what the book faults count)."""
        return self._sim._call(lambda: self._diffs)

    @property
    def pings_sent(self) -> int:
        """PING frames the server sent (``ws_ping_interval``, Binance's habit)."""
        return self._sim._call(lambda: self._pings_sent)

    @property
    def pongs_received(self) -> int:
        """PONG frames the client sent."""
        return self._sim._call(lambda: self._pongs_received)

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
            ValueError: ``fault.refuse`` is set (a live connection has no handshake left),
                or the exchange cannot have this fault (a checksum fault without checksums).
        """
        if fault.refuse is not None:
            raise ValueError("refuse= only applies to a handshake: use Simulator.inject()")
        self._sim._check_fault(fault)
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
        diffs = self._diffs
        if fault.skip_diff_after is not None:
            self._skip_at = diffs + fault.skip_diff_after
        if fault.duplicate_diff_after is not None:
            self._duplicate_at = diffs + fault.duplicate_diff_after
        if fault.reorder_diff_after is not None:
            self._reorder_at = diffs + fault.reorder_diff_after
        if fault.corrupt_checksum_after is not None:
            self._corrupt_at = diffs + fault.corrupt_checksum_after
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

    def _send_diff(self, topic: str, text: str, corrupted: Callable[[], str] | None = None) -> None:
        """Queue one book diff of ``topic``, through the book faults.

        ``corrupted`` renders the same diff with a wrong checksum (``None``
        when the exchange sends no checksum).
        """
        if not self._open or self._ending or self._silent:
            return
        index = self._diffs
        self._diffs += 1
        n = self._number
        if self._skip_at is not None and index >= self._skip_at:
            self._skip_at = None
            self._sim._fault_applied("diffs_skipped")
            logger.info("fault: connection #%d: skipping book diff #%d (%s)", n, index, topic)
            return
        if self._corrupt_at is not None and index >= self._corrupt_at and corrupted is not None:
            self._corrupt_at = None
            self._sim._fault_applied("checksums_corrupted")
            logger.info("fault: connection #%d: corrupting the checksum of diff #%d", n, index)
            text = corrupted()
        if self._reorder_at is not None and index >= self._reorder_at and topic not in self._held:
            self._reorder_at = None
            self._sim._fault_applied("diffs_reordered")
            logger.info("fault: connection #%d: holding back book diff #%d (%s)", n, index, topic)
            self._held[topic] = text
            return
        self._send(text)
        if self._duplicate_at is not None and index >= self._duplicate_at:
            self._duplicate_at = None
            self._sim._fault_applied("diffs_duplicated")
            logger.info("fault: connection #%d: sending book diff #%d twice", n, index)
            self._send(text)
        held = self._held.pop(topic, None)
        if held is not None:
            self._send(held)

    def _forget(self, topic: str) -> None:
        """``topic`` was unsubscribed or starts over with a snapshot: drop a held diff."""
        self._held.pop(topic, None)

    async def _ping_loop(self, interval: float) -> None:
        """Send a PING every ``interval`` s; drop the peer once three went unanswered."""
        while self._open and not self._ending:
            await asyncio.sleep(interval)
            if not self._open or self._ending or self._silent:
                continue
            if self._unanswered >= 3:
                logger.info(
                    "connection #%d: no PONG to 3 PINGs in %.3g s: disconnecting",
                    self._number,
                    3 * interval,
                )
                self._apply(Fault(drop_after=0))
                return
            self._unanswered += 1
            self._queue.append(("ping", b""))
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
                elif kind == "ping":
                    if not self._silent:
                        await ws.ping(item[1])
                        self._pings_sent += 1
                        self._sim._changed()
                elif kind == "close":
                    await ws.close(code=item[1], message=item[2].encode())
                    return
                elif kind == "abort":
                    if self._transport is not None:
                        self._transport.abort()
                    return
        except (ConnectionError, RuntimeError) as exc:
            logger.debug("connection #%d: send failed: %r", self._number, exc)
