"""The merge event streams of the Flask app: one watcher thread per worker process, a queue per open stream.

Compare with asgi_app/events.py: the same hub, with a thread where FastAPI has a task. What differs is what an
open stream costs: WSGI hands the response's iterable to the server, which holds whatever runs the request (a
sync worker process, a gthread thread, a gevent greenlet) until the stream ends. And a WSGI app learns that its
client went away only when a write fails: at the next event or heartbeat.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator

from flask_openapi3 import OpenAPI

from common import merges
from common.events import PING, WATCHED_MERGES, LedgerWatch, MergeEvent, status_event
from common.lock import LockUnavailableError, MergeLock
from common.models import MergeStatus
from common.settings import Settings

logger = logging.getLogger("wsgi_app")


class EventHub:
    """Watches the ledger while at least one stream is open, and hands each change to every stream's queue."""

    def __init__(self, merge_lock: MergeLock, settings: Settings) -> None:
        self.merge_lock = merge_lock
        self.poll_seconds = settings.events_poll_seconds
        self.heartbeat_seconds = settings.events_heartbeat_seconds
        self.streams: set[queue.Queue[MergeEvent]] = set()
        self.guard = threading.Lock()  # the set is shared by the watcher and every stream's thread
        self.watcher: threading.Thread | None = None
        self.watching = threading.Event()  # set once the watcher has its baseline: no change before it is missed

    def subscribe(self) -> queue.Queue[MergeEvent]:
        """A queue that receives every change from now on; the watcher starts with the first stream."""
        stream: queue.Queue[MergeEvent] = queue.Queue()
        with self.guard:
            self.streams.add(stream)
            if self.watcher is None or not self.watcher.is_alive():
                self.watching.clear()
                # a daemon thread: a worker that is shutting down does not wait for it
                self.watcher = threading.Thread(target=self.watch, name="merge-events-watcher", daemon=True)
                self.watcher.start()
        self.watching.wait()
        return stream

    def unsubscribe(self, stream: queue.Queue[MergeEvent]) -> None:
        """Stop handing changes to this stream."""
        with self.guard:
            self.streams.discard(stream)

    def watch(self) -> None:
        """Read the ledger every poll interval while a stream is open; one read, one serialization per change."""
        watch, last_sent = LedgerWatch(), time.monotonic()
        try:
            while True:
                try:
                    changes = watch.changes(self.merge_lock.history(WATCHED_MERGES))
                except LockUnavailableError as error:
                    # the streams stay open: their next event comes once the store is back
                    logger.warning("merge events: the lock cannot be read: %s", error)
                    changes = []
                self.watching.set()
                if not changes and time.monotonic() - last_sent >= self.heartbeat_seconds:
                    changes = [PING]
                if changes:
                    last_sent = time.monotonic()
                with self.guard:
                    if not self.streams:
                        self.watcher = None
                        return
                    for stream in self.streams:
                        for event in changes:
                            stream.put_nowait(event)
                time.sleep(self.poll_seconds)
        finally:
            self.watching.set()  # a subscriber waiting on a watcher that failed must not wait forever

    def stream(self, stream: queue.Queue[MergeEvent], status: MergeStatus) -> Iterator[bytes]:
        """One stream's bytes: the status event, then each change and each of the hub's heartbeats."""
        try:
            yield status_event(status)
            while True:
                try:
                    event = stream.get(timeout=2 * self.heartbeat_seconds)  # a change, or the hub's heartbeat
                except queue.Empty:
                    event = PING  # the watcher is gone (it failed): the stream still learns if its client left
                if not event.told_by(status):
                    yield event.data
        finally:
            # the server closes the iterable when a write fails (the client went away) or the worker stops
            self.unsubscribe(stream)
            logger.debug("merge events: a stream closed, %d open in this worker", len(self.streams))


def open_stream(hub: EventHub) -> Iterator[bytes]:
    """Subscribe, then read the status: a merge that starts in between is in the queue, not lost."""
    stream = hub.subscribe()
    try:
        status = merges.status(hub.merge_lock.status())
    except BaseException:
        hub.unsubscribe(stream)
        raise
    return hub.stream(stream, status)


def init_app(app: OpenAPI, settings: Settings) -> None:
    """Give the app its hub; the watcher thread starts with the first stream, in the worker that serves it."""
    app.extensions["event_hub"] = EventHub(app.extensions["merge_lock"], settings)
