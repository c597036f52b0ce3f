"""What every lock backend promises, in its two faces (blocking for threads, async for an event loop).

* `try_acquire` is atomic: of any number of concurrent callers, exactly one gets a `Lease`, and with it the
  next **fencing token**, strictly greater than every token granted before; the others get `Busy`.
* A lease lasts `lease_seconds` unless its holder renews it; a holder that crashes or pauses stops renewing,
  and the resource is free again within one lease.
* Only the lease's own token renews or releases it.
* Taking the lease writes the merge's start in the **ledger**, in the same store and the same step; the
  merge's end is a second write, which the ledger refuses when its fencing token is older than the newest
  it has accepted (Kleppmann's fence): a holder that paused past its lease cannot write over its successor.

The scope is what differs between backends, and it is the lesson: `memory://` is one process, `sqlite:///`
every process on one machine, `redis://` every machine that reaches the same Redis.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal, Protocol

RESOURCE_NAME = "shared-resource"
# how a merge ended, as the ledger records it: still running; ended and released its lease; stopped because
# its lease ran out (a crash, a pause, a store that went away); or its end write refused by the fence
Outcome = Literal["running", "released", "lease lost", "fenced off"]
# how many times a holder renews its lease within one lease: a third of the lease is the usual margin
RENEWALS_PER_LEASE = 3
# the history the ledger keeps; older merges are dropped as new ones start
LEDGER_SIZE = 1000


class LockUnavailableError(Exception):
    """The lock backend cannot be reached or used; the apps answer 503."""


class LockConfigError(SystemExit):
    """LOCK_URL or LOCK_LEASE_SECONDS names a store or a lease that cannot work: one line, at start-up."""


@dataclass(frozen=True)
class Lease:
    """A granted lease on the shared resource: its secret token, its fencing token, and its merge."""

    token: str  # secret: only this renews or releases the lease
    fencing_token: int  # public: the ledger refuses a write older than the newest it accepted
    branch_name: str
    merge_seconds: float
    # when the lease began, on this process's monotonic clock, read at or before the store's own clock starts the
    # lease: its merge counts from here how long it goes without a renewal (a forged lease gets "now")
    granted_at: float = field(default_factory=time.monotonic, compare=False)


def seconds_left(ends_at: float, expires_at: float, now: float) -> float:
    """How long the holder should still take: until its merge's planned end, or, past that, its lease's."""
    return ends_at - now if ends_at > now else expires_at - now


@dataclass(frozen=True)
class Busy:
    """The answer while someone else holds the resource: seconds until they should be done (Retry-After)."""

    seconds_left: float


@dataclass(frozen=True)
class HoldStatus:
    """Who holds the shared resource now, with which fencing token, and for how many more seconds."""

    branch_name: str
    fencing_token: int
    seconds_left: float


@dataclass(frozen=True)
class MergeRecord:
    """One merge in the ledger; the times are the store's clock, in seconds since the epoch."""

    fencing_token: int
    branch_name: str
    started_at: float
    ended_at: float | None  # when the ledger accepted the merge's end; None if it never did
    outcome: Outcome


class MergeLock(Protocol):
    """The blocking face: for the Flask app's threads and for every test and tool."""

    scope: str
    lease_seconds: float

    def try_acquire(self, branch_name: str, merge_seconds: float) -> Lease | Busy:
        """Take the resource and write the merge's start, or say how long the holder should still take."""
        ...

    def renew(self, lease: Lease) -> str | None:
        """Extend the lease by `lease_seconds`; None if it was still ours, else why it is lost."""
        ...

    def finish(self, lease: Lease, outcome: Outcome) -> Outcome:
        """Write the merge's end (fenced) and release the lease; return the outcome the ledger recorded."""
        ...

    def status(self) -> HoldStatus | None:
        """The current holder, or None when the resource is free."""
        ...

    def history(self, limit: int) -> list[MergeRecord]:
        """The ledger's `limit` most recent merges, newest first."""
        ...

    def close(self) -> None:
        """Let go of connections."""
        ...


class AsyncMergeLock(Protocol):
    """The async face, for the FastAPI app: the same promises, each method awaited on the event loop."""

    scope: str
    lease_seconds: float

    async def try_acquire(self, branch_name: str, merge_seconds: float) -> Lease | Busy:
        """Take the resource and write the merge's start, or say how long the holder should still take."""
        ...

    async def renew(self, lease: Lease) -> str | None:
        """Extend the lease by `lease_seconds`; None if it was still ours, else why it is lost."""
        ...

    async def finish(self, lease: Lease, outcome: Outcome) -> Outcome:
        """Write the merge's end (fenced) and release the lease; return the outcome the ledger recorded."""
        ...

    async def status(self) -> HoldStatus | None:
        """The current holder, or None when the resource is free."""
        ...

    async def history(self, limit: int) -> list[MergeRecord]:
        """The ledger's `limit` most recent merges, newest first."""
        ...

    async def close(self) -> None:
        """Let go of connections."""
        ...
