"""The merge lock in a SQLite file, async face: reads on the event loop, writes in a worker thread.
Scope: as sqlite.py's."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

from common.lock.protocol import Busy, HoldStatus, Lease, MergeRecord, Outcome
from common.lock.sqlite import SqliteLock, read_busy, read_history, read_status
from common.lock.sqlite_connections import connect

T = TypeVar("T")


class WouldWait:
    """What a read on the loop gives instead of waiting: SQLite said busy, so the read goes to a thread."""


WOULD_WAIT = WouldWait()


class AsyncSqliteLock:
    """The async face of SqliteLock: reads on the event loop, writes in a worker thread.

    In WAL mode a reader never waits for a writer, so the busy path, GET /merge and the history read on
    the loop with a connection that does not wait at all (busy timeout 0); should SQLite still answer busy
    (a checkpoint, a recovering WAL index), the read goes to a thread instead. Taking, renewing and
    finishing a lease take the write lock, which can wait for another process: always a worker thread.
    """

    scope = SqliteLock.scope

    def __init__(self, lock: SqliteLock) -> None:
        self.lock = lock
        self.lease_seconds = lock.lease_seconds
        self._reader: sqlite3.Connection | None = None

    def _read_on_loop(self, read: Callable[[sqlite3.Connection], T]) -> T | WouldWait:
        """`read` on the loop's own connection, or WOULD_WAIT if SQLite would make it wait."""
        try:
            if self._reader is None:
                self._reader = connect(self.lock.path, timeout=0)
            return read(self._reader)
        except sqlite3.OperationalError:
            return WOULD_WAIT

    async def _read(self, read: Callable[[sqlite3.Connection], T]) -> T:
        result = self._read_on_loop(read)
        if not isinstance(result, WouldWait):
            return result

        def in_thread() -> T:
            with self.lock.using() as connection:
                return read(connection)

        return await anyio.to_thread.run_sync(in_thread)

    async def try_acquire(self, branch_name: str, merge_seconds: float) -> Lease | Busy:
        """As SqliteLock.try_acquire, with no thread at all when the resource is held."""
        busy = self._read_on_loop(lambda connection: read_busy(connection, time.time()))
        if isinstance(busy, Busy):
            return busy
        return await anyio.to_thread.run_sync(self.lock.try_acquire, branch_name, merge_seconds)

    async def renew(self, lease: Lease) -> str | None:
        """As SqliteLock.renew, in a worker thread."""
        return await anyio.to_thread.run_sync(self.lock.renew, lease)

    async def finish(self, lease: Lease, outcome: Outcome) -> Outcome:
        """As SqliteLock.finish, in a worker thread."""
        return await anyio.to_thread.run_sync(self.lock.finish, lease, outcome)

    async def status(self) -> HoldStatus | None:
        """As SqliteLock.status, on the loop."""
        return await self._read(lambda connection: read_status(connection, time.time()))

    async def history(self, limit: int) -> list[MergeRecord]:
        """As SqliteLock.history, on the loop."""
        return await self._read(lambda connection: read_history(connection, limit))

    async def close(self) -> None:
        """Close the loop's connection and the threads' ones."""
        if self._reader is not None:
            self._reader.close()
        self.lock.close()
