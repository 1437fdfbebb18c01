"""Compose REST calls: serial, concurrent and repeating work, on asyncio or trio.

A bot's REST side is mostly the same few shapes: fetch these one after the
other, fetch those at the same time, do it again every second. This module
says that as a tree of small, immutable nodes and runs it with structured
concurrency (``asyncio.TaskGroup`` / trio nurseries: no task outlives the
call)::

    from botters.tasks import concurrent, repeat, run, serial, stream, task

    async def ticker(client, symbol):
        r = await client.fetch("GET", "/dapi/v1/ticker/price", params={"symbol": symbol})
        return r.data

    tree = concurrent(task(ticker, "BTCUSD_PERP"), task(ticker, "ETHUSD_PERP"))
    btc, eth = await run(tree, client)            # results in declaration order

    async with stream(repeat(tree, interval=1.0), client) as results:
        async for done in results:                # each task as it finishes
            print(done.name, done.path, done.result)

* :func:`task` wraps ``async def fn(client, *args, **kwargs)``; ``apis=`` runs
  it with other credentials over the same connections
  (``client.with_apis(...)``).
* :func:`serial`, :func:`concurrent` (``limit=``) and :func:`repeat`
  (``count=``, ``interval=``, ``align=``) nest in any way; a coroutine
  function is accepted wherever a node is.
* :func:`run` returns the results shaped like the tree; :func:`stream` yields
  a :class:`Done` per finished task. ``errors="raise"`` (default) ends the
  run at the first failure and raises it as it is; ``errors="collect"``
  keeps going and hands back the exceptions as results.
* :func:`show` prints the tree.

Importing this module imports no event loop; the framework is looked up when
a tree runs.
"""

from __future__ import annotations

from ._nodes import (
    Concurrent,
    Node,
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
from ._run import DEFAULT_BUFFER, Done, Errors, Stream, run, stream
from ._schedule import next_start

__all__ = [
    "DEFAULT_BUFFER",
    "Concurrent",
    "Done",
    "Errors",
    "Node",
    "Repeat",
    "Serial",
    "Stream",
    "Task",
    "as_node",
    "concurrent",
    "next_start",
    "repeat",
    "run",
    "serial",
    "show",
    "stream",
    "task",
]
