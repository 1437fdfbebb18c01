"""Signing throughput: botters vs raw HMAC vs pybotters, measured in one run.

Goal (issue 2): signing through the public API at >= 0.25x the speed of a bare
``hmac.new(...).hexdigest()`` over the same string.

    python bench/sign.py            # needs the [bench] extra for the pybotters column
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sys
import time
from collections.abc import Callable

from botters.protocol import Request, parse_apis, sign_request

N = 20_000
ROUNDS = 7
KEY, SECRET = "bench-key-0000000000", "bench-secret-000000000000000000000000"
URL = "https://api.bitflyer.com/v1/me/getchildorders"
PARAMS = {"product_code": "FX_BTC_JPY", "child_order_state": "ACTIVE"}
NOW = 2085848896.0


def best_rate(fn: Callable[[], object]) -> float:
    """Calls per second, best of ROUNDS runs of N calls."""
    best = float("inf")
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        for _ in range(N):
            fn()
        best = min(best, time.perf_counter() - t0)
    return N / best


def main() -> None:
    apis = parse_apis({"bitflyer": [KEY, SECRET]})
    request = Request.build("GET", URL, params=PARAMS)
    signed = sign_request(request, apis, now=NOW)
    text = f"{signed.headers['ACCESS-TIMESTAMP']}GET{request.path_qs}"
    secret = SECRET.encode()
    sha256 = hashlib.sha256

    rates: dict[str, float] = {}
    rates["raw hmac.new(...).hexdigest()"] = best_rate(
        lambda: hmac.new(secret, text.encode(), sha256).hexdigest()
    )
    rates["botters sign_request (built Request)"] = best_rate(
        lambda: sign_request(request, apis, now=NOW)
    )
    rates["botters Request.build + sign_request"] = best_rate(
        lambda: sign_request(Request.build("GET", URL, params=PARAMS), apis, now=NOW)
    )
    try:
        rates["pybotters ClientRequest (build + sign)"] = _pybotters_rate()
    except ImportError:
        print("pybotters not installed: pip install -e '.[bench]' for the reference column")

    raw = rates["raw hmac.new(...).hexdigest()"]
    print(f"Python {sys.version.split()[0]}, {N} requests x best of {ROUNDS}")
    print(f"{'case':42} {'req/s':>12} {'vs raw HMAC':>12}")
    for name, rate in rates.items():
        print(f"{name:42} {rate:12,.0f} {rate / raw:11.2f}x")
    core = rates["botters sign_request (built Request)"]
    print(f"\ngoal >= 0.25x raw HMAC: {core / raw:.2f}x {'OK' if core / raw >= 0.25 else 'MISSED'}")
    if "pybotters ClientRequest (build + sign)" in rates:
        pb = rates["pybotters ClientRequest (build + sign)"]
        full = rates["botters Request.build + sign_request"]
        print(f"botters build+sign vs pybotters: {full / pb:.1f}x")


def _pybotters_rate() -> float:
    import pybotters
    from pybotters.auth import Auth
    from pybotters.request import ClientRequest
    from yarl import URL as YURL

    async def run() -> float:
        async with pybotters.Client(apis={"bitflyer": [KEY, SECRET]}) as client:
            session = client._session
            loop = asyncio.get_running_loop()
            url = YURL(URL)

            def build() -> object:
                return ClientRequest(
                    "GET",
                    url,
                    params=PARAMS,
                    data=None,
                    headers={},
                    session=session,
                    auth=Auth,
                    loop=loop,
                )

            return best_rate(build)

    return asyncio.run(run())


if __name__ == "__main__":
    main()
