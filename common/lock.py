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
import sqlite3
import threading
import time
import uuid
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


class SqliteLock:
    """A lock row in a SQLite file. Scope: every process on one machine that opens the same file.

    `BEGIN IMMEDIATE` takes SQLite's write lock before reading, so checking for a live hold and
    writing ours is one atomic step across threads and processes. Expiry uses the wall clock,
    which all processes on one machine share.
    """

    scope = "one machine"

    def __init__(self, path: Path) -> None:
        self._path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as connection:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS holds ("
                    " resource TEXT PRIMARY KEY, token TEXT NOT NULL,"
                    " branch_name TEXT NOT NULL, expires_at REAL NOT NULL)"
                )
        except (OSError, sqlite3.Error) as error:
            raise LockConfigError(f"cannot use SQLite file {str(path)!r}: {error}") from None

    def _connect(self) -> sqlite3.Connection:
        # a connection per call: sqlite3 connections must not cross threads, and opening one is cheap;
        # isolation_level=None lets us issue BEGIN IMMEDIATE ourselves
        return sqlite3.connect(self._path, timeout=5.0, isolation_level=None)

    def _run(self, statement: str, *parameters: object) -> tuple[int, tuple[object, ...] | None]:
        """Run one statement in its own connection; return its row count and first row."""
        try:
            connection = self._connect()
            try:
                cursor = connection.execute(statement, parameters)
                return cursor.rowcount, cursor.fetchone()
            finally:
                connection.close()
        except sqlite3.Error as error:
            raise LockUnavailableError(f"SQLite lock at {str(self._path)!r} failed: {error}") from error

    def try_acquire(self, branch_name: str, ttl: float) -> Hold | None:
        """Take the resource for `ttl` seconds if it is free."""
        token = _new_token()
        try:
            connection = self._connect()
            try:
                connection.execute("BEGIN IMMEDIATE")
                now = time.time()
                connection.execute("DELETE FROM holds WHERE resource = ? AND expires_at <= ?", (RESOURCE_NAME, now))
                inserted = connection.execute(
                    "INSERT OR IGNORE INTO holds VALUES (?, ?, ?, ?)", (RESOURCE_NAME, token, branch_name, now + ttl)
                ).rowcount
                connection.execute("COMMIT")
            finally:
                connection.close()
        except sqlite3.Error as error:
            raise LockUnavailableError(f"SQLite lock at {str(self._path)!r} failed: {error}") from error
        return Hold(token, branch_name) if inserted == 1 else None

    def release(self, hold: Hold) -> bool:
        """Free the resource if `hold` still owns it."""
        deleted, _ = self._run(
            "DELETE FROM holds WHERE resource = ? AND token = ? AND expires_at > ?",
            RESOURCE_NAME,
            hold.token,
            time.time(),
        )
        return deleted == 1

    def status(self) -> HoldStatus | None:
        """Return the current hold, or None."""
        now = time.time()
        _, row = self._run(
            "SELECT branch_name, expires_at FROM holds WHERE resource = ? AND expires_at > ?", RESOURCE_NAME, now
        )
        if row is None:
            return None
        branch_name, expires_at = row
        return HoldStatus(str(branch_name), float(expires_at) - now)  # type: ignore[arg-type]

    def close(self) -> None:
        """Nothing stays open between calls."""


class RedisLock:
    """redis-py's own `Lock` on one key. Scope: every process on every machine using the same Redis.

    The key's value is our token and Redis expires the key after `ttl`, so the hold ends even if
    the machine holding it dies. Redis's clock decides expiry, so holders' clocks need not agree.
    """

    scope = "many machines"

    def __init__(self, url: str, socket_timeout: float = 2.0) -> None:
        import redis

        self._redis = redis
        self._client = redis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)
        self._key = f"wsgi-vs-asgi:{RESOURCE_NAME}"

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
        if token is None or milliseconds_left <= 0:
            return None
        return HoldStatus(json.loads(token)["branch_name"], milliseconds_left / 1000)

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
        try:
            return SqliteLock(Path(path))
        except LockConfigError as error:
            raise LockConfigError(f"LOCK_URL={lock_url!r}: {error}") from None
    if scheme in {"redis", "rediss", "unix"}:
        return RedisLock(lock_url)
    raise LockConfigError(f"LOCK_URL={lock_url!r}: the scheme must be memory://, sqlite:/// or redis://")
