"""Building task trees: validation, show() and repr."""

from __future__ import annotations

import functools
import io
from typing import Any

import pytest

from botters import ConfigError, CredentialsError
from botters.tasks import (
    Concurrent,
    Repeat,
    Serial,
    Task,
    as_node,
    concurrent,
    repeat,
    serial,
    show,
    task,
)


async def server_time(client: Any) -> int:
    return 0


async def ticker(client: Any, symbol: str, *, pair: str = "") -> str:
    return symbol


async def klines(client: Any, symbol: str, interval: str, limit: int, end: int) -> list[Any]:
    return []


def test_task_binds_arguments_and_is_named_after_its_function() -> None:
    t = task(ticker, "BTCUSD_PERP", pair="BTCUSD")
    assert (t.fn, t.args, dict(t.kwargs), t.name) == (
        ticker,
        ("BTCUSD_PERP",),
        {"pair": "BTCUSD"},
        "ticker",
    )
    assert task(ticker, "X", name="btc").name == "btc"
    assert task(functools.partial(ticker, "X")).name == "ticker"


def test_nodes_are_immutable() -> None:
    t = task(ticker, "X", pair="Y")
    with pytest.raises(AttributeError):
        t.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        t.kwargs["pair"] = "Z"  # type: ignore[index]


def test_a_coroutine_function_is_a_node_wherever_one_is_expected() -> None:
    tree = serial(server_time, concurrent(server_time, task(ticker, "X")))
    assert isinstance(tree.nodes[0], Task)
    assert tree.nodes[0].fn is server_time
    inner = tree.nodes[1]
    assert isinstance(inner, Concurrent)
    assert isinstance(repeat(server_time, count=2).node, Task)
    assert as_node(tree) is tree


def test_a_coroutine_object_is_refused_with_an_explanation() -> None:
    coro = server_time(None)
    with pytest.raises(ConfigError, match="pass the function itself"):
        serial(coro)  # type: ignore[arg-type]
    # It was closed: no "coroutine was never awaited" warning (warnings are errors here).
    with pytest.raises(ConfigError, match="pass the function itself"):
        task(server_time(None))  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [42, "ticker", None])
def test_anything_else_is_refused(bad: Any) -> None:
    with pytest.raises(ConfigError):
        serial(bad)
    with pytest.raises(ConfigError):
        task(bad)


def test_a_list_of_nodes_must_be_spread() -> None:
    with pytest.raises(ConfigError, match=r"serial\(\*nodes\)"):
        serial([server_time, server_time])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"concurrent\(\*nodes\)"):
        concurrent((server_time,))  # type: ignore[arg-type]


@pytest.mark.parametrize("limit", [0, -1, 1.5, True])
def test_concurrent_limit_is_a_positive_int(limit: Any) -> None:
    with pytest.raises(ConfigError, match="limit="):
        concurrent(server_time, limit=limit)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"count": -1}, "count="),
        ({"count": 1.0}, "count="),
        ({"count": True}, "count="),
        ({"interval": -1}, "interval="),
        ({"interval": float("inf")}, "interval="),
        ({"interval": float("nan")}, "interval="),
        ({"interval": "1s"}, "interval="),
        ({"align": True}, "align=True"),
        ({"align": True, "interval": 0}, "align=True"),
    ],
)
def test_repeat_arguments_are_checked(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        repeat(server_time, **kwargs)


def test_repeat_defaults_and_zero_interval() -> None:
    r = repeat(server_time)
    assert (r.count, r.interval, r.align, r.forever) == (None, None, False, True)
    assert repeat(server_time, interval=0).interval is None
    assert repeat(server_time, 3, 1).interval == 1.0


def test_apis_are_read_when_the_task_is_built() -> None:
    t = task(server_time, apis={"bybit": ["key-1", "secret-must-not-show-1"]})
    assert t.apis is not None
    assert list(t.apis) == ["bybit"]
    with pytest.raises(CredentialsError):
        task(server_time, apis="/nonexistent/apis.json")


def test_show_prints_the_tree_like_aiocas_show_tasks() -> None:
    tree = repeat(
        concurrent(
            serial(server_time, task(ticker, "BTCUSD_PERP", pair="BTCUSD"), name="btc"),
            serial(server_time, task(ticker, "ETHUSD_PERP", pair="ETHUSD"), name="eth"),
        ),
        count=3,
        interval=1,
        align=True,
        name="poll",
    )
    out = io.StringIO()
    show(tree, file=out)
    assert out.getvalue() == (
        "poll: repeat (3 rounds, every 1 s, aligned)\n"
        "    concurrent (2)\n"
        "        btc: serial (2)\n"
        "            server_time\n"
        "            ticker('BTCUSD_PERP', pair='BTCUSD')\n"
        "        eth: serial (2)\n"
        "            server_time\n"
        "            ticker('ETHUSD_PERP', pair='ETHUSD')\n"
    )
    same = io.StringIO()
    tree.show(file=same)
    assert same.getvalue() == out.getvalue()
    assert str(tree) + "\n" == out.getvalue()


def test_show_names_limits_forever_credentials_and_own_clients() -> None:
    tree = serial(
        repeat(server_time, interval=0.5),
        repeat(server_time, count=1),
        concurrent(*[task(ticker, s) for s in "ABC"], limit=2),
        task(ticker, "X", name="sub-account ticker", apis={"bybit": ["k", "s-s-s-s-s-s"]}),
        task(server_time, client=object()),
    )
    assert str(tree).splitlines() == [
        "serial (5)",
        "    repeat (forever, every 0.5 s)",
        "        server_time",
        "    repeat (1 round)",
        "        server_time",
        "    concurrent (3, at most 2 at a time)",
        "        ticker('A')",
        "        ticker('B')",
        "        ticker('C')",
        "    sub-account ticker [apis: bybit]",
        "    server_time [own client]",
    ]


def test_show_shortens_long_arguments() -> None:
    line = str(task(klines, "x" * 200, "1m", list(range(100)), 0))
    assert len(line) < 120
    assert line.startswith("klines('xxx")


def test_reprs_say_what_a_node_is() -> None:
    t = task(ticker, "BTCUSD_PERP", pair="BTCUSD")
    assert repr(t) == "Task(ticker('BTCUSD_PERP', pair='BTCUSD'))"
    assert repr(task(ticker, "X", name="btc")) == "Task(ticker('X'), name='btc')"
    secret = "s3cr3t-never-in-repr"
    with_apis = task(server_time, apis={"bybit": ["k", secret]})
    assert repr(with_apis) == "Task(server_time(), apis=['bybit'])"
    assert secret not in repr(with_apis) + str(with_apis)
    assert repr(serial(t, t, name="two")) == "Serial('two', 2 nodes)"
    assert repr(concurrent(t, limit=1)) == "Concurrent(1 node, limit=1)"
    assert repr(repeat(t, count=3, interval=1, align=True)) == (
        "Repeat(Task(ticker('BTCUSD_PERP', pair='BTCUSD')), count=3, interval=1.0, align=True)"
    )


def test_the_classes_build_the_same_nodes() -> None:
    assert isinstance(serial(server_time), Serial)
    assert isinstance(repeat(server_time), Repeat)
    direct = Serial((server_time, Task(ticker, ("X",))))
    assert str(direct) == "serial (2)\n    server_time\n    ticker('X')"


def test_walk_visits_every_node_in_declaration_order() -> None:
    a, b, c = task(ticker, "a"), task(ticker, "b"), task(ticker, "c")
    inner = concurrent(b, c)
    tree = serial(a, repeat(inner, count=2))
    assert [n for n in tree.walk() if isinstance(n, Task)] == [a, b, c]
    assert tree.children()[1].children() == (inner,)
