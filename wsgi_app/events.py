"""The merge event streams of the Flask app: one watcher thread per worker process, a queue per open stream.

Compare with asgi_app/events.py: the same hub, with a thread where FastAPI has a task. What differs is what an
open stream costs: WSGI hands the response's iterable to the server, which holds whatever runs the request (a
sync worker process, a gthread thread, a gevent greenlet) until the stream ends. And a WSGI app learns that its
client went away only when a write fails: at the next event or heartbeat.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from queue import Empty, Queue

from flask_openapi3 import OpenAPI

from common import merges
from common.events import PING, WATCHED_MERGES, MergeEvent, StreamFeed, hand_out, status_event
from common.lock import LockUnavailableError, MergeLock
from common.models import MergeStatus
from common.settings import Settings

logger = logging.getLogger("wsgi_app")


class EventHub:
    """Watches the ledger while at least one stream is open, and hands each change to every stream's queue."""

    def __init__(self, merge_lock: MergeLock, settings: Settings) -> None:
        self.merge_lock = merge_lock
        self.settings = settings  # how often the watcher reads the ledger, and how long an idle stream waits
        self.queues: set[Queue[MergeEvent]] = set()  # one per open stream
        self.guard = threading.Lock()  # the set is shared by the watcher and every stream's thread
        self.watcher: threading.Thread | None = None
        self.watching = threading.Event()  # set once the watcher has its baseline: no change before it is missed

    def subscribe(self) -> Queue[MergeEvent]:
        """A queue that receives every change from now on; the watcher starts with the first stream."""
        queue: Queue[MergeEvent] = Queue()
        with self.guard:
            self.queues.add(queue)
            if self.watcher is None or not self.watcher.is_alive():
                self.watching.clear()
                # a daemon thread: a worker that is shutting down does not wait for it
                self.watcher = threading.Thread(target=self.watch, name="merge-events-watcher", daemon=True)
                self.watcher.start()
        self.watching.wait()
        return queue

    def unsubscribe(self, queue: Queue[MergeEvent]) -> None:
        """Stop handing changes to this queue."""
        with self.guard:
            self.queues.discard(queue)

    def watch(self) -> None:
        """Read the ledger every poll interval while a stream is open; one read, one serialization per change."""
        feed = StreamFeed(self.settings.events_heartbeat_seconds, logger)
        try:
            while True:
                try:
                    outgoing = feed.after_read(self.merge_lock.history(WATCHED_MERGES))
                except LockUnavailableError as error:
                    outgoing = feed.after_failed_read(error)
                self.watching.set()
                # under the guard: a stream that subscribes after this check sees no watcher and starts one
                with self.guard:
                    if not self.queues:
                        self.watcher = None  # the next stream starts a new watcher
                        return
                    hand_out(outgoing, self.queues)
                time.sleep(self.settings.events_poll_seconds)
        finally:
            self.watching.set()  # a subscriber waiting on a watcher that failed must not wait forever

    def stream(self, queue: Queue[MergeEvent], status: MergeStatus) -> Iterator[bytes]:
        """One stream's bytes: the status event, then each change and each of the hub's heartbeats."""
        try:
            yield status_event(status)
            while True:
                try:  # a change, or the hub's heartbeat
                    event = queue.get(timeout=2 * self.settings.events_heartbeat_seconds)
                except Empty:
                    event = PING  # the watcher is gone (it failed): the stream still learns if its client left
                if not event.told_by(status):
                    yield event.data
        finally:
            # the server closes the iterable when a write fails (the client went away) or the worker stops
            self.unsubscribe(queue)
            logger.debug("merge events: a stream closed, %d open in this worker", len(self.queues))


def open_stream(hub: EventHub) -> Iterator[bytes]:
    """Subscribe, then read the status: a merge that starts in between is in the queue, not lost."""
    queue = hub.subscribe()
    try:
        status = merges.status(hub.merge_lock.status())
    except BaseException:
        hub.unsubscribe(queue)
        raise
    return hub.stream(queue, status)


def init_app(app: OpenAPI, settings: Settings) -> None:
    """Give the app its hub; the watcher thread starts with the first stream, in the worker that serves it."""
    app.extensions["event_hub"] = EventHub(app.extensions["merge_lock"], settings)
