"""The merge event streams of the FastAPI app: one watcher task per worker process, a queue per open stream.

Compare with wsgi_app/events.py: the same hub, with a task where Flask has a thread. An open stream costs this
process a queue and a task or two on its event loop, about 34 KiB in the committed run
(benchmarks/results/reference-streams/): that is why one Uvicorn worker holds thousands of them while it keeps
answering everyone else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from common import merges
from common.events import WATCHED_MERGES, MergeEvent, StreamFeed, hand_out, status_event
from common.lock import AsyncMergeLock, LockUnavailableError
from common.models import MergeStatus
from common.settings import Settings

logger = logging.getLogger("asgi_app")


class EventHub:
    """Watches the ledger while at least one stream is open, and hands each change to every stream's queue."""

    def __init__(self, merge_lock: AsyncMergeLock, settings: Settings) -> None:
        self.merge_lock = merge_lock
        self.settings = settings  # how often the watcher reads the ledger, and how long an idle stream waits
        self.queues: set[asyncio.Queue[MergeEvent]] = set()  # one per open stream
        self.watcher: asyncio.Task[None] | None = None
        self.watching = asyncio.Event()  # set once the watcher has its baseline: no change before it is missed

    async def subscribe(self) -> asyncio.Queue[MergeEvent]:
        """A queue that receives every change from now on; the watcher starts with the first stream."""
        queue: asyncio.Queue[MergeEvent] = asyncio.Queue()
        self.queues.add(queue)
        if self.watcher is None or self.watcher.done():
            self.watching.clear()
            self.watcher = asyncio.create_task(self.watch(), name="merge-events-watcher")
        await self.watching.wait()
        return queue

    def unsubscribe(self, queue: asyncio.Queue[MergeEvent]) -> None:
        """Stop handing changes to this queue."""
        self.queues.discard(queue)

    async def watch(self) -> None:
        """Read the ledger every poll interval while a stream is open; one read, one serialization per change."""
        feed = StreamFeed(self.settings.events_heartbeat_seconds, logger)
        try:
            while True:
                try:
                    outgoing = feed.after_read(await self.merge_lock.history(WATCHED_MERGES))
                except LockUnavailableError as error:
                    outgoing = feed.after_failed_read(error)
                self.watching.set()
                # no lock around the queues: nothing else runs on the loop between this check and the return
                if not self.queues:
                    self.watcher = None  # the next stream starts a new watcher
                    return
                hand_out(outgoing, self.queues)
                await asyncio.sleep(self.settings.events_poll_seconds)
        finally:
            self.watching.set()  # a subscriber waiting on a watcher that failed must not wait forever

    async def stream(self, queue: asyncio.Queue[MergeEvent], status: MergeStatus) -> AsyncIterator[bytes]:
        """One stream's bytes: the status event, then each change and each of the hub's heartbeats."""
        try:
            yield status_event(status)
            while True:
                # no timeout: Starlette learns that the client left by itself, even if the watcher has failed
                event = await queue.get()  # a change, or the hub's heartbeat
                if not event.told_by(status):
                    yield event.data
        finally:
            # Starlette cancels this generator when the client goes away (it listens for http.disconnect)
            self.unsubscribe(queue)
            logger.debug("merge events: a stream closed, %d open in this worker", len(self.queues))


async def open_stream(hub: EventHub) -> AsyncIterator[bytes]:
    """Subscribe, then read the status: a merge that starts in between is in the queue, not lost."""
    queue = await hub.subscribe()
    try:
        status = merges.status(await hub.merge_lock.status())
    except BaseException:
        hub.unsubscribe(queue)
        raise
    return hub.stream(queue, status)


def init_app(app: FastAPI, settings: Settings) -> None:
    """Give the app its hub; the watcher task starts with the first stream, on the loop that serves it."""
    app.state.event_hub = EventHub(app.state.merge_lock, settings)
