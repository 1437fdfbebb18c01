"""Fixtures shared by tests/ and the doctests in docs/.

``fake_bitflyer`` stands in for https://api.bitflyer.com on 127.0.0.1 so that the
embedding examples in the docs run unmodified: it is an HTTPS proxy (CONNECT)
that terminates TLS with a locally made certificate for ``api.bitflyer.com`` and
answers 200 only when the request carries a valid bitFlyer signature. The
clients are pointed at it with the standard ``HTTPS_PROXY`` / ``SSL_CERT_FILE`` /
``REQUESTS_CA_BUNDLE`` variables, exactly as a user behind a proxy would be.
The signature check here is written from bitFlyer's documented rule, independently
of botters' signer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

DEMO_KEY = "DEMO-KEY-bitflyer"
DEMO_SECRET = "demo-secret-bitflyer-not-real"


@dataclass
class FakeBitflyer:
    """What the fake exchange saw."""

    proxy_url: str
    ca_file: str
    requests: list[dict[str, Any]] = field(default_factory=list)


def _read_http_request(stream: Any) -> tuple[str, str, dict[str, str], bytes]:
    line = stream.readline().decode("latin-1").rstrip("\r\n")
    method, target, _ = line.split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        raw = stream.readline().decode("latin-1").rstrip("\r\n")
        if not raw:
            break
        name, _, value = raw.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = stream.read(int(headers.get("content-length", "0") or 0))
    return method, target, headers, body


def _check_signature(method: str, target: str, headers: dict[str, str], body: bytes) -> bool:
    # https://lightning.bitflyer.com/docs#authentication
    text = headers.get("access-timestamp", "") + method + target + body.decode()
    want = hmac.new(DEMO_SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()
    return headers.get("access-key") == DEMO_KEY and hmac.compare_digest(
        headers.get("access-sign", ""), want
    )


@pytest.fixture
def fake_bitflyer(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeBitflyer]:
    """An HTTPS proxy on 127.0.0.1 impersonating api.bitflyer.com (see module docs)."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("api.bitflyer.com")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    seen: list[dict[str, Any]] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            method, target, _headers, _ = _read_http_request(self.rfile)
            if method != "CONNECT" or target != "api.bitflyer.com:443":
                self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            with server_ctx.wrap_socket(self.connection, server_side=True) as tls:
                stream = tls.makefile("rwb")
                method, target, headers, body = _read_http_request(stream)
                ok = _check_signature(method, target, headers, body)
                seen.append({"method": method, "target": target, "headers": headers, "ok": ok})
                payload = json.dumps(
                    {"status": "ok"} if ok else {"status": -500, "error_message": "bad signature"}
                ).encode()
                status = b"200 OK" if ok else b"401 Unauthorized"
                stream.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
                    b"Connection: close\r\nContent-Length: "
                    + str(len(payload)).encode()
                    + b"\r\n\r\n"
                    + payload
                )
                stream.flush()

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    proxy = f"http://{host}:{port}"
    for var in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(var, proxy)
    for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    try:
        yield FakeBitflyer(proxy, str(ca_file), seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(autouse=True)
def _docs_namespace(request: pytest.FixtureRequest, doctest_namespace: dict[str, Any]) -> None:
    """Doctests under docs/ that mention ``fake_bitflyer`` get the fixture and demo apis."""
    path = Path(str(request.node.fspath))
    if path.suffix == ".rst" and "fake_bitflyer" in path.read_text(encoding="utf-8"):
        doctest_namespace["fake_bitflyer"] = request.getfixturevalue("fake_bitflyer")
        doctest_namespace["apis"] = {"bitflyer": [DEMO_KEY, DEMO_SECRET]}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
