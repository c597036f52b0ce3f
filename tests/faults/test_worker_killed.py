"""SIGKILL the worker that holds a merge: the master replaces it, and the resource is free within one lease.

SIGKILL cannot be caught, so the worker releases nothing: the lease stays in the lock store (a SQLite row, a
Redis key) until it runs out, which it does one lease after its last renewal, long before the merge itself
would have ended. That is what a lease is for.
"""

from __future__ import annotations

import os
import signal
import time
from contextlib import closing

import pytest

from launcher import ServerConfig, checkout_token, run_server, wait_for
from launcher.catalog import GUNICORN_SYNC_2, UVICORN_W2
from tests.support.api import ApiClient
from tests.support.figures import RecordFigure
from tests.support.probes import merge_holder_pid, worker_pids

pytestmark = pytest.mark.slow

# a merge far longer than its lease: only the lease running out can free the resource in time
MERGE_SECONDS = 60.0
LEASE_SECONDS = 2.0
# the lock promises the resource back one lease after the last renewal; the margin is for a busy 2-core
# machine to notice and answer
MARGIN_SECONDS = 3.0


@pytest.mark.parametrize(
    ("config", "lock_env"),
    [
        pytest.param(UVICORN_W2, "sqlite", id="uvicorn-workers-2-sqlite"),
        pytest.param(GUNICORN_SYNC_2, "sqlite", id="gunicorn-sync-w2-sqlite"),
        pytest.param(GUNICORN_SYNC_2, "redis", id="gunicorn-sync-w2-redis"),
    ],
    indirect=["lock_env"],
)
def test_killing_the_merge_holder_frees_the_resource_within_one_lease(
    config: ServerConfig, lock_env: dict[str, str], record_figure: RecordFigure
) -> None:
    with (
        run_server(
            config, {"MERGE_SECONDS": str(MERGE_SECONDS), "LOCK_LEASE_SECONDS": str(LEASE_SECONDS), **lock_env}
        ) as server,
        closing(ApiClient(server.url, checkout_token())) as api,
    ):
        workers = wait_for(lambda: worker_pids(server.pid), 10, "the master's workers")
        assert len(workers) == config.workers
        token = api.start_merge("fault/sigkill").json()["fencing_token"]
        holder = wait_for(lambda: merge_holder_pid(server.log(), "fault/sigkill"), 10, "the merge's start in the log")
        assert holder in workers

        os.kill(holder, signal.SIGKILL)
        killed = time.monotonic()

        # the master notices, and starts a new worker in its place
        def workers_after_the_kill() -> set[int] | None:
            pids = worker_pids(server.pid)
            return pids if holder not in pids and pids - workers else None

        replaced = wait_for(workers_after_the_kill, 30, "the master to replace the killed worker")
        assert len(replaced) == config.workers
        ready = config.workers + 1  # the marker each worker logs once it serves: one more than at start
        wait_for(lambda: server.log().count(config.ready_marker) >= ready, 30, "the new worker to be ready")
        record_figure("new worker ready after the kill", time.monotonic() - killed)
        assert api.public_test().status_code == 200

        # nothing released the lease and nothing renews it: it runs out, and a new merge is granted
        wait_for(
            lambda: api.merge_status().json()["busy"] is False,
            LEASE_SECONDS + MARGIN_SECONDS - (time.monotonic() - killed),
            "the killed holder's lease to run out",
        )
        record_figure("free again after the kill", time.monotonic() - killed, unit=f"s (lease {LEASE_SECONDS:g} s)")
        after = api.start_merge("fault/after-sigkill").json()["fencing_token"]
        assert after == token + 1
        # the ledger knows what happened to the killed merge
        killed_merge = api.merge_history(limit=2).json()["merges"][1]
        assert (killed_merge["fencing_token"], killed_merge["outcome"]) == (token, "lease lost")
