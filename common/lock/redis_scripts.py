"""The Redis lock's Lua scripts, and what their replies and Redis's errors mean.

Each step of the lock is one script, which Redis runs with nothing else in between, so each step is one
round trip and atomic. Redis's clock decides expiry and stamps the ledger, so the app servers' clocks need
not agree. Each step is a `Call`: the script, its keys and arguments, and what its reply means. Both faces
register the scripts on their own client and run the calls (redis.py, redis_async.py), one waiting for each
reply, the other awaiting it.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from redis.exceptions import RedisError
from redis.typing import EncodableT

from common.lock import protocol
from common.lock.protocol import Busy, HoldStatus, Lease, LockUnavailableError, MergeRecord, Outcome

T = TypeVar("T")

LEASE_KEY = f"wsgi-vs-asgi:{protocol.RESOURCE_NAME}"  # the secret token of the live lease, which expires with it
LEDGER_KEY = "wsgi-vs-asgi:merges"  # a hash: fencing token -> the merge as JSON
INDEX_KEY = "wsgi-vs-asgi:merges:index"  # a sorted set of fencing tokens: the newest is the fence
KEYS = [LEASE_KEY, LEDGER_KEY, INDEX_KEY]

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
# KEYS: lease, ledger, index; ARGV: secret token, branch name, lease ms, merge ms, ledger size
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
# KEYS: lease; ARGV: secret token, lease ms; returns 1 when renewed, 0 when the lease is no longer this token's
RENEW = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('pexpire', KEYS[1], ARGV[2])
return 1
"""
# KEYS: lease, ledger, index; ARGV: secret token, fencing token, outcome; returns the outcome the ledger recorded.
# The merge's end and the release in one step: one round trip, and no moment when the end is written and the
# lease still held
END = """
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
local raw = redis.call('hget', KEYS[2], ARGV[2])
local newest = redis.call('zrevrange', KEYS[3], 0, 0)[1]
if not raw or tonumber(newest) > tonumber(ARGV[2]) then
  -- the fence: a newer merge has written, so this late end is refused and marked as such
  if raw then
    local merge = cjson.decode(raw)
    merge.outcome = 'fenced off'
    redis.call('hset', KEYS[2], ARGV[2], cjson.encode(merge))
  end
  return 'fenced off'
end
local merge = cjson.decode(raw)
local t = redis.call('time')
merge.ended_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
merge.outcome = ARGV[3]
redis.call('hset', KEYS[2], ARGV[2], cjson.encode(merge))
return ARGV[3]
"""
# KEYS: lease, ledger, index; returns {milliseconds left, fencing token, branch name}, or nil when free
STATUS = _SECONDS_LEFT + "return holder()"
# KEYS: lease, ledger, index; ARGV: how many; returns the newest merges as JSON, newest first
HISTORY = """
local tokens = redis.call('zrevrange', KEYS[3], 0, tonumber(ARGV[1]) - 1)
if #tokens == 0 then return {} end
return redis.call('hmget', KEYS[2], unpack(tokens))
"""

# what each face registers on its client (redis-py's register_script: EVALSHA, and the script itself only
# when Redis does not have it yet)
SCRIPTS = {"grant": GRANT, "renew": RENEW, "end": END, "status": STATUS, "history": HISTORY}


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


@dataclass(frozen=True)
class Call(Generic[T]):
    """One step of the lock as one script to run: its name in SCRIPTS, its keys and arguments, and what its reply
    means. Both faces run it the same way, one awaiting the reply where the other waits for it."""

    script: str
    keys: list[str]
    args: list[EncodableT]
    answer: Callable[[Any], T]


def grant(branch_name: str, merge_seconds: float, lease_seconds: float) -> Call[Lease | Busy]:
    """GRANT a new lease: its secret token, its granted_at read before Redis starts the lease, and the lease and
    merge in milliseconds; the answer is the lease with its fencing token, or Busy with the holder's seconds left."""
    asked = Lease(uuid.uuid4().hex, 0, branch_name, merge_seconds)
    lease_ms, merge_ms = int(lease_seconds * 1000), int(merge_seconds * 1000)

    def answer(reply: list[int]) -> Lease | Busy:
        granted, number = reply
        return replace(asked, fencing_token=number) if granted else Busy(number / 1000)

    return Call("grant", KEYS, [asked.token, branch_name, lease_ms, merge_ms, protocol.LEDGER_SIZE], answer)


def renew(lease: Lease, lease_seconds: float) -> Call[str | None]:
    """RENEW the lease for `lease_seconds` if its secret token still holds it: None, else why it is lost."""
    return Call("renew", [LEASE_KEY], [lease.token, int(lease_seconds * 1000)], _renew_answer)


def _renew_answer(reply: int) -> str | None:
    return None if reply == 1 else "its lease had run out"


def end(lease: Lease, outcome: Outcome) -> Call[Outcome]:
    """END the merge, recording `outcome` (fenced by its fencing token): the outcome the ledger recorded."""
    return Call("end", KEYS, [lease.token, lease.fencing_token, outcome], _end_answer)


def _end_answer(reply: bytes) -> Outcome:
    return reply.decode()  # type: ignore[return-value]


def status() -> Call[HoldStatus | None]:
    """STATUS: the holder, or None when the resource is free."""
    return Call("status", KEYS, [], _status_answer)


def _status_answer(reply: list[Any] | None) -> HoldStatus | None:
    if reply is None:
        return None
    milliseconds_left, fencing_token, branch_name = reply
    return HoldStatus(branch_name.decode(), fencing_token, max(milliseconds_left, 1) / 1000)


def history(limit: int) -> Call[list[MergeRecord]]:
    """HISTORY: the ledger's `limit` newest merges, newest first, as records with times in seconds."""
    return Call("history", KEYS, [limit], _history_answer)


def _history_answer(reply: list[bytes | None]) -> list[MergeRecord]:
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
