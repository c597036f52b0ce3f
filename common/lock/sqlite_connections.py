"""SQLite connections for the lock: the file made ready at start-up, and one connection per thread.

What SQL the lock runs is sqlite.py's; this module only opens, keeps and closes connections.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from common.lock.protocol import LockConfigError

# how long a statement waits for another connection's write lock before it gives up (SQLite's busy timeout)
BUSY_TIMEOUT_SECONDS = 5.0
# how long start-up keeps trying while other workers are creating the same fresh file
SCHEMA_DEADLINE_SECONDS = 30.0
# start-up writes here, to prove the file can be written before anyone is told it can
OPENED = "CREATE TABLE IF NOT EXISTS opened (pid INTEGER PRIMARY KEY, opened_at REAL NOT NULL)"


def connect(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection that waits `timeout` seconds for another's write lock."""
    # isolation_level=None: the lock issues BEGIN IMMEDIATE itself; check_same_thread=False: close() may run in
    # another thread than the one that opened the connection
    return sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)


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


def create_schema(path: Path, schema: Iterable[str]) -> None:
    """Create the tables and prove a write, retrying while other workers create the same fresh file."""
    deadline = time.monotonic() + SCHEMA_DEADLINE_SECONDS
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with closing(connect(path, BUSY_TIMEOUT_SECONDS)) as connection:
                # switching to WAL needs the file to itself: workers starting together can find it busy
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("BEGIN IMMEDIATE")
                for statement in [*schema, OPENED]:
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


# --8<-- [start:thread-connection]
class _ThreadConnection:
    """One thread's SQLite connection, closed when the thread ends and its thread-local storage lets go of it."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.pid = os.getpid()

    def __del__(self) -> None:
        self.connection.close()


# --8<-- [end:thread-connection]


class ThreadConnections:
    """One connection per thread to one file: a connection must not cross threads (nor a fork), and a new one
    pays ~0.25 ms on its first statement to read the schema and map the WAL index, so each thread keeps one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        # weak references: each thread's local storage owns its connection, so a thread that ends (a Flask
        # merge thread, an AnyIO pool thread let go when idle) closes it; close() reaches those still open
        self._opened: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._opened_mutex = threading.Lock()

    def get(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (and again in a forked child)."""
        held: _ThreadConnection | None = getattr(self._local, "held", None)
        if held is None or held.pid != os.getpid():
            held = self._local.held = _ThreadConnection(connect(self.path, BUSY_TIMEOUT_SECONDS))
            with self._opened_mutex:
                self._opened.add(held)
        return held.connection

    def discard(self) -> None:
        """Let go of this thread's connection, which failed and may be mid-transaction: the next get opens anew."""
        self._local.held = None

    def close(self) -> None:
        """Close every connection opened here, in any thread."""
        with self._opened_mutex:
            for held in list(self._opened):
                held.connection.close()
            self._opened.clear()
