"""The merge lock in Redis, async face: redis.asyncio on the event loop, no thread. Scope: as redis.py's."""

from __future__ import annotations

from typing import TypeVar

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from common.lock import redis_scripts as scripts
from common.lock.protocol import Busy, HoldStatus, Lease, LockUnavailableError, MergeRecord, Outcome
from common.lock.redis import TIMEOUTS, RedisLock

T = TypeVar("T")


class AsyncRedisLock:
    """RedisLock's async face: the same scripts, the same client settings, awaited."""

    scope = RedisLock.scope

    def __init__(self, url: str, lease_seconds: float) -> None:
        self.lease_seconds = lease_seconds
        self.client = redis.asyncio.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **TIMEOUTS)
        self.registered = {name: self.client.register_script(text) for name, text in scripts.SCRIPTS.items()}

    async def run(self, call: scripts.Call[T]) -> T:
        """As RedisLock.run, the reply awaited."""
        with scripts.redis_errors():
            reply = await self.registered[call.script](keys=call.keys, args=call.args)
        return call.answer(reply)

    async def try_acquire(self, branch_name: str, merge_seconds: float) -> Lease | Busy:
        """As RedisLock.try_acquire."""
        return await self.run(scripts.grant(branch_name, merge_seconds, self.lease_seconds))

    async def renew(self, lease: Lease) -> str | None:
        """As RedisLock.renew."""
        try:
            return await self.run(scripts.renew(lease, self.lease_seconds))
        except LockUnavailableError as error:
            return str(error)

    async def finish(self, lease: Lease, outcome: Outcome) -> Outcome:
        """As RedisLock.finish: one script, one round trip."""
        return await self.run(scripts.end(lease, outcome))

    async def status(self) -> HoldStatus | None:
        """As RedisLock.status."""
        return await self.run(scripts.status())

    async def history(self, limit: int) -> list[MergeRecord]:
        """As RedisLock.history."""
        return await self.run(scripts.history(limit))

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()
