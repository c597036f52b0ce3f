"""The merge lock in a SQLite file. Scope: every process on one machine that opens the same file.

`BEGIN IMMEDIATE` takes SQLite's write lock before reading, so checking for a live lease, taking the next
fencing token and writing the merge's start are one atomic step across threads and processes. Expiry uses
the wall clock, which every process on one machine shares.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

from common.lock.protocol import (
    LEDGER_SIZE,
    RESOURCE_NAME,
    Busy,
    HoldStatus,
    Lease,
    LockConfigError,
    LockUnavailableError,
    MergeRecord,
    Outcome,
    seconds_left,
)

T = TypeVar("T")
# how long a statement waits for another connection's write lock before it gives up (SQLite's busy timeout)
BUSY_TIMEOUT_SECONDS = 5.0
# how long start-up keeps trying while other workers are creating the same fresh file
SCHEMA_DEADLINE_SECONDS = 30.0
SCHEMA = [
    # the live lease: one row at most per resource
    "CREATE TABLE IF NOT EXISTS leases ("
    " resource TEXT PRIMARY KEY, token TEXT NOT NULL, branch_name TEXT NOT NULL,"
    " fencing_token INTEGER NOT NULL, expires_at REAL NOT NULL, ends_at REAL NOT NULL)",
    # the ledger: every merge, by fencing token; the newest token is the fence
    "CREATE TABLE IF NOT EXISTS merges ("
    " fencing_token INTEGER PRIMARY KEY, branch_name TEXT NOT NULL,"
    " started_at REAL NOT NULL, ended_at REAL, outcome TEXT NOT NULL)",
    # start-up writes here, to prove the file can be written before anyone is told it can
    "CREATE TABLE IF NOT EXISTS opened (pid INTEGER PRIMARY KEY, opened_at REAL NOT NULL)",
]
LIVE_LEASE = "SELECT branch_name, fencing_token, expires_at, ends_at FROM leases WHERE resource = ? AND expires_at > ?"


def why_unusable(path: Path, error: Exception) -> str:
    """Name the usual cause that SQLite's "unable to open database file" or mkdir's "File exists" leaves out."""
    try:
        if path.is_dir():
            return "it is a directory"
        nearest = next(folder for folder in path.parents if folder.exists())
        if not nearest.is_dir():
            return f"{str(nearest)!r} is not a directory"
        if not os.access(nearest, os.W_OK):
            # the folder must be writable even when the file exists: SQLite creates -wal and -shm beside it
            return f"{error} (this user cannot write to {str(nearest)!r})"
    except OSError:
        pass
    return str(error)


# --8<-- [start:thread-connection]
class _ThreadConnection:
    """One thread's SQLite connection, closed when the thread ends and its thread-local storage lets go of it."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.pid = os.getpid()

    def __del__(self) -> None:
        self.connection.close()


# --8<-- [end:thread-connection]


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE ourselves; check_same_thread=False: close() may run in
    # another thread than the one that opened the connection
    return sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)


def create_schema(path: Path) -> None:
    """Create the tables and prove a write, retrying while other workers create the same fresh file."""
    deadline = time.monotonic() + SCHEMA_DEADLINE_SECONDS
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with closing(_connect(path, BUSY_TIMEOUT_SECONDS)) as connection:
                # switching to WAL needs the file to itself: workers starting together can find it busy
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("BEGIN IMMEDIATE")
                for statement in SCHEMA:
                    connection.execute(statement)
                connection.execute("INSERT OR REPLACE INTO opened VALUES (?, ?)", (os.getpid(), time.time()))
                connection.execute("COMMIT")
            return
        except sqlite3.OperationalError as error:
            if "locked" in str(error) and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            raise LockConfigError(f"cannot use SQLite file {str(path)!r}: {why_unusable(path, error)}") from None
        except (OSError, sqlite3.Error) as error:
            raise LockConfigError(f"cannot use SQLite file {str(path)!r}: {why_unusable(path, error)}") from None


class SqliteLock:
    """The lock, its fencing tokens and its ledger in one SQLite file."""

    scope = "one machine"

    def __init__(self, path: Path, lease_seconds: float) -> None:
        self.path = path
        self.lease_seconds = lease_seconds
        self._local = threading.local()
        # weak references: each thread's local storage owns its connection, so a thread that ends (a Flask
        # merge thread, an AnyIO pool thread let go when idle) closes it; close() reaches those still open
        self._opened: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._opened_mutex = threading.Lock()
        create_schema(path)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection: a connection must not cross threads (nor a fork), and a new one pays
        ~0.25 ms on its first statement to read the schema and map the WAL index, so each thread keeps one."""
        held: _ThreadConnection | None = getattr(self._local, "held", None)
        if held is None or held.pid != os.getpid():
            held = self._local.held = _ThreadConnection(_connect(self.path, BUSY_TIMEOUT_SECONDS))
            with self._opened_mutex:
                self._opened.add(held)
        return held.connection

    @contextmanager
    def using(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, with any SQLite error turned into LockUnavailableError (a 503)."""
        try:
            yield self.connection()
        except sqlite3.Error as error:
            # a connection that failed may be mid-transaction or broken: this thread opens a new one next time
            self._local.held = None
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
        with self._opened_mutex:
            for held in list(self._opened):
                held.connection.close()
            self._opened.clear()


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
                self._reader = _connect(self.lock.path, timeout=0)
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
