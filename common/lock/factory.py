"""LOCK_URL to a lock: the backend it names, checked at start-up, so that what cannot work says so in one line."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from redis.exceptions import RedisError

from common.lock.memory import MemoryLock
from common.lock.protocol import RENEWALS_PER_LEASE, AsyncMergeLock, LockConfigError, MergeLock
from common.lock.redis import RedisLock
from common.lock.sqlite import SqliteLock
from common.settings import without_password

# the shortest renewal interval each backend is asked for: a renewal is a round trip to the store, and one
# renewal more often than this would be the store's main work; Redis also counts expiry in milliseconds
MIN_RENEW_SECONDS = {"memory": 0.001, "sqlite": 0.01, "redis": 0.01}
REDIS_SCHEMES = {"redis", "rediss", "unix"}


def scheme_of(lock_url: str) -> str:
    """The backend a LOCK_URL names: memory, sqlite or redis."""
    # not urlsplit: it refuses some malformed Redis URLs outright, and those deserve a message of their own
    scheme = lock_url.partition(":")[0].lower()
    if scheme in {"memory", "sqlite"}:
        return scheme
    if scheme in REDIS_SCHEMES:
        return "redis"
    raise LockConfigError(
        f"LOCK_URL={without_password(lock_url)!r}: the scheme must be memory://, sqlite:/// or redis://"
    )


def check_lease(lock_url: str, backend: str, lease_seconds: float) -> None:
    """Refuse a lease the backend cannot keep: renewed every third of it, it must leave room for a renewal."""
    renew_every = lease_seconds / RENEWALS_PER_LEASE
    if backend == "redis" and lease_seconds < 0.001:
        raise LockConfigError(
            f"LOCK_LEASE_SECONDS={lease_seconds:g}: Redis counts a lease in whole milliseconds"
            f" ({without_password(lock_url)!r})"
        )
    if renew_every < MIN_RENEW_SECONDS[backend]:
        shortest = MIN_RENEW_SECONDS[backend] * RENEWALS_PER_LEASE
        raise LockConfigError(
            f"LOCK_LEASE_SECONDS={lease_seconds:g}: renewed every {renew_every * 1000:.2g} ms, more often than "
            f"the {backend} lock can keep up with; use at least {shortest:g} s"
        )


def sqlite_path(lock_url: str) -> Path:
    """The file of a sqlite:/// URL (SQLAlchemy's convention: sqlite:///relative, sqlite:////absolute)."""
    path = lock_url.removeprefix("sqlite:///")
    if path == lock_url or not path:
        raise LockConfigError(
            f"LOCK_URL={without_password(lock_url)!r}: expected sqlite:///relative/path or sqlite:////absolute/path"
        )
    if path == ":memory:":
        # every thread and process opens its own connection, and each would get a new, empty database
        raise LockConfigError(
            f"LOCK_URL={without_password(lock_url)!r}: an in-memory SQLite database is not shared; use memory://"
        )
    return Path(path)


def open_redis(lock_url: str, lease_seconds: float) -> RedisLock:
    """A RedisLock, after one write that proves the Redis at LOCK_URL is there and writable."""
    try:
        parts = urlsplit(lock_url)
        _port = parts.port  # urlsplit checks the port only when asked: "redis://h:abc" fails here
        lock = RedisLock(lock_url, lease_seconds)
    except ValueError as error:
        raise LockConfigError(f"LOCK_URL={without_password(lock_url)!r}: not a Redis URL: {error}") from None
    try:
        lock.client.set("wsgi-vs-asgi:opened", os.getpid(), ex=60)
    except RedisError as error:
        lock.close()
        raise LockConfigError(f"LOCK_URL={without_password(lock_url)!r}: cannot write to Redis: {error}") from None
    return lock


def open_merge_lock(lock_url: str, lease_seconds: float) -> MergeLock:
    """The blocking face of the backend that LOCK_URL names, its store proved writable."""
    backend = scheme_of(lock_url)
    check_lease(lock_url, backend, lease_seconds)
    if backend == "memory":
        return MemoryLock(lease_seconds)
    if backend == "sqlite":
        path = sqlite_path(lock_url)
        try:
            return SqliteLock(path, lease_seconds)
        except LockConfigError as error:
            raise LockConfigError(f"LOCK_URL={without_password(lock_url)!r}: {error}") from None
    return open_redis(lock_url, lease_seconds)


def open_async_merge_lock(lock_url: str, lease_seconds: float) -> AsyncMergeLock:
    """The async face of the same backend, for an event loop: each one checked as open_merge_lock does."""
    # imported here, not at the top: the SQLite one loads AnyIO, which the blocking faces, and with them the
    # Flask app, have no use for (tests/locks/test_imports.py)
    from common.lock.memory_async import AsyncMemoryLock
    from common.lock.redis_async import AsyncRedisLock
    from common.lock.sqlite_async import AsyncSqliteLock

    lock = open_merge_lock(lock_url, lease_seconds)
    if isinstance(lock, MemoryLock):
        return AsyncMemoryLock(lock)
    if isinstance(lock, SqliteLock):
        return AsyncSqliteLock(lock)
    # the blocking client proved the write; the loop gets a client of its own, which connects when first used
    lock.close()
    return AsyncRedisLock(lock_url, lease_seconds)
