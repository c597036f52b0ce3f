"""What a merge's end sends to Redis, watched with MONITOR on the session's real redis-server, in both faces.

The end writes the ledger (fenced) and releases the lease in one script: one round trip, so nothing comes
between the end and the release, and a slow Redis costs a merge's end one wait, not two.
"""

from __future__ import annotations

import pytest
import redis

from common.lock import Lease, MergeLock

LONG_MERGE = 30.0
END_OF_STEP = "end of the step"


@pytest.mark.parametrize("lock_url", ["redis"], indirect=True)
def test_a_merges_end_is_one_round_trip(merge_lock: MergeLock, lock_url: str) -> None:
    # a first merge, so that Redis has every script already (a script it lacks costs one SCRIPT LOAD, once)
    first = merge_lock.try_acquire("feature/first", LONG_MERGE)
    assert isinstance(first, Lease)
    merge_lock.finish(first, "released")
    second = merge_lock.try_acquire("feature/second", LONG_MERGE)
    assert isinstance(second, Lease)
    watcher = redis.Redis.from_url(lock_url, decode_responses=True)
    marker = redis.Redis.from_url(lock_url, decode_responses=True)
    marker.ping()  # connected before the watch starts, so that its handshake is not counted
    with watcher, marker, watcher.monitor() as monitor:
        assert merge_lock.finish(second, "released") == "released"
        marker.echo(END_OF_STEP)
        sent = []
        while (command := monitor.next_command())["command"] != f"ECHO {END_OF_STEP}":
            if command["client_type"] != "lua":  # the commands the script ran inside Redis
                sent.append(command["command"].split()[0])
    assert sent == ["EVALSHA"]
    assert merge_lock.status() is None
