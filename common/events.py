"""The merge event stream without a framework: what each event says, its bytes, and how ledger changes become events.

`GET /merge/events` is a Server-Sent Events stream (WHATWG HTML, "Server-sent events"): on connect one `status`
event (the body of `GET /merge`), then `merge-started` and `merge-ended` as the ledger records them (the data is
the merge as `GET /merge/history` lists it), and a comment every `EVENTS_HEARTBEAT_SECONDS` so that proxies keep
the connection open. Both apps send the same bytes: they build them here.

Each worker process watches the ledger once (`LedgerWatch`, polled every `EVENTS_POLL_SECONDS` while at least one
stream is open) and hands every change, serialized once, to all of its streams: ten thousand streams cost one
ledger read per interval, not ten thousand. What goes out after each look is `StreamFeed`'s, the same on both
apps: their hubs differ only in how they read the ledger and wait, on an event loop or in a thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from common.lock import LockUnavailableError, MergeRecord
from common.merges import history
from common.models import MergeStatus

# how many of the newest merges each poll reads: more than can start within one poll interval
WATCHED_MERGES = 10
# the comment an idle stream sends, the one FastAPI's own event streams send (fastapi.sse.KEEPALIVE_COMMENT)
HEARTBEAT = b": ping\n\n"
# the headers of every event stream, as FastAPI's own event streams send them: no cache may keep a copy, and
# nginx must pass each event on as it comes instead of buffering the response
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
EVENT_STREAM = "text/event-stream"


def documented_stream(description: str) -> dict[str, Any]:
    """The 200 answer of an event stream in an OpenAPI 3.1 document, the same on both apps.

    OpenAPI 3.2 gives a stream's events their own `itemSchema`; 3.1 has none, and the schema here is that of
    one event, the fields the WHATWG format defines (the one FastAPI writes as `itemSchema`), which is how
    schemathesis reads an event stream's schema. The JSON inside `data` is named in the description.
    """
    event = {
        "type": "object",
        "properties": {
            "data": {"type": "string", "contentMediaType": "application/json"},
            "event": {"type": "string"},
            "id": {"type": "string"},
            "retry": {"type": "integer", "minimum": 0},
        },
    }
    return {"description": description, "content": {EVENT_STREAM: {"schema": event}}}


# --8<-- [start:encode]
def encode_event(event: str, data: str, event_id: str | None = None) -> bytes:
    """One event in the text/event-stream format: `event:`, `data:` and `id:` lines, then a blank line.

    The same bytes as fastapi.sse.format_sse_event (tests/unit/test_events.py checks it), so that the Flask app,
    which has no event-stream helper of its own, sends what the FastAPI app sends. `data` must be one line (JSON
    without indentation is); the WHATWG format splits a multi-line value into several `data:` lines.
    """
    if "\n" in data or "\r" in data:
        raise ValueError("an event's data must be one line")
    lines = [f"event: {event}", f"data: {data}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    return ("\n".join(lines) + "\n\n").encode()


# --8<-- [end:encode]


def status_event(status: MergeStatus) -> bytes:
    """The event a stream opens with: who holds the resource now."""
    return encode_event("status", status.model_dump_json())


@dataclass(frozen=True)
class MergeEvent:
    """A change of the ledger, its bytes built once for every stream of the worker process."""

    fencing_token: int
    started: bool  # merge-started, else merge-ended
    data: bytes
    heartbeat: bool = False  # the comment an idle stream gets; news to every stream

    def told_by(self, status: MergeStatus) -> bool:
        """Whether a stream whose `status` event showed `status` knows of this change already.

        A stream that opens during a merge learns of it from its status; the watcher, which may have read the
        ledger a moment before, would tell it again. What is older than the holder it saw, it skips.
        """
        if self.heartbeat or status.fencing_token is None:
            return False
        return self.fencing_token < status.fencing_token or (
            self.started and self.fencing_token == status.fencing_token
        )


# the hub sends it to every stream when no change has gone out for EVENTS_HEARTBEAT_SECONDS: one timer per
# worker process, not one per stream (at 10,000 streams, a timeout per stream per event was the cost that
# showed: benchmarks/results/reference-streams/)
PING = MergeEvent(0, False, HEARTBEAT, heartbeat=True)


@dataclass
class Heartbeat:
    """When the streams of an idle hub are due a `PING`: `seconds` after the hub last sent them anything."""

    seconds: float
    last_sent: float = field(default_factory=time.monotonic)

    def outgoing(self, changes: list[MergeEvent]) -> list[MergeEvent]:
        """What the hub sends after a look at the ledger: its changes, else `PING` if the streams are due one."""
        now = time.monotonic()
        if not changes and now - self.last_sent >= self.seconds:
            changes = [PING]
        if changes:
            self.last_sent = now
        return changes


def merge_event(record: MergeRecord) -> MergeEvent:
    """`merge-started` while the merge runs, `merge-ended` once the ledger has its end; ids say which, per token."""
    summary = history([record]).merges[0]
    started = record.outcome == "running"
    name, suffix = ("merge-started", "started") if started else ("merge-ended", "ended")
    data = encode_event(name, summary.model_dump_json(), f"{record.fencing_token}-{suffix}")
    return MergeEvent(record.fencing_token, started, data)


@dataclass
class LedgerWatch:
    """What changed in the ledger since the last look: a merge that started, a merge that ended.

    The first look is the baseline and reports nothing: a new stream learns the present from its `status` event.
    """

    newest: int | None = None  # the newest fencing token seen; None before the first look
    running: set[int] = field(default_factory=set)  # the tokens seen running, whose end is still to report

    def changes(self, records: list[MergeRecord]) -> list[MergeEvent]:
        """The events for `records` (the ledger's newest merges, in any order), oldest first."""
        events: list[MergeEvent] = []
        baseline = self.newest is None
        for record in sorted(records, key=lambda record: record.fencing_token):
            is_new = self.newest is None or record.fencing_token > self.newest
            if is_new and not baseline:
                # a merge may start and end between two looks: it is reported as both, in order
                events.append(merge_event(replace(record, ended_at=None, outcome="running")))
            ended = record.outcome != "running"
            if ended and (record.fencing_token in self.running or (is_new and not baseline)):
                events.append(merge_event(record))
            if ended:
                self.running.discard(record.fencing_token)
            else:
                self.running.add(record.fencing_token)
        if records:
            self.newest = max(self.newest or 0, *(record.fencing_token for record in records))
        elif baseline:
            self.newest = 0
        return events


class StreamFeed:
    """What a hub's watcher sends its streams after each look at the ledger: the changes, else a `PING` when they
    are due one. A lock that cannot be read is a warning in the log, and the streams wait for it."""

    def __init__(self, heartbeat_seconds: float, logger: logging.Logger) -> None:
        self.ledger = LedgerWatch()
        self.heartbeat = Heartbeat(heartbeat_seconds)
        self.logger = logger  # the app's: the warning says which app could not read its lock

    def after_read(self, records: list[MergeRecord]) -> list[MergeEvent]:
        """What goes out after a look that read `records`, the ledger's newest merges."""
        return self.heartbeat.outgoing(self.ledger.changes(records))

    def after_failed_read(self, error: LockUnavailableError) -> list[MergeEvent]:
        """What goes out after a look that could not read the lock: no change, a `PING` if one is due."""
        self.logger.warning("merge events: the lock cannot be read, the streams wait for it: %s", error)
        return self.heartbeat.outgoing([])


class Inbox(Protocol):
    """A stream's queue, asyncio's or the queue module's: unbounded, so the watcher never waits to put."""

    def put_nowait(self, item: MergeEvent, /) -> None:
        """Add `item` at the end of the queue."""


def hand_out(events: list[MergeEvent], inboxes: Iterable[Inbox]) -> None:
    """Put each event, in order, into every stream's queue: each change is serialized once for all of them."""
    for inbox in inboxes:
        for event in events:
            inbox.put_nowait(event)
