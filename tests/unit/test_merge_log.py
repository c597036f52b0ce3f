"""common/merge_log.py: each merge event written as the line the docs quote, and read back as the same event."""

from __future__ import annotations

import logging

import pytest

from common import merge_log
from common.logs import app_logger
from common.merge_log import (
    EndNotRecorded,
    LeaseLost,
    LeaseRenewed,
    Logged,
    MergeDone,
    MergeEnded,
    MergeEvent,
    MergeFencedOff,
    MergeStarted,
    Unrenewed,
)

LINES = [
    pytest.param(
        MergeStarted("feature/x", 7, 2.0, 5.0, 1.67),
        "merge of 'feature/x' started (fencing token 7): 2.0 s, renewing its 5.0 s lease every 1.67 s",
        id="started",
    ),
    pytest.param(
        LeaseRenewed("feature/x", 7), "merge of 'feature/x' (fencing token 7) renewed its lease", id="renewed"
    ),
    pytest.param(
        LeaseLost("feature/x", 7, Unrenewed(5.012, "its last renewal"), "its lease had run out"),
        "merge of 'feature/x' (fencing token 7) lost its lease 5.012 s after its last renewal: its lease had run out",
        id="lease-lost",
    ),
    pytest.param(
        LeaseLost("fault/x", 1, Unrenewed(0.334, "its grant"), "Redis lock unavailable: Error 111 (refused): x."),
        "merge of 'fault/x' (fencing token 1) lost its lease 0.334 s after its grant: "
        "Redis lock unavailable: Error 111 (refused): x.",
        id="lease-lost-store-unreachable",
    ),
    pytest.param(
        MergeDone("feature/x", 7, "released"),
        "merge of 'feature/x' (fencing token 7) done: released, writing its end",
        id="done",
    ),
    pytest.param(
        MergeDone("feature/x", 7, "lease lost"),
        "merge of 'feature/x' (fencing token 7) done: lease lost, writing its end",
        id="done-lease-lost",
    ),
    pytest.param(MergeEnded("feature/x", 7, "released"), "merge of 'feature/x' (fencing token 7) ended: released"),
    pytest.param(MergeEnded("feature/x", 7, "lease lost"), "merge of 'feature/x' (fencing token 7) ended: lease lost"),
    pytest.param(
        MergeFencedOff("paused", 1, Unrenewed(2.61, "its last renewal")),
        "merge of 'paused' (fencing token 1) ended: fenced off, a newer merge had started "
        "(2.610 s after its last renewal)",
        id="fenced-off",
    ),
    pytest.param(
        EndNotRecorded("fault/x", 1, "Redis lock unavailable: Timeout reading from localhost:6379"),
        "merge of 'fault/x' (fencing token 1) ended, but its end was not recorded: "
        "Redis lock unavailable: Timeout reading from localhost:6379",
        id="not-recorded",
    ),
    # a branch name that repr() writes in the other quotes, or with an escape, reads back whole
    pytest.param(LeaseRenewed("it's", 3), """merge of "it's" (fencing token 3) renewed its lease""", id="quote"),
    pytest.param(
        LeaseRenewed("a\\b'\"", 3), r"""merge of 'a\\b\'"' (fencing token 3) renewed its lease""", id="escapes"
    ),
]


@pytest.mark.parametrize(("event", "line"), LINES)
def test_each_event_is_written_as_its_line_and_read_back(event: MergeEvent, line: str) -> None:
    assert merge_log.message(event) == line
    assert merge_log.parse(line) == event


@pytest.mark.parametrize(("event", "line"), LINES)
def test_a_line_is_read_after_whatever_prefix_a_handler_gave_it(event: MergeEvent, line: str) -> None:
    # the apps' prefix, and pytest's caplog's
    assert merge_log.parse(f"INFO:     12:00:00.123 [asgi_app 4242] {line}") == event
    assert merge_log.parse(f"WARNING  test_merge_run:merges.py:87 {line}") == event


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("", id="empty"),
        pytest.param('INFO:     127.0.0.1:50000 - "POST /merge HTTP/1.1" 202 Accepted', id="access-log"),
        pytest.param("[2026-12-07 02:00:00 +0000] [4242] [INFO] Booting worker with pid: 4242", id="gunicorn"),
        pytest.param("merge of 'x' (fencing token 7) renewed", id="cut-short"),
        pytest.param("merge of 'x' (fencing token 7) ended: stopped", id="not-an-outcome"),
        pytest.param("merge of 'x' (fencing token seven) renewed its lease", id="not-a-token"),
        pytest.param("merge of x (fencing token 7) renewed its lease", id="branch-not-quoted"),
        pytest.param("merge of 'x' started (fencing token 7): soon", id="start-without-its-numbers"),
        pytest.param("merge of 'x' (fencing token 7) lost its lease: its lease had run out", id="lost-without-count"),
    ],
)
def test_a_line_that_is_not_a_merge_event_reads_as_none(line: str) -> None:
    assert merge_log.parse(line) is None


def test_a_log_reads_as_its_merge_events_with_their_time_and_worker() -> None:
    log = "\n".join(
        [
            "INFO:     Started server process [4242]",
            "INFO:     12:00:00.123 [asgi_app 4242] merge of 'x' started (fencing token 7): 2.0 s, renewing its 1.0 s "
            "lease every 0.33 s",
            'INFO:     127.0.0.1:50000 - "POST /merge HTTP/1.1" 202 Accepted',
            "DEBUG:     12:00:00.457 [asgi_app 4242] merge of 'x' (fencing token 7) renewed its lease",
            "INFO:     23:59:59.999 [wsgi_app 77] merge of 'y' (fencing token 8) ended: released",
            "INFO:     12:00:01.000 [asgi_app 4242] the app's other words",
        ]
    )
    assert merge_log.events_in(log) == [
        Logged(43200.123, "asgi_app", 4242, MergeStarted("x", 7, 2.0, 1.0, 0.33)),
        Logged(43200.457, "asgi_app", 4242, LeaseRenewed("x", 7)),
        Logged(86399.999, "wsgi_app", 77, MergeEnded("y", 8, "released")),
    ]


def test_the_apps_logger_writes_lines_that_read_back(capfd: pytest.CaptureFixture[str]) -> None:
    # the prefix is common/logs.py's, the message merge_log's: the two read back together
    logger = app_logger("merge_log_test_app", "debug")
    event = MergeFencedOff("paused", 1, Unrenewed(1.318, "its last renewal"))
    logger.log(event.level, merge_log.message(event))
    (logged,) = merge_log.events_in(capfd.readouterr().err)
    assert (logged.app, logged.event) == ("merge_log_test_app", event)
    assert logged.pid > 0
    assert event.level == logging.WARNING
