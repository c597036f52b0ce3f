"""LOCK_URL and LOCK_LEASE_SECONDS at start-up: which backend opens, and one line for what cannot work.

A store is proved writable when it is opened, so that a server never starts on a lock it cannot take.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path

import pytest

from common.lock import LockConfigError, MergeLock, open_async_merge_lock, open_merge_lock
from common.lock.memory import MemoryLock
from common.lock.memory_async import AsyncMemoryLock
from common.lock.redis import RedisLock
from common.lock.redis_async import AsyncRedisLock
from common.lock.sqlite import SqliteLock
from common.lock.sqlite_async import AsyncSqliteLock
from launcher import HOST, free_port

LEASE_SECONDS = 5.0
# workers that open one fresh SQLite file at the same moment, as `uvicorn --workers` does, and how often
CONCURRENT_OPENERS = 8
FRESH_FILES = 6


def one_line_error(open_lock: Callable[[], object]) -> str:
    """The LockConfigError's message: a SystemExit, so the server stops with this line instead of a traceback."""
    with pytest.raises(LockConfigError) as error:
        open_lock()
    assert isinstance(error.value, SystemExit)
    message = str(error.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("scheme", "backend", "async_backend", "scope"),
    [
        ("memory", MemoryLock, AsyncMemoryLock, "one process"),
        ("sqlite", SqliteLock, AsyncSqliteLock, "one machine"),
        ("redis", RedisLock, AsyncRedisLock, "many machines"),
    ],
)
def test_the_url_scheme_chooses_the_backend_in_both_faces(
    request: pytest.FixtureRequest, tmp_path: Path, scheme: str, backend: type, async_backend: type, scope: str
) -> None:
    lock_url = {"memory": "memory://", "sqlite": f"sqlite:///{tmp_path / 'lock.sqlite3'}"}.get(scheme)
    lock_url = lock_url or request.getfixturevalue("redis_url")
    merge_lock: MergeLock = open_merge_lock(lock_url, LEASE_SECONDS)
    assert (type(merge_lock), merge_lock.scope, merge_lock.lease_seconds) == (backend, scope, LEASE_SECONDS)
    merge_lock.close()
    assert type(open_async_merge_lock(lock_url, LEASE_SECONDS)) is async_backend


def test_sqlite_relative_path_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    open_merge_lock("sqlite:///locks/merge.sqlite3", LEASE_SECONDS).close()
    assert (tmp_path / "locks" / "merge.sqlite3").is_file()


def test_sqlite_absolute_path_takes_four_slashes(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "merge.sqlite3"
    assert path.is_absolute()
    open_merge_lock(f"sqlite:///{path}", LEASE_SECONDS).close()
    assert path.is_file()


MALFORMED_URLS = {
    "sqlite-without-path": ("sqlite://", "expected sqlite:///relative/path or sqlite:////absolute/path"),
    "sqlite-empty-path": ("sqlite:///", "expected sqlite:///relative/path or sqlite:////absolute/path"),
    "sqlite-in-memory": ("sqlite:///:memory:", "an in-memory SQLite database is not shared; use memory://"),
    "unknown-scheme": ("ftp://x", "the scheme must be memory://, sqlite:/// or redis://"),
    "no-scheme": ("nonsense", "the scheme must be memory://, sqlite:/// or redis://"),
    "redis-port-not-a-number": ("redis://h:abc", "not a Redis URL: Port could not be cast to integer value as 'abc'"),
    "redis-port-out-of-range": ("redis://:99999", "not a Redis URL: Port out of range 0-65535"),
    "redis-unclosed-ipv6": ("redis://[::1", "not a Redis URL: Invalid IPv6 URL"),
}


@pytest.mark.parametrize(("lock_url", "reason"), MALFORMED_URLS.values(), ids=MALFORMED_URLS.keys())
def test_a_malformed_url_is_one_line_naming_it(lock_url: str, reason: str) -> None:
    assert one_line_error(lambda: open_merge_lock(lock_url, LEASE_SECONDS)) == f"LOCK_URL={lock_url!r}: {reason}"


def test_a_redis_nobody_answers_at_fails_at_start_up() -> None:
    lock_url = f"redis://{HOST}:{free_port()}/0"
    message = one_line_error(lambda: open_merge_lock(lock_url, LEASE_SECONDS))
    assert message.startswith(f"LOCK_URL={lock_url!r}: cannot write to Redis: Error 111 connecting to")


UNUSABLE_PATHS = {
    "under-proc": lambda tmp_path: Path("/proc/no/such/lock.sqlite3"),
    "file-as-directory": lambda tmp_path: tmp_path / "a-file" / "lock.sqlite3",
    "file-as-ancestor": lambda tmp_path: tmp_path / "a-file" / "deeper" / "lock.sqlite3",
    "directory-as-file": lambda tmp_path: tmp_path,
}


@pytest.mark.parametrize("unusable_path", UNUSABLE_PATHS.values(), ids=UNUSABLE_PATHS.keys())
def test_an_unusable_sqlite_path_fails_at_start_up(unusable_path: Callable[[Path], Path], tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    lock_url = f"sqlite:///{unusable_path(tmp_path)}"
    message = one_line_error(lambda: open_merge_lock(lock_url, LEASE_SECONDS))
    assert message.startswith(f"LOCK_URL={lock_url!r}: cannot use SQLite file ")


SHORT_LEASES = {
    "redis-below-a-millisecond": ("redis", 0.0005, "Redis counts a lease in whole milliseconds"),
    "redis-renewed-too-often": ("redis", 0.02, "renewed every 6.7 ms, more often than the redis lock can keep up"),
    "sqlite-renewed-too-often": ("sqlite", 0.02, "renewed every 6.7 ms, more often than the sqlite lock can keep up"),
}


@pytest.mark.parametrize(("scheme", "lease", "reason"), SHORT_LEASES.values(), ids=SHORT_LEASES.keys())
def test_a_lease_the_backend_cannot_keep_fails_at_start_up(
    request: pytest.FixtureRequest, tmp_path: Path, scheme: str, lease: float, reason: str
) -> None:
    lock_url = request.getfixturevalue("redis_url") if scheme == "redis" else f"sqlite:///{tmp_path / 'l.sqlite3'}"
    message = one_line_error(lambda: open_merge_lock(lock_url, lease))
    assert message.startswith(f"LOCK_LEASE_SECONDS={lease:g}: ")
    assert reason in message


def open_when_released(lock_url: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    """In a child process: wait for every opener, then open the lock, as a worker does at boot."""
    barrier.wait(60)
    open_merge_lock(lock_url, LEASE_SECONDS).close()


@pytest.mark.slow
def test_workers_opening_a_fresh_sqlite_file_at_once_all_start(tmp_path: Path) -> None:
    # on main, 3 of 30 `uvicorn --workers` starts died here with "database is locked": switching a new file
    # to WAL needs it to itself, and the other workers were creating it at the same moment
    context = multiprocessing.get_context("spawn")
    exit_codes = []
    for number in range(FRESH_FILES):
        barrier = context.Barrier(CONCURRENT_OPENERS)
        lock_url = f"sqlite:///{tmp_path / f'fresh-{number}.sqlite3'}"
        openers = [
            context.Process(target=open_when_released, args=(lock_url, barrier)) for _ in range(CONCURRENT_OPENERS)
        ]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(60)
            exit_codes.append(opener.exitcode)
    assert exit_codes == [0] * CONCURRENT_OPENERS * FRESH_FILES
