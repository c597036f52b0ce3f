"""SIGTERM with requests and a merge in flight: the requests finish, the server exits cleanly in time,
and a server started in its place on the same lock file grants nothing until the old hold has ended.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest

from common.lock import open_merge_lock
from launcher import ServerConfig, checkout_token, run_server, wait_for
from launcher.catalog import GUNICORN_SYNC_2, UVICORN, UVICORN_W2
from tests.support.api import ApiClient
from tests.support.figures import RecordFigure
from tests.support.probes import SlowRequest

pytestmark = pytest.mark.slow

MERGE_SECONDS = 4
SLOW_MS = 1500
# graceful_timeout in wsgi_app/gunicorn.conf.py, timeout_graceful_shutdown in asgi_app/uvicorn.conf.py
GRACEFUL_SECONDS = 30


def clean_exit(config: ServerConfig) -> int:
    """The return code of a server that shut down gracefully."""
    # a single uvicorn process re-raises the SIGTERM once it has shut down gracefully, so that whoever
    # started it sees "ended by SIGTERM" (a shell prints 143); its process manager and gunicorn's master exit 0
    return -signal.SIGTERM if (config.server, config.workers) == ("uvicorn", 1) else 0


@pytest.mark.parametrize(
    ("config", "new_config"),
    [
        # the new server need not wait for its own merge when the test stops it
        pytest.param(UVICORN, UVICORN.with_settings(timeout_graceful_shutdown=1), id="uvicorn"),
        pytest.param(UVICORN_W2, UVICORN_W2.with_settings(timeout_graceful_shutdown=1), id="uvicorn-workers-2"),
        # a graceful timeout shorter than the merge: uvicorn cancels the merge, whose hold outlives the server
        pytest.param(
            UVICORN.with_settings(timeout_graceful_shutdown=2),
            UVICORN.with_settings(timeout_graceful_shutdown=1),
            id="uvicorn-graceful-2s",
        ),
        pytest.param(GUNICORN_SYNC_2, GUNICORN_SYNC_2, id="gunicorn-sync-w2"),
    ],
)
def test_sigterm_finishes_requests_in_flight_and_never_runs_two_merges_at_once(
    config: ServerConfig, new_config: ServerConfig, tmp_path: Path, record_figure: RecordFigure
) -> None:
    lock_path = tmp_path / "lock.sqlite3"
    env = {"MERGE_SECONDS": str(MERGE_SECONDS), "LOCK_URL": f"sqlite:///{lock_path}"}
    with run_server(config, env) as server, closing(ApiClient(server.url, checkout_token())) as api:
        old_token = api.start_merge("fault/sigterm").json()["fencing_token"]
        in_flight = [SlowRequest(server.url, f"/lab/io?ms={SLOW_MS}") for _ in range(2)]
        wait_for(lambda: all(request.has_been_read() for request in in_flight), 10, "the server to read both requests")

        os.kill(server.pid, signal.SIGTERM)  # the main process only, as a process manager does
        sent_sigterm = time.monotonic()
        # the client side reads the answers as they come, and notes when the old server exits: gunicorn
        # lingers up to 2 s on a connection whose client has not closed it (RFC 9112 9.6)
        with ThreadPoolExecutor(max_workers=3) as watchers:
            answers = [watchers.submit(request.answer) for request in in_flight]
            exit_seconds = watchers.submit(seconds_until_exit, server.started.process, sent_sigterm)

            # a new server on the same lock file, started while the old one drains, as in a rolling
            # restart: it refuses every merge until the old merge has ended, or its lease has run out
            with (
                run_server(new_config, env) as new_server,
                closing(ApiClient(new_server.url, checkout_token())) as new_api,
            ):
                refusals = 0
                while (answer := new_api.start_merge("fault/after-sigterm")).status_code == 409:
                    refusals += 1
                    assert refusals < 1000, "the old merge never let go"
                    time.sleep(0.01)
                record_figure("new server's first grant after SIGTERM", time.monotonic() - sent_sigterm)
                record_figure("merges it refused before", refusals, unit="")
            record_figure("old server exited after SIGTERM", exit_seconds.result(timeout=GRACEFUL_SECONDS + 10))

    answered = [future.result() for future in answers]
    assert [(status, body["waited_ms"]) for status, body in answered] == [(200, SLOW_MS), (200, SLOW_MS)]
    assert server.started.process.returncode == clean_exit(config)
    assert answer.status_code == 202
    # the ledger, on the lock file's one clock: the new merge began after the old one's last accepted write
    lock = open_merge_lock(env["LOCK_URL"], lease_seconds=5.0)
    new, old = lock.history(2)
    lock.close()
    assert (old.fencing_token, new.fencing_token) == (old_token, answer.json()["fencing_token"])
    assert (old.ended_at or old.started_at) <= new.started_at
    # a merge that finished in time was released; one that the shutdown cut short had its lease run out
    assert old.outcome == ("released" if old.ended_at is not None else "lease lost")


def seconds_until_exit(process: subprocess.Popen[bytes], since: float) -> float:
    """Wait for `process` to exit; return the seconds since `since` (a time.monotonic())."""
    process.wait()
    return time.monotonic() - since
