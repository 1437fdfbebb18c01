"""``import botters`` and ``import botters.protocol`` load nothing they do not need.

Asserting which modules a fresh interpreter has loaded, not how long it took:
the import of the packages themselves loads only the lazy-export machinery;
using one exchange's DataStore loads that exchange (and the store core) only;
signing loads the signers and no DataStore. The time is measured by
``bench/import_time.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import botters
import botters.protocol

_PROBE = """
import json, sys
{code}
print(json.dumps(sorted(m for m in sys.modules if m.startswith("botters"))))
"""

PACKAGE_ONLY = {"botters", "botters._version", "botters.protocol", "botters.protocol._lazy"}


def loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(code=code)], capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout))


def store_modules(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith("botters.protocol.exchanges.") and "_store" in m}


@pytest.mark.parametrize("code", ["import botters", "import botters.protocol"])
def test_importing_the_packages_loads_only_the_lazy_machinery(code: str) -> None:
    assert loaded_after(code) == PACKAGE_ONLY


def test_one_exchanges_store_loads_that_exchange_only() -> None:
    loaded = loaded_after("import botters; botters.bitFlyerDataStore()")
    assert store_modules(loaded) == {"botters.protocol.exchanges.bitflyer._store"}
    assert "botters.protocol.store._book" in loaded
    assert not {m for m in loaded if m.startswith("botters.transports")}
    assert "botters.protocol.session" not in loaded


def test_signing_loads_no_datastore() -> None:
    loaded = loaded_after(
        "import botters\n"
        "r = botters.Request.build('GET', 'https://api.bitflyer.com/v1/me/getbalance')\n"
        "botters.sign_request(r, {'bitflyer': ['key', 'secret-secret']})"
    )
    assert "botters.protocol.exchanges.bybit._auth" in loaded  # the registry knows every host
    assert store_modules(loaded) == set()
    assert "botters.protocol.store" not in loaded


@pytest.mark.parametrize("package", [botters, botters.protocol])
def test_every_public_name_resolves_and_is_listed(package: object) -> None:
    exports = package._EXPORTS  # type: ignore[attr-defined]
    eager = {"__version__"}  # defined in the package itself
    assert sorted(exports) == sorted(set(package.__all__) - eager)  # type: ignore[attr-defined]
    for name in package.__all__:  # type: ignore[attr-defined]
        assert getattr(package, name) is not None
        assert name in dir(package)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        package.nope  # type: ignore[attr-defined]  # noqa: B018
