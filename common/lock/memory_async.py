"""The merge lock in this process's memory, async face. Scope: as memory.py's, one process."""

from __future__ import annotations

from common.lock.memory import MemoryLock
from common.lock.protocol import Busy, HoldStatus, Lease, MergeRecord, Outcome


class AsyncMemoryLock:
    """The async face of MemoryLock: the mutex is held for microseconds, so the loop calls it directly."""

    scope = MemoryLock.scope

    def __init__(self, lock: MemoryLock) -> None:
        self.lock = lock
        self.lease_seconds = lock.lease_seconds

    async def try_acquire(self, branch_name: str, merge_seconds: float) -> Lease | Busy:
        """As MemoryLock.try_acquire."""
        return self.lock.try_acquire(branch_name, merge_seconds)

    async def renew(self, lease: Lease) -> str | None:
        """As MemoryLock.renew."""
        return self.lock.renew(lease)

    async def finish(self, lease: Lease, outcome: Outcome) -> Outcome:
        """As MemoryLock.finish."""
        return self.lock.finish(lease, outcome)

    async def status(self) -> HoldStatus | None:
        """As MemoryLock.status."""
        return self.lock.status()

    async def history(self, limit: int) -> list[MergeRecord]:
        """As MemoryLock.history."""
        return self.lock.history(limit)

    async def close(self) -> None:
        """Nothing to let go of."""
