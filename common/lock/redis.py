"""The merge lock in Redis. Scope: every process on every machine that reaches the same Redis.

redis-py's own `Lock` on one key, with one step changed: acquiring also takes the next fencing token and
writes the merge's start in the ledger, in one Lua script, which Redis runs with nothing else in between.
Redis's clock decides expiry and stamps the ledger, so the app servers' clocks need not agree.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, TypedDict

import redis
import redis.asyncio
from redis.asyncio.lock import Lock as AsyncRedisPyLock
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import LockNotOwnedError, RedisError
from redis.lock import Lock as RedisPyLock
from redis.retry import Retry

from common.lock.protocol import (
    LEDGER_SIZE,
    RESOURCE_NAME,
    Busy,
    HoldStatus,
    Lease,
    LockUnavailableError,
    MergeRecord,
    Outcome,
)

LEASE_KEY = f"wsgi-vs-asgi:{RESOURCE_NAME}"
LEDGER_KEY = "wsgi-vs-asgi:merges"  # a hash: fencing token -> the merge as JSON
INDEX_KEY = "wsgi-vs-asgi:merges:index"  # a sorted set of fencing tokens: the newest is the fence
KEYS = [LEASE_KEY, LEDGER_KEY, INDEX_KEY]
# how long a command (or a connect) may take before the app gives up on Redis and answers 503
SOCKET_TIMEOUT_SECONDS = 2.0


class Timeouts(TypedDict):
    """The two socket timeouts that both clients pass to from_url."""

    socket_timeout: float
    socket_connect_timeout: float


TIMEOUTS = Timeouts(socket_timeout=SOCKET_TIMEOUT_SECONDS, socket_connect_timeout=SOCKET_TIMEOUT_SECONDS)

# the holder's milliseconds left, in Redis's time: until its merge's planned end, or, past that, its lease's
# (protocol.seconds_left)
_SECONDS_LEFT = """
local function now_ms()
  local t = redis.call('time')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function holder()
  -- PTTL rounds down: 0 is a lease with less than a millisecond left, which Redis still holds (and its holder
  -- may still renew); -2 is no lease
  local left = redis.call('pttl', KEYS[1])
  if left < 0 then return nil end
  local newest = redis.call('zrevrange', KEYS[3], 0, 0)[1]
  local merge = cjson.decode(redis.call('hget', KEYS[2], newest))
  local merge_left = merge.ends_ms - now_ms()
  if merge_left > 0 then left = merge_left end
  return {left, merge.fencing_token, merge.branch_name}
end
"""
# KEYS: lease, ledger, index; ARGV: token, branch name, lease ms, merge ms, ledger size
# returns {1, fencing token} when granted, {0, milliseconds left} when held
GRANT = (
    _SECONDS_LEFT
    + """
local held = holder()
if held then return {0, held[1]} end
local newest = redis.call('zrevrange', KEYS[3], 0, 0)[1]
local fencing_token = 1
if newest then
  fencing_token = tonumber(newest) + 1
  -- a merge still running when another starts had its lease run out: a crash, or a pause
  local previous = cjson.decode(redis.call('hget', KEYS[2], newest))
  if previous.outcome == 'running' then
    previous.outcome = 'lease lost'
    redis.call('hset', KEYS[2], newest, cjson.encode(previous))
  end
end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[3])
local now = now_ms()
local merge = {fencing_token = fencing_token, branch_name = ARGV[2], started_ms = now,
               ends_ms = now + tonumber(ARGV[4]), outcome = 'running'}
redis.call('hset', KEYS[2], fencing_token, cjson.encode(merge))
redis.call('zadd', KEYS[3], fencing_token, fencing_token)
for _, old in ipairs(redis.call('zrange', KEYS[3], 0, -tonumber(ARGV[5]) - 1)) do
  redis.call('hdel', KEYS[2], old)
  redis.call('zrem', KEYS[3], old)
end
return {1, fencing_token}
"""
)
# KEYS: lease, ledger, index; returns {milliseconds left, fencing token, branch name}, or nil when free
STATUS = _SECONDS_LEFT + "return holder()"
# KEYS: lease, ledger, index; ARGV: fencing token, outcome; returns the outcome the ledger recorded
FINISH = """
local raw = redis.call('hget', KEYS[2], ARGV[1])
local newest = redis.call('zrevrange', KEYS[3], 0, 0)[1]
if not raw or tonumber(newest) > tonumber(ARGV[1]) then
  -- the fence: a newer merge has written, so this late end is refused and marked as such
  if raw then
    local merge = cjson.decode(raw)
    merge.outcome = 'fenced off'
    redis.call('hset', KEYS[2], ARGV[1], cjson.encode(merge))
  end
  return 'fenced off'
end
local merge = cjson.decode(raw)
local t = redis.call('time')
merge.ended_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
merge.outcome = ARGV[2]
redis.call('hset', KEYS[2], ARGV[1], cjson.encode(merge))
return ARGV[2]
"""
# KEYS: lease, ledger, index; ARGV: how many; returns the newest merges as JSON, newest first
HISTORY = """
local tokens = redis.call('zrevrange', KEYS[3], 0, tonumber(ARGV[1]) - 1)
if #tokens == 0 then return {} end
return redis.call('hmget', KEYS[2], unpack(tokens))
"""


SCRIPTS = {"status": STATUS, "finish": FINISH, "history": HISTORY}


def unavailable(error: RedisError) -> LockUnavailableError:
    """The error the apps answer 503 to."""
    return LockUnavailableError(f"Redis lock unavailable: {error}")


@contextlib.contextmanager
def redis_errors() -> Iterator[None]:
    """Turn any RedisError in the block into LockUnavailableError, which the apps answer 503 to."""
    try:
        yield
    except RedisError as error:
        raise unavailable(error) from error


class Renewal:
    """What one renewal comes to, caught in a block: `reason` is None if the lease held, else why it is lost."""

    reason: str | None = None

    def __enter__(self) -> Renewal:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> bool:
        if isinstance(error, LockNotOwnedError):
            self.reason = "its lease had run out"
        elif isinstance(error, RedisError):
            self.reason = str(unavailable(error))
        return isinstance(error, RedisError)  # LockNotOwnedError is a RedisError too


def grant_answer(reply: list[int], asked: Lease) -> Lease | Busy:
    """The lease asked for, now with its fencing token, or Busy with the holder's seconds left."""
    granted, number = reply
    return replace(asked, fencing_token=number) if granted else Busy(number / 1000)


def outcome_of(reply: bytes) -> Outcome:
    """The outcome FINISH recorded."""
    return reply.decode()  # type: ignore[return-value]


def status_answer(reply: list[Any] | None) -> HoldStatus | None:
    """The holder that STATUS found, or None."""
    if reply is None:
        return None
    milliseconds_left, fencing_token, branch_name = reply
    return HoldStatus(branch_name.decode(), fencing_token, max(milliseconds_left, 1) / 1000)


def history_answer(reply: list[bytes | None]) -> list[MergeRecord]:
    """The merges that HISTORY read, as records with times in seconds."""
    records = []
    for raw in filter(None, reply):
        merge = json.loads(raw)
        ended_ms = merge.get("ended_ms")
        records.append(
            MergeRecord(
                merge["fencing_token"],
                merge["branch_name"],
                merge["started_ms"] / 1000,
                None if ended_ms is None else ended_ms / 1000,
                merge["outcome"],
            )
        )
    return records


def grant_args(lease: Lease, lease_seconds: float) -> list[object]:
    """GRANT's arguments after the secret token: branch name, lease and merge in milliseconds, ledger size."""
    return [lease.branch_name, int(lease_seconds * 1000), int(lease.merge_seconds * 1000), LEDGER_SIZE]


class FencedLock(RedisPyLock):
    """redis-py's Lock, whose acquire takes the next fencing token and writes the merge's start as well."""

    lua_grant: Any = None

    def __init__(self, client: redis.Redis, lease: Lease, lease_seconds: float) -> None:
        # thread_local=False: the lease is taken in a request and renewed and released by the merge,
        # which runs in another thread
        super().__init__(client, LEASE_KEY, timeout=lease_seconds, blocking=False, thread_local=False)
        self.lease = lease
        self.grant_args = grant_args(lease, lease_seconds)
        self.answer: Lease | Busy | None = None

    def register_scripts(self) -> None:
        """redis-py's scripts, and GRANT."""
        super().register_scripts()
        if FencedLock.lua_grant is None:
            FencedLock.lua_grant = self.redis.register_script(GRANT)

    def do_acquire(self, token: str) -> bool:
        """GRANT instead of SET NX PX: one script takes the lease, the next fencing token and the ledger's start."""
        reply = self.lua_grant(keys=KEYS, args=[token, *self.grant_args], client=self.redis)
        self.answer = grant_answer(reply, self.lease)
        return isinstance(self.answer, Lease)


class AsyncFencedLock(AsyncRedisPyLock):
    """redis.asyncio's Lock, with the same one step changed as FencedLock."""

    lua_grant: Any = None

    def __init__(self, client: redis.asyncio.Redis, lease: Lease, lease_seconds: float) -> None:
        super().__init__(client, LEASE_KEY, timeout=lease_seconds, blocking=False, thread_local=False)
        self.lease = lease
        self.grant_args = grant_args(lease, lease_seconds)
        self.answer: Lease | Busy | None = None

    def register_scripts(self) -> None:
        """redis-py's scripts, and GRANT."""
        super().register_scripts()  # type: ignore[no-untyped-call]
        if AsyncFencedLock.lua_grant is None:
            AsyncFencedLock.lua_grant = self.redis.register_script(GRANT)

    async def do_acquire(self, token: str | bytes) -> bool:
        """As FencedLock.do_acquire, awaited."""
        reply = await self.lua_grant(keys=KEYS, args=[token, *self.grant_args], client=self.redis)
        self.answer = grant_answer(reply, self.lease)
        return isinstance(self.answer, Lease)


def ask(branch_name: str, merge_seconds: float) -> Lease:
    """The lease to ask for: a new secret token, and its granted_at read before Redis starts the lease; the
    fencing token comes with the grant."""
    return Lease(uuid.uuid4().hex, 0, branch_name, merge_seconds)


class RedisLock:
    """The lock, its fencing tokens and its ledger in one Redis."""

    scope = "many machines"

    def __init__(self, url: str, lease_seconds: float) -> None:
        self.lease_seconds = lease_seconds
        # --8<-- [start:redis-client]
        # TIMEOUTS: both socket timeouts are SOCKET_TIMEOUT_SECONDS (2 s).
        # No retries, said explicitly: the app answers 503 + Retry-After after one socket timeout. from_url
        # retries nothing today, but redis-py's Redis(host=...) retries 10 times with backoff, which took
        # 25 s against a frozen Redis (docs/reference/faults.md). A connection that a restarted Redis closed is
        # still replaced: the pool checks each connection before handing it out
        self.client = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **TIMEOUTS)
        # --8<-- [end:redis-client]
        self.scripts = {name: self.client.register_script(text) for name, text in SCRIPTS.items()}

    def _lock(self, lease: Lease) -> FencedLock:
        lock = FencedLock(self.client, lease, self.lease_seconds)
        lock.local.token = lease.token.encode()
        return lock

    def try_acquire(self, branch_name: str, merge_seconds: float) -> Lease | Busy:
        """Take the resource and write the merge's start, or say how long the holder should still take."""
        lock = FencedLock(self.client, ask(branch_name, merge_seconds), self.lease_seconds)
        with redis_errors():
            lock.acquire(token=lock.lease.token)
        assert lock.answer is not None
        return lock.answer

    def renew(self, lease: Lease) -> str | None:
        """Extend the lease by `lease_seconds`; None if it was still ours, else why it is lost."""
        with Renewal() as renewal:
            self._lock(lease).reacquire()
        return renewal.reason

    def finish(self, lease: Lease, outcome: Outcome) -> Outcome:
        """Write the merge's end (fenced) and release the lease; return the outcome the ledger recorded."""
        with redis_errors():
            recorded = self.scripts["finish"](keys=KEYS, args=[lease.fencing_token, outcome])
            with contextlib.suppress(LockNotOwnedError):  # the lease had run out already
                self._lock(lease).release()
        return outcome_of(recorded)

    def status(self) -> HoldStatus | None:
        """The current holder, or None when the resource is free."""
        with redis_errors():
            return status_answer(self.scripts["status"](keys=KEYS))

    def history(self, limit: int) -> list[MergeRecord]:
        """The ledger's `limit` most recent merges, newest first."""
        with redis_errors():
            return history_answer(self.scripts["history"](keys=KEYS, args=[limit]))

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


class AsyncRedisLock:
    """RedisLock's async face on redis.asyncio: the same scripts, awaited on the event loop, no thread."""

    scope = RedisLock.scope

    def __init__(self, url: str, lease_seconds: float) -> None:
        self.lease_seconds = lease_seconds
        self.client = redis.asyncio.Redis.from_url(url, retry=AsyncRetry(NoBackoff(), 0), **TIMEOUTS)
        self.scripts = {name: self.client.register_script(text) for name, text in SCRIPTS.items()}

    def _lock(self, lease: Lease) -> AsyncFencedLock:
        lock = AsyncFencedLock(self.client, lease, self.lease_seconds)
        lock.local.token = lease.token.encode()
        return lock

    async def try_acquire(self, branch_name: str, merge_seconds: float) -> Lease | Busy:
        """As RedisLock.try_acquire."""
        lock = AsyncFencedLock(self.client, ask(branch_name, merge_seconds), self.lease_seconds)
        with redis_errors():
            await lock.acquire(token=lock.lease.token)
        assert lock.answer is not None
        return lock.answer

    async def renew(self, lease: Lease) -> str | None:
        """As RedisLock.renew."""
        with Renewal() as renewal:
            await self._lock(lease).reacquire()
        return renewal.reason

    async def finish(self, lease: Lease, outcome: Outcome) -> Outcome:
        """As RedisLock.finish."""
        with redis_errors():
            recorded = await self.scripts["finish"](keys=KEYS, args=[lease.fencing_token, outcome])
            with contextlib.suppress(LockNotOwnedError):  # the lease had run out already
                await self._lock(lease).release()
        return outcome_of(recorded)

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
