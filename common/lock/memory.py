"""The merge lock in this process's memory. Scope: one process.

Correct with one worker, threads included; wrong as soon as there are two worker processes, because each
has its own copy, its own fencing tokens and its own ledger. That is the pitfall the docs reproduce.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, replace

from common.lock.protocol import LEDGER_SIZE, Busy, HoldStatus, Lease, MergeRecord, Outcome, seconds_left


@dataclass
class _Held:
    lease: Lease
    expires_at: float  # time.monotonic(): one process, one clock
    ends_at: float  # when the merge means to be done, for Retry-After


class MemoryLock:
    """The lock, its fencing tokens and its ledger in one process's memory, behind one mutex."""

    scope = "one process"

    def __init__(self, lease_seconds: float) -> None:
        self.lease_seconds = lease_seconds
        self._mutex = threading.Lock()
        self._held: _Held | None = None
        self._last_fencing_token = 0
        self._ledger: deque[MergeRecord] = deque(maxlen=LEDGER_SIZE)

    def _live(self, now: float) -> _Held | None:
        return self._held if self._held is not None and now < self._held.expires_at else None

    def try_acquire(self, branch_name: str, merge_seconds: float) -> Lease | Busy:
        """Take the resource and write the merge's start, or say how long the holder should still take."""
        with self._mutex:
            now = time.monotonic()
            if (held := self._live(now)) is not None:
                return Busy(seconds_left(held.ends_at, held.expires_at, now))
            self._last_fencing_token += 1
            lease = Lease(uuid.uuid4().hex, self._last_fencing_token, branch_name, merge_seconds, granted_at=now)
            self._held = _Held(lease, now + self.lease_seconds, now + merge_seconds)
            self._mark_running_as_lost()
            self._ledger.append(MergeRecord(lease.fencing_token, branch_name, time.time(), None, "running"))
            return lease

    def _mark_running_as_lost(self) -> None:
        # a merge still running in the ledger when another starts had its lease run out
        for index, record in enumerate(self._ledger):
            if record.outcome == "running" and record.fencing_token < self._last_fencing_token:
                self._ledger[index] = replace(record, outcome="lease lost")

    def renew(self, lease: Lease) -> str | None:
        """Extend the lease by `lease_seconds`; None if it was still ours, else why it is lost."""
        with self._mutex:
            held = self._live(time.monotonic())
            if held is None or held.lease.token != lease.token:
                return "its lease had run out"
            held.expires_at = time.monotonic() + self.lease_seconds
            return None

    def finish(self, lease: Lease, outcome: Outcome) -> Outcome:
        """Write the merge's end (fenced) and release the lease; return the outcome the ledger recorded."""
        with self._mutex:
            if (held := self._live(time.monotonic())) is not None and held.lease.token == lease.token:
                self._held = None
            fenced = lease.fencing_token < self._last_fencing_token
            recorded: Outcome = "fenced off" if fenced else outcome
            for index, record in enumerate(self._ledger):
                if record.fencing_token == lease.fencing_token:
                    ended_at = None if fenced else time.time()
                    self._ledger[index] = replace(record, ended_at=ended_at, outcome=recorded)
            return recorded

    def status(self) -> HoldStatus | None:
        """The current holder, or None when the resource is free."""
        with self._mutex:
            now = time.monotonic()
            if (held := self._live(now)) is None:
                return None
            left = seconds_left(held.ends_at, held.expires_at, now)
            return HoldStatus(held.lease.branch_name, held.lease.fencing_token, left)

    def history(self, limit: int) -> list[MergeRecord]:
        """The ledger's `limit` most recent merges, newest first."""
        with self._mutex:
            return list(reversed(self._ledger))[:limit]

    def close(self) -> None:
        """Nothing to let go of."""
