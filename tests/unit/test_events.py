"""common/events.py: the bytes of an event, and the ledger changes that become events."""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import time

import pytest
from fastapi.sse import KEEPALIVE_COMMENT, format_sse_event
from hypothesis import given
from hypothesis import strategies as st

from common.events import HEARTBEAT, PING, Heartbeat, LedgerWatch, MergeEvent, StreamFeed, encode_event, hand_out
from common.lock import LockUnavailableError, MergeRecord
from common.models import MergeStatus

ONE_LINE = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=30)


@given(ONE_LINE, ONE_LINE, st.one_of(st.none(), ONE_LINE.filter(lambda text: "\0" not in text)))
def test_an_event_is_the_bytes_fastapi_writes(event: str, data: str, event_id: str | None) -> None:
    # the Flask app builds its events here, the FastAPI app's lab stream with FastAPI: both must agree
    assert encode_event(event, data, event_id) == format_sse_event(data_str=data, event=event, id=event_id)


def test_the_heartbeat_is_fastapis_keepalive_comment() -> None:
    assert HEARTBEAT == KEEPALIVE_COMMENT


def test_data_of_more_than_one_line_is_refused() -> None:
    with pytest.raises(ValueError, match="one line"):
        encode_event("status", "a\nb")


def record(token: int, outcome: str = "running", ended_at: float | None = None) -> MergeRecord:
    return MergeRecord(token, f"branch-{token}", 1000.0 + token, ended_at, outcome)  # type: ignore[arg-type]


def names_and_ids(events: list[MergeEvent]) -> list[tuple[str, str]]:
    parsed = []
    for event in events:
        fields = dict(line.split(": ", 1) for line in event.data.decode().strip().split("\n"))
        json.loads(fields["data"])
        parsed.append((fields["event"], fields["id"]))
    return parsed


def test_the_first_look_is_the_baseline_and_reports_nothing() -> None:
    watch = LedgerWatch()
    assert watch.changes([record(1, "released", 1002.0), record(2)]) == []
    # the merge that was running at the baseline is reported when it ends
    assert names_and_ids(watch.changes([record(1, "released", 1002.0), record(2, "released", 1003.0)])) == [
        ("merge-ended", "2-ended")
    ]


def test_an_empty_ledger_is_a_baseline_too() -> None:
    watch = LedgerWatch()
    assert watch.changes([]) == []
    assert names_and_ids(watch.changes([record(1)])) == [("merge-started", "1-started")]


def test_a_start_and_an_end_are_reported_once_each_in_order() -> None:
    watch = LedgerWatch()
    watch.changes([])
    assert names_and_ids(watch.changes([record(1)])) == [("merge-started", "1-started")]
    assert watch.changes([record(1)]) == []
    assert names_and_ids(watch.changes([record(1, "lease lost", None)])) == [("merge-ended", "1-ended")]
    assert watch.changes([record(1, "lease lost", None)]) == []


def test_merges_that_start_and_end_between_two_looks_are_reported_as_both() -> None:
    watch = LedgerWatch()
    watch.changes([])
    # newest first, as the ledger lists them
    events = watch.changes([record(3), record(2, "fenced off", None), record(1, "released", 1001.5)])
    assert names_and_ids(events) == [
        ("merge-started", "1-started"),
        ("merge-ended", "1-ended"),
        ("merge-started", "2-started"),
        ("merge-ended", "2-ended"),
        ("merge-started", "3-started"),
    ]
    started = json.loads(events[0].data.decode().split("data: ", 1)[1].split("\n", 1)[0])
    assert (started["outcome"], started["ended_at"]) == ("running", None)


@pytest.mark.parametrize(
    ("token", "started", "holder", "told"),
    [
        (5, True, None, False),  # a free resource at connect: every change is news
        (5, True, 5, True),  # the status showed this merge: its start is not news, its end is
        (5, False, 5, False),
        (4, False, 5, True),  # older than the holder the status showed
        (6, True, 5, False),
    ],
)
def test_a_stream_skips_what_its_status_told_it(token: int, started: bool, holder: int | None, told: bool) -> None:
    status = MergeStatus(
        busy=holder is not None, branch_name="b" if holder else None, retry_after=None, fencing_token=holder
    )
    assert MergeEvent(token, started, b"").told_by(status) is told


def test_the_heartbeat_is_news_to_every_stream() -> None:
    busy = MergeStatus(busy=True, branch_name="b", retry_after=1.0, fencing_token=9)
    assert PING.told_by(busy) is False
    assert PING.data == HEARTBEAT


def test_an_idle_hub_sends_a_ping_once_the_heartbeat_is_due() -> None:
    due, not_due = Heartbeat(seconds=0), Heartbeat(seconds=3600)
    assert due.outgoing([]) == [PING]
    assert not_due.outgoing([]) == []


def test_a_change_goes_out_alone_and_puts_the_next_ping_off() -> None:
    heartbeat = Heartbeat(seconds=3600, last_sent=time.monotonic() - 7200)  # long overdue
    change = MergeEvent(1, True, b"event: merge-started\n\n")
    assert heartbeat.outgoing([change]) == [change]
    assert heartbeat.outgoing([]) == []  # the change was news enough: the next ping is an hour away


def test_the_feed_sends_what_it_reads_and_only_pings_while_the_lock_cannot_be_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    feed = StreamFeed(heartbeat_seconds=0, logger=logging.getLogger("asgi_app"))
    assert feed.after_read([record(1)]) == [PING]  # the baseline is no change: a ping, due at once
    assert names_and_ids(feed.after_read([record(1, "released", 1002.0)])) == [("merge-ended", "1-ended")]
    with caplog.at_level(logging.WARNING, logger="asgi_app"):
        assert feed.after_failed_read(LockUnavailableError("Redis lock unavailable: refused")) == [PING]
    assert caplog.messages == [
        "merge events: the lock cannot be read, the streams wait for it: Redis lock unavailable: refused"
    ]


def test_every_stream_gets_every_event_in_order() -> None:
    events = [MergeEvent(1, True, b"a"), MergeEvent(1, False, b"b")]
    loop_queue: asyncio.Queue[MergeEvent] = asyncio.Queue()
    thread_queue: queue.Queue[MergeEvent] = queue.Queue()
    hand_out(events, [loop_queue, thread_queue])
    assert [loop_queue.get_nowait(), loop_queue.get_nowait()] == events
    assert [thread_queue.get_nowait(), thread_queue.get_nowait()] == events
