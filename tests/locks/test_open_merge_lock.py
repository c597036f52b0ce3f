"""LOCK_URL: which backend each URL opens, and the one-line error for a URL that cannot work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from common.lock import (
    Hold,
    LockConfigError,
    LockUnavailableError,
    MemoryLock,
    MergeLock,
    RedisLock,
    SqliteLock,
    open_merge_lock,
)
from launcher import HOST, free_port


@pytest.mark.parametrize(
    ("lock_url", "backend", "scope"),
    [
        pytest.param("memory://", MemoryLock, "one process", id="memory"),
        pytest.param("redis://127.0.0.1:6379/0", RedisLock, "many machines", id="redis"),
        pytest.param("rediss://127.0.0.1:6380/0", RedisLock, "many machines", id="rediss"),
        pytest.param("unix:///run/redis/redis.sock", RedisLock, "many machines", id="redis-unix-socket"),
    ],
)
def test_url_scheme_chooses_the_backend(lock_url: str, backend: type[MergeLock], scope: str) -> None:
    # opening a Redis lock does not connect yet: nothing needs to listen at these addresses
    merge_lock = open_merge_lock(lock_url)
    assert type(merge_lock) is backend
    assert merge_lock.scope == scope
    merge_lock.close()


def test_sqlite_relative_path_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    merge_lock = open_merge_lock("sqlite:///locks/merge.sqlite3")
    assert type(merge_lock) is SqliteLock
    assert merge_lock.scope == "one machine"
    assert (tmp_path / "locks" / "merge.sqlite3").is_file()


def test_sqlite_absolute_path_takes_four_slashes(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "merge.sqlite3"
    assert path.is_absolute()
    merge_lock = open_merge_lock(f"sqlite:///{path}")
    assert type(merge_lock) is SqliteLock
    assert path.is_file()


@pytest.mark.parametrize(
    "lock_url",
    [
        pytest.param("sqlite://", id="sqlite-without-path"),
        pytest.param("sqlite:///", id="sqlite-empty-path"),
        pytest.param("sqlite:///:memory:", id="sqlite-in-memory"),
        pytest.param("ftp://x", id="unknown-scheme"),
        pytest.param("nonsense", id="no-scheme"),
    ],
)
def test_malformed_url_is_a_one_line_config_error(lock_url: str) -> None:
    with pytest.raises(LockConfigError) as error:
        open_merge_lock(lock_url)
    # a SystemExit: the server stops with this line instead of a traceback
    assert isinstance(error.value, SystemExit)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"LOCK_URL={lock_url!r}: ")


@pytest.mark.parametrize(
    "unusable_path",
    [
        pytest.param(lambda tmp_path: Path("/proc/no/such/lock.sqlite3"), id="under-proc"),
        pytest.param(lambda tmp_path: tmp_path / "a-file" / "lock.sqlite3", id="file-as-directory"),
        pytest.param(lambda tmp_path: tmp_path / "a-file" / "deeper" / "lock.sqlite3", id="file-as-ancestor"),
        pytest.param(lambda tmp_path: tmp_path, id="directory-as-file"),
    ],
)
def test_unusable_sqlite_path_fails_at_open_time(unusable_path: Callable[[Path], Path], tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    lock_url = f"sqlite:///{unusable_path(tmp_path)}"
    with pytest.raises(LockConfigError) as error:
        open_merge_lock(lock_url)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"LOCK_URL={lock_url!r}: cannot use SQLite file ")


@pytest.fixture
def unreachable_redis_lock() -> Iterator[RedisLock]:
    """A Redis lock on a loopback port where nothing listens."""
    merge_lock = RedisLock(f"redis://{HOST}:{free_port()}/0")
    yield merge_lock
    merge_lock.close()


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda merge_lock: merge_lock.try_acquire("feature/login", 10.0), id="try_acquire"),
        pytest.param(lambda merge_lock: merge_lock.status(), id="status"),
        pytest.param(lambda merge_lock: merge_lock.release(Hold("token", "feature/login")), id="release"),
    ],
)
def test_unreachable_redis_raises_lock_unavailable(
    unreachable_redis_lock: RedisLock, operation: Callable[[RedisLock], object]
) -> None:
    # the apps turn this into a 503; the lock sets a 2 s socket timeout so that it comes quickly
    with pytest.raises(LockUnavailableError, match=r"^Redis lock unavailable: "):
        operation(unreachable_redis_lock)
