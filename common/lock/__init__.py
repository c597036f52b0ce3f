"""The merge lock: a lease on the shared resource, its fencing tokens, and the ledger of merges.

protocol.py says what every backend promises; memory.py, sqlite.py and redis.py keep it, each within its
scope, in the blocking face, and memory_async.py, sqlite_async.py and redis_async.py in the async one (only
these load AnyIO, which the Flask app has no use for). redis_scripts.py holds the Redis lock's Lua scripts,
sqlite_connections.py the SQLite lock's connections. factory.py opens the backend LOCK_URL names. The
merge's use cases over it are common/merges.py.
"""

from common.lock.factory import open_async_merge_lock, open_merge_lock
from common.lock.protocol import (
    LEDGER_SIZE,
    RENEWALS_PER_LEASE,
    RESOURCE_NAME,
    AsyncMergeLock,
    Busy,
    HoldStatus,
    Lease,
    LockConfigError,
    LockUnavailableError,
    MergeLock,
    MergeRecord,
    Outcome,
)

__all__ = [
    "LEDGER_SIZE",
    "RENEWALS_PER_LEASE",
    "RESOURCE_NAME",
    "AsyncMergeLock",
    "Busy",
    "HoldStatus",
    "Lease",
    "LockConfigError",
    "LockUnavailableError",
    "MergeLock",
    "MergeRecord",
    "Outcome",
    "open_async_merge_lock",
    "open_merge_lock",
]
