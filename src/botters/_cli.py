"""The ``botters`` command line: ``botters sign`` (and, later, ``botters demo``).

``botters sign`` prints the exact request botters would send, signed, for curl
users and for debugging a signature an exchange rejects.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from ._apis import load_apis
from ._sign import sign_request
from .protocol import BottersError, Request, resolve

__all__ = ["main"]


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
    return parser


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
    except BottersError as exc:
        err.write(f"botters {args.command}: {exc}\n")
        return 1
    return 2  # pragma: no cover - argparse enforces a known command
