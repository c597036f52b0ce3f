"""The merge lock in Redis, async face: redis.asyncio on the event loop, no thread. Scope: as redis.py's."""

from __future__ import annotations

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from common.lock.protocol import Busy, HoldStatus, Lease, MergeRecord, Outcome
from common.lock.redis import TIMEOUTS, RedisLock
from common.lock.redis_scripts import (
    KEYS,
    LEASE_KEY,
    SCRIPTS,
    ask,
    end_answer,
    end_args,
    grant_answer,
    grant_args,
    history_answer,
    redis_errors,
    renew_answer,
    renew_args,
    status_answer,
    unavailable,
)


class AsyncRedisLock:
    """RedisLock's async face: the same scripts, the same client settings, awaited."""

    scope = RedisLock.scope

    def __init__(self, url: str, lease_seconds: float) -> None:
        self.lease_seconds = lease_seconds
        self.client = redis.asyncio.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **TIMEOUTS)
        self.scripts = {name: self.client.register_script(text) for name, text in SCRIPTS.items()}

    async def try_acquire(self, branch_name: str, merge_seconds: float) -> Lease | Busy:
        """As RedisLock.try_acquire."""
        asked = ask(branch_name, merge_seconds)
        with redis_errors():
            reply = await self.scripts["grant"](keys=KEYS, args=grant_args(asked, self.lease_seconds))
        return grant_answer(reply, asked)

    async def renew(self, lease: Lease) -> str | None:
        """As RedisLock.renew."""
        try:
            reply = await self.scripts["renew"](keys=[LEASE_KEY], args=renew_args(lease, self.lease_seconds))
        except RedisError as error:
            return str(unavailable(error))
        return renew_answer(reply)

    async def finish(self, lease: Lease, outcome: Outcome) -> Outcome:
        """As RedisLock.finish: one script, one round trip."""
        with redis_errors():
            return end_answer(await self.scripts["end"](keys=KEYS, args=end_args(lease, outcome)))

    async def status(self) -> HoldStatus | None:
        """As RedisLock.status."""
        with redis_errors():
            return status_answer(await self.scripts["status"](keys=KEYS))

    async def history(self, limit: int) -> list[MergeRecord]:
        """As RedisLock.history."""
        with redis_errors():
            return history_answer(await self.scripts["history"](keys=KEYS, args=[limit]))

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()
