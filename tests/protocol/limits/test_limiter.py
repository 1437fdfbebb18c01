"""The pure REST limiter: booking, cancelling, throttles and counters, with a fake clock."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botters.protocol import Request
from botters.protocol.limits import (
    ExchangeLimits,
    Observation,
    RateLimiter,
    Window,
    retry_after,
)

HOST = "api.example.com"


def limits(*windows: Window, per_path: dict[str, tuple] | None = None, observe=None):
    """Limits on HOST: every request costs 1 in each window, unless ``per_path`` says."""
    default = tuple((w, 1.0) for w in windows)

    def price(request: Request):
        if per_path is not None and request.path in per_path:
            return per_path[request.path]
        return default

    return ExchangeLimits(
        exchange="demo",
        hosts=frozenset({HOST}),
        windows=windows,
        price=price,
        observe=observe,
        source="https://example.com/limits",
    )


def get(path: str = "/v1/time", host: str = HOST) -> Request:
    return Request.build("GET", f"https://{host}{path}")


def test_fixed_window_books_a_burst_into_successive_windows() -> None:
    second = Window(name="s", limit=3, period=1.0, kind="fixed")
    limiter = RateLimiter([limits(second)], margin=0)
    times = [limiter.reserve(get(), now=10.5).at for _ in range(7)]
    assert times == [10.5, 10.5, 10.5, 11.0, 11.0, 11.0, 12.0]


def test_a_host_without_limits_is_never_booked() -> None:
    limiter = RateLimiter([limits(Window(name="s", limit=1, period=1.0))])
    assert limiter.reserve(get(host="api.other.example"), now=0.0) is None
    assert limiter.reserve(get(host="api.example.com.evil.example"), now=0.0) is None


def test_the_margin_counts_a_request_near_a_boundary_in_both_windows() -> None:
    minute = Window(name="m", limit=2, period=60.0, kind="fixed")
    limiter = RateLimiter([limits(minute)], margin=0.5)
    # Sent 0.2 s before the minute: it may arrive in the next one.
    assert limiter.reserve(get(), now=59.8).at == 59.8
    assert limiter.reserve(get(), now=59.8).at == 59.8
    # Both windows now hold 2: the next request waits until the second one is
    # safely clear of the boundary too, i.e. the third window's margin.
    assert limiter.reserve(get(), now=59.9).at == pytest.approx(120.5)


def test_a_small_request_uses_room_a_big_one_cannot() -> None:
    weight = Window(name="w", limit=10, period=1.0, kind="fixed")
    big = {"/big": ((weight, 8.0),)}
    limiter = RateLimiter([limits(weight, per_path=big)], margin=0)
    assert limiter.reserve(get("/big"), now=0.0).at == 0.0
    assert limiter.reserve(get("/big"), now=0.0).at == 1.0  # 8 + 8 > 10
    assert limiter.reserve(get("/small"), now=0.0).at == 0.0  # 8 + 1 fits now


def test_a_request_bigger_than_the_window_goes_when_it_is_empty() -> None:
    weight = Window(name="w", limit=5, period=1.0, kind="fixed")
    huge = {"/huge": ((weight, 50.0),)}
    limiter = RateLimiter([limits(weight, per_path=huge)], margin=0)
    assert limiter.reserve(get(), now=0.0).at == 0.0
    assert limiter.reserve(get("/huge"), now=0.0).at == 1.0
    # The second has room left in this window; after that, the oversized one
    # fills the next window on its own.
    assert [limiter.reserve(get(), now=0.0).at for _ in range(5)] == [0.0] * 4 + [2.0]


def test_sliding_window_books_each_request_as_soon_as_every_interval_allows() -> None:
    window = Window(name="s", limit=2, period=1.0)
    limiter = RateLimiter([limits(window)], margin=0)
    times = [limiter.reserve(get(), now=t).at for t in (0.0, 0.3, 0.4, 0.5, 1.2)]
    assert times == [0.0, 0.3, 1.0, 1.3, 2.0]


def test_a_small_request_goes_before_a_big_one_booked_earlier_if_room_is_left() -> None:
    window = Window(name="s", limit=2, period=1.0)
    table = {"/small": ((window, 1.0),), "/big": ((window, 2.0),)}
    limiter = RateLimiter([limits(window, per_path=table)], margin=0)
    assert limiter.reserve(get("/small"), now=0.0).at == 0.0
    big = limiter.reserve(get("/big"), now=0.0)
    assert big.at == 1.0
    assert limiter.reserve(get("/small"), now=0.0).at == 0.0  # the room left before it
    assert limiter.reserve(get("/small"), now=0.0).at == 2.0  # nothing left before it
    assert big.at == 1.0  # never moved


def test_sliding_window_is_longer_by_the_margin() -> None:
    window = Window(name="s", limit=1, period=1.0)
    limiter = RateLimiter([limits(window)], margin=0.1)
    assert limiter.reserve(get(), now=0.0).at == 0.0
    assert limiter.reserve(get(), now=0.0).at == pytest.approx(1.1)


def test_every_window_of_a_request_must_allow_it() -> None:
    fast = Window(name="fast", limit=5, period=1.0, kind="fixed")
    slow = Window(name="slow", limit=6, period=10.0, kind="fixed")
    limiter = RateLimiter([limits(fast, slow)], margin=0)
    times = [limiter.reserve(get(), now=0.0).at for _ in range(7)]
    assert times == [0.0] * 5 + [1.0, 10.0]


def test_cancelling_a_waiter_gives_its_place_to_the_next() -> None:
    window = Window(name="s", limit=1, period=1.0, kind="fixed")
    limiter = RateLimiter([limits(window)], margin=0)
    first = limiter.reserve(get(), now=0.0)
    second = limiter.reserve(get(), now=0.0)
    third = limiter.reserve(get(), now=0.0)
    assert (first.at, second.at, third.at) == (0.0, 1.0, 2.0)
    moved = limiter.cancel(second, now=0.5)
    assert moved == [third]
    assert third.at == 1.0
    # A reservation whose time came may be on the wire: it is not given back.
    assert limiter.cancel(first, now=0.5) == []
    assert limiter.reserve(get(), now=0.5).at == 2.0


def test_a_429_blocks_the_request_windows_for_retry_after() -> None:
    window = Window(name="s", limit=100, period=1.0, kind="fixed")
    limiter = RateLimiter([limits(window)], margin=0)
    waiting = limiter.reserve(get(), now=0.0)
    assert waiting.at == 0.0
    limiter.observe(get(), 429, {"Retry-After": "7"}, now=0.1)
    assert limiter.reserve(get(), now=0.2).at == pytest.approx(7.1)


def test_a_throttle_moves_waiting_reservations_later() -> None:
    window = Window(name="s", limit=1, period=1.0, kind="fixed")
    limiter = RateLimiter([limits(window)], margin=0)
    limiter.reserve(get(), now=0.0)
    queued = limiter.reserve(get(), now=0.0)
    assert queued.at == 1.0
    moved = limiter.observe(get(), 429, [("retry-after", "5")], now=0.2)
    assert moved == [queued]
    assert queued.at == pytest.approx(5.2)


def test_throttles_without_retry_after_back_off_and_reset_on_success() -> None:
    window = Window(name="s", limit=100, period=1.0)
    limiter = RateLimiter([limits(window)], margin=0)
    waits = []
    now = 0.0
    for _ in range(8):
        limiter.observe(get(), 429, {}, now=now)
        at = limiter.reserve(get(), now=now).at
        waits.append(round(at - now, 6))
        now = at
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    limiter.observe(get(), 200, {}, now=now)
    limiter.observe(get(), 429, {}, now=now)
    assert limiter.reserve(get(), now=now).at == pytest.approx(now + 1)


def test_a_418_ban_blocks_every_ip_window_of_the_exchange() -> None:
    weight = Window(name="w", limit=100, period=60.0, kind="fixed")
    orders = Window(name="o", limit=10, period=10.0, kind="fixed")
    table = {"/order": ((weight, 1.0), (orders, 1.0)), "/time": ((orders, 1.0),)}
    limiter = RateLimiter([limits(weight, orders, per_path=table)], margin=0)
    limiter.observe(get("/time"), 418, {"Retry-After": "120"}, now=0.0)
    assert limiter.reserve(get("/order"), now=1.0).at == 120.0


def test_per_key_windows_count_each_key_and_skip_unsigned_requests() -> None:
    per_key = Window(name="k", limit=1, period=1.0, kind="fixed", scope="key")
    limiter = RateLimiter([limits(per_key)], margin=0)
    assert limiter.reserve(get(), now=0.0, key="alice").at == 0.0
    assert limiter.reserve(get(), now=0.0, key="alice").at == 1.0
    assert limiter.reserve(get(), now=0.0, key="bob").at == 0.0
    assert limiter.reserve(get(), now=0.0) is None  # unsigned: not this budget
    usage = {(u.window.name, u.key): u.used for u in limiter.usage(now=0.0)}
    assert usage == {("k", "alic…"): 1.0, ("k", "bob…"): 1.0}


def test_an_anonymous_window_counts_only_requests_without_a_key() -> None:
    signed = Window(name="signed", limit=2, period=1.0, kind="fixed", scope="key")
    anonymous = Window(name="anon", limit=1, period=1.0, kind="fixed", scope="anonymous")
    limiter = RateLimiter([limits(signed, anonymous)], margin=0)
    assert limiter.reserve(get(), now=0.0).windows == ((anonymous, 1.0),)
    assert limiter.reserve(get(), now=0.0).at == 1.0
    alice = limiter.reserve(get(), now=0.0, key="alice")
    assert (alice.at, alice.windows) == (0.0, ((signed, 1.0),))


def test_a_throttled_unpriced_request_holds_the_unpriced_ones_until_retry_after() -> None:
    window = Window(name="w", limit=100, period=1.0, kind="fixed")
    limiter = RateLimiter([limits(window, per_path={"/free": ()})], margin=0)
    free = get("/free")
    assert limiter.reserve(free, now=0.0) is None
    limiter.observe(free, 429, {"Retry-After": "5"}, now=1.0)
    held = limiter.reserve(free, now=2.0)
    assert (held.at, held.windows) == (6.0, ())
    assert limiter.reserve(get(), now=2.0).at == 2.0  # priced requests have their own budget
    assert limiter.reserve(free, now=6.0) is None


def test_a_ban_holds_unpriced_requests_too() -> None:
    window = Window(name="w", limit=100, period=1.0, kind="fixed")
    limiter = RateLimiter([limits(window, per_path={"/free": ()})], margin=0)
    limiter.observe(get(), 418, {"Retry-After": "30"}, now=0.0)
    assert limiter.reserve(get("/free"), now=1.0).at == 30.0
    assert limiter.reserve(get(), now=1.0).at == 30.0


def test_a_reported_counter_above_the_local_count_is_believed() -> None:
    weight = Window(name="w", limit=10, period=60.0, kind="fixed")

    def read(request, status, headers):
        if "x-used" in headers:
            yield Observation(window=weight, used=float(headers["x-used"]))

    limiter = RateLimiter([limits(weight, observe=read)], margin=0)
    limiter.reserve(get(), now=1.0)
    limiter.observe(get(), 200, {"X-Used": "9"}, now=1.0)  # another program used 8
    assert limiter.reserve(get(), now=1.0).at == 1.0
    assert limiter.reserve(get(), now=1.0).at == 60.0
    limiter.observe(get(), 200, {"X-Used": "2"}, now=1.0)  # lower than ours: ignored
    assert limiter.reserve(get(), now=1.0).at == 60.0


def test_remaining_zero_blocks_until_the_reported_reset() -> None:
    window = Window(name="e", limit=10, period=1.0, scope="key")

    def read(request, status, headers):
        yield Observation(
            window=window,
            remaining=float(headers["remaining"]),
            limit=float(headers["limit"]),
            reset_at=float(headers["reset"]) / 1000,
        )

    limiter = RateLimiter([limits(window, observe=read)], margin=0)
    limiter.reserve(get(), now=0.0, key="k")
    exhausted = {"remaining": "0", "limit": "20", "reset": "2500"}
    limiter.observe(get(), 200, exhausted, now=0.1, key="k")
    assert limiter.reserve(get(), now=0.2, key="k").at == 2.5
    (usage,) = limiter.usage(now=0.2)
    assert usage.limit == 20  # the account's limit replaces the documented one
    assert usage.blocked_until == 2.5


def test_scale_shrinks_every_budget() -> None:
    window = Window(name="s", limit=10, period=1.0, kind="fixed")
    limiter = RateLimiter([limits(window)], scale=0.5, margin=0)
    times = [limiter.reserve(get(), now=0.0).at for _ in range(6)]
    assert times == [0.0] * 5 + [1.0]


@pytest.mark.parametrize("bad", [{"scale": 0}, {"scale": -1}, {"margin": -0.1}])
def test_bad_settings_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        RateLimiter([], **bad)


def test_windows_need_positive_numbers() -> None:
    with pytest.raises(ValueError, match="positive"):
        Window(name="x", limit=0, period=1.0)
    with pytest.raises(ValueError, match="positive"):
        Window(name="x", limit=1, period=0)


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after({"retry-after": " 3 "}, wall=0.0) == 3.0
    assert retry_after({"retry-after": "-3"}, wall=0.0) == 0.0
    assert retry_after({"retry-after": "1e12"}, wall=0.0) == 86_400.0
    assert retry_after({"retry-after": "nan"}, wall=0.0) is None
    assert retry_after({}, wall=0.0) is None


def test_reprs_show_no_key() -> None:
    per_key = Window(name="k", limit=1, period=1.0, scope="key")
    limiter = RateLimiter([limits(per_key)])
    reservation = limiter.reserve(get(), now=0.0, key="SECRETKEY123")
    assert "SECRETKEY123" not in repr(reservation) + repr(limiter) + repr(limiter.usage(now=0))


# -- properties -----------------------------------------------------------------------

_bursts = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=3, allow_nan=False),  # time since the previous call
        st.integers(min_value=1, max_value=4),  # units
        st.booleans(),  # cancel it right away if it must wait
    ),
    min_size=1,
    max_size=60,
)


def _reference_earliest(kind, limit, period, margin, booked, now, units):
    """The earliest feasible time, by trying every candidate instant in order."""
    if kind == "fixed":
        margin = min(margin, period / 4)

        def span(t):
            return {(t - margin) // period, (t + margin) // period}

        def fits(t):
            for index in span(t):
                used = sum(u for s, u in booked if index in span(s))
                if used and used + units > limit:
                    return False
            return True

        def after(index):  # the first instant not counted in window ``index``
            t = (index + 1) * period + margin
            while (t - margin) // period <= index:
                t = math.nextafter(t, math.inf)
            return t

        first = math.floor(now / period)
        candidates = [now] + [after(k) for k in range(first - 1, first + 400)]
    else:
        length = period + margin

        def fits(t):
            inside = sum(u for s, u in booked if s <= t < s + length)
            if inside and inside + units > limit:
                return False
            for x in {s for s, _ in booked if t < s < t + length}:
                if sum(u for s, u in booked if s <= x < s + length) + units > limit:
                    return False
            return True

        candidates = [now] + [s + length for s, _ in booked]
    return min(t for t in candidates if t >= now and fits(t))


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["fixed", "sliding"]),
    limit=st.integers(min_value=1, max_value=8),
    period=st.sampled_from([0.5, 1.0, 2.0]),
    margin=st.sampled_from([0.0, 0.1]),
    burst=_bursts,
)
def test_bookings_are_the_earliest_the_window_allows(kind, limit, period, margin, burst) -> None:
    window = Window(name="w", limit=limit, period=period, kind=kind)
    table = {f"/u{n}": ((window, float(n)),) for n in range(1, 5)}
    limiter = RateLimiter([limits(window, per_path=table)], margin=margin)
    booked: list[tuple[float, float]] = []
    now = 0.0
    for gap, units, _ in burst:
        now += gap
        expected = _reference_earliest(kind, limit, period, margin, booked, now, units)
        got = limiter.reserve(get(f"/u{units}"), now=now).at
        assert got == pytest.approx(expected, abs=1e-9)
        booked.append((got, float(units)))


@settings(max_examples=150, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=8),
    period=st.sampled_from([0.5, 1.0, 2.0]),
    burst=_bursts,
)
def test_no_window_is_ever_exceeded_with_cancellations(limit, period, burst) -> None:
    fixed = Window(name="f", limit=limit, period=period, kind="fixed")
    sliding = Window(name="s", limit=limit + 2, period=period * 1.5)
    table = {f"/u{n}": ((fixed, float(n)), (sliding, 1.0)) for n in range(1, 5)}
    limiter = RateLimiter([limits(fixed, sliding, per_path=table)], margin=0)
    live: dict[int, tuple[object, float]] = {}
    now = 0.0
    for gap, units, cancel in burst:
        now += gap
        reservation = limiter.reserve(get(f"/u{units}"), now=now)
        live[id(reservation)] = (reservation, float(units))
        if cancel and reservation.at > now:
            limiter.cancel(reservation, now=now)
            del live[id(reservation)]
    sent = sorted((r.at, u) for r, u in live.values())
    # Fixed: per window index, at most `limit` units (a lone oversized request aside).
    per_index: dict[int, list[float]] = {}
    for at, units in sent:
        per_index.setdefault(at // period, []).append(units)
    for batch in per_index.values():
        assert sum(batch) <= limit or len(batch) == 1
    # Sliding: at most limit + 2 requests in any interval of 1.5 periods.
    starts = [at for at, _ in sent]
    for i, start in enumerate(starts):
        inside = [t for t in starts[i:] if t < start + period * 1.5 - 1e-9]
        assert len(inside) <= limit + 2
