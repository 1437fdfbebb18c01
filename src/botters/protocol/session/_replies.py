"""Requests sent on a WebSocket that wait for the reply carrying their id (pure bookkeeping).

Theory of operation
-------------------
Binance's WebSocket API, OKX's order entry and Bybit's trade stream answer
every request with a message that echoes the request's id; replies may come
in any order, and other messages (stream events, other replies) arrive in
between. :class:`PendingReplies` is the table the adapters'
``WebSocketApp.request`` uses to pair them:

1. :meth:`PendingReplies.add` takes the user's message, gives it an id when
   it has none (a fresh string, ``<prefix><n>``; the id field's name comes
   from the exchange's route, see
   :func:`botters.protocol._ws.request_id_field`), and files the adapter's
   waiter under that id and the connection it goes out on;
2. every received JSON object goes through :meth:`PendingReplies.match`
   (only while something is pending: the hot path pays one truth test
   otherwise), which hands back the waiter of the request it answers; the
   message itself is delivered to handlers as usual either way;
3. :meth:`PendingReplies.lost` hands back the waiters of every request sent
   on a connection that is gone: their replies can never come, and the
   requests are **not** sent again (an order must not be placed twice);
4. :meth:`PendingReplies.forget` drops one (timed out, cancelled, answered).

Waiters are opaque here (the adapters' futures or events); nothing in this
module awaits, sleeps, reads a clock or draws a random number: the prefix
that keeps generated ids apart from the user's own comes from the adapter.

Ids are compared by JSON value *and* type: the reply to ``"id": 1`` must say
``1``, not ``"1"`` or ``1.0`` or ``true``; exchanges echo the id as sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from botters.protocol._errors import ConfigError

__all__ = ["PendingReplies", "ReplyKey"]

ReplyKey: TypeAlias = tuple[str, str | int]
"""How a pending request is filed: its id field's name and its id (a ``str`` or ``int``)."""


def _key(field: str, value: object) -> ReplyKey | None:
    # Strings are tagged so "1" and 1 never meet; bool is an int subclass, but an
    # exchange never echoes a request id as a boolean.
    if isinstance(value, str):
        return (field, "s:" + value)
    if isinstance(value, int) and not isinstance(value, bool):
        return (field, value)
    return None


class PendingReplies:
    """The requests of one ``WebSocketApp`` that wait for their reply.

    Args:
        prefix: Generated ids are ``f"{prefix}{n}"`` (``n`` counts from 1).
            The adapter passes a random one (``"bt3f9a06c1"``), so they never
            equal an id the user chose. Letters and digits only: OKX accepts
            nothing else in an id (up to 32 characters), and Binance limits a
            string id to 36.
    """

    __slots__ = ("_count", "_fields", "_pending", "_prefix")

    def __init__(self, *, prefix: str = "bt") -> None:
        self._prefix = prefix
        self._count = 0
        self._pending: dict[ReplyKey, tuple[int, Any]] = {}
        # The id field names in use (usually one), with how many requests use each.
        self._fields: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def __bool__(self) -> bool:
        return bool(self._pending)

    def add(
        self, message: Mapping[str, Any], *, field: str, conn_id: int, waiter: Any
    ) -> tuple[dict[str, Any], ReplyKey]:
        """File a request; returns the message to send (with its id) and its key.

        ``message`` is not modified: when it has no ``field`` a copy with a
        generated id is returned.

        Args:
            message: The request (a JSON object).
            field: The name of the id field on this connection (``"id"``,
                Bybit's ``"reqId"``).
            conn_id: The connection it is sent on.
            waiter: What :meth:`match` / :meth:`lost` hand back (opaque).

        Raises:
            ConfigError: ``message`` is not a mapping, its id is neither a
                string nor an integer, or a request with that id is pending.

        >>> p = PendingReplies(prefix="bt")
        >>> p.add({"method": "ping"}, field="id", conn_id=1, waiter="w")
        ({'method': 'ping', 'id': 'bt1'}, ('id', 's:bt1'))
        """
        if not isinstance(message, Mapping):
            raise ConfigError(
                f"request() sends a JSON object (a dict), not {type(message).__name__}"
            )
        out = dict(message)
        if field in out and out[field] is not None:
            key = _key(field, out[field])
            if key is None:
                raise ConfigError(
                    f"a request's {field!r} must be a string or an integer to be matched with "
                    f"its reply, not {type(out[field]).__name__}"
                )
            if key in self._pending:
                raise ConfigError(f"a request with {field}={out[field]!r} is already pending")
        else:
            while True:
                self._count += 1
                generated = f"{self._prefix}{self._count}"
                key = (field, "s:" + generated)
                if key not in self._pending:
                    break
            out[field] = generated
        self._pending[key] = (conn_id, waiter)
        self._fields[field] = self._fields.get(field, 0) + 1
        return out, key

    def match(self, message: Any) -> Any | None:
        """The waiter of the request ``message`` answers (now forgotten), or ``None``.

        ``None`` for anything that is not a JSON object carrying a pending id:
        stream events, replies to requests nobody waits for (timed out, or
        sent with ``send_json``), an exchange's ``"id": null`` error reply.

        >>> p = PendingReplies()
        >>> _ = p.add({"id": 7}, field="id", conn_id=1, waiter="w7")
        >>> p.match({"id": "7"}), p.match({"id": 7, "status": 200}), p.match({"id": 7})
        (None, 'w7', None)
        """
        if not self._pending or not isinstance(message, dict):
            return None
        for field in self._fields:
            key = _key(field, message.get(field))
            if key is not None:
                found = self._pending.get(key)
                if found is not None:
                    self.forget(key)
                    return found[1]
        return None

    def forget(self, key: ReplyKey) -> None:
        """Stop waiting for ``key``'s reply (harmless if it is not pending)."""
        if self._pending.pop(key, None) is None:
            return
        field = key[0]
        left = self._fields[field] - 1
        if left:
            self._fields[field] = left
        else:
            del self._fields[field]

    def lost(self, conn_id: int) -> list[Any]:
        """The waiters of every request sent on ``conn_id`` (now forgotten): it is gone."""
        keys = [key for key, (cid, _) in self._pending.items() if cid == conn_id]
        waiters = [self._pending[key][1] for key in keys]
        for key in keys:
            self.forget(key)
        return waiters
