"""The merge lock in a SQLite file, blocking face. Scope: every process on one machine that opens the same file.

`BEGIN IMMEDIATE` takes SQLite's write lock before reading, so checking for a live lease, taking the next
fencing token and writing the merge's start are one atomic step across threads and processes. Expiry uses
the wall clock, which every process on one machine shares. This module is the lock's SQL; opening and
keeping connections is sqlite_connections.py's.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from common.lock.protocol import (
    LEDGER_SIZE,
    RESOURCE_NAME,
    Busy,
    HoldStatus,
    Lease,
    LockUnavailableError,
    MergeRecord,
    Outcome,
    seconds_left,
)
from common.lock.sqlite_connections import ThreadConnections, create_schema

SCHEMA = [
    # the live lease: one row at most per resource
    "CREATE TABLE IF NOT EXISTS leases ("
    " resource TEXT PRIMARY KEY, token TEXT NOT NULL, branch_name TEXT NOT NULL,"
    " fencing_token INTEGER NOT NULL, expires_at REAL NOT NULL, ends_at REAL NOT NULL)",
    # the ledger: every merge, by fencing token; the newest token is the fence
    "CREATE TABLE IF NOT EXISTS merges ("
    " fencing_token INTEGER PRIMARY KEY, branch_name TEXT NOT NULL,"
    " started_at REAL NOT NULL, ended_at REAL, outcome TEXT NOT NULL)",
]
LIVE_LEASE = "SELECT branch_name, fencing_token, expires_at, ends_at FROM leases WHERE resource = ? AND expires_at > ?"


class SqliteLock:
    """The lock, its fencing tokens and its ledger in one SQLite file."""

    scope = "one machine"

    def __init__(self, path: Path, lease_seconds: float) -> None:
        self.path = path
        self.lease_seconds = lease_seconds
        create_schema(path, SCHEMA)
        self.connections = ThreadConnections(path)

    @contextmanager
    def using(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, with any SQLite error turned into LockUnavailableError (a 503)."""
        try:
            yield self.connections.get()
        except sqlite3.Error as error:
            self.connections.discard()
            raise LockUnavailableError(f"SQLite lock at {str(self.path)!r} failed: {error}") from error

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self.using() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                connection.rollback()
                raise

    # --8<-- [start:grant]
    def try_acquire(self, branch_name: str, merge_seconds: float) -> Lease | Busy:
        """Take the resource and write the merge's start, or say how long the holder should still take."""
        # the busy path reads without taking the write lock, so refusals do not queue behind each other
        with self.using() as connection:
            busy = read_busy(connection, time.time())
        if busy is not None:
            return busy
        with self._transaction() as connection:
            granted_at, now = time.monotonic(), time.time()  # the merge's count must not start after the lease
            if (busy := read_busy(connection, now)) is not None:
                return busy
            [(last,)] = connection.execute("SELECT COALESCE(MAX(fencing_token), 0) FROM merges").fetchall()
            lease = Lease(uuid.uuid4().hex, last + 1, branch_name, merge_seconds, granted_at)
            row = (RESOURCE_NAME, lease.token, branch_name, lease.fencing_token, now + self.lease_seconds)
            connection.execute("INSERT OR REPLACE INTO leases VALUES (?, ?, ?, ?, ?, ?)", (*row, now + merge_seconds))
            # a merge still running when another starts had its lease run out: a crash, or a pause
            connection.execute("UPDATE merges SET outcome = 'lease lost' WHERE outcome = 'running'")
            merge = (lease.fencing_token, branch_name, now, None, "running")
            connection.execute("INSERT INTO merges VALUES (?, ?, ?, ?, ?)", merge)
            connection.execute("DELETE FROM merges WHERE fencing_token <= ?", (lease.fencing_token - LEDGER_SIZE,))
            return lease

    # --8<-- [end:grant]

    def renew(self, lease: Lease) -> str | None:
        """Extend the lease by `lease_seconds`; None if it was still ours, else why it is lost."""
        statement = "UPDATE leases SET expires_at = ? WHERE resource = ? AND token = ? AND expires_at > ?"
        try:
            with self.using() as connection:
                now = time.time()
                renewed = connection.execute(statement, (now + self.lease_seconds, RESOURCE_NAME, lease.token, now))
        except LockUnavailableError as error:
            return str(error)
        return None if renewed.rowcount == 1 else "its lease had run out"

    # --8<-- [start:fence]
    def finish(self, lease: Lease, outcome: Outcome) -> Outcome:
        """Write the merge's end (fenced) and release the lease; return the outcome the ledger recorded."""
        with self._transaction() as connection:
            connection.execute("DELETE FROM leases WHERE resource = ? AND token = ?", (RESOURCE_NAME, lease.token))
            [(newest,)] = connection.execute("SELECT MAX(fencing_token) FROM merges").fetchall()
            if lease.fencing_token < newest:
                # the fence: a newer merge has written, so this late end is refused and marked as such
                connection.execute(
                    "UPDATE merges SET outcome = 'fenced off' WHERE fencing_token = ?", (lease.fencing_token,)
                )
                return "fenced off"
            end = (time.time(), outcome, lease.fencing_token)
            connection.execute("UPDATE merges SET ended_at = ?, outcome = ? WHERE fencing_token = ?", end)
            return outcome

    # --8<-- [end:fence]

    def status(self) -> HoldStatus | None:
        """The current holder, or None when the resource is free."""
        with self.using() as connection:
            return read_status(connection, time.time())

    def history(self, limit: int) -> list[MergeRecord]:
        """The ledger's `limit` most recent merges, newest first."""
        with self.using() as connection:
            return read_history(connection, limit)

    def close(self) -> None:
        """Close every connection this lock opened, in any thread."""
        self.connections.close()


def read_status(connection: sqlite3.Connection, now: float) -> HoldStatus | None:
    """The live lease, read without the write lock."""
    row = connection.execute(LIVE_LEASE, (RESOURCE_NAME, now)).fetchone()
    if row is None:
        return None
    branch_name, fencing_token, expires_at, ends_at = row
    return HoldStatus(branch_name, fencing_token, seconds_left(ends_at, expires_at, now))


def read_busy(connection: sqlite3.Connection, now: float) -> Busy | None:
    """Busy with the holder's seconds left, or None when the resource is free."""
    status = read_status(connection, now)
    return None if status is None else Busy(status.seconds_left)


def read_history(connection: sqlite3.Connection, limit: int) -> list[MergeRecord]:
    """The `limit` newest merges of the ledger."""
    rows = connection.execute("SELECT * FROM merges ORDER BY fencing_token DESC LIMIT ?", (limit,)).fetchall()
    return [MergeRecord(*row) for row in rows]
