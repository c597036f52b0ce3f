"""The promise every lock backend keeps, in both faces: one lease at a time, fencing tokens, a fenced ledger.

Each test runs on the three real backends (memory, a SQLite file, a real redis-server) and on both faces of
each (`merge_lock` in conftest.py). Nothing is mocked; expiry is waited for by polling with a deadline.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common.lock import Busy, Lease, MergeLock, open_async_merge_lock, open_merge_lock
from launcher import wait_for
from tests.locks.conftest import LEASE_SECONDS

LONG_MERGE = 30.0
CONCURRENT_CALLERS = 32


def lease_of(answer: Lease | Busy) -> Lease:
    """The lease a try was granted; fail if it was refused."""
    assert isinstance(answer, Lease), answer
    return answer


def expire(merge_lock: MergeLock) -> None:
    """Wait until the current lease has run out, as a crashed or paused holder's does."""
    wait_for(lambda: merge_lock.status() is None, 10 * LEASE_SECONDS, "the lease to run out", interval=0.01)


def test_the_first_lease_gets_fencing_token_one(merge_lock: MergeLock) -> None:
    lease = lease_of(merge_lock.try_acquire("feature/login", LONG_MERGE))
    assert (lease.branch_name, lease.fencing_token, lease.merge_seconds) == ("feature/login", 1, LONG_MERGE)
    assert lease.token


def test_a_try_while_held_is_busy_for_the_holders_merge(merge_lock: MergeLock) -> None:
    lease_of(merge_lock.try_acquire("feature/login", LONG_MERGE))
    busy = merge_lock.try_acquire("feature/other", LONG_MERGE)
    assert isinstance(busy, Busy)
    # Retry-After is when the merge should be done, not when its current lease would run out
    assert LONG_MERGE - 1 < busy.seconds_left <= LONG_MERGE


def test_status_is_none_when_free_and_names_the_holder_otherwise(merge_lock: MergeLock) -> None:
    assert merge_lock.status() is None
    lease = lease_of(merge_lock.try_acquire("feature/login", LONG_MERGE))
    status = merge_lock.status()
    assert status is not None
    assert (status.branch_name, status.fencing_token) == ("feature/login", lease.fencing_token)
    assert LONG_MERGE - 1 < status.seconds_left <= LONG_MERGE


def test_renewing_keeps_the_lease_past_its_first_expiry(merge_lock: MergeLock) -> None:
    lease = lease_of(merge_lock.try_acquire("feature/long", LONG_MERGE))
    for _ in range(4):  # 4 renewals a third of a lease apart: longer than one lease in all
        time.sleep(LEASE_SECONDS / 3)  # time passing is the point: four renewals span more than one lease
        assert merge_lock.renew(lease) is None
    assert isinstance(merge_lock.try_acquire("feature/other", LONG_MERGE), Busy)


def test_a_lease_that_is_not_renewed_runs_out_and_cannot_be_renewed(merge_lock: MergeLock) -> None:
    lease = lease_of(merge_lock.try_acquire("feature/crashed", LONG_MERGE))
    expire(merge_lock)
    assert merge_lock.renew(lease) == "its lease had run out"
    assert lease_of(merge_lock.try_acquire("feature/next", LONG_MERGE)).fencing_token == lease.fencing_token + 1


def test_only_the_leases_own_token_renews_it(merge_lock: MergeLock) -> None:
    lease = lease_of(merge_lock.try_acquire("feature/login", LONG_MERGE))
    forged = Lease("not-the-token", lease.fencing_token, lease.branch_name, lease.merge_seconds)
    assert merge_lock.renew(forged) == "its lease had run out"
    assert merge_lock.renew(lease) is None


def test_finishing_records_the_end_and_frees_the_resource(merge_lock: MergeLock) -> None:
    lease = lease_of(merge_lock.try_acquire("feature/done", LONG_MERGE))
    assert merge_lock.finish(lease, "released") == "released"
    assert merge_lock.status() is None
    [record] = merge_lock.history(10)
    assert (record.fencing_token, record.branch_name, record.outcome) == (1, "feature/done", "released")
    assert record.ended_at is not None
    assert record.started_at <= record.ended_at
    assert lease_of(merge_lock.try_acquire("feature/next", LONG_MERGE)).fencing_token == 2


def test_the_fence_refuses_the_end_of_a_merge_whose_lease_another_took(merge_lock: MergeLock) -> None:
    # the paused holder: its lease runs out, a new merge starts, then the old one wakes and writes its end
    paused = lease_of(merge_lock.try_acquire("feature/paused", LONG_MERGE))
    expire(merge_lock)
    successor = lease_of(merge_lock.try_acquire("feature/successor", LONG_MERGE))
    assert merge_lock.finish(paused, "released") == "fenced off"
    # the late write neither ended the successor's merge nor freed its lease
    status = merge_lock.status()
    assert status is not None
    assert status.fencing_token == successor.fencing_token
    newest, oldest = merge_lock.history(10)
    assert (newest.fencing_token, newest.outcome, newest.ended_at) == (successor.fencing_token, "running", None)
    assert (oldest.fencing_token, oldest.outcome, oldest.ended_at) == (paused.fencing_token, "fenced off", None)


def test_a_merge_whose_lease_ran_out_is_recorded_as_such_when_the_next_starts(merge_lock: MergeLock) -> None:
    lease_of(merge_lock.try_acquire("feature/crashed", LONG_MERGE))
    expire(merge_lock)
    lease_of(merge_lock.try_acquire("feature/next", LONG_MERGE))
    assert [record.outcome for record in merge_lock.history(10)] == ["running", "lease lost"]


def test_a_lost_lease_may_still_record_its_end_while_nobody_else_has_started(merge_lock: MergeLock) -> None:
    lease = lease_of(merge_lock.try_acquire("feature/alone", LONG_MERGE))
    expire(merge_lock)
    assert merge_lock.finish(lease, "lease lost") == "lease lost"
    [record] = merge_lock.history(10)
    assert (record.outcome, record.ended_at is not None) == ("lease lost", True)


def test_history_is_newest_first_and_limited(merge_lock: MergeLock) -> None:
    for number in range(5):
        merge_lock.finish(lease_of(merge_lock.try_acquire(f"feature/{number}", LONG_MERGE)), "released")
    assert [record.branch_name for record in merge_lock.history(3)] == ["feature/4", "feature/3", "feature/2"]
    assert [record.fencing_token for record in merge_lock.history(100)] == [5, 4, 3, 2, 1]


def test_one_of_many_threads_gets_the_lease(lock_url: str) -> None:
    # the threads share one blocking lock object, as the threads of one Gunicorn worker share the app's lock
    merge_lock = open_merge_lock(lock_url, LEASE_SECONDS)
    barrier = threading.Barrier(CONCURRENT_CALLERS)

    def contend(index: int) -> Lease | Busy:
        barrier.wait(timeout=30)
        return merge_lock.try_acquire(f"race/{index}", LONG_MERGE)

    try:
        with ThreadPoolExecutor(max_workers=CONCURRENT_CALLERS) as pool:
            answers = list(pool.map(contend, range(CONCURRENT_CALLERS)))
    finally:
        merge_lock.close()
    assert sum(isinstance(answer, Lease) for answer in answers) == 1


def test_one_of_many_tasks_gets_the_lease(lock_url: str) -> None:
    # the tasks share one event loop, as the requests of one Uvicorn worker do
    async def contend() -> list[Lease | Busy]:
        lock = open_async_merge_lock(lock_url, LEASE_SECONDS)
        try:
            tries = [lock.try_acquire(f"race/{index}", LONG_MERGE) for index in range(CONCURRENT_CALLERS)]
            return await asyncio.gather(*tries)
        finally:
            await lock.close()

    answers = asyncio.run(contend())
    assert sum(isinstance(answer, Lease) for answer in answers) == 1


def test_a_read_that_sqlite_would_make_wait_goes_to_a_thread_and_still_answers(tmp_path: Path) -> None:
    # a connection in exclusive locking mode, mid-write, keeps even WAL readers out: the loop's read, which
    # may not wait, finds it busy, and the lock reads from a worker thread instead, which waits its turn
    lock_url = f"sqlite:///{tmp_path / 'lock.sqlite3'}"

    async def status_while_blocked() -> object:
        lock = open_async_merge_lock(lock_url, LEASE_SECONDS)
        blocker = sqlite3.connect(tmp_path / "lock.sqlite3", isolation_level=None)
        blocker.execute("PRAGMA locking_mode=EXCLUSIVE")
        blocker.execute("BEGIN EXCLUSIVE")
        blocker.execute("INSERT INTO opened VALUES (0, 0)")
        try:
            pending = asyncio.ensure_future(lock.status())
            await asyncio.sleep(0.2)
            # the thread waits for the write lock while the loop stays free to run this very test
            assert not pending.done()
            blocker.execute("COMMIT")
            blocker.close()
            return await asyncio.wait_for(pending, 10)
        finally:
            await lock.close()

    assert asyncio.run(status_while_blocked()) is None
