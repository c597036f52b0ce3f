"""Redis goes away while the apps use it: the merge routes answer 503 quickly, the rest is unaffected,
and everything comes back on its own when Redis does.

Two ways to go away: stopped (the port refuses connections) and frozen with SIGSTOP (the kernel still
accepts connections, but nothing answers: only the client's socket timeout ends the wait). And the other
way round: Redis answers, but the app is stopped while it waits, and wakes past its socket timeout.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import pytest
import redis

from common.lock.redis import SOCKET_TIMEOUT_SECONDS
from common.merge_log import EndNotRecorded, LeaseLost
from launcher import ServerConfig, checkout_token, run_redis, run_server, wait_for
from launcher.catalog import GUNICORN_SYNC_1, GUNICORN_SYNC_2, UVICORN
from tests.support.api import ApiClient
from tests.support.figures import RecordFigure
from tests.support.probes import REDIS_TIMED_OUT, REDIS_UNAVAILABLE, merge_holder_pid, merge_said, stopped

pytestmark = pytest.mark.slow

MERGE_SECONDS = 2.0
# "never a hang": every answer must come within this; RedisLock's socket timeout is 2 s
CLIENT_TIMEOUT_SECONDS = 5.0
# uvicorn waits for running merges when it stops; the tests need not
QUICK_UVICORN = UVICORN.with_settings(timeout_graceful_shutdown=1)


@pytest.mark.parametrize("failure", ["stopped", "frozen"])
@pytest.mark.parametrize("config", [QUICK_UVICORN, GUNICORN_SYNC_2], ids=["asgi", "wsgi"])
def test_redis_down_answers_503_and_recovers_on_its_own(
    config: ServerConfig, failure: str, redis_server_path: str, record_figure: RecordFigure
) -> None:
    with (
        run_redis(redis_server_path) as redis_process,
        run_server(config, {"MERGE_SECONDS": str(MERGE_SECONDS), "LOCK_URL": redis_process.url}) as server,
        closing(ApiClient(server.url, checkout_token(), timeout=CLIENT_TIMEOUT_SECONDS)) as api,
    ):
        assert api.start_merge("fault/before-outage").status_code == 202
        wait_for(lambda: merge_holder_pid(server.log(), "fault/before-outage"), 10, "the merge to start")
        if failure == "stopped":
            redis_process.stop()
        else:
            redis_process.freeze()

        # the merge routes: 503 with a detail that names the problem, within the client's timeout
        for answer in (api.start_merge("fault/during-outage"), api.merge_status()):
            assert answer.status_code == 503
            assert answer.headers["Retry-After"] == "1"
            assert answer.json()["detail"].startswith(REDIS_UNAVAILABLE)
            record_figure(f"{answer.request.method} /merge answered 503 in", answer.elapsed.total_seconds())
        public = api.public_test()
        assert (public.status_code, public.json()) == (200, {"message": "anyone can see this"})

        # the merge that began before the outage cannot renew its lease: it stops acting as the holder at
        # its next renewal, says why, then cannot record its end either; the worker carries on serving
        lost = wait_for(
            lambda: merge_said(server.log(), LeaseLost, "fault/before-outage"),
            MERGE_SECONDS + 10,
            "the merge to say that it lost its lease",
        )
        assert lost.fencing_token == 1
        assert lost.problem.startswith("Redis lock unavailable: "), lost
        wait_for(
            lambda: merge_said(server.log(), EndNotRecorded, "fault/before-outage"),
            MERGE_SECONDS + 10,
            "the merge to say its end was not recorded",
        )
        assert "Traceback" not in server.log()
        assert api.public_test().status_code == 200

        if failure == "stopped":
            redis_process.start()
        else:
            redis_process.thaw()
        back = time.monotonic()
        # no restart of the app: the next request finds Redis again (a frozen Redis may first run the
        # commands it had queued, one of which can take the resource for a lease: then 409s)
        wait_for(
            lambda: api.start_merge("fault/after-outage").status_code == 202,
            MERGE_SECONDS + 10,
            "a merge to be granted again",
        )
        record_figure("merge granted again after Redis came back", time.monotonic() - back)


@pytest.mark.parametrize("stop", ["within", "past"])
@pytest.mark.parametrize("config", [QUICK_UVICORN, GUNICORN_SYNC_1], ids=["asgi", "wsgi"])
def test_a_process_stopped_while_it_waits_on_redis(
    config: ServerConfig, stop: str, redis_server_path: str, record_figure: RecordFigure
) -> None:
    # Redis answers in time, but the app's process is stopped while it waits, and wakes past its socket timeout
    # with the answer in its socket buffer: redis-py reads it, redis.asyncio gives up (docs/reference/faults.md)
    stopped_for = SOCKET_TIMEOUT_SECONDS + (0.5 if stop == "past" else -1.5)
    expected = 503 if stop == "past" and config.interface == "asgi" else 409
    # a 30 s lease is renewed every 10 s: no renewal of the holder's waits in Redis beside the request's script
    env = {"MERGE_SECONDS": "30", "LOCK_LEASE_SECONDS": "30"}
    with (
        run_redis(redis_server_path) as redis_process,
        run_server(config, {**env, "LOCK_URL": redis_process.url}) as server,
        closing(ApiClient(server.url, checkout_token(), timeout=CLIENT_TIMEOUT_SECONDS + stopped_for)) as api,
        redis.Redis.from_url(redis_process.url) as admin,
        ThreadPoolExecutor(1) as pool,
    ):
        assert api.start_merge("fault/holder").status_code == 202
        pid = wait_for(lambda: merge_holder_pid(server.log(), "fault/holder"), 10, "the merge to start")
        # Redis holds every script until it is told to go on: the app's next request waits on Redis
        admin.client_pause(10_000, all=False)
        pending = pool.submit(api.start_merge, "fault/stopped")
        wait_for(lambda: admin.info("clients")["blocked_clients"] >= 1, 5, "the request's script to reach Redis")
        with stopped(pid):
            admin.client_unpause()  # Redis answers "busy" into the socket of a process that is stopped
            time.sleep(stopped_for)
        answer = pending.result()
        assert answer.status_code == expected, answer.text
        record_figure("stopped for", stopped_for)
        record_figure(f"answered {answer.status_code} in", answer.elapsed.total_seconds())
        if expected == 503:
            assert answer.json()["detail"].startswith(REDIS_TIMED_OUT)
        assert api.public_test().status_code == 200


# --8<-- [start:the-lease-is-lost]
def test_a_redis_restart_without_persistence_forgets_the_lease_and_the_fence(redis_server_path: str) -> None:
    # a limitation, pinned down: our redis-server keeps its keys in memory only (--save "" --appendonly no),
    # so a restart forgets the lease, the ledger and the fencing counter: the next merge is granted at once,
    # with the very fencing token the first one had, and the first merge only learns at its next renewal
    env = {"MERGE_SECONDS": "30", "LOCK_LEASE_SECONDS": "1.5"}
    with (
        run_redis(redis_server_path) as redis_process,
        run_server(GUNICORN_SYNC_1, {**env, "LOCK_URL": redis_process.url}) as server,
        closing(ApiClient(server.url, checkout_token(), timeout=CLIENT_TIMEOUT_SECONDS)) as api,
    ):
        first = api.start_merge("fault/first").json()["fencing_token"]
        assert api.start_merge("fault/second").status_code == 409
        redis_process.stop()
        redis_process.start()
        second = api.start_merge("fault/second")
        assert (second.status_code, second.json()["fencing_token"]) == (202, first)
        lost = wait_for(
            lambda: merge_said(server.log(), LeaseLost, "fault/first"), 5, "the first merge to learn its lease is gone"
        )
        assert (lost.fencing_token, lost.problem) == (1, "its lease had run out")


# --8<-- [end:the-lease-is-lost]
