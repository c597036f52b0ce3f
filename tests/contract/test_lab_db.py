"""/lab/db and /lab/db-blocking against a real PostgreSQL: the same answers and the same 503s on both apps.

Each app is served with a pool of one connection and a short pool timeout, so that one request holding the
connection makes the next one wait past it. The Flask app runs on Gunicorn's gthread worker here: a sync worker
serves one request at a time, so its pool can never be empty when a request asks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from launcher import PostgresServer, run_server, wait_for
from launcher.catalog import GUNICORN_GTHREAD, UVICORN

ROUTES = ["db", "db-blocking"]
POOL_TIMEOUT_SECONDS = 0.5
SERVERS = {"asgi": UVICORN, "wsgi": GUNICORN_GTHREAD}
# the query of a request that holds a pooled connection, as PostgreSQL shows it in pg_stat_activity
# (this query's own text matches too, hence the pid)
RUNNING_SLEEPS = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE state = 'active' AND query LIKE '%FROM pg_sleep(%' AND pid <> pg_backend_pid()"
)


def served(url: str) -> bool:
    """Whether /lab/db answers 200: the pool has connected."""
    return httpx.get(f"{url}/lab/db", params={"ms": 0}, timeout=10).status_code == 200


@pytest.fixture(scope="module", params=list(SERVERS))
def db_url(request: pytest.FixtureRequest, postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of an app whose /lab/db routes have a pool of one connection to the session's PostgreSQL."""
    env = {
        "DATABASE_URL": postgres_server.url,
        "DB_POOL_SIZE": "1",
        "DB_POOL_TIMEOUT_SECONDS": str(POOL_TIMEOUT_SECONDS),
    }
    with run_server(SERVERS[request.param], env) as server:
        wait_for(lambda: served(server.url), 10, "the pool to connect")
        yield server.url


def running_sleeps(postgres_server: PostgresServer) -> int:
    """How many queries of /lab/db PostgreSQL is running now."""
    with psycopg.connect(postgres_server.url, autocommit=True) as connection:
        row = connection.execute(RUNNING_SLEEPS).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("route", ROUTES)
def test_lab_db_answers_from_a_pooled_connection(db_url: str, route: str) -> None:
    first, second = (httpx.get(f"{db_url}/lab/{route}", params={"ms": 20}, timeout=10) for _ in range(2))

    assert (first.status_code, second.status_code) == (200, 200)
    body = first.json()
    assert set(body) == {
        *("waited_ms", "pid", "thread", "thread_id", "started_at", "ended_at"),
        *("pool_size", "got_connection_at", "backend_pid"),
    }
    assert (body["waited_ms"], body["pool_size"]) == (20, 1)
    # the request queued for a connection, then waited in PostgreSQL for at least what it asked
    assert body["started_at"] <= body["got_connection_at"] <= body["ended_at"]
    assert body["ended_at"] - body["got_connection_at"] >= 0.02 - 0.001
    # one connection, kept open: the same PostgreSQL backend serves both requests
    assert second.json()["backend_pid"] == body["backend_pid"]


def test_an_empty_pool_past_its_timeout_is_a_503_with_retry_after(db_url: str, postgres_server: PostgresServer) -> None:
    holder: list[httpx.Response] = []
    hold = threading.Thread(target=lambda: holder.append(httpx.get(f"{db_url}/lab/db?ms=1200", timeout=10)))
    hold.start()
    try:
        wait_for(lambda: running_sleeps(postgres_server) == 1, 10, "the first request to hold the one connection")
        response = httpx.get(f"{db_url}/lab/db", params={"ms": 0}, timeout=10)
    finally:
        hold.join()

    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json() == {
        "detail": f"No pooled connection came free within {POOL_TIMEOUT_SECONDS:g} s (DB_POOL_SIZE=1): all of them "
        "are busy, or PostgreSQL cannot be reached"
    }
    # the request that held the connection was served all the same
    assert holder[0].status_code == 200


def test_a_stopped_postgresql_is_a_503_and_served_again_once_back(db_url: str, postgres_server: PostgresServer) -> None:
    postgres_server.stop()
    try:
        answers = [httpx.get(f"{db_url}/lab/{route}", params={"ms": 0}, timeout=10) for route in ROUTES]
    finally:
        postgres_server.start()

    assert [answer.status_code for answer in answers] == [503] * len(answers)
    assert all(answer.headers["retry-after"] == "1" for answer in answers)
    details = [answer.json()["detail"] for answer in answers]
    # a pooled connection that PostgreSQL closed, then a pool that cannot connect again
    assert all(detail.startswith(("Database unavailable: ", "No pooled connection came free")) for detail in details)
    # the pool connects again on its own
    wait_for(lambda: served(db_url), 30, "the pool to connect again")
