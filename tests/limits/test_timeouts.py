"""Timeouts: idle keep-alive connections, and requests whose headers never finish.

Deadlines here are generous upper bounds for a loaded machine, never measurements: a test waits for the server
to close a connection, and fails only if it has not closed it long after its own timeout.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from harness.slowclients import SLOW_REQUEST_START
from launcher import RunningNginx, RunningServer, run_server
from launcher.catalog import GUNICORN_GTHREAD_W2_T4, GUNICORN_SYNC_1, UVICORN
from tests.support.rawhttp import closed_within, connect, get, read_response

# a short keep-alive timeout keeps the test short; the recommended values are in the docs' table
SHORT_KEEP_ALIVE = 1
# the settings a deployment would change, in each settings file's own names
UVICORN_SHORT = UVICORN.with_settings(timeout_keep_alive=SHORT_KEEP_ALIVE)
GTHREAD_SHORT = GUNICORN_GTHREAD_W2_T4.with_options("--keep-alive", str(SHORT_KEEP_ALIVE))
CLOSE_DEADLINE = 20.0  # seconds: far beyond every timeout under test


@pytest.fixture(scope="module")
def uvicorn_short_keep_alive() -> Iterator[RunningServer]:
    """Uvicorn with a 1 s keep-alive timeout."""
    with run_server(UVICORN_SHORT) as server:
        yield server


@pytest.fixture(scope="module")
def gthread_short_keep_alive() -> Iterator[RunningServer]:
    """Gunicorn with gthread workers (2 x 4 threads) and a 1 s keep-alive timeout."""
    with run_server(GTHREAD_SHORT) as server:
        yield server


@pytest.fixture(params=["uvicorn", "gthread"])
def keep_alive_server(request: pytest.FixtureRequest) -> RunningServer:
    """Each server that keeps connections alive between requests, with a 1 s keep-alive timeout."""
    server: RunningServer = request.getfixturevalue(f"{request.param}_short_keep_alive")
    return server


def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(
    keep_alive_server: RunningServer,
) -> None:
    with connect(keep_alive_server.url) as connection:
        for _ in range(2):  # two requests on one connection: it is kept alive between them
            connection.sendall(get())
            response = read_response(connection)
            assert response is not None
            assert response.status == 200
            assert response.headers.get("connection", "keep-alive").lower() != "close"
        assert closed_within(connection, CLOSE_DEADLINE)


def test_gunicorn_sync_closes_the_connection_after_every_answer(gunicorn_url: str) -> None:
    # a sync worker serves one connection at a time, so it cannot afford to keep one idle
    with connect(gunicorn_url) as connection:
        connection.sendall(get())
        response = read_response(connection)
        assert response is not None
        assert response.headers["connection"] == "close"
        assert closed_within(connection, CLOSE_DEADLINE)


def test_gunicorn_sync_worker_stuck_on_unfinished_headers_is_killed_at_its_timeout() -> None:
    # gunicorn's timeout (30 s in gunicorn.conf.py, 2 s here) is the only limit on how long a sync
    # worker waits for a request: then the master kills the worker, and starts a fresh one
    with run_server(GUNICORN_SYNC_1, {"GUNICORN_CMD_ARGS": "--timeout 2"}) as server:
        with connect(server.url) as connection:
            connection.sendall(SLOW_REQUEST_START)
            assert closed_within(connection, CLOSE_DEADLINE)
        assert "WORKER TIMEOUT" in server.log()
        assert httpx.get(f"{server.url}/public/test", timeout=30).status_code == 200


def test_unfinished_headers_are_dropped_by_nginx_but_held_by_uvicorn_and_gthread(
    nginx_to_uvicorn: RunningNginx, uvicorn_url: str, gthread_short_keep_alive: RunningServer
) -> None:
    # uvicorn arms its keep-alive timer only after an answer, and a gthread worker thread, once
    # bytes arrive, reads the rest with no timeout; nginx gives the whole head client_header_timeout
    with (
        connect(nginx_to_uvicorn.url) as through_nginx,
        connect(uvicorn_url) as to_uvicorn,
        connect(gthread_short_keep_alive.url) as to_gthread,
    ):
        for connection in (through_nginx, to_uvicorn, to_gthread):
            connection.sendall(SLOW_REQUEST_START)
        assert closed_within(through_nginx, CLOSE_DEADLINE)
        assert "client timed out" in nginx_to_uvicorn.error_log()
        # by now both servers have held the unfinished request for longer than nginx's 10 s, twice
        # or more their keep-alive timeouts (5 s and 1 s)
        assert not closed_within(to_uvicorn, 0.5)
        assert not closed_within(to_gthread, 0.5)
