"""Fixtures of the scenario suite: the adapter under test, TLS for the simulator, figures."""

from __future__ import annotations

import pytest

from botters.simulator import DEMO_APIS, make_tls_contexts

from ._adapters import ADAPTERS, AdapterUnderTest, available_adapters
from ._support import Figures, Tls

_FIGURES = pytest.StashKey[Figures]()


@pytest.fixture(params=available_adapters())
def adapter(request: pytest.FixtureRequest) -> AdapterUnderTest:
    """Each adapter in turn: every scenario runs once per transport."""
    return ADAPTERS[request.param]()


@pytest.fixture(scope="session")
def tls() -> Tls:
    """One throwaway CA for the whole run (the simulator serves the production host names)."""
    server, client = make_tls_contexts()
    return Tls(server=server, client=client)


@pytest.fixture(autouse=True)
def _register_demo_secret(known_secrets: dict[str, str]) -> None:
    # The suite-wide log scan then also proves the demo secret never reaches a log line.
    known_secrets[DEMO_APIS["bitflyer"][1]] = "tests/scenarios: simulator demo secret"


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    """Where scenarios put their measured figures (shown in the terminal summary)."""
    stash = request.config.stash
    if _FIGURES not in stash:
        stash[_FIGURES] = Figures()
    return stash[_FIGURES]


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    figures = config.stash.get(_FIGURES, None)
    if figures is None or not figures.lines or config.get_verbosity() < 0:
        return
    terminalreporter.section("WebSocket scenario figures (measured, not asserted)")
    for line in figures.lines:
        terminalreporter.write_line(line)
