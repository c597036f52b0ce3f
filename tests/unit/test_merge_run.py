"""common/merges.py's MergeRun over a real in-process lock: a merge that loses its lease says how long it went
without a renewal that held, counted from its grant, so that a reader (and tests/faults/test_pauses.py) can tell
a lease that ran out from a lock that took it early."""

from __future__ import annotations

import logging
import time

import pytest

from common import merge_log
from common.lock.memory import MemoryLock
from common.merge_log import LeaseLost
from common.merges import MergeRun

LEASE_SECONDS = 0.2
PAUSE_SECONDS = 0.3  # a lease and a half
logger = logging.getLogger("test_merge_run")


def renew(merge: MergeRun, lock: MemoryLock) -> None:
    merge.renewing()
    merge.renewed(lock.renew(merge.lease))


def lost_leases(caplog: pytest.LogCaptureFixture) -> list[LeaseLost]:
    """What the merge said when it lost its lease, read back from the captured log lines."""
    said = [merge_log.parse(record.getMessage()) for record in caplog.records]
    return [event for event in said if isinstance(event, LeaseLost)]


def lost_after(caplog: pytest.LogCaptureFixture, since: str) -> float:
    (lost,) = lost_leases(caplog)
    assert (lost.problem, lost.unrenewed.since) == ("its lease had run out", since)
    return lost.unrenewed.seconds


def test_a_pause_longer_than_the_lease_loses_it_and_the_merge_says_after_how_long(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lock = MemoryLock(LEASE_SECONDS)
    merge = MergeRun(lock.try_acquire("unit/paused", 5.0), LEASE_SECONDS, logger)
    time.sleep(LEASE_SECONDS / 4)  # so that a count from the grant would come out longer than one from the renewal
    renewing = time.monotonic()
    renew(merge, lock)
    assert lost_leases(caplog) == []
    time.sleep(PAUSE_SECONDS)  # the pause: no renewal for a lease and a half
    renew(merge, lock)
    assert (merge.outcome, merge.over) == ("lease lost", True)
    # counted from the last renewal that held, not from the grant (the print rounds to the millisecond)
    assert LEASE_SECONDS <= lost_after(caplog, "its last renewal") <= time.monotonic() - renewing + 0.001


def test_the_count_starts_at_the_grant_not_when_the_merge_begins(caplog: pytest.LogCaptureFixture) -> None:
    # a merge begins after its 202 is sent (a background task, a new thread): a stall in between is part of
    # the time its lease ran without a renewal
    lock = MemoryLock(LEASE_SECONDS)
    lease = lock.try_acquire("unit/late-start", 5.0)
    time.sleep(PAUSE_SECONDS)
    merge = MergeRun(lease, LEASE_SECONDS, logger)
    renew(merge, lock)
    assert merge.outcome == "lease lost"
    assert lost_after(caplog, "its grant") >= PAUSE_SECONDS - 0.001  # the print rounds to the millisecond
