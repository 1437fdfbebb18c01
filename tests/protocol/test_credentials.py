"""apis parsing: every bad entry is reported by name, no secret is ever shown."""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters import load_apis
from botters.protocol import Credentials, CredentialsError, parse_apis

SECRET = "s3cr3t-value-never-shown"
PASS = "pass-phrase-never-shown"


@pytest.fixture(autouse=True)
def _register(known_secrets: dict[str, str]) -> None:
    known_secrets[SECRET] = "test_credentials:SECRET"
    known_secrets[PASS] = "test_credentials:PASS"


def test_two_and_three_element_entries() -> None:
    apis = parse_apis({"bybit": ["KEY", SECRET], "okx": ["K", SECRET, PASS]})
    assert apis["bybit"].secret == SECRET.encode()
    assert apis["okx"].passphrase == PASS
    assert set(apis) == {"bybit", "okx"}


def test_repr_str_and_apis_repr_hide_secrets() -> None:
    c = Credentials("okx", "ABCDEFGH", SECRET.encode(), PASS)
    for text in (repr(c), str(c), repr(parse_apis({"okx": ["ABCDEFGH", SECRET, PASS]}))):
        assert SECRET not in text
        assert PASS not in text
        assert "ABCDEFGH" not in text
    assert repr(c) == "Credentials(name='okx', key='ABCD…', secret=<hidden>, passphrase=<hidden>)"


def test_credentials_pickle_round_trip() -> None:
    c = Credentials("okx", "K", SECRET.encode(), PASS)
    assert pickle.loads(pickle.dumps(c)) == c


@pytest.mark.parametrize("name", ["okx", "okx_demo", "bitget", "kucoin", "okj"])
def test_missing_passphrase_is_warned_by_name_and_dropped(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "botters.apis"):
        apis = parse_apis({name: ["KEY", SECRET], "bybit": ["K", SECRET]})
    assert name not in apis
    assert "bybit" in apis
    assert f"{name!r} missing passphrase" in caplog.text


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (["KEY"], "only a key"),
        (["a", "b", "c", "d"], "has 4 values"),
        ([], "has 0 values"),
        ("KEY:SECRET", "must be a list"),
        (["KEY", 123], "must all be strings"),
    ],
)
def test_malformed_entries_are_warned_not_silently_dropped(
    entry: object, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "botters.apis"):
        apis = parse_apis({"bitflyer": entry})
    assert "bitflyer" not in apis
    assert "'bitflyer'" in caplog.text
    assert problem in caplog.text


def test_hyperliquid_single_key_is_accepted() -> None:
    assert parse_apis({"hyperliquid": ["0xabc"]})["hyperliquid"].key == "0xabc"


def test_unknown_name_is_kept_but_warned(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "botters.apis"):
        apis = parse_apis({"bitfyer": ["K", SECRET]})
    assert "bitfyer" in apis
    assert "'bitfyer' is not an API name botters knows" in caplog.text


def test_non_mapping_is_an_error() -> None:
    with pytest.raises(CredentialsError, match="must be a JSON object"):
        parse_apis(["bybit"])  # type: ignore[arg-type]


@given(
    st.dictionaries(
        st.sampled_from(["bybit", "okx", "bitflyer", "kucoin", "x"]),
        st.lists(st.text("0123456789ABCDEF#%", min_size=8, max_size=20), max_size=4),
    )
)
def test_no_parse_outcome_ever_shows_a_value(apis: dict[str, list[str]]) -> None:
    messages: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("botters.apis")
    logger.addHandler(handler)
    try:
        parsed = parse_apis(apis)
    finally:
        logger.removeHandler(handler)
    shown = " ".join(messages) + repr(parsed) + "".join(repr(c) for c in parsed.values())
    for entry in apis.values():
        for value in entry[1:]:
            assert value not in shown


# -- load_apis: explicit and implicit sources ----------------------------------


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_load_from_dict_and_path(tmp_path: Path) -> None:
    assert load_apis({"bybit": ["K", SECRET]})["bybit"].key == "K"
    f = _write(tmp_path / "keys.json", {"bitflyer": ["K", SECRET]})
    assert "bitflyer" in load_apis(str(f))
    assert "bitflyer" in load_apis(f)
    assert "bitflyer" in load_apis(bytes(f))


def test_implicit_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOTTERS_APIS", raising=False)
    monkeypatch.delenv("PYBOTTERS_APIS", raising=False)
    assert len(load_apis()) == 0
    legacy = _write(tmp_path / "legacy.json", {"bybit": ["legacy", SECRET]})
    monkeypatch.setenv("PYBOTTERS_APIS", str(legacy))
    assert load_apis()["bybit"].key == "legacy"
    ours = _write(tmp_path / "ours.json", {"bybit": ["ours", SECRET]})
    monkeypatch.setenv("BOTTERS_APIS", str(ours))
    assert load_apis()["bybit"].key == "ours"
    _write(tmp_path / "apis.json", {"bybit": ["cwd", SECRET]})
    assert load_apis()["bybit"].key == "cwd"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("[1, 2]", "must hold a JSON object"),
        ('{"bybit": ["K", "' + SECRET + '"', "not valid JSON"),
        ("\udcff", "not UTF-8|not valid JSON"),
    ],
)
def test_bad_files_are_clear_errors_without_content(
    tmp_path: Path, content: str, match: str
) -> None:
    f = tmp_path / "apis.json"
    f.write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(CredentialsError, match=match) as info:
        load_apis(f)
    assert SECRET not in str(info.value)
    assert str(f) in str(info.value)


def test_missing_file_and_bad_env_are_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CredentialsError, match="not found"):
        load_apis(tmp_path / "nope.json")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOTTERS_APIS", str(tmp_path / "gone.json"))
    with pytest.raises(CredentialsError, match=r"\$BOTTERS_APIS"):
        load_apis()


def test_wrong_type_is_an_error() -> None:
    with pytest.raises(CredentialsError, match="must be a dict or a path"):
        load_apis(42)  # type: ignore[arg-type]
