"""The merge's use cases over the lock: run it (renewing its lease, then finishing it), and say what it did.

Both apps run a merge the same way, the FastAPI app as a task on its event loop (`run_merge_async`), the Flask
app in a thread of its own (`run_merge`): the two drivers below are the same steps, awaited or blocking.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from datetime import UTC, datetime

from common import merge_log
from common.http import MERGE_IN_PROGRESS
from common.lock import (
    RENEWALS_PER_LEASE,
    AsyncMergeLock,
    HoldStatus,
    Lease,
    LockUnavailableError,
    MergeLock,
    MergeRecord,
    Outcome,
)
from common.merge_log import (
    EndNotRecorded,
    LeaseLost,
    LeaseRenewed,
    MergeDone,
    MergeEnded,
    MergeEvent,
    MergeFencedOff,
    MergeStarted,
    Since,
    Unrenewed,
)
from common.models import MergeAccepted, MergeHistory, MergeStatus, MergeSummary


class MergeRun:
    """One running merge: when it next renews its lease, whether it still holds it, and the lines it logs
    (common/merge_log.py)."""

    def __init__(self, lease: Lease, lease_seconds: float, logger: logging.Logger) -> None:
        self.lease = lease
        self.logger = logger
        self.renew_every = lease_seconds / RENEWALS_PER_LEASE
        self.lease_seconds = lease_seconds
        self.renewal_sent = time.monotonic()
        # the last moment the store vouched for the lease from: its grant, then each renewal that held, as sent
        self.vouched_at: float = lease.granted_at
        self.vouched_by: Since = "its grant"
        self.deadline = time.monotonic() + lease.merge_seconds
        self.outcome: Outcome = "released"
        self.over = False
        self._log(
            MergeStarted(lease.branch_name, lease.fencing_token, lease.merge_seconds, lease_seconds, self.renew_every)
        )

    def next_wait(self) -> float | None:
        """Seconds until the next renewal, or until the end; None once the merge is over."""
        if self.over:
            return None
        return max(0.0, min(self.renew_every, self.deadline - time.monotonic()))

    def renewing(self) -> None:
        """Note when a renewal is sent: its answer vouches for the lease from then, not from when it arrives."""
        self.renewal_sent = time.monotonic()

    def renewed(self, problem: str | None) -> None:
        """Take a renewal's answer: a lost lease ends the merge now; the last renewal before the end ends it too."""
        if problem is None and time.monotonic() - self.renewal_sent >= self.lease_seconds:
            # a pause between the renewal and its answer (a blocked loop, a stopped process): the lease it
            # extended may have run out meanwhile, and another holder started; no longer trust it
            problem = "its renewal's answer came after the lease it extended could have run out"
        if problem is not None:
            # no longer the holder: stop acting as one, and say so; the fence refuses what a late write would do
            self.outcome, self.over = "lease lost", True
            self._log(LeaseLost(self.lease.branch_name, self.lease.fencing_token, self.unrenewed(), problem))
        else:
            self.vouched_at, self.vouched_by = self.renewal_sent, "its last renewal"
            self._log(LeaseRenewed(self.lease.branch_name, self.lease.fencing_token))
            self.over = time.monotonic() >= self.deadline

    def unrenewed(self) -> Unrenewed:
        """How long since the store last vouched for the lease: since its last renewal that held (as sent), or
        since its grant; a lease runs out only after a whole lease of that, so a merge refused sooner met a
        broken lock, or a store it could not reach, which its line names"""
        return Unrenewed(round(time.monotonic() - self.vouched_at, 3), self.vouched_by)

    def done(self) -> None:
        """Log that the work is over, before its end is written: once written, another merge may start at once,
        and this worker's next line (how the end was recorded) can come after that merge's first"""
        self._log(MergeDone(self.lease.branch_name, self.lease.fencing_token, self.outcome))

    def ended(self, recorded: Outcome) -> Outcome:
        """Log how the ledger recorded the end."""
        if recorded == "fenced off":
            self._log(MergeFencedOff(self.lease.branch_name, self.lease.fencing_token, self.unrenewed()))
        else:
            self._log(MergeEnded(self.lease.branch_name, self.lease.fencing_token, recorded))
        return recorded

    def end_failed(self, error: LockUnavailableError) -> None:
        """Log an end the store could not take: the merge runs after its answer was sent, so nobody gets a 503."""
        self._log(EndNotRecorded(self.lease.branch_name, self.lease.fencing_token, str(error)))

    def _log(self, event: MergeEvent) -> None:
        """Log a line about this merge, worded by common/merge_log.py, at its event's level."""
        self.logger.log(event.level, merge_log.message(event), stacklevel=2)


# --8<-- [start:drivers]
def run_merge(merge_lock: MergeLock, lease: Lease, logger: logging.Logger) -> Outcome | None:
    """Simulate the merge in this thread: hold the resource for its seconds, renewing the lease, then finish."""
    merge = MergeRun(lease, merge_lock.lease_seconds, logger)
    while (wait := merge.next_wait()) is not None:
        # a blocking sleep: this thread does nothing else, and the worker keeps serving
        time.sleep(wait)
        merge.renewing()
        merge.renewed(merge_lock.renew(lease))
    merge.done()
    try:
        return merge.ended(merge_lock.finish(lease, merge.outcome))
    except LockUnavailableError as error:
        merge.end_failed(error)
        return None


async def run_merge_async(merge_lock: AsyncMergeLock, lease: Lease, logger: logging.Logger) -> Outcome | None:
    """Simulate the merge on the event loop: the same steps as run_merge, each awaited."""
    merge = MergeRun(lease, merge_lock.lease_seconds, logger)
    while (wait := merge.next_wait()) is not None:
        # an await: the event loop serves other requests while this merge waits
        await asyncio.sleep(wait)
        merge.renewing()
        merge.renewed(await merge_lock.renew(lease))
    merge.done()
    try:
        return merge.ended(await merge_lock.finish(lease, merge.outcome))
    except LockUnavailableError as error:
        merge.end_failed(error)
        return None


# --8<-- [end:drivers]


def accepted(lease: Lease) -> MergeAccepted:
    """The body of a 202: the merge now holds the resource, with this fencing token."""
    return MergeAccepted(message=MERGE_IN_PROGRESS, branch_name=lease.branch_name, fencing_token=lease.fencing_token)


def status(current: HoldStatus | None) -> MergeStatus:
    """The body of GET /merge."""
    if current is None:
        return MergeStatus(busy=False, branch_name=None, retry_after=None, fencing_token=None)
    seconds_left = round(current.seconds_left, 1)
    return MergeStatus(
        busy=True, branch_name=current.branch_name, retry_after=seconds_left, fencing_token=current.fencing_token
    )


def _moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def history(records: list[MergeRecord]) -> MergeHistory:
    """The body of GET /merge/history."""
    merges = [
        MergeSummary(
            fencing_token=record.fencing_token,
            branch_name=record.branch_name,
            started_at=datetime.fromtimestamp(record.started_at, UTC),
            ended_at=_moment(record.ended_at),
            outcome=record.outcome,
        )
        for record in records
    ]
    return MergeHistory(merges=merges)


def overlapping(records: list[MergeRecord]) -> list[tuple[int, int]]:
    """Pairs of consecutive merges (in the order they started) that the ledger shows running at the same time.

    A merge ran, on the resource, from its accepted start to its accepted end; one whose end was refused
    (fenced off) or never came did no accepted work after its start. The list is empty when the lock held.
    Records from several ledgers (a lock per machine, say) may be given together: they are put in order of
    their start, which in one ledger is also the order of their fencing tokens.
    """
    ordered = sorted(records, key=lambda record: (record.started_at, record.fencing_token))
    spans = [(record.fencing_token, record.started_at, record.ended_at or record.started_at) for record in ordered]
    return [(earlier[0], later[0]) for earlier, later in itertools.pairwise(spans) if earlier[2] > later[1]]
