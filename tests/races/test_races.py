"""Races: 50 concurrent POST /merge, on every server configuration and lock backend, give one 202.

Each configuration is a real server process; the requests come from 50 threads released together by a
barrier, each on its own connection. The merge is long (30 s) so that every request lands inside it:
a second 202 can then only mean the lock was granted twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from launcher import ServerConfig, run_server
from launcher.catalog import GUNICORN_GTHREAD_W2_T4, GUNICORN_SYNC_2, UVICORN, UVICORN_W2
from tests.support.api import race

pytestmark = pytest.mark.slow

CONCURRENT_MERGES = 50
LONG_HOLD = {"MERGE_SECONDS": "30"}
# Uvicorn waits for running merges when it stops, up to its graceful timeout: the tests need not
QUICK_UVICORN = UVICORN.with_settings(timeout_graceful_shutdown=1)
QUICK_UVICORN_W2 = UVICORN_W2.with_settings(timeout_graceful_shutdown=1)
CONFIGURATIONS = [QUICK_UVICORN, QUICK_UVICORN_W2, GUNICORN_SYNC_2, GUNICORN_GTHREAD_W2_T4]


@pytest.fixture(params=["sqlite", "redis"])
def lock_env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """LOCK_URL for a fresh lock: a new SQLite file, or a new database on the session's redis-server."""
    if request.param == "sqlite":
        yield {"LOCK_URL": f"sqlite:///{tmp_path_factory.mktemp('race') / 'lock.sqlite3'}"}
        return
    redis_url = request.getfixturevalue("redis_url")
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield {"LOCK_URL": redis_url}
    client.flushdb()
    client.close()


@pytest.mark.parametrize("config", CONFIGURATIONS, ids=lambda config: config.id)
def test_exactly_one_merge_is_accepted(config: ServerConfig, lock_env: dict[str, str], merge_token: str) -> None:
    with run_server(config, {**LONG_HOLD, **lock_env}) as server:
        answers = race([server.url], merge_token)
    assert answers == Counter({202: 1, 409: CONCURRENT_MERGES - 1})


def test_two_servers_sharing_one_redis_accept_exactly_one(redis_url: str, merge_token: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = {**LONG_HOLD, "LOCK_URL": redis_url}
    with ExitStack() as servers:
        asgi = servers.enter_context(run_server(QUICK_UVICORN, env))
        wsgi = servers.enter_context(run_server(GUNICORN_SYNC_2, env))
        answers = race([asgi.url, wsgi.url], merge_token)
    assert answers == Counter({202: 1, 409: CONCURRENT_MERGES - 1})


def test_memory_lock_is_right_within_one_process(merge_token: str) -> None:
    # one uvicorn worker is one process: the in-memory lock is enough there
    with run_server(QUICK_UVICORN, {**LONG_HOLD, "LOCK_URL": "memory://"}) as server:
        answers = race([server.url], merge_token)
    assert answers == Counter({202: 1, 409: CONCURRENT_MERGES - 1})


def test_memory_lock_grants_one_hold_per_worker_process(merge_token: str) -> None:
    # the pitfall the docs teach: each of the two gunicorn workers has its own copy of the lock, so each
    # grants a hold; a sync worker serves one request at a time, so 50 requests reach both workers
    with run_server(GUNICORN_SYNC_2, {**LONG_HOLD, "LOCK_URL": "memory://"}) as server:
        answers = race([server.url], merge_token)
    assert answers == Counter({202: 2, 409: CONCURRENT_MERGES - 2})
