"""The promise every lock backend keeps: one holder at a time, freed by its token or by the TTL.

Each test runs on the three real backends (the `merge_lock` fixture): memory, a SQLite file, and a
real redis-server. Nothing is mocked; expiry is waited for by polling `status()` with a deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from common.lock import Hold, MergeLock

LONG_TTL = 30.0
SHORT_TTL = 0.3
CONCURRENT_THREADS = 32


def wait_until(condition: Callable[[], bool], deadline_seconds: float = 5.0) -> None:
    """Poll `condition` until it is true; fail if the deadline passes first."""
    deadline = time.monotonic() + deadline_seconds
    # no pause between polls: status() is cheap, and the holds waited for last a fraction of a second
    while not condition():
        assert time.monotonic() < deadline, f"still not true after {deadline_seconds} s"


def test_acquire_when_free_returns_a_hold(merge_lock: MergeLock) -> None:
    hold = merge_lock.try_acquire("feature/login", LONG_TTL)
    assert isinstance(hold, Hold)
    assert hold.branch_name == "feature/login"
    assert hold.token


def test_acquire_while_held_returns_none(merge_lock: MergeLock) -> None:
    assert merge_lock.try_acquire("feature/login", LONG_TTL) is not None
    assert merge_lock.try_acquire("feature/other", LONG_TTL) is None


def test_status_is_none_when_free(merge_lock: MergeLock) -> None:
    assert merge_lock.status() is None


def test_status_reports_the_holder_and_seconds_left(merge_lock: MergeLock) -> None:
    merge_lock.try_acquire("feature/login", LONG_TTL)
    status = merge_lock.status()
    assert status is not None
    assert status.branch_name == "feature/login"
    assert 0 < status.seconds_left <= LONG_TTL


def test_release_with_the_right_hold_frees_it(merge_lock: MergeLock) -> None:
    hold = merge_lock.try_acquire("feature/login", LONG_TTL)
    assert hold is not None
    assert merge_lock.release(hold) is True
    assert merge_lock.status() is None
    assert merge_lock.try_acquire("feature/next", LONG_TTL) is not None


def test_release_twice_returns_false_the_second_time(merge_lock: MergeLock) -> None:
    hold = merge_lock.try_acquire("feature/login", LONG_TTL)
    assert hold is not None
    assert merge_lock.release(hold) is True
    assert merge_lock.release(hold) is False


def test_release_with_a_foreign_hold_keeps_the_real_one(merge_lock: MergeLock) -> None:
    hold = merge_lock.try_acquire("feature/login", LONG_TTL)
    assert hold is not None
    # same branch name, wrong token: the token, not the name, owns the hold
    assert merge_lock.release(Hold(token="not-the-token", branch_name="feature/login")) is False
    status = merge_lock.status()
    assert status is not None
    assert status.branch_name == "feature/login"
    assert merge_lock.try_acquire("feature/other", LONG_TTL) is None
    assert merge_lock.release(hold) is True


def test_release_with_a_stale_hold_keeps_the_new_one(merge_lock: MergeLock) -> None:
    stale = merge_lock.try_acquire("feature/first", LONG_TTL)
    assert stale is not None
    assert merge_lock.release(stale) is True
    current = merge_lock.try_acquire("feature/second", LONG_TTL)
    assert current is not None
    assert merge_lock.release(stale) is False
    status = merge_lock.status()
    assert status is not None
    assert status.branch_name == "feature/second"
    assert merge_lock.release(current) is True


def test_hold_expires_on_its_own_after_the_ttl(merge_lock: MergeLock) -> None:
    old = merge_lock.try_acquire("feature/crashed", SHORT_TTL)
    assert old is not None
    wait_until(lambda: merge_lock.status() is None)
    # the crashed holder comes back too late: its hold is gone, before and after someone else takes over
    assert merge_lock.release(old) is False
    new = merge_lock.try_acquire("feature/next", LONG_TTL)
    assert new is not None
    assert merge_lock.release(old) is False
    status = merge_lock.status()
    assert status is not None
    assert status.branch_name == "feature/next"
    assert merge_lock.release(new) is True


def test_one_of_many_threads_gets_the_hold(merge_lock: MergeLock) -> None:
    # the threads share one lock object, as the threads of one worker process share the app's lock
    barrier = threading.Barrier(CONCURRENT_THREADS)

    def contend(index: int) -> Hold | None:
        barrier.wait(timeout=30)
        return merge_lock.try_acquire(f"race/{index}", LONG_TTL)

    with ThreadPoolExecutor(max_workers=CONCURRENT_THREADS) as pool:
        holds = [hold for hold in pool.map(contend, range(CONCURRENT_THREADS)) if hold is not None]
    assert len(holds) == 1
    status = merge_lock.status()
    assert status is not None
    assert status.branch_name == holds[0].branch_name
