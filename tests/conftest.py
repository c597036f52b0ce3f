"""Options and fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import run_redis
from tests.tools import require_tool


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--base-url",
        default=None,
        help="run the contract suite against this running server (e.g. http://127.0.0.1:8000) instead of starting both",
    )


@pytest.fixture(scope="session")
def redis_server_path() -> str:
    """The redis-server binary, or a skip (a failure in CI) if it is not installed."""
    return require_tool("redis-server", "apt-get install redis-server")


@pytest.fixture(scope="session")
def redis_url(redis_server_path: str) -> Iterator[str]:
    """A real redis-server on a free loopback port for the whole session."""
    with run_redis(redis_server_path) as url:
        yield url
