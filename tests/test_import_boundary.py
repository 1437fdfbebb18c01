"""The one architectural rule: the core imports no event loop, TLS or HTTP library.

Each module is imported in a fresh interpreter, so one module's imports cannot
hide another's.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import botters.protocol

FORBIDDEN = ("asyncio", "trio", "aiohttp", "h11", "wsproto", "ssl", "sniffio", "anyio")

MODULES = [
    "botters",
    "botters.protocol",
    *sorted(m.name for m in pkgutil.walk_packages(botters.protocol.__path__, "botters.protocol.")),
]

_PROBE = """
import importlib, sys
importlib.import_module({module!r})
bad = sorted({{name.split(".")[0] for name in sys.modules}} & set({forbidden!r}))
print(",".join(bad))
"""


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_no_io_framework(module: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module, forbidden=FORBIDDEN)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()}"


def test_every_exchange_package_is_walked() -> None:
    # Guards the parametrisation above: if walking silently found nothing, the
    # boundary test would pass vacuously.
    assert "botters.protocol.exchanges.bitflyer" in MODULES
    assert "botters.protocol._request" in MODULES
