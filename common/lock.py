"""The merge lock: one holder at a time for the shared resource, with three backends.

Every backend gives the same promise within its scope:

* `try_acquire` is atomic: of any number of concurrent callers, exactly one gets a `Hold`;
* the hold belongs to its token: only `release(hold)` with that token frees it early;
* the hold expires on its own after `ttl` seconds, so a crashed holder cannot keep it forever.

The scope is what differs, and it is the lesson: `memory://` is one process, `sqlite:///` is every
process on one machine, `redis://` is every machine that reaches the same Redis.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
import uuid
import weakref
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

RESOURCE_NAME = "shared-resource"


@dataclass(frozen=True)
class Hold:
    """A granted hold on the shared resource: who has it and its secret token."""

    token: str
    branch_name: str


@dataclass(frozen=True)
class HoldStatus:
    """Who holds the shared resource now, and how many seconds the hold has left."""

    branch_name: str
    seconds_left: float


class LockUnavailableError(Exception):
    """The lock backend cannot be reached or used; the apps answer 503."""


class LockConfigError(SystemExit):
    """LOCK_URL is malformed or names a store that cannot be used: one line, at start-up."""


class MergeLock(Protocol):
    """What the apps need from a lock backend; every method is blocking (the ASGI app uses threads)."""

    scope: str

    def try_acquire(self, branch_name: str, ttl: float) -> Hold | None:
        """Take the resource for `ttl` seconds if it is free; return the hold, or None if it is held."""
        ...

    def release(self, hold: Hold) -> bool:
        """Free the resource if `hold` still owns it; return False if it had expired already."""
        ...

    def status(self) -> HoldStatus | None:
        """Return the current hold, or None when the resource is free."""
        ...

    def close(self) -> None:
        """Let go of connections."""
        ...


def _new_token() -> str:
    return uuid.uuid4().hex


class MemoryLock:
    """A lock in this process's memory. Scope: one process.

    Correct with one worker, threads included; wrong as soon as there are two worker processes,
    because each has its own copy. That is the pitfall the docs reproduce.
    """

    scope = "one process"

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._token: str | None = None
        self._branch_name = ""
        self._expires_at = 0.0

    def try_acquire(self, branch_name: str, ttl: float) -> Hold | None:
        """Take the resource for `ttl` seconds if it is free."""
        with self._mutex:
            now = time.monotonic()
            if self._token is not None and now < self._expires_at:
                return None
            self._token, self._branch_name, self._expires_at = _new_token(), branch_name, now + ttl
            return Hold(self._token, branch_name)

    def release(self, hold: Hold) -> bool:
        """Free the resource if `hold` still owns it."""
        with self._mutex:
            if self._token != hold.token or time.monotonic() >= self._expires_at:
                return False
            self._token = None
            return True

    def status(self) -> HoldStatus | None:
        """Return the current hold, or None."""
        with self._mutex:
            seconds_left = self._expires_at - time.monotonic()
            if self._token is None or seconds_left <= 0:
                return None
            return HoldStatus(self._branch_name, seconds_left)

    def close(self) -> None:
        """Nothing to let go of."""


def _why_unusable(path: Path, error: Exception) -> str:
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


class SqliteLock:
    """A lock row in a SQLite file. Scope: every process on one machine that opens the same file.

    `BEGIN IMMEDIATE` takes SQLite's write lock before reading, so checking for a live hold and
    writing ours is one atomic step across threads and processes. Expiry uses the wall clock,
    which all processes on one machine share.
    """

    scope = "one machine"

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()
        # weak references: each thread's local storage owns its connection, so a thread that ends (a Flask
        # merge thread, an AnyIO pool thread let go when idle) closes it; close() reaches those still open
        self._opened: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._opened_mutex = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # closing(): a sqlite3 connection's own `with` ends a transaction but leaves the connection open
            with closing(sqlite3.connect(path, timeout=5.0)) as connection:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS holds ("
                    " resource TEXT PRIMARY KEY, token TEXT NOT NULL,"
                    " branch_name TEXT NOT NULL, expires_at REAL NOT NULL)"
                )
        except (OSError, sqlite3.Error) as error:
            raise LockConfigError(f"cannot use SQLite file {str(path)!r}: {_why_unusable(path, error)}") from None

    def _connection(self) -> sqlite3.Connection:
        # one connection per thread and process, kept: a connection must not cross threads (nor a fork),
        # and a new one pays ~0.25 ms on its first statement to read the schema and map the WAL index;
        # isolation_level=None lets us issue BEGIN IMMEDIATE ourselves
        held: _ThreadConnection | None = getattr(self._local, "held", None)
        if held is None or held.pid != os.getpid():
            connection = sqlite3.connect(self._path, timeout=5.0, isolation_level=None, check_same_thread=False)
            held = self._local.held = _ThreadConnection(connection)
            with self._opened_mutex:
                self._opened.add(held)
        return held.connection

    def _failed(self, error: sqlite3.Error) -> LockUnavailableError:
        # a connection that failed may be mid-transaction or broken: close it, this thread opens a new one next time
        self._local.held = None
        return LockUnavailableError(f"SQLite lock at {str(self._path)!r} failed: {error}")

    def try_acquire(self, branch_name: str, ttl: float) -> Hold | None:
        """Take the resource for `ttl` seconds if it is free."""
        token = _new_token()
        try:
            connection = self._connection()
            # the busy path reads without taking the write lock, so refusals do not queue behind each other
            live = "SELECT 1 FROM holds WHERE resource = ? AND expires_at > ?"
            if connection.execute(live, (RESOURCE_NAME, time.time())).fetchone():
                return None
            connection.execute("BEGIN IMMEDIATE")
            try:
                now = time.time()
                connection.execute("DELETE FROM holds WHERE resource = ? AND expires_at <= ?", (RESOURCE_NAME, now))
                inserted = connection.execute(
                    "INSERT OR IGNORE INTO holds VALUES (?, ?, ?, ?)", (RESOURCE_NAME, token, branch_name, now + ttl)
                ).rowcount
                connection.execute("COMMIT")
            except BaseException:
                connection.rollback()
                raise
        except sqlite3.Error as error:
            raise self._failed(error) from error
        return Hold(token, branch_name) if inserted == 1 else None

    def release(self, hold: Hold) -> bool:
        """Free the resource if `hold` still owns it."""
        statement = "DELETE FROM holds WHERE resource = ? AND token = ? AND expires_at > ?"
        try:
            deleted = self._connection().execute(statement, (RESOURCE_NAME, hold.token, time.time())).rowcount
        except sqlite3.Error as error:
            raise self._failed(error) from error
        return deleted == 1

    def status(self) -> HoldStatus | None:
        """Return the current hold, or None."""
        now = time.time()
        statement = "SELECT branch_name, expires_at FROM holds WHERE resource = ? AND expires_at > ?"
        try:
            row = self._connection().execute(statement, (RESOURCE_NAME, now)).fetchone()
        except sqlite3.Error as error:
            raise self._failed(error) from error
        return None if row is None else HoldStatus(row[0], row[1] - now)

    def close(self) -> None:
        """Close every connection this lock opened, in any thread."""
        with self._opened_mutex:
            for held in list(self._opened):
                held.connection.close()
            self._opened.clear()


class RedisLock:
    """redis-py's own `Lock` on one key. Scope: every process on every machine using the same Redis.

    The key's value is our token and Redis expires the key after `ttl`, so the hold ends even if
    the machine holding it dies. Redis's clock decides expiry, so holders' clocks need not agree.
    """

    scope = "many machines"

    # --8<-- [start:redis-client]
    def __init__(self, url: str, socket_timeout: float = 2.0) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self._redis = redis
        # no retries, said explicitly: the app answers 503 + Retry-After after one socket_timeout. from_url
        # retries nothing today, but redis-py's Redis(host=...) retries 10 times with backoff, which took
        # 26 s against a frozen Redis (docs/many/faults.md). A connection that a restarted Redis closed is
        # still replaced: the pool checks each connection before handing it out
        self._client = redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout, retry=Retry(NoBackoff(), 0)
        )
        self._key = f"wsgi-vs-asgi:{RESOURCE_NAME}"

    # --8<-- [end:redis-client]

    def try_acquire(self, branch_name: str, ttl: float) -> Hold | None:
        """Take the resource for `ttl` seconds if it is free."""
        # the token carries the branch name so that status() needs no second key
        token = json.dumps({"id": _new_token(), "branch_name": branch_name})
        # thread_local=False: the hold is taken in a request and released by the merge task,
        # which may run on another thread
        lock = self._client.lock(self._key, timeout=ttl, blocking=False, thread_local=False)
        try:
            acquired = lock.acquire(token=token)
        except self._redis.RedisError as error:
            raise LockUnavailableError(f"Redis lock unavailable: {error}") from error
        return Hold(token, branch_name) if acquired else None

    def release(self, hold: Hold) -> bool:
        """Free the resource if `hold` still owns it."""
        lock = self._client.lock(self._key, blocking=False, thread_local=False)
        lock.local.token = hold.token.encode()
        try:
            lock.release()
        except self._redis.exceptions.LockNotOwnedError:
            return False
        except self._redis.RedisError as error:
            raise LockUnavailableError(f"Redis lock unavailable: {error}") from error
        return True

    def status(self) -> HoldStatus | None:
        """Return the current hold, or None."""
        try:
            with self._client.pipeline(transaction=True) as pipeline:
                pipeline.get(self._key)
                pipeline.pttl(self._key)
                token, milliseconds_left = pipeline.execute()
        except self._redis.RedisError as error:
            raise LockUnavailableError(f"Redis lock unavailable: {error}") from error
        if token is None:
            return None
        # PTTL counts whole milliseconds: a key in its last millisecond reads 0 yet still holds the resource
        return HoldStatus(json.loads(token)["branch_name"], max(milliseconds_left, 1) / 1000)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def open_merge_lock(lock_url: str) -> MergeLock:
    """Open the backend that LOCK_URL names: memory://, sqlite:///relative or sqlite:////absolute, redis://."""
    scheme = urlsplit(lock_url).scheme
    if scheme == "memory":
        return MemoryLock()
    if scheme == "sqlite":
        # SQLAlchemy's convention: sqlite:///relative/path, sqlite:////absolute/path
        path = lock_url.removeprefix("sqlite:///")
        if path == lock_url or not path:
            raise LockConfigError(
                f"LOCK_URL={lock_url!r}: expected sqlite:///relative/path or sqlite:////absolute/path"
            )
        if path == ":memory:":
            # every call opens its own connection, and each would get a new, empty in-memory database
            raise LockConfigError(f"LOCK_URL={lock_url!r}: an in-memory SQLite database is not shared; use memory://")
        try:
            return SqliteLock(Path(path))
        except LockConfigError as error:
            raise LockConfigError(f"LOCK_URL={lock_url!r}: {error}") from None
    if scheme in {"redis", "rediss", "unix"}:
        return RedisLock(lock_url)
    raise LockConfigError(f"LOCK_URL={lock_url!r}: the scheme must be memory://, sqlite:/// or redis://")


# --8<-- [start:finish-merge]
def finish_merge(merge_lock: MergeLock, hold: Hold, logger: logging.Logger) -> None:
    """Release a merge's hold and log how the merge ended; a lock backend that is down is logged, not raised."""
    try:
        released = merge_lock.release(hold)
    except LockUnavailableError as error:
        # the merge runs after its response was sent, so there is no client to answer 503 to, and an
        # exception would only print a traceback: the hold's TTL frees the resource on its own
        logger.warning("merge of %r ended, but its hold could not be released: %s", hold.branch_name, error)
        return
    logger.info("merge of %r ended: %s", hold.branch_name, "released" if released else "its hold had expired")


# --8<-- [end:finish-merge]


def take_or_time_left(merge_lock: MergeLock, branch_name: str, ttl: float) -> Hold | float:
    """Take the resource, or return the seconds its current holder has left (0 if the hold just ended)."""
    # one call for both answers, so the ASGI app crosses to a worker thread once per request, not twice
    hold = merge_lock.try_acquire(branch_name, ttl)
    if hold is not None:
        return hold
    current = merge_lock.status()
    return current.seconds_left if current else 0.0
