"""GET /merge/events: the status on connect, then each merge's start and end, as Server-Sent Events, on both apps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from httpx_sse import ServerSentEvent

from tests.contract.conftest import MERGE_SECONDS
from tests.support.api import ApiClient, sse_events

FREE = {"busy": False, "branch_name": None, "retry_after": None, "fencing_token": None}


@contextmanager
def merge_events(api: ApiClient) -> Iterator[tuple[httpx.Response, Iterator[ServerSentEvent]]]:
    """An open stream of /merge/events: the response and its events as they come; closed on exit."""
    # a read timeout longer than a merge: the stream may be quiet while one runs
    with api.http.stream("GET", "/merge/events", timeout=httpx.Timeout(10, read=MERGE_SECONDS + 10)) as response:
        yield response, sse_events(response)


def test_a_stream_opens_with_the_status_of_get_merge(api: ApiClient) -> None:
    with merge_events(api) as (response, events):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        first = next(events)

    assert (first.event, first.id) == ("status", "")
    assert json.loads(first.data) == FREE


def test_a_merge_is_streamed_as_it_starts_and_as_it_ends(api: ApiClient) -> None:
    with merge_events(api) as (_, events):
        assert json.loads(next(events).data) == FREE
        token = api.start_merge("feature/streamed").json()["fencing_token"]
        started, ended = next(events), next(events)

    assert (started.event, started.id) == ("merge-started", f"{token}-started")
    assert (ended.event, ended.id) == ("merge-ended", f"{token}-ended")
    [recorded] = api.merge_history(limit=1).json()["merges"]
    # the data is the merge as GET /merge/history lists it: running at the start, then as the ledger closed it
    assert json.loads(started.data) == {**recorded, "ended_at": None, "outcome": "running"}
    assert json.loads(ended.data) == recorded
    assert recorded["outcome"] == "released"


def test_a_stream_opened_during_a_merge_sees_the_holder_then_the_end(api: ApiClient) -> None:
    token = api.start_merge("feature/joined-late").json()["fencing_token"]
    with merge_events(api) as (_, events):
        status, ended = next(events), next(events)

    assert status.event == "status"
    assert json.loads(status.data)["fencing_token"] == token
    assert (ended.event, ended.id) == ("merge-ended", f"{token}-ended")


def test_every_stream_gets_every_event(api: ApiClient) -> None:
    # the merge starts first: on Gunicorn's sync workers each open stream holds a whole worker, and the
    # contract's two would leave none to answer the POST
    token = api.start_merge("feature/fan-out").json()["fencing_token"]
    with merge_events(api) as (_, first), merge_events(api) as (_, second):
        seen = [[(event.event, event.id) for event in (next(events), next(events))] for events in (first, second)]

    assert [[name for name, _ in events] for events in seen] == [["status", "merge-ended"]] * 2
    assert [events[1][1] for events in seen] == [f"{token}-ended"] * 2


def test_a_quiet_stream_sends_a_heartbeat_comment(api: ApiClient) -> None:
    # read timeout past the default heartbeat (15 s), for a --base-url server
    with api.http.stream("GET", "/merge/events", timeout=httpx.Timeout(10, read=20)) as response:
        lines = response.iter_lines()
        # the status event, its blank line, then the comment
        assert next(lines).startswith("event: status")
        assert next(lines).startswith("data: ")
        assert next(lines) == ""
        assert next(lines) == ": ping"
