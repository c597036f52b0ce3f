"""A fresh lock of every backend: memory://, a new SQLite file, and the session's real redis-server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from common.lock import MergeLock, open_merge_lock


@pytest.fixture(params=["memory", "sqlite", "redis"])
def lock_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """LOCK_URL of a lock nobody holds yet."""
    if request.param == "memory":
        yield "memory://"
        return
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('lock') / 'lock.sqlite3'}"
        return
    redis_url: str = request.getfixturevalue("redis_url")
    import redis

    # every test starts with the key gone, and leaves it gone for the next one
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield redis_url
    client.flushdb()
    client.close()


@pytest.fixture
def merge_lock(lock_url: str) -> Iterator[MergeLock]:
    """The backend LOCK_URL names, opened the way the apps open it."""
    merge_lock = open_merge_lock(lock_url)
    yield merge_lock
    merge_lock.close()
