"""How a ``WebSocketApp`` logs the session machine's reports: each event once.

Theory of operation
-------------------
One input to the machine can produce several reports about **one** event. A
rejected login gives ``LoginFailed`` (the exchange's reason), then
``Disconnected`` (the connection is given up because of it), then
``BackingOff`` (when the next attempt starts); a failed token request gives
``TokenFailed``, ``Disconnected``, ``BackingOff``; a plain drop gives
``Disconnected``, ``BackingOff``. Logged one line each, a single rejection
made two WARNING lines and an INFO line.

:func:`report_lines` turns the reports of one input (one ``_feed`` call) into
log lines, folding each event into **one** line at the level it deserves,
with its context (the connection, the exchange's or the network's reason,
and what happens next):

* a *cause* (``LoginFailed``, ``TokenFailed``) is the WARNING line; the
  ``Disconnected`` right after it is its consequence and goes at DEBUG;
* a ``Disconnected`` that is not a consequence is the WARNING line itself
  (DEBUG while the app is closing; the adapter can lower it for a loss that
  was asked for or already reported, see ``loss_levels``);
* the ``BackingOff`` (or ``RotationFailed``) right after a ``Disconnected``
  is folded into the line of the event that caused it: ``...; reconnecting
  in 0.84 s (attempt 2)``. It is logged on its own (INFO, or WARNING for a
  failed replacement) only when that event's line went to DEBUG.

The machine emits these reports in this order and next to each other (see
``Session._fail``); this module relies on that adjacency only, not on the
text of any reason. It is pure: reports in, ``(level, format, args)`` out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from botters.protocol.session import (
    BackingOff,
    Closed,
    Connecting,
    Disconnected,
    Established,
    Idle,
    Ignored,
    LoggedIn,
    LoginFailed,
    Opened,
    Report,
    Resumed,
    Rotated,
    RotationFailed,
    RotationStarted,
    SendBacklog,
    TokenFailed,
)

__all__ = ["Line", "report_lines"]

Line: TypeAlias = tuple[int, str, tuple[Any, ...]]
"""``(level, format, args)`` of one log line; the caller prefixes the app's origin."""

_DEBUG = logging.DEBUG
_INFO = logging.INFO
_WARNING = logging.WARNING


def _next_step(reports: Sequence[Report], i: int) -> tuple[str, tuple[Any, ...]] | None:
    """What follows a loss at ``reports[i - 1]``: the backoff or the failed replacement."""
    if i < len(reports):
        after = reports[i]
        if isinstance(after, BackingOff):
            return "; reconnecting in %.2f s (attempt %d)", (after.delay, after.attempt)
        if isinstance(after, RotationFailed):
            return "; the current connection stays, next replacement in %.2f s", (after.retry_in,)
    return None


def report_lines(
    reports: Sequence[Report],
    *,
    closing: bool = False,
    loss_levels: Mapping[int, int] | None = None,
) -> list[Line]:
    """The log lines for the reports of one input to the machine (see the module docs).

    Args:
        reports: The reports, in the order the machine emitted them.
        closing: The user closed the app: losses are expected (DEBUG).
        loss_levels: Per connection id, the level of its ``Disconnected``
            line when the adapter knows more than the machine: DEBUG when the
            loss was already reported (a heartbeat without pong), INFO when
            the user closed that connection.
    """
    lines: list[Line] = []
    folded: set[int] = set()  # indexes of reports already part of an earlier line
    for i, report in enumerate(reports):
        if i in folded:
            continue
        if isinstance(report, LoginFailed | TokenFailed):
            fmt: str
            args: tuple[Any, ...]
            if isinstance(report, LoginFailed):
                fmt, args = "login failed on connection %d: %s", (report.conn_id, report.reason)
            else:
                fmt, args = "token request failed: %s", (report.reason,)
            loss = reports[i + 1] if i + 1 < len(reports) else None
            if isinstance(loss, Disconnected) and (
                isinstance(report, TokenFailed) or loss.conn_id == report.conn_id
            ):
                folded.add(i + 1)
                step = _next_step(reports, i + 2)
                if step is not None:
                    folded.add(i + 2)
                    fmt, args = fmt + step[0], args + step[1]
                lines.append((_WARNING, fmt, args))
                lines.append((_DEBUG, "connection %d lost: %s", (loss.conn_id, loss.reason)))
            else:
                lines.append((_WARNING, fmt, args))
        elif isinstance(report, Disconnected):
            level = _DEBUG if closing else _WARNING
            if loss_levels:
                level = min(level, loss_levels.get(report.conn_id, level))
            fmt, args = "connection %d lost: %s", (report.conn_id, report.reason)
            step = _next_step(reports, i + 1) if level > _DEBUG else None
            if step is not None:
                folded.add(i + 1)
                fmt, args = fmt + step[0], args + step[1]
            lines.append((level, fmt, args))
        else:
            lines.append(_line(report))
    return lines


def _line(report: Report) -> Line:
    """The line of a report that stands alone."""
    if isinstance(report, Opened):
        return _INFO, "connection %d is open", (report.conn_id,)
    if isinstance(report, LoggedIn):
        return _INFO, "logged in on connection %d", (report.conn_id,)
    if isinstance(report, BackingOff):
        return _INFO, "reconnecting in %.2f s (attempt %d)", (report.delay, report.attempt)
    if isinstance(report, Idle):
        return _WARNING, "no data received for a while (idle)", ()
    if isinstance(report, Resumed):
        return _INFO, "data flows again", ()
    if isinstance(report, RotationStarted):
        return _INFO, "replacing the connection (%s) with %d", (report.reason, report.conn_id)
    if isinstance(report, RotationFailed):
        return (
            _WARNING,
            "replacement failed (%s); retry in %.2f s",
            (report.reason, report.retry_in),
        )
    if isinstance(report, Rotated):
        return _INFO, "connection %d replaced %d", (report.new, report.old)
    if isinstance(report, SendBacklog):
        return (
            _WARNING,
            "connection %d: %d message(s) wait for the exchange's send limit (%s); "
            "sending them takes about %.0f s",
            (report.conn_id, report.queued, report.limit, report.seconds),
        )
    if isinstance(report, Connecting | Established | Closed | Ignored):
        return _DEBUG, "%r", (report,)
    return _INFO, "%r", (report,)  # a report type added later
