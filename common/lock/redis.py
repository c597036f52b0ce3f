"""The merge lock in Redis, blocking face. Scope: every process on every machine that reaches the same Redis.

Each step is one of redis_scripts.py's Lua scripts: taking the lease also takes the next fencing token and
writes the merge's start in the ledger; ending the merge writes its end (fenced) and releases the lease.
"""

from __future__ import annotations

from typing import TypedDict, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from common.lock import redis_scripts as scripts
from common.lock.protocol import Busy, HoldStatus, Lease, LockUnavailableError, MergeRecord, Outcome

T = TypeVar("T")

# how long a command (or a connect) may take before the app gives up on Redis and answers 503
SOCKET_TIMEOUT_SECONDS = 2.0


class Timeouts(TypedDict):
    """The two socket timeouts that both clients pass to from_url."""

    socket_timeout: float
    socket_connect_timeout: float


TIMEOUTS = Timeouts(socket_timeout=SOCKET_TIMEOUT_SECONDS, socket_connect_timeout=SOCKET_TIMEOUT_SECONDS)


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
        self.registered = {name: self.client.register_script(text) for name, text in scripts.SCRIPTS.items()}

    def run(self, call: scripts.Call[T]) -> T:
        """Run one script, one round trip; a RedisError is LockUnavailableError, which the apps answer 503 to."""
        with scripts.redis_errors():
            reply = self.registered[call.script](keys=call.keys, args=call.args)
        return call.answer(reply)

    def try_acquire(self, branch_name: str, merge_seconds: float) -> Lease | Busy:
        """Take the resource and write the merge's start, or say how long the holder should still take."""
        return self.run(scripts.grant(branch_name, merge_seconds, self.lease_seconds))

    def renew(self, lease: Lease) -> str | None:
        """Extend the lease by `lease_seconds`; None if it was still ours, else why it is lost."""
        try:
            return self.run(scripts.renew(lease, self.lease_seconds))
        except LockUnavailableError as error:
            return str(error)

    def finish(self, lease: Lease, outcome: Outcome) -> Outcome:
        """Write the merge's end (fenced) and release the lease; return the outcome the ledger recorded."""
        return self.run(scripts.end(lease, outcome))

    def status(self) -> HoldStatus | None:
        """The current holder, or None when the resource is free."""
        return self.run(scripts.status())

    def history(self, limit: int) -> list[MergeRecord]:
        """The ledger's `limit` most recent merges, newest first."""
        return self.run(scripts.history(limit))

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
