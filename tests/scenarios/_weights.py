"""A local server that enforces Binance-style request weights, and bans on excess.

Binance's REST limits (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits):
every endpoint has a weight; the weights of one IP's requests are summed in
fixed windows on the wall clock (the minute from second 0); each response says
the window's total so far in ``X-MBX-USED-WEIGHT-<interval>``; a request over
the limit gets HTTP 429 with ``Retry-After`` (seconds), and an IP that keeps
going after 429s is banned with HTTP 418.

This server does exactly that with a short window (``period`` seconds, 1 by
default, so a 1,000-request burst takes seconds, not minutes), and can play
"another program on the same IP" by counting ``outside`` weight in every
window (or in the first ``outside_windows`` ones) before our first request.
It runs on its own event loop in a thread, so asyncio and trio clients alike
talk to it, and records every request.

:data:`limits_for` gives the matching :class:`ExchangeLimits` (the table a
user would write for such an exchange): one fixed window, the path's weight,
and the used-weight header read back as an observation.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from botters.protocol import Request
from botters.protocol.limits import ExchangeLimits, Observation, Window

WEIGHTS = {"/api/v3/ticker/price": 1, "/api/v3/depth": 5}
HEADER = "x-mbx-used-weight-1s"


@dataclass
class Seen:
    """One request as the server counted it."""

    at: float
    path: str
    weight: int
    status: int


@dataclass
class WeightServer:
    """Fixed windows of ``period`` s holding ``limit`` weight; 429, then 418 after ``ban_after``."""

    limit: int = 400
    period: float = 1.0
    outside: int = 0
    outside_windows: int | None = None
    ban_after: int = 2
    ban_for: float = 5.0
    seen: list[Seen] = field(default_factory=list)
    used: dict[int, int] = field(default_factory=dict)
    banned_until: float = 0.0
    strikes: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def throttled(self) -> list[Seen]:
        """Every request answered 429 or 418."""
        with self._lock:
            return [s for s in self.seen if s.status in (418, 429)]

    def heaviest_window(self) -> int:
        """The most weight any window accepted (never above ``limit`` unless ours is wrong)."""
        with self._lock:
            return max(self.used.values(), default=0) - self.outside

    async def _handle(self, request: web.Request) -> web.Response:
        weight = WEIGHTS.get(request.path)
        if weight is None:
            return web.json_response({"code": -1100, "msg": "unknown path"}, status=404)
        now = time.time()
        with self._lock:
            if now < self.banned_until:
                return self._record(now, request.path, weight, 418, self.banned_until - now)
            index = math.floor(now / self.period)
            if index in self.used:
                used = self.used[index] + weight
            elif self.outside_windows is None or len(self.used) < self.outside_windows:
                used = self.outside + weight
            else:
                used = weight
            if used > self.limit:
                self.strikes += 1
                if self.strikes >= self.ban_after:
                    self.banned_until = now + self.ban_for
                    return self._record(now, request.path, weight, 418, self.ban_for)
                self.used.setdefault(index, used - weight)
                return self._record(now, request.path, weight, 429, (index + 1) * self.period - now)
            self.used[index] = used
            self.seen.append(Seen(now, request.path, weight, 200))
        return web.json_response({"symbol": "BTCUSDT"}, headers={HEADER: str(used)})

    def _record(self, now: float, path: str, weight: int, status: int, wait: float) -> web.Response:
        self.seen.append(Seen(now, path, weight, status))
        body = {"code": -1003, "msg": "Too much request weight used"}
        return web.json_response(body, status=status, headers={"Retry-After": str(math.ceil(wait))})

    def __enter__(self) -> WeightServer:
        ready = threading.Event()

        async def serve() -> None:
            app = web.Application()
            app.router.add_get("/{tail:.*}", self._handle)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.port = runner.addresses[0][1]
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            ready.set()
            await self._stop.wait()
            await runner.cleanup()

        self._thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the weight server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        assert self._stop is not None
        assert self._thread is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def limits_for(server: WeightServer) -> ExchangeLimits:
    """The table a user would write for this server: the path weights, one fixed window."""
    window = Window(
        name="local.weight.1s",
        limit=server.limit,
        period=server.period,
        kind="fixed",
        source="https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits",
    )
    costs = {path: ((window, float(w)),) for path, w in WEIGHTS.items()}

    def price(request: Request) -> tuple[tuple[Window, float], ...]:
        return costs.get(request.path, ())

    def observe(request: Request, status: int, headers: Mapping[str, str]) -> Iterable[Observation]:
        used = headers.get(HEADER)
        return (Observation(window=window, used=float(used)),) if used else ()

    return ExchangeLimits(
        exchange="local",
        hosts=frozenset({"127.0.0.1"}),
        windows=(window,),
        price=price,
        observe=observe,
        source=window.source,
    )
