"""aioca's examples rewritten with botters.tasks, end to end on both clients.

The trees are the ones docs/tasks.rst shows (docs/examples/tasks_aioca.py);
they run against :class:`FakeBinance`, a local TLS server answering as
dapi.binance.com does, through ``botters.Client`` and ``botters.trio.Client``
pinned to it with ``resolve=`` (so the Binance signer signs, as it would in
production).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import io
import ssl
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import trio

import botters
import botters.trio
from botters.simulator import make_tls_contexts
from botters.tasks import concurrent, run, stream, task

from ._binance import HOST, MAIN_APIS, PRICES, SUB_APIS, FakeBinance
from ._binance import known_secrets as fake_secrets

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples" / "tasks_aioca.py"
ADAPTERS = ("aiohttp", "trio")


def _load_examples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tasks_aioca", EXAMPLES)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ex = _load_examples()


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return make_tls_contexts(HOST, "127.0.0.1")


@pytest.fixture
def server(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[FakeBinance]:
    with FakeBinance(tls[0]) as server:
        yield server


@pytest.fixture(autouse=True)
def _register_secrets(known_secrets: dict[str, str]) -> None:
    known_secrets.update(fake_secrets())


def client_for(adapter: str, server: FakeBinance, client_ssl: ssl.SSLContext) -> Any:
    if adapter == "aiohttp":
        return botters.Client(apis=MAIN_APIS, resolve=server.resolve, ssl=client_ssl)
    return botters.trio.Client(apis=MAIN_APIS, resolve=server.resolve, ssl=client_ssl)


def run_with_client(
    adapter: str,
    server: FakeBinance,
    client_ssl: ssl.SSLContext,
    body: Callable[[Any], Awaitable[Any]],
) -> Any:
    async def main() -> Any:
        async with client_for(adapter, server, client_ssl) as client:
            result = await body(client)
        if adapter == "aiohttp":
            left = asyncio.all_tasks() - {asyncio.current_task()}
            assert not left, left
        return result

    if adapter == "aiohttp":
        return asyncio.run(main())
    return trio.run(main)


NOW_MS = 1_618_898_371_000  # aioca's README ran at this instant


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_server_time_and_ticker_every_second(
    adapter: str, server: FakeBinance, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    async def body(client: Any) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            # Three rounds, aligned to multiples of 50 ms (aioca's example uses 1 s, forever).
            await ex.print_every_second(client, rounds=3, interval=0.05)
        return out.getvalue()

    printed = run_with_client(adapter, server, tls[1], body).splitlines()
    assert len(printed) == 6
    by_round: dict[str, list[str]] = {}
    for line in printed:
        path, _, rest = line.partition(") ")
        by_round.setdefault(path + ")", []).append(rest)
    assert sorted(by_round) == ["(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)", "(2, 0)", "(2, 1)"]
    for key, [rest] in by_round.items():
        if key.endswith("0)"):
            assert rest.startswith("server_time {'serverTime': ")
        else:
            assert rest.startswith("ticker [{'symbol': 'BTCUSD_PERP', 'ps': 'BTCUSD', 'price': ")
    paths = [p for _, p, _ in server.seen]
    assert paths.count("/dapi/v1/time") == 3
    assert paths.count("/dapi/v1/ticker/price?symbol=BTCUSD_PERP") == 3


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_klines_serially(
    adapter: str, server: FakeBinance, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    tree = ex.klines_serially(NOW_MS)
    assert str(tree).splitlines() == [
        "serial (2)",
        "    kline('BTCUSD_PERP', '1m', 1, 1618898340000)",
        "    kline('BTCUSD_PERP', '1m', 1, 1618898280000)",
    ]
    newer, older = run_with_client(adapter, server, tls[1], lambda c: run(tree, c))
    assert newer[0][0] == 1_618_898_340_000
    assert older[0][0] == 1_618_898_280_000
    assert [p for _, p, _ in server.seen] == [
        "/dapi/v1/klines?symbol=BTCUSD_PERP&interval=1m&limit=1&endTime=1618898340000",
        "/dapi/v1/klines?symbol=BTCUSD_PERP&interval=1m&limit=1&endTime=1618898280000",
    ]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_two_symbols_concurrently(
    adapter: str, server: FakeBinance, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    tree = ex.two_symbols(NOW_MS)
    assert str(tree).splitlines()[:2] == ["concurrent (2)", "    BTCUSD_PERP: serial (2)"]
    btc, eth = run_with_client(adapter, server, tls[1], lambda c: run(tree, c))
    # aioca's task.result[0][0] ... task.result[1][1]: the same shape.
    assert [candles[0][1] for candles in btc] == [PRICES["BTCUSD_PERP"]] * 2
    assert [candles[0][1] for candles in eth] == [PRICES["ETHUSD_PERP"]] * 2
    assert [candles[0][0] for candles in btc + eth] == [1_618_898_340_000, 1_618_898_280_000] * 2


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_each_task_with_its_own_credentials(
    adapter: str, server: FakeBinance, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    tree = ex.two_accounts(SUB_APIS)
    assert str(tree).splitlines() == [
        "concurrent (2)",
        "    main account",
        "    sub-account [apis: binance]",
    ]
    main, sub = run_with_client(adapter, server, tls[1], lambda c: run(tree, c))
    # Each answer is the account whose key signed it: the server checked both signatures.
    assert (main["label"], sub["label"]) == ("main", "sub")
    assert sorted(key for _, _, key in server.seen) == ["main-key-0001", "sub-key-0002"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_bad_sub_account_fails_alone_when_collected(
    adapter: str, server: FakeBinance, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    async def strict_account(client: Any) -> Any:
        r = await client.fetch("GET", f"{ex.DAPI}/dapi/v1/account")
        if r.response.status != 200:
            raise PermissionError(r.data["msg"])
        return r.data

    wrong = {"binance": ["sub-key-0002", "not-the-sub-secret-0002"]}
    tree = concurrent(task(strict_account), task(strict_account, apis=wrong))
    main, sub = run_with_client(adapter, server, tls[1], lambda c: run(tree, c, errors="collect"))
    assert main["label"] == "main"
    assert isinstance(sub, PermissionError)
    assert "Signature for this request is not valid." in str(sub)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_streaming_forever_until_the_bot_has_enough(
    adapter: str, server: FakeBinance, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    async def body(client: Any) -> list[tuple[int, ...]]:
        paths = []
        async with stream(ex.every_second(None, interval=0.02), client) as results:
            async for done in results:
                paths.append(done.path)
                if len(paths) == 5:
                    break
        return paths

    paths = run_with_client(adapter, server, tls[1], body)
    assert len(paths) == 5
    assert [p[0] for p in paths] == sorted(p[0] for p in paths)  # rounds in order
