"""Options and fixtures shared by every test folder: the real tools, and the two apps' servers as parameters.

Helpers live in tests/support/, imported by name; nothing is imported from a conftest.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher import PostgresServer, RedisServer, ServerConfig, checkout_token, run_postgres, run_redis
from launcher.catalog import GUNICORN_SYNC_1, UVICORN
from tests.support.tools import require_postgres, require_tool


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--base-url",
        default=None,
        help="run the contract suite against this running server (e.g. http://127.0.0.1:8000) instead of starting both",
    )
    parser.addoption(
        "--token",
        default=None,
        help="the bearer token POST /merge sends to the server of --base-url (one of its MERGE_TOKENS); the servers "
        "the tests start get the checkout's own (.merge-token)",
    )
    parser.addoption(
        "--servers",
        default=None,
        help="run the contract suite against these rows of the launcher's catalog, comma-separated "
        "(e.g. daphne,uvicorn-a2wsgi; `python -m benchmarks --list` lists them), or our-api for every row that "
        "serves our API, instead of the two default ones",
    )


@pytest.fixture(scope="session")
def merge_token(request: pytest.FixtureRequest) -> str:
    """The bearer token a test's POST /merge sends: --token's, else the checkout's, which run_server gives every app."""
    token: str | None = request.config.getoption("--token")
    return token or checkout_token()


@pytest.fixture(scope="session")
def redis_server_path() -> str:
    """The redis-server binary, or a skip (a failure in CI) if it is not installed."""
    return require_tool("redis-server", "apt-get install redis-server")


@pytest.fixture(scope="session")
def redis_server(redis_server_path: str) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port for the whole session."""
    with run_redis(redis_server_path) as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    """The URL of the session's redis-server."""
    return redis_server.url


@pytest.fixture(scope="session")
def postgres_bin_dir() -> Path:
    """The folder of PostgreSQL's server programs, or a skip (a failure in CI) if they are not installed."""
    return require_postgres()


@pytest.fixture(scope="session")
def postgres_server(postgres_bin_dir: Path) -> Iterator[PostgresServer]:
    """A real PostgreSQL on a free loopback port for the whole session (about a second to start), one per worker."""
    with run_postgres(postgres_bin_dir) as server:
        yield server


@pytest.fixture(scope="session")
def nginx_path() -> str:
    """The nginx binary, or a skip (a failure in CI) if it is not installed."""
    return require_tool("nginx", "apt-get install nginx")


# each app on its server with one worker, as Uvicorn's own tests parametrize their protocol implementations
@pytest.fixture(params=[pytest.param(UVICORN, id="asgi"), pytest.param(GUNICORN_SYNC_1, id="wsgi")])
def one_worker_config(request: pytest.FixtureRequest) -> ServerConfig:
    """The FastAPI app on one Uvicorn process, then the Flask app on one Gunicorn sync worker."""
    config: ServerConfig = request.param
    return config
