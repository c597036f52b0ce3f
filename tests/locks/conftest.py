"""A fresh lock of every backend (memory://, a new SQLite file, the session's real redis-server), in both faces."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from common.lock import AsyncMergeLock, MergeLock, open_async_merge_lock, open_merge_lock

# short leases keep the expiry tests short; the merges the tests start last far longer than a lease
LEASE_SECONDS = 0.3


@pytest.fixture(params=["memory", "sqlite", "redis"])
def lock_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """LOCK_URL of a store nobody has used yet."""
    if request.param == "memory":
        yield "memory://"
        return
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'lock.sqlite3'}"
        return
    redis_url: str = request.getfixturevalue("redis_url")
    # every test starts with the store empty, and leaves it empty for the next one
    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()
        yield redis_url
        client.flushdb()


class BlockingFace:
    """The async face, called like the blocking one: each call runs its coroutine on one event loop of its own."""

    def __init__(self, lock: AsyncMergeLock) -> None:
        self.lock = lock
        self.runner = asyncio.Runner()
        self.scope = lock.scope
        self.lease_seconds = lock.lease_seconds

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.lock, name)
        return lambda *args: self.runner.run(method(*args))

    def close(self) -> None:
        self.runner.run(self.lock.close())
        self.runner.close()


@pytest.fixture(params=["blocking", "async"])
def merge_lock(request: pytest.FixtureRequest, lock_url: str) -> Iterator[MergeLock]:
    """The backend LOCK_URL names, opened as the apps open it: the blocking face (Flask) or the async one (FastAPI)."""
    lock: Any = open_merge_lock(lock_url, LEASE_SECONDS)
    if request.param == "async":
        lock.close()
        lock = BlockingFace(open_async_merge_lock(lock_url, LEASE_SECONDS))
    yield lock
    lock.close()
