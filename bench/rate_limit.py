"""The REST limiter: its cost per request, and a burst against a weight-enforcing server.

Goals (issue 13):

* limiter overhead per request (``reserve`` + ``observe`` of its response
  headers, on Binance Spot's real table) under 2 µs; shown next to the cost of
  signing the same request, measured in the same run, as a ratio;
* a 1,000-request burst through each adapter against a local server enforcing
  Binance-style weights (fixed windows, 429/418) gets zero 429s and finishes
  within 10% of the ideal time.

The ideal is the fastest schedule the server allows from the instant the
first request reached it: the burst's weight fills ``ceil(weight / limit)``
windows, so the last request can arrive no earlier than the start of the last
of those windows (the first window counted in full, as if the burst had
started at its beginning), plus the time the server took to take in that last
window's requests. Elapsed is measured the same way, on the server, from the
first arrival to the last.

    python bench/rate_limit.py [--windows N]     # default 14 windows of 1 s (~15 s per adapter)
"""

from __future__ import annotations

import argparse
import gc
import logging
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.scenarios helpers

from tests.scenarios._adapters import AiohttpAdapter, TrioAdapter
from tests.scenarios._weights import WEIGHTS, WeightServer
from tests.scenarios.test_rate_limits import burst

from botters.protocol import Request, parse_apis, sign_request
from botters.protocol.exchanges.binance._limits import SPOT
from botters.protocol.limits import RateLimiter

N = 100_000
ROUNDS = 5
URL = "https://api.binance.com/api/v3/order"
TICKER_URL = "https://api.binance.com/api/v3/ticker/price"
PARAMS = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "1"}
HEADERS = {
    "x-mbx-used-weight-1m": "12",
    "x-mbx-order-count-10s": "1",
    "x-mbx-order-count-1d": "1",
    "content-type": "application/json",
}
KEY, SECRET = "bench-key-0000000000", "bench-secret-000000000000000000000000"


def limiter_cost(
    request: Request, headers: dict[str, str], sign: bool = True
) -> tuple[float, float]:
    """Seconds per reserve+observe of ``request``, and per signature of it, best of ROUNDS."""
    apis = parse_apis({"binance": [KEY, SECRET]})
    best_limit = best_sign = math.inf
    for _ in range(ROUNDS):
        # A generous scale keeps the budget open: this measures booking, not waiting.
        limiter = RateLimiter([SPOT], scale=1e6)
        now = 1_800_000_000.0
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(N):
            limiter.reserve(request, now=now, key=KEY)
            limiter.observe(request, 200, headers, now=now, key=KEY, case_insensitive=True)
            now += 0.001
        best_limit = min(best_limit, (time.perf_counter() - t0) / N)
        t0 = time.perf_counter()
        for _ in range(N // 10):
            sign_request(request, apis, now=now)
        best_sign = min(best_sign, (time.perf_counter() - t0) / (N // 10))
    return best_limit, best_sign


def burst_figures(adapter: object, windows: int) -> str:
    limit = 100
    per_cycle = [*["/api/v3/depth"], *["/api/v3/ticker/price"] * 9]  # 14 weight per 10
    paths = (per_cycle * 100)[:1000]
    weight = sum(WEIGHTS[p] for p in paths)
    limit = math.ceil(weight / windows)
    with WeightServer(limit=limit, period=1.0) as server:
        statuses = adapter.run(burst, adapter, server, paths)  # type: ignore[attr-defined]
        seen = sorted(server.seen, key=lambda s: s.at)
        throttled = len(server.throttled())
    first, last = seen[0].at, seen[-1].at
    needed = math.ceil(weight / limit)
    last_window = math.floor(first) + needed - 1
    batch = [s.at for s in seen if math.floor(s.at) == math.floor(last)]
    intake = max(batch) - min(batch)
    ideal = (last_window - first) + intake
    if needed == 1:
        ideal = last - first
    ok = statuses.count(200)
    return (
        f"{adapter.name:8} {ok} x 200, {throttled} x 429/418, "  # type: ignore[attr-defined]
        f"{weight} weight at {limit}/s: elapsed {last - first:.2f} s, ideal {ideal:.2f} s, "
        f"ratio {(last - first) / ideal:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=14, help="windows the burst needs")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # a throttle would be logged; it is counted below

    cases = {
        "GET ticker/price (1 window, 1 header)": (
            Request.build("GET", TICKER_URL, params={"symbol": "BTCUSDT"}),
            {"x-mbx-used-weight-1m": "12"},
        ),
        "POST order (3 windows, 3 headers)": (Request.build("POST", URL, params=PARAMS), HEADERS),
    }
    for name, (request, headers) in cases.items():
        per_request, per_sign = limiter_cost(request, headers)
        print(
            f"limiter reserve+observe, {name}: {per_request * 1e6:.2f} µs (goal < 2 µs); "
            f"signing it: {per_sign * 1e6:.2f} µs; ratio {per_request / per_sign:.2f}x"
        )
    for adapter in (AiohttpAdapter(), TrioAdapter()):
        print(burst_figures(adapter, args.windows))


if __name__ == "__main__":
    main()
