"""The ``botters`` command line: ``botters sign`` and ``botters demo``.

``botters sign`` prints the exact request botters would send, signed, for curl
users and for debugging a signature an exchange rejects.

``botters demo`` runs a bot's round trip (live book, signed order, its events
on the WebSocket) against the embedded simulator of bitFlyer (the default),
Bybit, OKX or Binance Spot (``--exchange``), on loopback only. It needs the ``simulator``
extra, imported only when the command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shlex
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from ._apis import load_apis
from ._sign import sign_request
from .protocol import BottersError, Request, resolve

__all__ = ["main"]

DEMO_PRODUCTS = {
    "bitflyer": "FX_BTC_JPY",
    "bybit": "BTCUSDT",
    "okx": "BTC-USDT-SWAP",
    "binance": "BTCUSDT",
}
"""``--exchange`` choices and their default ``--product`` (the demo's profiles, tested equal)."""


def _pair(text: str, sep: str, what: str) -> tuple[str, str]:
    key, found, value = text.partition(sep)
    if not found or not key:
        raise argparse.ArgumentTypeError(f"{what} must look like NAME{sep}VALUE, got {text!r}")
    return key.strip(), value.strip() if sep == ":" else value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="botters", description="Exchange signing and tools for trading bots."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sign = sub.add_parser(
        "sign",
        help="print a signed request",
        description=(
            "Print the request botters would send for METHOD URL, signed with the credentials "
            "its exact host calls for. Credentials come from --apis, or ./apis.json, "
            "$BOTTERS_APIS or $PYBOTTERS_APIS."
        ),
    )
    sign.add_argument("method", help="HTTP method, e.g. GET")
    sign.add_argument("url", help="absolute https URL")
    sign.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="K=V",
        type=lambda t: _pair(t, "=", "--param"),
        help="query parameter (repeatable)",
    )
    sign.add_argument("-d", "--data", metavar="JSON", help="body as a JSON object")
    sign.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="NAME:VALUE",
        type=lambda t: _pair(t, ":", "--header"),
        help="extra request header (repeatable)",
    )
    sign.add_argument("--apis", metavar="FILE", help="JSON credentials file")
    sign.add_argument("--now", type=float, help="clock in seconds since the epoch (default: now)")
    sign.add_argument("--nonce", help="nonce for schemes that use one (default: random)")
    sign.add_argument("--curl", action="store_true", help="print a curl command instead")
    sign.add_argument(
        "--show-secrets",
        action="store_true",
        help="print passphrase headers in clear (needed to paste into curl)",
    )
    demo = sub.add_parser(
        "demo",
        help="watch a simulated market and trade on it (no network needed)",
        description=(
            "Start an exchange simulator on 127.0.0.1 (TLS): bitFlyer by default, or Bybit v5, "
            "OKX v5 or Binance Spot with --exchange. Connect a botters.Client to that exchange's "
            "production URLs pinned to it (so requests and WebSocket logins are signed as in "
            "production), subscribe to its public and private feeds (on Binance, the user data "
            "stream of a listenKey), show the live top of the book and the ticker, place a signed "
            "MARKET order and wait for its events on the WebSocket and the position (on Binance "
            "Spot, the balances). Needs the simulator extra: pip install 'botters[simulator]'."
        ),
    )
    demo.add_argument(
        "--exchange",
        choices=tuple(DEMO_PRODUCTS),
        default="bitflyer",
        help="the exchange to simulate (default: bitflyer)",
    )
    demo.add_argument(
        "--product",
        metavar="CODE",
        help=(
            "the product to watch and trade (default: "
            + ", ".join(f"{p} on {e}" for e, p in DEMO_PRODUCTS.items())
            + "; also ETHUSDT on bybit and binance, ETH-USDT-SWAP on okx)"
        ),
    )
    demo.add_argument(
        "--seconds",
        type=_non_negative,
        default=3.0,
        help="how long to show the live book (default: 3)",
    )
    demo.add_argument(
        "--seed", type=int, default=0, help="market seed: the same seed, the same book moves"
    )
    demo.add_argument(
        "--side", choices=("BUY", "SELL"), default="BUY", help="side of the MARKET order"
    )
    demo.add_argument(
        "--timeout",
        type=_positive,
        default=5.0,
        help=(
            "seconds to wait for each step: the listenKey (Binance), logins and subscriptions, "
            "the first book, the order's reply, its events and the position or balances "
            "(default: 5)"
        ),
    )
    demo.add_argument(
        "-v", "--verbose", action="store_true", help="show botters' log lines on stderr"
    )
    return parser


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _positive(text: str) -> float:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def _demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        from ._demo import PROFILES, DemoError, DemoOptions, run_demo
    except ImportError as exc:
        err.write(
            f"botters demo: {exc}\n"
            "botters demo needs the simulator extra: pip install 'botters[simulator]'\n"
        )
        return 1
    if args.verbose:
        logging.basicConfig(
            level=logging.INFO, stream=err, format="%(asctime)s %(name)s: %(message)s"
        )
    products = PROFILES[args.exchange].products
    if args.product is not None and args.product not in products:
        err.write(
            f"botters demo: --product {args.product!r} is not simulated for {args.exchange}: "
            f"one of {', '.join(products)}\n"
        )
        return 2
    options = DemoOptions(
        exchange=args.exchange,
        product=args.product,
        seconds=args.seconds,
        seed=args.seed,
        side=args.side,
        timeout=args.timeout,
    )
    try:
        asyncio.run(run_demo(options, out))
    except DemoError as exc:
        err.write(f"botters demo: failed: {exc}\n")
        return 1
    except ImportError as exc:  # trustme missing: the simulator extra is incomplete
        err.write(f"botters demo: {exc}\n")
        return 1
    except OSError as exc:
        err.write(f"botters demo: failed: {exc}\n")
        return 1
    except KeyboardInterrupt:
        err.write("botters demo: interrupted\n")
        return 130
    return 0


def _sign(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    data: Any = None
    if args.data is not None:
        try:
            data = json.loads(args.data)
        except json.JSONDecodeError as exc:
            err.write(f"botters sign: --data is not valid JSON: {exc.msg}\n")
            return 2
    request = Request.build(
        args.method, args.url, params=args.param, data=data, headers=args.header
    )
    apis = load_apis(args.apis)
    found = resolve(request, apis)
    if found is None:
        reason = (
            "no signer for this scheme/host"
            if request.scheme not in ("https", "wss")
            else f"no signer for host {request.host!r} or no credentials for it"
        )
        err.write(f"# not signed: {reason}\n")
        signed = request
    else:
        route, creds = found
        err.write(f"# signed by {route.exchange} with apis[{creds.name!r}]\n")
        signed = sign_request(
            request, apis, now=args.now if args.now is not None else time.time(), nonce=args.nonce
        )
    hidden = set()
    if found is not None and found[1].passphrase and not args.show_secrets:
        hidden.add(found[1].passphrase)
    headers = [
        (k, "<hidden: use --show-secrets>" if v in hidden else v) for k, v in signed.headers.items()
    ]
    if args.curl:
        parts = ["curl", "-X", signed.method, shlex.quote(signed.url)]
        for k, v in headers:
            parts += ["-H", shlex.quote(f"{k}: {v}")]
        if signed.body:
            parts += ["--data-binary", shlex.quote(signed.body.decode("utf-8", "replace"))]
        out.write(" ".join(parts) + "\n")
    else:
        out.write(f"{signed.method} {signed.url}\n")
        for k, v in headers:
            out.write(f"{k}: {v}\n")
        out.write("\n")
        if signed.body:
            out.write(signed.body.decode("utf-8", "replace") + "\n")
    return 0


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the ``botters`` command line; returns the exit status."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    args = _parser().parse_args(argv)
    try:
        if args.command == "sign":
            return _sign(args, out, err)
        if args.command == "demo":
            return _demo(args, out, err)
    except BottersError as exc:
        err.write(f"botters {args.command}: {exc}\n")
        return 1
    return 2  # pragma: no cover - argparse enforces a known command
