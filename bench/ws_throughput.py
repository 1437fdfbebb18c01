"""WebSocket receive throughput into bitFlyerDataStore: botters on aiohttp and trio, pybotters.

A server in **another process** (bench/_ws_server.py, aiohttp.web on 127.0.0.1)
pushes bitFlyer JSON-RPC messages as fast as loopback takes them: a ticker
stream, and a board stream (one snapshot, then diffs). For each stream, each
client below connects, asks for the stream, and feeds every message into a
bitFlyerDataStore; the time runs from the request to the moment the store
holds the stream's last message (a 1 ms poll of the store, the same for all:
``asyncio.sleep`` on asyncio, ``trio.sleep`` on trio).

* ``aiohttp receive only``: ``ws.receive()`` in a loop, nothing parsed (the ceiling);
* ``raw aiohttp + json.loads``: that loop, ``json.loads``, botters' ``store.onmessage``
  (the reference: what a hand-written client would do);
* ``raw aiohttp + orjson.loads``: the same with orjson;
* ``botters (aiohttp)``: ``botters.Client().ws_connect(url, hdlr_json=store.onmessage)``;
* ``botters.trio``: ``botters.trio.Client().ws_connect(url, hdlr_json=store.onmessage)``
  under ``trio.run`` (h11 handshake, wsproto for anything but plain data frames);
* ``pybotters 1.11.2``: ``pybotters.Client().ws_connect(url, hdlr_json=store.onmessage)``
  with ``pybotters.bitFlyerDataStore``.

Clients run in two worker processes, one with orjson importable (botters' default
with the ``speed`` extra) and one where ``import orjson`` fails (botters falls back
to ``json``), so each worker's ratios compare rounds taken under the same
conditions. Rounds interleave the clients; the best round of each is kept.

After each round the stores must agree (board size, last ticker) across clients,
so a client that dropped messages cannot look fast.

Goals (issue 5): botters on aiohttp >= 0.9x the raw loop with json.loads;
botters on trio >= pybotters' throughput in the same run (both parsers). The
last lines also compare each adapter with the raw aiohttp loop using the
*same* parser: that difference is botters' own cost per message (session
machine, dispatch, handler call; for trio also its event loop and framing).

    python bench/ws_throughput.py                 # ~45 s; needs the [bench] extra for pybotters
    python bench/ws_throughput.py --quick         # smaller streams, 3 rounds (~10 s)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _common import fmt_rate

HERE = Path(__file__).parent
END = {"product_code": "END"}
POLL = 0.001

AIOHTTP = "botters (aiohttp)"
TRIO = "botters.trio"
PYBOTTERS = "pybotters 1.11.2"
RAW_JSON = "raw aiohttp + json.loads"
RAW_ORJSON = "raw aiohttp + orjson.loads"

Runner = Callable[[str, str], Awaitable[tuple[float, Any]]]


async def _until_end(ticker_get: Callable[[Any], Any]) -> None:
    while ticker_get(END) is None:
        await asyncio.sleep(POLL)


async def _until_end_trio(ticker_get: Callable[[Any], Any]) -> None:
    import trio

    while ticker_get(END) is None:
        await trio.sleep(POLL)


def _fingerprint(store: Any) -> tuple[int, Any]:
    """What every client's store must agree on at the end: board size, last ticker."""
    ticker = store.ticker.get({"product_code": "FX_BTC_JPY"})
    return len(store.board), None if ticker is None else ticker["tick_id"]


# ------------------------------------------------------------------- clients


async def receive_only(url: str, stream: str, frames: int) -> tuple[float, Any]:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        receive = ws.receive
        text = aiohttp.WSMsgType.TEXT
        t0 = time.perf_counter()
        await ws.send_str(stream)
        n = 0
        while n < frames:
            msg = await receive()
            if msg.type is text:
                n += 1
        return time.perf_counter() - t0, None


class _Sink:
    """What the botters store gets as ``ws`` in the raw loop: queues sends like botters does."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self._tasks: set[asyncio.Task[Any]] = set()

    def send_json_nowait(self, data: Any) -> None:
        task = asyncio.get_running_loop().create_task(self._ws.send_str(json.dumps(data)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def raw_loop(loads: Callable[[Any], Any]) -> Runner:
    async def run(url: str, stream: str) -> tuple[float, Any]:
        import aiohttp

        from botters import bitFlyerDataStore

        store = bitFlyerDataStore()
        onmessage = store.onmessage
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            sink = _Sink(ws)
            text = aiohttp.WSMsgType.TEXT

            async def loop() -> None:
                receive = ws.receive
                while True:
                    msg = await receive()
                    if msg.type is text:
                        onmessage(loads(msg.data), sink)
                    elif msg.type in (
                        aiohttp.WSMsgType.CLOSE,
                        aiohttp.WSMsgType.CLOSED,
                        aiohttp.WSMsgType.ERROR,
                    ):
                        return

            reader = asyncio.create_task(loop())
            t0 = time.perf_counter()
            await ws.send_str(stream)
            await _until_end(store.ticker.get)
            elapsed = time.perf_counter() - t0
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            return elapsed, _fingerprint(store)

    return run


async def botters_app(url: str, stream: str) -> tuple[float, Any]:
    import botters

    store = botters.bitFlyerDataStore()
    async with botters.Client(apis={}) as client:
        app = client.ws_connect(url, hdlr_json=store.onmessage)
        await app
        ws = app.current_ws
        assert ws is not None
        t0 = time.perf_counter()
        await ws.send_str(stream)
        await _until_end(store.ticker.get)
        return time.perf_counter() - t0, _fingerprint(store)


async def trio_app(url: str, stream: str) -> tuple[float, Any]:
    """Runs under ``trio.run``; everything else is as in :func:`botters_app`."""
    import botters
    import botters.trio

    store = botters.bitFlyerDataStore()
    async with botters.trio.Client(apis={}) as client:
        app = client.ws_connect(url, hdlr_json=store.onmessage)
        await app
        ws = app.current_ws
        assert ws is not None
        t0 = time.perf_counter()
        await ws.send_str(stream)
        await _until_end_trio(store.ticker.get)
        return time.perf_counter() - t0, _fingerprint(store)


async def pybotters_app(url: str, stream: str) -> tuple[float, Any]:
    import pybotters

    store = pybotters.bitFlyerDataStore()
    async with pybotters.Client(apis={}) as client:
        app = client.ws_connect(url, hdlr_json=store.onmessage)
        await app
        t0 = time.perf_counter()
        await app.current_ws.send_str(stream)
        await _until_end(store.ticker.get)
        return time.perf_counter() - t0, _fingerprint(store)


# ------------------------------------------------------------------- worker


def worker(port: int, info: dict[str, Any], rounds: int, pybotters_rounds: int) -> dict[str, Any]:
    """Measure every client on every stream; return best seconds per (stream, client)."""
    import trio

    from botters.transports import _json

    url = f"ws://127.0.0.1:{port}/ws"
    on_trio = {TRIO}
    clients: dict[str, Runner] = {
        "aiohttp receive only": lambda u, s: receive_only(u, s, info[s]["frames"]),
        RAW_JSON: raw_loop(json.loads),
    }
    if _json.using_orjson:
        import orjson

        clients[RAW_ORJSON] = raw_loop(orjson.loads)
    clients[AIOHTTP] = botters_app
    clients[TRIO] = trio_app
    if pybotters_rounds:
        clients[PYBOTTERS] = pybotters_app
    best: dict[str, dict[str, float]] = {}
    spread: dict[str, dict[str, float]] = {}
    fingerprints: dict[str, tuple[int, Any]] = {}
    for stream in info:
        best[stream] = dict.fromkeys(clients, float("inf"))
        times: dict[str, list[float]] = {name: [] for name in clients}
        for i in range(rounds):
            for name, run in clients.items():
                if name.startswith("pybotters") and i >= pybotters_rounds:
                    continue
                gc.collect()
                if name in on_trio:
                    seconds, fingerprint = trio.run(run, url, stream)
                else:
                    seconds, fingerprint = asyncio.run(run(url, stream))
                best[stream][name] = min(best[stream][name], seconds)
                times[name].append(seconds)
                if fingerprint is not None:
                    # Every store must end up the same: nothing was dropped or reordered.
                    expected = fingerprints.setdefault(stream, fingerprint)
                    if fingerprint != expected:
                        raise SystemExit(
                            f"{name} on {stream}: store ends as {fingerprint}, expected {expected}"
                        )
        # Median over best: near 1.0 on a quiet machine; a large value means noise.
        spread[stream] = {name: statistics.median(t) / min(t) for name, t in times.items()}
    return {"orjson": _json.using_orjson, "best": best, "spread": spread}


def run_worker(args: argparse.Namespace) -> None:
    if args.no_orjson:
        sys.modules["orjson"] = None  # type: ignore[assignment]  # `import orjson` now fails
    info = json.loads(args.info)
    result = worker(args.port, info, args.rounds, args.pybotters_rounds if args.pybotters else 0)
    print(json.dumps(result))


# ------------------------------------------------------------------- main


def _versions() -> str:
    import aiohttp
    import h11
    import trio
    import wsproto

    import botters

    parts = [f"Python {platform.python_version()}", f"aiohttp {aiohttp.__version__}"]
    parts.append(f"trio {trio.__version__}, h11 {h11.__version__}, wsproto {wsproto.__version__}")
    parts.append(f"botters {botters.__version__}")
    try:
        import pybotters

        parts.append(f"pybotters {pybotters.__version__}")
    except ImportError:
        parts.append("pybotters not installed")
    try:
        import orjson

        parts.append(f"orjson {orjson.__version__}")
    except ImportError:
        parts.append("orjson not installed")
    return ", ".join(parts)


def _table(result: dict[str, Any], info: dict[str, Any]) -> list[str]:
    lines = []
    for stream, best in result["best"].items():
        frames = info[stream]["frames"]
        raw = best[RAW_JSON]
        lines.append(
            f"  {stream} stream: {frames:,} frames, {info[stream]['mean_bytes']} B on average"
        )
        for name, seconds in best.items():
            lines.append(
                f"    {name:<28} {fmt_rate(frames / seconds):>10}   "
                f"{raw / seconds:5.2f}x raw+json.loads   "
                f"(median/best {result['spread'][stream][name]:.2f})"
            )
        if PYBOTTERS in best:
            for name in (AIOHTTP, TRIO):
                speedup = best[PYBOTTERS] / best[name]
                lines.append(f"    {name + ' / pybotters':<28} {speedup:>9.2f}x")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ticker", type=int, default=50_000, help="ticker messages per round")
    parser.add_argument("--board", type=int, default=20_000, help="board diffs per round")
    parser.add_argument("--depth", type=int, default=300, help="board levels per side")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--pybotters-rounds",
        type=int,
        default=2,
        help="rounds for pybotters (it re-sorts the board on every message: slow)",
    )
    parser.add_argument("--quick", action="store_true", help="10k ticker, 5k diffs, 3 rounds")
    parser.add_argument("--no-pybotters", dest="pybotters", action="store_false")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-orjson", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--info", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args)
        return
    if args.quick:
        args.ticker, args.board, args.rounds = 10_000, 5_000, 3
        args.pybotters_rounds = min(args.pybotters_rounds, 2)
    if args.pybotters:
        try:
            import pybotters  # noqa: F401
        except ImportError:
            print("pybotters is not installed (pip install -e '.[bench]'): skipping its column")
            args.pybotters = False

    started = time.perf_counter()
    server = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "_ws_server.py"),
            f"--ticker={args.ticker}",
            f"--board={args.board}",
            f"--depth={args.depth}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        ready = server.stdout.readline().split(maxsplit=2)
        if not ready or ready[0] != "READY":
            raise SystemExit("the bench server did not start")
        port, info_text = int(ready[1]), ready[2]
        info = json.loads(info_text)
        print("WebSocket receive throughput into bitFlyerDataStore (server in another process)")
        rounds = f"best of {args.rounds} rounds"
        if args.pybotters:
            rounds += f" ({min(args.rounds, args.pybotters_rounds)} for pybotters)"
        print(f"{_versions()}; {rounds}")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at start")
        results = {}
        for no_orjson in (False, True):
            cmd = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker",
                f"--port={port}",
                f"--info={info_text}",
                f"--rounds={args.rounds}",
                f"--pybotters-rounds={args.pybotters_rounds}",
            ]
            if no_orjson:
                cmd.append("--no-orjson")
            if not args.pybotters:
                cmd.append("--no-pybotters")
            done = subprocess.run(
                cmd, capture_output=True, text=True, check=False, env=dict(os.environ)
            )
            if done.returncode != 0:
                sys.stderr.write(done.stderr)
                raise SystemExit("a bench worker failed")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results[no_orjson] = result
            codec = "orjson" if result["orjson"] else "json"
            label = "orjson installed" if result["orjson"] else "orjson unavailable"
            print(f"\nbotters with {label} (botters' JSON: {codec})")
            for line in _table(result, info):
                print(line)
        print(f"\n{AIOHTTP} vs {RAW_JSON} (goal >= 0.90x):")
        for no_orjson, result in results.items():
            for stream, best in result["best"].items():
                ratio = best[RAW_JSON] / best[AIOHTTP]
                mark = "OK" if ratio >= 0.9 else "MISSED"
                json_name = "json" if no_orjson else "orjson"
                print(f"  {stream:<6} {AIOHTTP} on {json_name:<6} {ratio:5.2f}x  {mark}")
        if args.pybotters:
            print(f"{TRIO} vs {PYBOTTERS}, same run (goal >= 1.00x):")
            for no_orjson, result in results.items():
                for stream, best in result["best"].items():
                    ratio = best[PYBOTTERS] / best[TRIO]
                    mark = "OK" if ratio >= 1.0 else "MISSED"
                    json_name = "json" if no_orjson else "orjson"
                    print(f"  {stream:<6} {TRIO} on {json_name:<6} {ratio:5.2f}x  {mark}")
        print("each adapter vs the raw aiohttp loop, same parser (its own cost per message):")
        for no_orjson, result in results.items():
            raw_name = RAW_JSON if no_orjson else RAW_ORJSON
            for stream, best in result["best"].items():
                if raw_name not in best:
                    continue
                frames = info[stream]["frames"]
                for name in (AIOHTTP, TRIO):
                    extra = (best[name] - best[raw_name]) / frames
                    print(
                        f"  {stream:<6} {raw_name.removeprefix('raw aiohttp + '):<13} "
                        f"{name:<18} {best[raw_name] / best[name]:5.2f}x  "
                        f"({extra * 1e6:+.2f} µs per message)"
                    )
        # The receive-only ceiling takes ~40 ms a round: too short to judge noise by.
        worst = max(
            v
            for r in results.values()
            for d in r["spread"].values()
            for name, v in d.items()
            if name != "aiohttp receive only"
        )
        if worst > 1.15:
            print(
                f"\nnote: some rounds were up to {worst:.2f}x slower than the best one "
                f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs): "
                "the machine is busy, ratios may be off; run again on a quiet machine"
            )
        print(f"\n({time.perf_counter() - started:.0f} s)")
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
