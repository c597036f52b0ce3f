"""The merge lock in Redis, blocking face. Scope: every process on every machine that reaches the same Redis.

Each step is one of redis_scripts.py's Lua scripts: taking the lease also takes the next fencing token and
writes the merge's start in the ledger; ending the merge writes its end (fenced) and releases the lease.
"""

from __future__ import annotations

from typing import TypedDict

import redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from common.lock.protocol import Busy, HoldStatus, Lease, MergeRecord, Outcome
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
        self.scripts = {name: self.client.register_script(text) for name, text in SCRIPTS.items()}

    def try_acquire(self, branch_name: str, merge_seconds: float) -> Lease | Busy:
        """Take the resource and write the merge's start, or say how long the holder should still take."""
        asked = ask(branch_name, merge_seconds)
        with redis_errors():
            reply = self.scripts["grant"](keys=KEYS, args=grant_args(asked, self.lease_seconds))
        return grant_answer(reply, asked)

    def renew(self, lease: Lease) -> str | None:
        """Extend the lease by `lease_seconds`; None if it was still ours, else why it is lost."""
        try:
            reply = self.scripts["renew"](keys=[LEASE_KEY], args=renew_args(lease, self.lease_seconds))
        except RedisError as error:
            return str(unavailable(error))
        return renew_answer(reply)

    def finish(self, lease: Lease, outcome: Outcome) -> Outcome:
        """Write the merge's end (fenced) and release the lease; return the outcome the ledger recorded."""
        with redis_errors():
            return end_answer(self.scripts["end"](keys=KEYS, args=end_args(lease, outcome)))

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
