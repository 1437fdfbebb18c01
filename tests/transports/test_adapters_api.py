"""Both adapters expose the same public names, and share what is adapter-neutral."""

from __future__ import annotations

import dataclasses
import json
import pkgutil
import subprocess
import sys

import pytest

import botters
import botters.transports
import botters.transports.aiohttp as aio
import botters.transports.trio as trio_adapter
import botters.trio

AIOHTTP_ONLY = {"PinnedResolver"}
"""Plugs ``resolve=`` pins into aiohttp's connector (documented in the package docstring)."""

TRIO_ONLY = {
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_KEEPALIVE_EXPIRY",
    "DEFAULT_MAX_HEADER_SIZE",
    "DEFAULT_MAX_PER_HOST",
    "DEFAULT_MAX_REDIRECTS",
    "Pins",
    "Response",
    "ResponseHeaders",
    "make_ssl_context",
    "open_stream",
    "parse_pins",
    "ws_connect",
}
"""trio's own response type, connection helpers, limits and nursery-taking ``ws_connect``
(documented in the package docstring)."""

PER_ADAPTER = {"Client", "WebSocketApp", "WebSocketConnection"}
"""Same name, same API, one class per adapter; every other shared name is one object."""


def test_both_adapters_export_the_same_names() -> None:
    assert set(aio.__all__) - AIOHTTP_ONLY == set(trio_adapter.__all__) - TRIO_ONLY
    assert set(aio.__all__) >= AIOHTTP_ONLY
    assert set(trio_adapter.__all__) >= TRIO_ONLY
    assert {"WebSocketApp", "WebSocketConnection", "MessageStream", "WebSocketQueue"} <= set(
        trio_adapter.__all__
    )


@pytest.mark.parametrize("module", [aio, trio_adapter, botters.trio])
def test_every_exported_name_exists_once(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert len(names) == len(set(names))
    for name in names:
        assert getattr(module, name) is not None, name


def test_botters_trio_is_the_trio_adapter() -> None:
    assert botters.trio.__all__ == trio_adapter.__all__
    for name in trio_adapter.__all__:
        assert getattr(botters.trio, name) is getattr(trio_adapter, name), name


def test_shared_names_are_the_same_objects() -> None:
    shared = (set(aio.__all__) & set(trio_adapter.__all__)) - PER_ADAPTER
    assert {"FetchResult", "NotJSONContent", "RequestContext", "Auth"} <= shared
    for name in shared:
        assert getattr(aio, name) is getattr(trio_adapter, name), name
    for name in PER_ADAPTER:
        assert getattr(aio, name) is not getattr(trio_adapter, name), name
    assert botters.FetchResult is aio.FetchResult  # the top level resolves to the same


def test_fetch_result_and_not_json_content_keep_pybotters_shapes() -> None:
    fields = [f.name for f in dataclasses.fields(botters.trio.FetchResult)]
    assert fields == ["response", "text", "data"]
    try:
        json.loads("<html>")
    except json.JSONDecodeError as exc:
        error = exc
    not_json = botters.trio.NotJSONContent(error)
    assert not not_json
    assert not_json.error is error
    result = botters.trio.FetchResult("resp", "<html>", not_json)
    assert (result.response, result.text, result.data) == ("resp", "<html>", not_json)


SHARED_MODULES = sorted(
    f"botters.transports.{m.name}"
    for m in pkgutil.iter_modules(botters.transports.__path__)
    if m.name.startswith("_")
)

_PROBE = """
import importlib, sys
importlib.import_module({module!r})
print(",".join(sorted({{n.split(".")[0] for n in sys.modules}} & {{"aiohttp", "trio"}})))
"""


def test_the_shared_modules_are_walked() -> None:
    assert "botters.transports._client" in SHARED_MODULES
    assert "botters.transports._wsapp" in SHARED_MODULES


@pytest.mark.parametrize("module", SHARED_MODULES)
def test_shared_module_imports_neither_adapter(module: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()}"
