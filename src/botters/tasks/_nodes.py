"""The task tree: leaves that call your coroutine functions, and three ways to combine them.

A tree is plain immutable data, built once and run as often as you like:

* :class:`Task` (built with :func:`task`) calls ``await fn(client, *args, **kwargs)``;
* :class:`Serial` (:func:`serial`) runs its nodes one after the other;
* :class:`Concurrent` (:func:`concurrent`) runs them at the same time, optionally
  at most ``limit`` at once;
* :class:`Repeat` (:func:`repeat`) runs one node again and again, ``count``
  times or forever, optionally on a fixed period.

Nodes nest in any way. Wherever a node is expected, a plain coroutine function
``async def fn(client)`` is accepted too and becomes ``task(fn)``. Nothing here
runs anything or imports an event loop: see :mod:`botters.tasks._run`.
"""

from __future__ import annotations

import math
import reprlib
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import CoroutineType, MappingProxyType
from typing import IO, Any, Final

from botters._apis import load_apis
from botters.protocol._credentials import Apis
from botters.protocol._errors import ConfigError

__all__ = [
    "Concurrent",
    "Node",
    "Repeat",
    "Serial",
    "Task",
    "as_node",
    "concurrent",
    "repeat",
    "serial",
    "show",
    "task",
]

_ARG_REPR = reprlib.Repr()
_ARG_REPR.maxstring = 40
_ARG_REPR.maxother = 40
_ARG_REPR.maxlist = _ARG_REPR.maxtuple = _ARG_REPR.maxdict = _ARG_REPR.maxset = 4
_ARG_REPR.maxlevel = 2


# What a subtree needs of a run, folded up when nodes are built (nodes are
# immutable), so checking a tree before running it costs nothing per node.
FOREVER: Final = 1
"""A repeat without count: the tree never ends."""
RUN_CLIENT: Final = 2
"""A task without its own client: it needs the run's."""
RUN_VIEW: Final = 4
"""A task with ``apis=`` and without its own client: it needs the run's ``with_apis()``."""


def _traits_of(nodes: tuple[Node, ...]) -> int:
    traits = 0
    for node in nodes:
        traits |= node._traits
    return traits


def _callable_name(fn: Callable[..., Any]) -> str:
    inner = getattr(fn, "func", None)  # functools.partial
    if inner is not None and callable(inner):
        return _callable_name(inner)
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) else type(fn).__name__


def _seconds(value: float) -> str:
    return f"{value:g} s"


class Node:
    """Base of every node of a task tree.

    Nodes are immutable, compare by identity, and may appear in several
    trees (or several times in one): running a tree never changes it.
    """

    __slots__ = ()

    name: str | None  # a label for show() and results (None: the node's kind)

    _traits: int  # FOREVER | RUN_CLIENT | RUN_VIEW of the subtree

    def children(self) -> tuple[Node, ...]:
        """The nodes directly under this one, in declaration order."""
        return ()

    def describe(self) -> str:
        """This node's own line in :func:`show` (without its children)."""
        raise NotImplementedError

    def walk(self) -> Iterator[Node]:
        """This node and every node under it, depth first, in declaration order."""
        todo: list[Node] = [self]
        while todo:
            node = todo.pop()
            yield node
            todo.extend(reversed(node.children()))

    def show(self, file: IO[str] | None = None) -> None:
        """Print the tree under this node (see :func:`show`)."""
        show(self, file=file)

    def __str__(self) -> str:
        lines: list[str] = []
        _render(self, 0, lines)
        return "\n".join(lines)


def _render(node: Node, depth: int, lines: list[str]) -> None:
    lines.append("    " * depth + node.describe())
    for child in node.children():
        _render(child, depth + 1, lines)


def show(node: Node | Callable[..., Any], *, file: IO[str] | None = None) -> None:
    """Print the tree under ``node``, one node per line, children indented.

    Checking the shape of a tree before running it catches a task put in the
    wrong group or a repeat with the wrong interval; ``str(node)`` is the
    same text. Each line names the node and what it will do::

        repeat (3 rounds, every 1 s, aligned)
            concurrent (2)
                server_time
                ticker('BTCUSD_PERP')

    Args:
        node: The root of the tree (a coroutine function counts as ``task(fn)``).
        file: Where to print (default ``sys.stdout``).
    """
    print(str(as_node(node)), file=sys.stdout if file is None else file)


def as_node(value: Any) -> Node:
    """``value`` as a node: a node as it is, a coroutine function as ``task(value)``.

    Raises:
        ConfigError: ``value`` is neither, e.g. a coroutine object
            (``fetch(client)`` instead of ``fetch``).
    """
    if isinstance(value, Node):
        return value
    if isinstance(value, CoroutineType):
        value.close()  # it will never run: no "never awaited" warning on top of this error
        raise ConfigError(
            f"got a coroutine object ({value.__qualname__}(...)) where a node is expected: "
            "pass the function itself (or task(fn, *args)), botters calls it with the client"
        )
    if callable(value):
        return Task(value)
    raise ConfigError(
        f"expected a node (task, serial, concurrent, repeat) or a coroutine function, "
        f"not {type(value).__name__}"
    )


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Task(Node):
    """A leaf: ``await fn(client, *args, **kwargs)``; build it with :func:`task`.

    Attributes:
        fn: The coroutine function (called with the client first).
        args: Positional arguments after the client.
        kwargs: Keyword arguments (a read-only mapping).
        name: The label (default: ``fn``'s name).
        apis: Credentials this task signs with instead of the run's (the
            client it gets is ``client.with_apis(apis)``); ``None``: the run's.
        client: A client for this task instead of the run's (e.g. another
            exchange's ``base_url``); ``None``: the run's.
    """

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None
    apis: Apis | None = None
    client: Any = None
    _traits: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        fn: Any = self.fn
        if isinstance(fn, CoroutineType):
            as_node(fn)  # raises the explanatory error (and closes it)
        if isinstance(fn, Node) or not callable(fn):
            raise ConfigError(f"task() takes a coroutine function, not {type(fn).__name__}")
        object.__setattr__(self, "args", tuple(self.args))
        object.__setattr__(self, "kwargs", MappingProxyType(dict(self.kwargs)))
        if self.apis is not None:
            # Read (and check) the credentials now, not in the middle of a run.
            object.__setattr__(self, "apis", load_apis(self.apis))
        if self.name is None:
            object.__setattr__(self, "name", _callable_name(self.fn))
        traits = 0
        if self.client is None:
            traits = RUN_CLIENT | (RUN_VIEW if self.apis is not None else 0)
        elif self.apis is not None and not callable(getattr(self.client, "with_apis", None)):
            raise ConfigError(
                f"task {self.name!r} has apis= but its client ({type(self.client).__name__}) "
                "has no with_apis(): use a botters client"
            )
        object.__setattr__(self, "_traits", traits)

    @property
    def label(self) -> str:
        """The name; never ``None`` for a task."""
        assert self.name is not None
        return self.name

    def _call_text(self) -> str:
        parts = [_ARG_REPR.repr(a) for a in self.args]
        parts += [f"{k}={_ARG_REPR.repr(v)}" for k, v in self.kwargs.items()]
        return f"{_callable_name(self.fn)}({', '.join(parts)})"

    def describe(self) -> str:
        """The task's name (its call, when unnamed and given arguments) and its credentials."""
        text = self.label
        if text == _callable_name(self.fn) and (self.args or self.kwargs):
            text = self._call_text()
        if self.client is not None:
            text += " [own client]"
        if self.apis is not None:
            text += f" [apis: {', '.join(sorted(self.apis)) or 'none'}]"
        return text

    def __repr__(self) -> str:
        extra = ""
        if self.label != _callable_name(self.fn):
            extra += f", name={self.label!r}"
        if self.apis is not None:
            extra += f", apis={sorted(self.apis)!r}"
        if self.client is not None:
            extra += f", client={self.client!r}"
        return f"Task({self._call_text()}{extra})"


def _nodes_of(kind: str, nodes: tuple[Any, ...]) -> tuple[Node, ...]:
    if len(nodes) == 1 and isinstance(nodes[0], list | tuple):
        raise ConfigError(f"{kind}() takes nodes as separate arguments: {kind}(*nodes)")
    return tuple(as_node(n) for n in nodes)


def _count(nodes: tuple[Node, ...]) -> str:
    return f"{len(nodes)} node{'' if len(nodes) == 1 else 's'}"


def _group_header(kind: str, name: str | None, details: str) -> str:
    return f"{name + ': ' if name else ''}{kind} ({details})"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Serial(Node):
    """Run ``nodes`` one after the other; the result is their results' list.

    Build it with :func:`serial`. A node starts only when the one before it
    is done, so later steps can rely on earlier ones (place an order, then
    query it).
    """

    nodes: tuple[Node, ...]
    name: str | None = None
    _traits: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(as_node(n) for n in self.nodes))
        object.__setattr__(self, "_traits", _traits_of(self.nodes))

    def children(self) -> tuple[Node, ...]:
        """The nodes, in the order they run."""
        return self.nodes

    def describe(self) -> str:
        """``serial (n)``, with the name if there is one."""
        return _group_header("serial", self.name, str(len(self.nodes)))

    def __repr__(self) -> str:
        name = f"{self.name!r}, " if self.name else ""
        return f"Serial({name}{_count(self.nodes)})"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Concurrent(Node):
    """Run ``nodes`` at the same time; the result is their results' list, in declaration order.

    Build it with :func:`concurrent`. ``limit`` bounds how many run at once
    (the next starts when one finishes), e.g. to stay polite to an exchange
    when fanning out over hundreds of symbols.
    """

    nodes: tuple[Node, ...]
    name: str | None = None
    limit: int | None = None
    _traits: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(as_node(n) for n in self.nodes))
        object.__setattr__(self, "_traits", _traits_of(self.nodes))
        limit = self.limit
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise ConfigError(f"limit= takes an int >= 1 or None, not {limit!r}")
        if limit is not None and limit < 1:
            raise ConfigError(f"limit= takes an int >= 1 or None, not {limit!r}")

    def children(self) -> tuple[Node, ...]:
        """The nodes, in declaration order."""
        return self.nodes

    def describe(self) -> str:
        """``concurrent (n)``, with the limit and the name if there are."""
        details = str(len(self.nodes))
        if self.limit is not None:
            details += f", at most {self.limit} at a time"
        return _group_header("concurrent", self.name, details)

    def __repr__(self) -> str:
        name = f"{self.name!r}, " if self.name else ""
        limit = f", limit={self.limit}" if self.limit is not None else ""
        return f"Concurrent({name}{_count(self.nodes)}{limit})"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Repeat(Node):
    """Run ``node`` round after round; the result is the list of round results.

    Build it with :func:`repeat`; see there for ``count``, ``interval`` and
    ``align``, and :mod:`botters.tasks._schedule` for the exact schedule.
    """

    node: Node
    count: int | None = None
    interval: float | None = None
    align: bool = False
    name: str | None = None
    _traits: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "node", as_node(self.node))
        forever = FOREVER if self.count is None else 0
        object.__setattr__(self, "_traits", self.node._traits | forever)
        count, interval = self.count, self.interval
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise ConfigError(f"count= takes an int >= 0 or None (forever), not {count!r}")
        if count is not None and count < 0:
            raise ConfigError(f"count= takes an int >= 0 or None (forever), not {count!r}")
        if interval is not None:
            if isinstance(interval, bool) or not isinstance(interval, int | float):
                raise ConfigError(f"interval= takes seconds (a number > 0), not {interval!r}")
            if not math.isfinite(interval) or interval < 0:
                raise ConfigError(f"interval= takes seconds (a number > 0), not {interval!r}")
            interval = float(interval) if interval > 0 else None
            object.__setattr__(self, "interval", interval)
        if self.align and interval is None:
            raise ConfigError("align=True aligns starts to multiples of interval=: give one")

    @property
    def forever(self) -> bool:
        """Whether this repeats without end (``count=None``)."""
        return self.count is None

    def children(self) -> tuple[Node, ...]:
        """The repeated node."""
        return (self.node,)

    def describe(self) -> str:
        """``repeat (n rounds, every t s, aligned)``, with the name if there is one."""
        if self.count is None:
            details = "forever"
        else:
            details = f"{self.count} round{'' if self.count == 1 else 's'}"
        if self.interval is not None:
            details += f", every {_seconds(self.interval)}"
        if self.align:
            details += ", aligned"
        return _group_header("repeat", self.name, details)

    def __repr__(self) -> str:
        parts = [repr(self.node)]
        if self.name:
            parts.append(f"name={self.name!r}")
        parts.append(f"count={self.count!r}")
        if self.interval is not None:
            parts.append(f"interval={self.interval!r}")
        if self.align:
            parts.append("align=True")
        return f"Repeat({', '.join(parts)})"


def task(
    fn: Callable[..., Any],
    *args: Any,
    name: str | None = None,
    apis: Any = None,
    client: Any = None,
    **kwargs: Any,
) -> Task:
    """A leaf that runs ``await fn(client, *args, **kwargs)``.

    Arguments are bound now and the call happens when the tree runs, with the
    client the run was given, so the same tree can run against another client
    (a test server, another account).

    Args:
        fn: An ``async def fn(client, ...)`` function.
        *args: Positional arguments for ``fn`` after the client.
        name: A label for :func:`show` and results (default: ``fn``'s name).
        apis: Credentials (as ``botters.Client`` takes them) this task signs
            with instead of the run's: ``fn`` gets ``client.with_apis(apis)``,
            which shares the run's connections and rate limiter. Read and
            checked now.
        client: Another client for this task (then ``apis`` applies to it).
        **kwargs: Keyword arguments for ``fn``. To pass ``fn`` a keyword named
            ``name``, ``apis`` or ``client``, bind it with ``functools.partial``.

    Raises:
        ConfigError: ``fn`` is not callable, or is a coroutine object.
        CredentialsError: ``apis`` cannot be read.
    """
    return Task(fn, args, kwargs, name=name, apis=apis, client=client)


def serial(*nodes: Node | Callable[..., Any], name: str | None = None) -> Serial:
    """Run ``nodes`` one after the other (each starts when the previous is done).

    The result is the list of the nodes' results, in order. When a node fails
    (with ``errors="raise"``), the nodes after it never start.
    """
    return Serial(_nodes_of("serial", nodes), name=name)


def concurrent(
    *nodes: Node | Callable[..., Any], name: str | None = None, limit: int | None = None
) -> Concurrent:
    """Run ``nodes`` at the same time; results come back in declaration order.

    Args:
        *nodes: The nodes (or coroutine functions).
        name: A label.
        limit: Run at most this many at once (``None``: all of them).
    """
    return Concurrent(_nodes_of("concurrent", nodes), name=name, limit=limit)


def repeat(
    node: Node | Callable[..., Any],
    count: int | None = None,
    interval: float | None = None,
    align: bool = False,
    name: str | None = None,
) -> Repeat:
    """Run ``node`` ``count`` times (``None``: forever), starting a round every ``interval``.

    ``interval`` is the period between round *starts* (not a pause after each
    round), on the event loop's monotonic clock, so a round that takes 0.3 s
    of a 1 s interval is followed by a 0.7 s wait. ``align=True`` starts
    rounds on multiples of ``interval`` on the wall clock instead ("every
    second on the second", every minute at :00), which is what candles and
    exchange-side periods use; the first round then waits for the next
    multiple. The wall clock is read once, when the repeat starts, and the
    schedule is then kept on the monotonic clock, so a step of the system
    clock while it runs neither bursts nor skips rounds (a new run picks the
    new time up).

    A round that overruns its interval is followed by the next one at once,
    once: there is no burst of rounds to catch up on missed ones (see
    :mod:`botters.tasks._schedule`).

    A repeat with ``count=None`` never ends: consume it with
    :func:`~botters.tasks.stream` (``run`` refuses it).

    Raises:
        ConfigError: ``count`` is negative or not an int, ``interval`` is not
            a positive number, or ``align`` is given without ``interval``.
    """
    return Repeat(as_node(node), count=count, interval=interval, align=align, name=name)
