"""Real processes through the launcher: a process group stops whole; Redis, PostgreSQL and nginx come up and stop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest
import redis

from launcher import (
    PostgresServer,
    RedisServer,
    ToolNotFoundError,
    postgres,
    run_nginx,
    run_server,
    start_process,
    wait_for,
)
from launcher.catalog import DOCS_RAW_ASGI
from launcher.process import accepts_connections

# a parent that starts a child, says so, and sleeps: stop() must reach the child too
PARENT_AND_CHILD = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print("child", child.pid, flush=True)
time.sleep(60)
"""


def running(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_stop_ends_the_whole_process_group_and_keeps_the_log(tmp_path: Path) -> None:
    started = start_process([sys.executable, "-c", PARENT_AND_CHILD], tmp_path / "group.log")
    wait_for(lambda: "child" in started.log(), 10, "the parent to start its child")
    child = int(started.log().split()[1])
    started.stop()
    # the orphaned child may linger as a zombie until whoever adopted it reaps it: dead all the same
    wait_for(lambda: not running(child), 10, "the child to end with its parent")
    (tmp_path / "group.log").unlink()
    assert started.log().startswith("child ")


def test_a_redis_server_restarts_on_the_same_port_and_forgets(redis_server_path: str, tmp_path: Path) -> None:
    server = RedisServer(tmp_path, redis_server_path)
    server.start()
    try:
        with redis.Redis.from_url(server.url) as client:
            client.set("key", "value")
            server.stop()
            assert not accepts_connections(server.port)
            server.start()
            # no persistence: a restart forgets every key
            assert client.get("key") is None
    finally:
        server.stop()


def test_postgres_restarts_on_the_same_port_and_keeps_its_data(postgres_server: PostgresServer) -> None:
    with psycopg.connect(postgres_server.url, autocommit=True) as connection:
        connection.execute("CREATE TABLE kept (value text)")
        connection.execute("INSERT INTO kept VALUES ('here')")
        fsync, backend_pid = connection.execute("SELECT current_setting('fsync'), pg_backend_pid()").fetchone()
        # the server refuses root: the launcher runs it as the postgres user when we are root; asked while the
        # connection is open, since its backend process exits with it (CI once found it gone)
        owner = psutil.Process(backend_pid).username()
    assert fsync == "off"  # a throwaway cluster
    assert owner == (postgres_server.user or psutil.Process().username())
    try:
        postgres_server.stop()
        assert not accepts_connections(postgres_server.port)
    finally:
        postgres_server.start()
    with psycopg.connect(postgres_server.url, autocommit=True) as connection:
        assert connection.execute("SELECT value FROM kept").fetchall() == [("here",)]
        connection.execute("DROP TABLE kept")


# what make serve's honcho gets from `python -m launcher with-postgres`: a DATABASE_URL that takes queries
CONNECTS = "import os, psycopg; psycopg.connect(os.environ['DATABASE_URL']).close(); print('connected')"


def test_with_postgres_runs_a_command_with_a_database_url_and_stops_it(postgres_bin_dir: Path) -> None:
    command = [sys.executable, "-m", "launcher", "with-postgres", sys.executable, "-c", CONNECTS]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)

    assert finished.returncode == 0, finished.stderr
    said, answer = finished.stdout.splitlines()
    assert said.startswith("PostgreSQL for /lab/db: DATABASE_URL=postgresql://postgres@127.0.0.1:")
    assert answer == "connected"
    port = int(said.split(":")[-1].split("/")[0])
    assert not accepts_connections(port)  # stopped once the command ended


def test_missing_postgres_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(postgres, "DEBIAN_ROOT", tmp_path)
    with pytest.raises(ToolNotFoundError, match=r"^initdb is not installed: apt-get install postgresql$"):
        postgres.postgres_bin_dir()


def test_nginx_runs_deploy_conf_in_front_of_the_upstream(nginx_path: str) -> None:
    with run_server(DOCS_RAW_ASGI) as app, run_nginx([app.url], nginx=nginx_path, access_log=True) as proxy:
        answer = httpx.get(f"{proxy.url}/through/nginx", timeout=10)
        line = f" 200 GET /through/nginx {app.url.removeprefix('http://')}"
        # nginx writes the line in its log phase, after the answer has gone: the client can read the log first
        # (seen in CI: an empty log right after the answer)
        log = wait_for(lambda: line in proxy.access_log().read_text() and proxy.access_log().read_text(), 5, line)
    assert answer.json()["path"] == "/through/nginx"
    # the access log names the instance that answered
    assert line in log
