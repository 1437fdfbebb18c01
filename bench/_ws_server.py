"""A WebSocket server for bench/ws_throughput.py: bitFlyer messages as fast as loopback takes them.

Run as its own process (``python bench/_ws_server.py``); it prints ``READY <port>``
on stdout once it listens on 127.0.0.1, and serves until its stdin closes.

Each connection waits for one text command, ``ticker`` or ``board``, then sends
that stream: bitFlyer JSON-RPC ``channelMessage`` frames, ending with a ticker
for the product ``END`` (clients stop when their store holds it). Everything
else the client sends (pybotters' and botters' snapshot unsubscribe) is read
and ignored.

The handshake is aiohttp.web's. The frames are encoded once, at start-up, as
finished WebSocket frames (server frames are not masked) and written to the
transport in one call, so sending costs the server almost nothing and the
client's receive path is what gets measured. ``compress=False``: no
permessage-deflate is negotiated, so plain frames are valid.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import struct
import sys
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

sys.path.insert(0, str(Path(__file__).parent))
from board import make_stream

PRODUCT = "FX_BTC_JPY"
END_PRODUCT = "END"


def _rpc(channel: str, message: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "channelMessage",
        "params": {"channel": channel, "message": message},
    }


def ticker_messages(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """``n`` bitFlyer ticker messages (one product, moving prices), as the channel sends them."""
    rng = random.Random(seed)
    mid = 10_000_000
    volume = 12_345.6789
    out = []
    for i in range(n):
        mid += rng.randint(-3, 3) * 5
        bid, ask = mid - rng.randint(1, 4) * 5, mid + rng.randint(1, 4) * 5
        volume += round(rng.uniform(0, 0.5), 8)
        micros = 123_456 + i * 997
        out.append(
            _rpc(
                f"lightning_ticker_{PRODUCT}",
                {
                    "product_code": PRODUCT,
                    "state": "RUNNING",
                    "timestamp": f"2024-05-01T03:{(micros // 60_000_000) % 60:02d}:"
                    f"{(micros // 1_000_000) % 60:02d}.{micros % 1_000_000:06d}0Z",
                    "tick_id": 100_000 + i,
                    "best_bid": bid,
                    "best_ask": ask,
                    "best_bid_size": round(rng.uniform(0.01, 3), 8),
                    "best_ask_size": round(rng.uniform(0.01, 3), 8),
                    "total_bid_depth": round(rng.uniform(2000, 3000), 8),
                    "total_ask_depth": round(rng.uniform(2000, 3000), 8),
                    "market_bid_size": 0.0,
                    "market_ask_size": 0.0,
                    "ltp": rng.choice((bid, ask)),
                    "volume": round(volume, 8),
                    "volume_by_product": round(volume, 8),
                },
            )
        )
    return out


def end_message() -> dict[str, Any]:
    return _rpc(f"lightning_ticker_{END_PRODUCT}", {"product_code": END_PRODUCT, "tick_id": -1})


def frame(text: str) -> bytes:
    """One unmasked, final text frame (RFC 6455 section 5.2)."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x81, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x81, 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 127, n)
    return head + payload


def encode(messages: list[dict[str, Any]]) -> tuple[bytes, int, int]:
    """The stream as wire bytes, its frame count and its mean payload size."""
    texts = [json.dumps(m, separators=(",", ":")) for m in [*messages, end_message()]]
    return b"".join(frame(t) for t in texts), len(texts), sum(map(len, texts)) // len(texts)


def build_streams(ticker: int, board: int, depth: int) -> dict[str, tuple[bytes, int, int]]:
    snapshot, diffs = make_stream(depth, board)
    return {
        "ticker": encode(ticker_messages(ticker)),
        "board": encode([snapshot, *diffs]),
    }


async def serve(streams: dict[str, tuple[bytes, int, int]]) -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False, max_msg_size=0)
        await ws.prepare(request)
        transport = request.transport
        async for msg in ws:
            if msg.type is WSMsgType.TEXT and msg.data in streams and transport is not None:
                transport.write(streams[msg.data][0])
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    info = {name: {"frames": n, "mean_bytes": size} for name, (_, n, size) in streams.items()}
    print(f"READY {port} {json.dumps(info)}", flush=True)
    # Serve until the parent closes our stdin (or dies).
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ticker", type=int, default=50_000, help="ticker messages")
    parser.add_argument("--board", type=int, default=20_000, help="board diff messages")
    parser.add_argument("--depth", type=int, default=300, help="board levels per side")
    args = parser.parse_args()
    asyncio.run(serve(build_streams(args.ticker, args.board, args.depth)))


if __name__ == "__main__":
    main()
