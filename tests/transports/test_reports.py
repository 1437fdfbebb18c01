"""Each event the session machine reports is logged once, at its level, with its context."""

from __future__ import annotations

import logging

import pytest

from botters.protocol.session import (
    BackingOff,
    Closed,
    Connecting,
    Disconnected,
    Established,
    Idle,
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
from botters.transports._reports import report_lines

DEBUG, INFO, WARNING = logging.DEBUG, logging.INFO, logging.WARNING


def lines(
    reports: list[Report], *, closing: bool = False, loss_levels: dict[int, int] | None = None
) -> list[tuple[int, str]]:
    found = report_lines(reports, closing=closing, loss_levels=loss_levels)
    return [(level, fmt % args) for level, fmt, args in found]


def test_a_rejected_login_is_one_warning_with_its_reason_and_next_attempt() -> None:
    reports: list[Report] = [
        LoginFailed(conn_id=3, reason="-32000 authentication rejected"),
        Disconnected(conn_id=3, reason="login rejected: -32000 authentication rejected"),
        BackingOff(delay=0.84, attempt=2),
    ]
    assert lines(reports) == [
        (
            WARNING,
            "login failed on connection 3: -32000 authentication rejected; "
            "reconnecting in 0.84 s (attempt 2)",
        ),
        (DEBUG, "connection 3 lost: login rejected: -32000 authentication rejected"),
    ]


def test_a_failed_token_request_is_one_warning() -> None:
    reports: list[Report] = [
        TokenFailed(reason="HTTP 500"),
        Disconnected(conn_id=1, reason="token request failed: HTTP 500"),
        BackingOff(delay=1.5, attempt=1),
    ]
    assert lines(reports) == [
        (WARNING, "token request failed: HTTP 500; reconnecting in 1.50 s (attempt 1)"),
        (DEBUG, "connection 1 lost: token request failed: HTTP 500"),
    ]


def test_a_failed_token_renewal_stands_alone() -> None:
    reports: list[Report] = [
        TokenFailed(reason="token renewal failed: HTTP 401"),
        RotationStarted(conn_id=5, reason="token renewal failed"),
        Connecting(conn_id=5, host="ws.example", attempt=0),
    ]
    assert [level for level, _ in lines(reports)] == [WARNING, INFO, DEBUG]


def test_a_drop_and_its_backoff_are_one_warning() -> None:
    reports: list[Report] = [
        Disconnected(conn_id=2, reason="closed (1006)"),
        BackingOff(delay=0.25, attempt=1),
    ]
    assert lines(reports) == [
        (WARNING, "connection 2 lost: closed (1006); reconnecting in 0.25 s (attempt 1)")
    ]


def test_a_failed_replacement_is_one_warning() -> None:
    reports: list[Report] = [
        Disconnected(conn_id=7, reason="connect failed: HTTP 503"),
        RotationFailed(reason="connect failed: HTTP 503", retry_in=2.0),
    ]
    assert lines(reports) == [
        (
            WARNING,
            "connection 7 lost: connect failed: HTTP 503; the current connection stays, "
            "next replacement in 2.00 s",
        )
    ]


def test_a_login_failure_on_a_replacement_is_one_warning() -> None:
    reports: list[Report] = [
        LoginFailed(conn_id=8, reason="no login reply within 10 s"),
        Disconnected(conn_id=8, reason="no login reply within 10 s"),
        RotationFailed(reason="no login reply within 10 s", retry_in=4.0),
    ]
    assert [level for level, _ in lines(reports)] == [WARNING, DEBUG]


def test_losses_while_closing_are_debug() -> None:
    reports: list[Report] = [Disconnected(conn_id=4, reason="closed by botters"), Closed()]
    assert lines(reports, closing=True) == [
        (DEBUG, "connection 4 lost: closed by botters"),
        (DEBUG, "Closed()"),
    ]


def test_a_loss_already_reported_is_debug_and_the_backoff_info() -> None:
    reports: list[Report] = [
        Disconnected(conn_id=6, reason="closed (1011 heartbeat timeout)"),
        BackingOff(delay=0.5, attempt=1),
    ]
    assert lines(reports, loss_levels={6: DEBUG}) == [
        (DEBUG, "connection 6 lost: closed (1011 heartbeat timeout)"),
        (INFO, "reconnecting in 0.50 s (attempt 1)"),
    ]


def test_a_loss_the_user_asked_for_is_info() -> None:
    reports: list[Report] = [
        Disconnected(conn_id=6, reason="closed (1000)"),
        BackingOff(delay=0.5, attempt=1),
    ]
    assert lines(reports, loss_levels={6: INFO, 9: DEBUG}) == [
        (INFO, "connection 6 lost: closed (1000); reconnecting in 0.50 s (attempt 1)")
    ]
    # Other connections are not affected.
    assert lines(reports, loss_levels={9: DEBUG})[0][0] == WARNING


def test_a_login_failure_of_another_connection_does_not_absorb_a_loss() -> None:
    reports: list[Report] = [
        LoginFailed(conn_id=2, reason="bad key"),
        Disconnected(conn_id=1, reason="closed (1006)"),
    ]
    assert [level for level, _ in lines(reports)] == [WARNING, WARNING]


@pytest.mark.parametrize(
    ("report", "level"),
    [
        (Opened(conn_id=1), INFO),
        (LoggedIn(conn_id=1), INFO),
        (Established(conn_id=1), DEBUG),
        (BackingOff(delay=1.0, attempt=1), INFO),
        (Idle(since=1.0), WARNING),
        (Resumed(), INFO),
        (RotationStarted(conn_id=2, reason="max_age"), INFO),
        (RotationFailed(reason="x", retry_in=1.0), WARNING),
        (Rotated(old=1, new=2), INFO),
        (LoginFailed(conn_id=1, reason="x"), WARNING),
        (TokenFailed(reason="x"), WARNING),
        (Disconnected(conn_id=1, reason="x"), WARNING),
        (SendBacklog(conn_id=1, queued=40, seconds=40.0, limit="1 message per 1 s"), WARNING),
    ],
)
def test_a_report_alone_is_one_line(report: Report, level: int) -> None:
    [(got, _)] = lines([report])
    assert got == level


def test_a_send_backlog_says_how_many_wait_for_which_limit_and_how_long() -> None:
    report = SendBacklog(conn_id=3, queued=120, seconds=24.0, limit="5 messages per 1 s")
    assert lines([report]) == [
        (
            WARNING,
            "connection 3: 120 message(s) wait for the exchange's send limit "
            "(5 messages per 1 s); sending them takes about 24 s",
        )
    ]
