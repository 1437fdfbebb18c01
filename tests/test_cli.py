"""``botters sign``: the signed request, for curl users and for debugging."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from botters._cli import main

SECRET = "cli-secret-value-0001"
PASSPHRASE = "cli-passphrase-0001"


@pytest.fixture
def apis_file(tmp_path: Path, known_secrets: dict[str, str]) -> Path:
    known_secrets[SECRET] = "test_cli:SECRET"
    known_secrets[PASSPHRASE] = "test_cli:PASSPHRASE"
    path = tmp_path / "apis.json"
    path.write_text(
        json.dumps({"bitflyer": ["KEY-1", SECRET], "okx": ["KEY-2", SECRET, PASSPHRASE]})
    )
    return path


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_sign_prints_the_vector_request(apis_file: Path) -> None:
    # Same request and clock as the bitflyer-post-pybotters vector, different key.
    code, out, err = run(
        "sign", "POST", "https://api.bitflyer.com/v1/me/sendchildorder",
        "-d", '{"product_code": "FX_BTC_JPY", "size": 0.01}',
        "--apis", str(apis_file), "--now", "2085848896",
    )  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "POST https://api.bitflyer.com/v1/me/sendchildorder"
    assert "ACCESS-KEY: KEY-1" in lines
    assert "ACCESS-TIMESTAMP: 2085848896000" in lines
    assert lines[-1] == '{"product_code": "FX_BTC_JPY", "size": 0.01}'
    assert "signed by bitflyer with apis['bitflyer']" in err
    assert SECRET not in out + err


def test_params_and_headers(apis_file: Path) -> None:
    code, out, _ = run(
        "sign", "GET", "https://www.okx.com/api/v5/account/balance", "-p", "ccy=BTC",
        "-H", "x-simulated-trading: 0", "--apis", str(apis_file),
    )  # fmt: skip
    assert code == 0
    assert out.splitlines()[0] == "GET https://www.okx.com/api/v5/account/balance?ccy=BTC"
    assert "x-simulated-trading: 0" in out


def test_passphrase_is_hidden_unless_asked(apis_file: Path) -> None:
    args = ("sign", "GET", "https://www.okx.com/api/v5/account/balance", "--apis", str(apis_file))
    _, out, _ = run(*args)
    assert PASSPHRASE not in out
    assert "OK-ACCESS-PASSPHRASE: <hidden: use --show-secrets>" in out
    _, out, _ = run(*args, "--show-secrets", "--curl")
    assert out.startswith("curl -X GET https://www.okx.com/api/v5/account/balance")
    assert f"'OK-ACCESS-PASSPHRASE: {PASSPHRASE}'" in out


def test_unsigned_requests_say_why(apis_file: Path) -> None:
    code, out, err = run("sign", "GET", "http://api.bitflyer.com/v1/x", "--apis", str(apis_file))
    assert code == 0
    assert "not signed: no signer for this scheme/host" in err
    assert "ACCESS-SIGN" not in out
    _, _, err = run("sign", "GET", "https://api.bybit.com/v5/x", "--apis", str(apis_file))
    assert "no credentials" in err


def test_errors_are_reported_with_exit_codes(tmp_path: Path, apis_file: Path) -> None:
    code, _, err = run("sign", "GET", "https://api.bitflyer.com/", "--apis", str(tmp_path / "no"))
    assert code == 1
    assert "apis file not found" in err
    code, _, err = run(
        "sign", "POST", "https://api.bitflyer.com/", "-d", "{", "--apis", str(apis_file)
    )
    assert code == 2
    assert "--data is not valid JSON" in err


def test_python_dash_m_entry_point(apis_file: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "botters", "sign", "GET", "https://api.bitflyer.com/v1/me/getbalance",
         "--apis", str(apis_file), "--now", "2085848896"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "ACCESS-TIMESTAMP: 2085848896000" in proc.stdout
