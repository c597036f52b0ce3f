"""SIGKILL the worker that holds a merge: the master replaces it, and the hold ends with its TTL.

SIGKILL cannot be caught, so the worker releases nothing: the hold stays in the lock store (a SQLite
row, a Redis key) until it expires. That is what the TTL is for.
"""

from __future__ import annotations

import os
import signal
import time
from contextlib import closing

import pytest

from launcher import ServerConfig, run_server, wait_for
from launcher.catalog import GUNICORN_SYNC_2, UVICORN_W2
from tests.support.api import ApiClient
from tests.support.figures import RecordFigure
from tests.support.probes import merge_holder_pid, worker_pids

pytestmark = pytest.mark.slow

MERGE_SECONDS = 3.0
# the lock promises the resource back after MERGE_SECONDS; the margin is for a busy 2-core machine to answer
MARGIN_SECONDS = 5.0


@pytest.mark.parametrize(
    ("config", "lock_env"),
    [
        pytest.param(UVICORN_W2, "sqlite", id="uvicorn-workers-2-sqlite"),
        pytest.param(GUNICORN_SYNC_2, "sqlite", id="gunicorn-sync-w2-sqlite"),
        pytest.param(GUNICORN_SYNC_2, "redis", id="gunicorn-sync-w2-redis"),
    ],
    indirect=["lock_env"],
)
def test_killing_the_merge_holder_frees_the_resource_after_its_ttl(
    config: ServerConfig, lock_env: dict[str, str], record_figure: RecordFigure
) -> None:
    with (
        run_server(config, {"MERGE_SECONDS": str(MERGE_SECONDS), **lock_env}) as server,
        closing(ApiClient(server.url)) as api,
    ):
        workers = wait_for(lambda: worker_pids(server.pid), 10, "the master's workers")
        assert len(workers) == config.workers
        hold_began = time.monotonic()
        assert api.start_merge("fault/sigkill").status_code == 202
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

        # nothing released the hold; it ends with its TTL, and then a new merge is granted
        free_by = hold_began + MERGE_SECONDS + MARGIN_SECONDS
        wait_for(lambda: api.merge_status().json()["busy"] is False, free_by - time.monotonic(), "the hold to expire")
        record_figure("free again after the hold began", time.monotonic() - hold_began)
        assert api.start_merge("fault/after-sigkill").status_code == 202
