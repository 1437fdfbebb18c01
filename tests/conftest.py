"""Suite-wide guards: no secret ever reaches a log line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

# Every secret and passphrase the suite signs with. Tests that invent their own
# secrets add them here through the `known_secrets` fixture.
_SECRETS: dict[str, str] = {}
for _v in json.loads((DATA / "signing_vectors.json").read_text()):
    for _field in ("secret", "passphrase"):
        _value = _v["inputs"].get(_field)
        if _value and len(_value) >= 6:
            _SECRETS[_value] = f"{_v['id']}:{_field}"


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str]] = []
        self.current_test = "<setup>"
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((self.current_test, self.format(record)))


_RECORDER = _Recorder()


@pytest.fixture(scope="session", autouse=True)
def _scan_logs_for_secrets() -> Iterator[None]:
    """Fail the run if any secret appears in any log record (message or traceback)."""
    root = logging.getLogger()
    root.addHandler(_RECORDER)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(_RECORDER)
    root.setLevel(old_level)
    leaks = sorted(
        {
            f"{test}: {label}"
            for test, line in _RECORDER.lines
            for secret, label in _SECRETS.items()
            if secret in line
        }
    )
    assert not leaks, "secrets leaked into log output:\n" + "\n".join(leaks)


@pytest.fixture(autouse=True)
def _name_log_lines(request: pytest.FixtureRequest) -> Iterator[None]:
    _RECORDER.current_test = request.node.nodeid
    yield
    _RECORDER.current_test = "<between tests>"


@pytest.fixture
def known_secrets() -> dict[str, str]:
    """Register extra secrets (value -> label) for the end-of-run log scan."""
    return _SECRETS
