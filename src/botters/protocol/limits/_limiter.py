r"""The pure REST rate limiter: "send now" or "wait until T", never a sleep.

Theory of operation
-------------------
:meth:`RateLimiter.reserve` prices a request with its exchange's
:class:`~._model.ExchangeLimits` and books it, at the earliest moment every
window it costs allows, into a *bucket* per ``(window, key)``. It returns a
:class:`Reservation` whose :attr:`~Reservation.at` is that moment; the adapter
sleeps until then and sends. The limiter itself never sleeps, reads no clock
and does no I/O: ``now`` is always an argument.

Time is the **wall clock** (``time.time()``), because fixed windows start at
wall-clock multiples of their period (Binance's minute starts at second 0 UTC).
Adapters sleep ``at - time.time()`` with their own monotonic sleep.

Booking ahead is what makes it fair and exact. A burst of 1,000 requests
against a window of 100 per second is booked at once: the first 100 at ``now``,
the next 100 at the next second, and so on, each waiter sleeping exactly until
its own slot. Nobody polls and nobody sleeps longer than needed:

* a waiter that is cancelled :meth:`~RateLimiter.cancel`\ s its reservation;
  the reservations booked after it are re-planned and may move earlier (the
  adapter wakes those whose :attr:`~Reservation.at` moved);
* a throttle (HTTP 429/418), a reported ``remaining`` of 0 or a counter that
  shows more usage than booked here moves pending reservations later; the
  adapter re-reads :attr:`~Reservation.at` when it wakes.

Counting, per window kind:

* **fixed** windows keep a count per window index ``floor(t / period)``. A
  request sent at ``t`` may be counted by the exchange in the window of
  ``t - margin`` or of ``t + margin`` (clock skew, latency), so it is counted
  in both when they differ. Bookings in a fixed window may be made out of
  order: a small request can use room left in the current second while a big
  one waits for the next.
* **sliding** windows keep a time-ordered log and allow at most ``limit``
  units in any interval of ``period + margin`` seconds. A booking goes at the
  earliest time where every interval around it stays within the limit, which
  can be before bookings made earlier (without moving them).

A request that costs more than a whole window (possible after ``scale``) is
let through when its windows are empty, rather than never.
"""

from __future__ import annotations

import math
from bisect import bisect_right, insort_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any, Final

from botters.protocol._request import Request

from ._model import ExchangeLimits, Observation, Window, lower_headers, retry_after

__all__ = ["RateLimiter", "Reservation", "WindowUsage"]

_THROTTLED: Final = frozenset({418, 429})
_BAN: Final = 418
_FIRST_BACKOFF: Final = 1.0
_MAX_BACKOFF: Final = 60.0


class _Bucket:
    """One window's counter for one key (or the IP)."""

    __slots__ = ("blocked_until", "key", "limit", "margin", "window")

    def __init__(self, window: Window, key: str | None, scale: float, margin: float) -> None:
        self.window = window
        self.key = key
        self.limit = window.limit * scale
        self.margin = margin
        self.blocked_until = 0.0

    def earliest(self, t: float, units: float) -> float:
        raise NotImplementedError

    def book(self, t: float, units: float) -> None:
        raise NotImplementedError

    def take(self, t: float, units: float) -> bool:
        """Book ``units`` at ``t`` if the window allows them then; the fast path of booking."""
        if self.earliest(t, units) == t:
            self.book(t, units)
            return True
        return False

    def unbook(self, t: float, units: float) -> None:
        raise NotImplementedError

    def used(self, now: float) -> float:
        raise NotImplementedError

    def prune(self, now: float) -> None:
        raise NotImplementedError

    def raise_used(self, now: float, used: float) -> bool:
        """The exchange counts ``used`` units now; ``True`` if that is more than booked."""
        raise NotImplementedError


class _FixedBucket(_Bucket):
    __slots__ = ("counts", "period")

    def __init__(self, window: Window, key: str | None, scale: float, margin: float) -> None:
        # A margin of half a period or more would count a request in three windows.
        super().__init__(window, key, scale, min(margin, window.period / 4))
        self.period = window.period
        self.counts: dict[float, float] = {}  # by window index (a whole float)

    def _span(self, t: float) -> tuple[float, float]:
        # Floor division, not math.floor(x / period): one operation, and the
        # same rounding everywhere a window index is computed.
        period, margin = self.period, self.margin
        return (t - margin) // period, (t + margin) // period

    def earliest(self, t: float, units: float) -> float:
        if t < self.blocked_until:
            t = self.blocked_until
        counts, limit, period, margin = self.counts, self.limit, self.period, self.margin
        while True:
            lo = (t - margin) // period
            hi = (t + margin) // period
            full = None
            used = counts.get(lo, 0.0)
            if used and used + units > limit:
                full = lo
            if hi != lo:
                used = counts.get(hi, 0.0)
                if used and used + units > limit:
                    full = hi
            if full is None:
                return t
            t = (full + 1) * period + margin
            while (t - margin) // period <= full:  # rounding
                t = math.nextafter(t, math.inf)

    def take(self, t: float, units: float) -> bool:
        if t < self.blocked_until:
            return False
        period, margin, limit, counts = self.period, self.margin, self.limit, self.counts
        lo = (t - margin) // period
        hi = (t + margin) // period
        used = counts.get(lo, 0.0)
        if used and used + units > limit:
            return False
        if hi != lo:
            other = counts.get(hi, 0.0)
            if other and other + units > limit:
                return False
            counts[hi] = other + units
        counts[lo] = used + units
        return True

    def book(self, t: float, units: float) -> None:
        lo, hi = self._span(t)
        counts = self.counts
        counts[lo] = counts.get(lo, 0.0) + units
        if hi != lo:
            counts[hi] = counts.get(hi, 0.0) + units

    def unbook(self, t: float, units: float) -> None:
        lo, hi = self._span(t)
        counts = self.counts
        for index in (lo, hi) if lo != hi else (lo,):
            left = counts.get(index, 0.0) - units
            if left > 1e-9:
                counts[index] = left
            else:
                counts.pop(index, None)

    def used(self, now: float) -> float:
        return self.counts.get(now // self.period, 0.0)

    def prune(self, now: float) -> None:
        oldest = (now - self.margin) // self.period
        counts = self.counts
        if len(counts) > 2:
            for index in [i for i in counts if i < oldest]:
                del counts[index]

    def raise_used(self, now: float, used: float) -> bool:
        index = now // self.period
        if used > self.counts.get(index, 0.0):
            self.counts[index] = used
            return True
        return False


class _SlidingBucket(_Bucket):
    """At most ``limit`` units in any interval of ``period + margin`` seconds.

    The log holds every booking still inside a window, sorted by time. A new
    booking may land before bookings made earlier (a small request uses room a
    big one left), but only where it keeps every interval around it within the
    limit, so no booking already made ever has to move.
    """

    __slots__ = ("log", "span")

    def __init__(self, window: Window, key: str | None, scale: float, margin: float) -> None:
        super().__init__(window, key, scale, margin)
        self.span = window.period + margin
        self.log: list[tuple[float, float]] = []  # (sent at, units), by time

    def _leaves(self, entry: tuple[float, float]) -> float:
        return entry[0] + self.span

    def earliest(self, t: float, units: float) -> float:
        if t < self.blocked_until:
            t = self.blocked_until
        log = self.log
        if not log:
            return t
        # The feasible times start at ``t`` or where some booking leaves the
        # window (``sent + span``): try those in order, skipping past each conflict.
        while True:
            conflict = self._conflict(t, units)
            if conflict is None:
                return t
            t = log[bisect_right(log, conflict, key=self._leaves)][0] + self.span

    def _conflict(self, t: float, units: float) -> float | None:
        """The end of the first full interval that a booking at ``t`` would fall in."""
        log, span, limit = self.log, self.span, self.limit
        left = bisect_right(log, t, key=self._leaves)  # first booking still inside at t
        right = bisect_right(log, t, key=_sent)  # first booking after t
        inside = 0.0
        for i in range(left, right):
            inside += log[i][1]
        if inside and inside + units > limit:
            return t
        end, n = t + span, len(log)
        while right < n and log[right][0] < end:  # intervals ending at later bookings
            anchor = log[right][0]
            while right < n and log[right][0] <= anchor:
                inside += log[right][1]
                right += 1
            while log[left][0] + span <= anchor:
                inside -= log[left][1]
                left += 1
            if inside + units > limit:
                return anchor
        return None

    def book(self, t: float, units: float) -> None:
        insort_right(self.log, (t, units), key=_sent)

    def unbook(self, t: float, units: float) -> None:
        log = self.log
        for i in range(bisect_right(log, t, key=_sent) - 1, -1, -1):
            if log[i][0] != t:
                return
            if log[i][1] == units:
                del log[i]
                return

    def used(self, now: float) -> float:
        start = now - self.window.period
        return sum(size for sent, size in self.log if start < sent <= now)

    def prune(self, now: float) -> None:
        log = self.log
        gone = bisect_right(log, now, key=self._leaves)
        if gone:
            del log[:gone]

    def raise_used(self, now: float, used: float) -> bool:
        booked = sum(size for sent, size in self.log if now - self.span < sent <= now)
        if used > booked:
            self.book(now, used - booked)
            return True
        return False


class _Gate(_Bucket):
    """No budget, only a block: what unpriced requests of a throttled exchange wait on."""

    __slots__ = ()

    def __init__(self, exchange: str) -> None:
        window = Window(name=f"{exchange}.unpriced", limit=1, period=1.0)
        super().__init__(window, None, 1.0, 0.0)

    def earliest(self, t: float, units: float) -> float:
        return max(t, self.blocked_until)

    def book(self, t: float, units: float) -> None:
        pass

    def unbook(self, t: float, units: float) -> None:
        pass

    def used(self, now: float) -> float:
        return 0.0

    def prune(self, now: float) -> None:
        pass

    def raise_used(self, now: float, used: float) -> bool:
        return False


def _sent(entry: tuple[float, float]) -> float:
    return entry[0]


@dataclass(frozen=True, slots=True)
class WindowUsage:
    """A window's state for one key, as :meth:`RateLimiter.usage` reports it."""

    window: Window
    key: str | None
    """``None`` for a per-IP window; the API key, masked to its first 4 characters."""
    used: float
    """Units counted in the current window (fixed) or the last period (sliding)."""
    limit: float
    """The budget applied (documented or reported, times ``scale``)."""
    blocked_until: float | None
    """When a throttle or an exhausted counter lifts (wall clock), if one is in force."""


class Reservation:
    """A request's booked slot: send it once the wall clock reaches :attr:`at`.

    :attr:`at` can change while the request waits: later after a throttle,
    earlier after another waiter is cancelled. Read it again when waking.
    """

    __slots__ = ("_costs", "_limiter", "_seq", "at", "exchange", "waker")

    def __init__(
        self,
        limiter: RateLimiter,
        exchange: str,
        costs: list[tuple[_Bucket, float]],
        at: float,
        seq: int,
    ) -> None:
        self._limiter = limiter
        self._costs = costs
        self._seq = seq
        self.at = at
        """When the request may be sent (``time.time()`` seconds)."""
        self.exchange = exchange
        """The exchange whose limits priced the request."""
        self.waker: Any = None
        """The adapter's handle to wake this reservation's waiter (opaque to the core)."""

    @property
    def windows(self) -> tuple[tuple[Window, float], ...]:
        """What the request costs: ``(window, units)`` pairs."""
        return tuple((b.window, units) for b, units in self._costs if not isinstance(b, _Gate))

    def __repr__(self) -> str:
        names = ", ".join(f"{b.window.name}={u:g}" for b, u in self._costs)
        return f"<Reservation {self.exchange} at={self.at:.3f} {names}>"


class RateLimiter:
    """Books REST requests against the documented limits of their exchange.

    Args:
        limits: The exchanges' limits; ``None`` for every exchange botters
            knows (:func:`botters.protocol.limits.default_limits`). A host
            none of them lists is never limited.
        scale: Multiplies every limit: ``0.8`` keeps a fifth of each budget
            spare (for another program on the same IP or key).
        margin: Seconds of clock skew plus latency to allow for: a request
            sent within ``margin`` of a fixed window's boundary counts in both
            windows, and a sliding window is ``margin`` longer than documented.

    One limiter may be shared by several clients (pass it to each); it is not
    thread-safe, so share it only within one event loop.
    """

    def __init__(
        self,
        limits: Iterable[ExchangeLimits] | None = None,
        *,
        scale: float = 1.0,
        margin: float = 0.25,
    ) -> None:
        if not scale > 0:
            raise ValueError("scale must be positive")
        if not margin >= 0:
            raise ValueError("margin must be zero or positive")
        if limits is None:
            from ._registry import default_limits

            limits = default_limits()
        self.scale: Final = scale
        self.margin: Final = margin
        self._by_host: dict[str, ExchangeLimits] = {}
        for each in limits:
            for host in each.hosts:
                self._by_host[host] = each
        self._buckets: dict[tuple[Window, str | None], _Bucket] = {}
        self._pending: dict[int, Reservation] = {}  # booked for later, by booking order
        self._seq = count()
        self._throttles: dict[ExchangeLimits, int] = {}
        self._gates: dict[ExchangeLimits, _Gate] = {}  # throttles of unpriced requests
        self._prune_at = 0.0

    @property
    def exchanges(self) -> Mapping[str, ExchangeLimits]:
        """Which limits apply to which host."""
        return dict(self._by_host)

    def limits_for(self, request: Request) -> ExchangeLimits | None:
        """The limits that apply to ``request``'s host, or ``None``."""
        return self._by_host.get(request.host)

    # -- booking ------------------------------------------------------------------------

    def reserve(
        self, request: Request, *, now: float, key: str | None = None
    ) -> Reservation | None:
        """Book ``request`` and say when it may go; ``None`` if nothing limits it.

        ``None`` means the host is not limited, or its table does not price the
        request and no throttle holds it.

        Args:
            request: The request about to be sent (signed or not: only its
                host, method, path and query are read).
            now: The current ``time.time()``.
            key: The API key the request is signed with (``None`` if
                unsigned): per-key windows are counted per key and skipped
                for unsigned requests.
        """
        limits = self._by_host.get(request.host)
        if limits is None:
            return None
        prices = limits.price(request)
        if now >= self._prune_at:
            self._prune(now)
        costs: list[tuple[_Bucket, float]] = []
        if prices:
            buckets = self._buckets
            for window, units in prices:
                scope = window.scope
                if scope == "ip":
                    bucket_key: tuple[Window, str | None] = (window, None)
                elif scope == "key":
                    if key is None:
                        continue
                    bucket_key = (window, key)
                elif key is None:  # "anonymous"
                    bucket_key = (window, None)
                else:
                    continue
                bucket = buckets.get(bucket_key)
                if bucket is None:
                    bucket = self._new_bucket(window, bucket_key[1])
                costs.append((bucket, units))
        if not costs:
            # Unpriced, the request still waits out a throttle or ban its exchange is under.
            gate = self._gates.get(limits)
            if gate is None or gate.blocked_until <= now:
                return None
            costs.append((gate, 0.0))
        taken = 0
        for bucket, units in costs:  # most requests fit at once: book them in one pass
            if not bucket.take(now, units):
                break
            taken += 1
        if taken == len(costs):
            at = now
        else:
            for bucket, units in costs[:taken]:
                bucket.unbook(now, units)
            at = self._earliest(costs, now)
            for bucket, units in costs:
                bucket.book(at, units)
        reservation = Reservation(self, limits.exchange, costs, at, next(self._seq))
        if at > now:
            self._pending[reservation._seq] = reservation
        return reservation

    def cancel(self, reservation: Reservation, *, now: float) -> list[Reservation]:
        """Give back a reservation whose request will not be sent.

        Only a reservation still waiting (``at > now``) is given back: one whose
        time has come may already be on the wire. Returns the reservations that
        moved earlier as a result; their waiters should wake.
        """
        if self._pending.pop(reservation._seq, None) is None or reservation.at <= now:
            return []
        for bucket, units in reservation._costs:
            bucket.unbook(reservation.at, units)
        return self._replan(now)

    def _new_bucket(self, window: Window, key: str | None) -> _Bucket:
        kind = _FixedBucket if window.kind == "fixed" else _SlidingBucket
        bucket = kind(window, key, self.scale, self.margin)
        self._buckets[(window, key)] = bucket
        return bucket

    @staticmethod
    def _earliest(costs: Sequence[tuple[_Bucket, float]], now: float) -> float:
        """The earliest time at or after ``now`` that every bucket allows."""
        if len(costs) == 1:
            bucket, units = costs[0]
            return bucket.earliest(now, units)
        at = now
        settled = False
        while not settled:
            settled = True
            for bucket, units in costs:
                t = bucket.earliest(at, units)
                if t > at:
                    at, settled = t, False
        return at

    def _replan(self, now: float) -> list[Reservation]:
        """Book every waiting reservation again, in booking order; those whose time changed."""
        waiting = [r for r in self._pending.values() if r.at > now]
        self._pending = {r._seq: r for r in waiting}
        for reservation in waiting:
            for bucket, units in reservation._costs:
                bucket.unbook(reservation.at, units)
        moved: list[Reservation] = []
        for reservation in waiting:
            at = self._earliest(reservation._costs, now)
            for bucket, units in reservation._costs:
                bucket.book(at, units)
            if at != reservation.at:
                moved.append(reservation)
            reservation.at = at
            if at <= now:
                del self._pending[reservation._seq]
        return moved

    def _prune(self, now: float) -> None:
        for bucket in self._buckets.values():
            bucket.prune(now)
        pending = self._pending
        if pending:
            for seq in [s for s, r in pending.items() if r.at <= now]:
                del pending[seq]
        self._prune_at = now + 1.0

    # -- what the exchange said ---------------------------------------------------------

    def observe(
        self,
        request: Request,
        status: int,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        now: float,
        key: str | None = None,
        case_insensitive: bool = False,
    ) -> list[Reservation]:
        """Fold a response into the counters; the reservations whose time moved.

        ``headers`` are the response's, as a mapping or ``(name, value)``
        pairs. Pass ``case_insensitive=True`` when the mapping already
        answers ``get()`` for lower-case names (aiohttp's ``CIMultiDictProxy``,
        botters.trio's ``ResponseHeaders``, a dict of lower-cased names): it is
        then read as it is instead of copied.

        * HTTP 429 (too many requests) and 418 (Binance's IP ban) block every
          window the request costs until ``Retry-After`` says, or for 1, 2,
          4 … 60 s on consecutive throttles without one. A 418 blocks every
          per-IP window of the exchange and every request its table does not
          price; a throttle of an unpriced request holds every unpriced request.
        * Counters the exchange reports (:class:`~._model.Observation`) raise
          the local count when they show more usage (another program on the
          same IP or key), replace the documented limit with the account's,
          and block a window reported exhausted until its reset time.

        The adapter wakes the returned reservations' waiters so they re-read
        :attr:`Reservation.at` (it can only have moved later here, except
        where a reported limit is higher than the documented one).
        """
        limits = self._by_host.get(request.host)
        if limits is None:
            return []
        changed = False
        lowered: Mapping[str, str] | None = None
        if case_insensitive and isinstance(headers, Mapping):
            lowered = headers
        if status in _THROTTLED:
            if lowered is None:
                lowered = lower_headers(headers)
            changed = self._throttled(limits, request, status, lowered, now, key)
        elif 200 <= status < 300 and limits in self._throttles:
            del self._throttles[limits]
        if limits.observe is not None:
            if lowered is None:
                lowered = lower_headers(headers)
            for seen in limits.observe(request, status, lowered):
                changed |= self._fold(seen, now, key)
        return self._replan(now) if changed and self._pending else []

    def _throttled(
        self,
        limits: ExchangeLimits,
        request: Request,
        status: int,
        headers: Mapping[str, str],
        now: float,
        key: str | None,
    ) -> bool:
        wait = retry_after(headers, wall=now)
        strikes = self._throttles.get(limits, 0) + 1
        self._throttles[limits] = strikes
        if wait is None:
            wait = min(_FIRST_BACKOFF * 2 ** (strikes - 1), _MAX_BACKOFF)
        until = now + wait
        buckets: list[_Bucket] = []
        for window, _ in limits.price(request):
            bucket = self._bucket_for(window, key)
            if bucket is not None:
                buckets.append(bucket)
        if status == _BAN or not buckets:
            # A ban shuts the IP out of everything; a throttle of a request the
            # table does not price holds every request the table does not price.
            gate = self._gates.get(limits)
            if gate is None:
                gate = self._gates[limits] = _Gate(limits.exchange)
            buckets.append(gate)
        if status == _BAN:
            for window in limits.windows:
                if window.scope != "key":
                    bucket = self._bucket_for(window, None)
                    if bucket is not None:
                        buckets.append(bucket)
        changed = False
        for bucket in buckets:
            if until > bucket.blocked_until:
                bucket.blocked_until = until
                changed = True
        return changed

    def _bucket_for(self, window: Window, key: str | None) -> _Bucket | None:
        """The bucket ``window`` counts a request signed with ``key`` in, if it counts it."""
        scope = window.scope
        if scope == "key":
            if key is None:
                return None
        elif scope == "anonymous" and key is not None:
            return None
        else:
            key = None
        return self._buckets.get((window, key)) or self._new_bucket(window, key)

    def _fold(self, seen: Observation, now: float, key: str | None) -> bool:
        bucket = self._bucket_for(seen.window, key)
        if bucket is None:
            return False
        changed = False
        if seen.limit is not None and seen.limit > 0:
            limit = seen.limit * self.scale
            if limit != bucket.limit:
                bucket.limit = limit
                changed = True
        used = seen.used
        if used is None and seen.remaining is not None and seen.limit is not None:
            used = seen.limit - seen.remaining
        if used is not None and used > 0:
            changed |= bucket.raise_used(now, used)
        reset = seen.reset_at
        exhausted = seen.remaining is not None and seen.remaining <= 0
        if exhausted and reset is not None and reset > bucket.blocked_until:
            bucket.blocked_until = reset
            changed = True
        return changed

    # -- introspection ------------------------------------------------------------------

    def usage(self, *, now: float) -> list[WindowUsage]:
        """Every window that has been used, with its count at ``now``."""
        out = []
        for (window, key), bucket in self._buckets.items():
            blocked = bucket.blocked_until if bucket.blocked_until > now else None
            shown = None if key is None else key[:4] + "…"
            out.append(WindowUsage(window, shown, bucket.used(now), bucket.limit, blocked))
        return out

    def __repr__(self) -> str:
        names = sorted({limits.exchange for limits in self._by_host.values()})
        return f"<RateLimiter scale={self.scale:g} exchanges={names} waiting={len(self._pending)}>"
