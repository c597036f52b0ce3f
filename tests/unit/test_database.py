"""The pools behind /lab/db, without a server: what makes each app open one, and what must not import psycopg."""

from __future__ import annotations

import subprocess
import sys

import pytest

from common.database import new_async_pool, new_pool
from common.settings import Settings
from launcher import ROOT

URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# what the Gunicorn master runs before it forks its workers: wsgi_app/gunicorn.conf.py, with a DATABASE_URL
MASTER = """
import runpy, sys
runpy.run_path("wsgi_app/gunicorn.conf.py")
print(sorted(name for name in sys.modules if name.split(".")[0] in ("psycopg", "psycopg_pool")))
"""


@pytest.mark.parametrize(
    ("settings", "pools"),
    [
        pytest.param(Settings(database_url=URL), True, id="with-database-url"),
        pytest.param(Settings(), False, id="without-database-url"),
        pytest.param(Settings(database_url=URL, lab_endpoints=False), False, id="lab-routes-off"),
    ],
)
def test_a_pool_exists_for_the_lab_routes_and_a_database_url(settings: Settings, pools: bool) -> None:
    blocking, awaited = new_pool(settings), new_async_pool(settings)

    assert (blocking is not None, awaited is not None) == (pools, pools)
    for pool in filter(None, [blocking, awaited]):
        # built closed: each worker process opens its own, where it runs (FastAPI: on its event loop)
        assert pool.closed
        assert (pool.min_size, pool.max_size, pool.timeout) == (10, 10, 5.0)


def test_the_gunicorn_master_does_not_import_psycopg() -> None:
    # psycopg picks how to wait for its socket when it is imported: imported by the master, before a gevent worker
    # patches select after the fork, every query would block the worker's greenlets (psycopg/waiting.py)
    command = [sys.executable, "-c", MASTER]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, env={"DATABASE_URL": URL})

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "[]"
