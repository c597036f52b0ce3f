"""The contract suite runs every test against both apps, or against the server given by --base-url."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from launcher import run_server
from launcher.catalog import GUNICORN_SYNC_2, UVICORN
from tests.support.api import ApiClient

# short holds keep the suite fast; the 10 s default is for people
MERGE_SECONDS = 2.0
# a short heartbeat: a Gunicorn sync worker learns that a stream's client left only when it next writes, and
# frees itself for the next test within this
HEARTBEAT_SECONDS = 1.0
SERVERS = {"asgi": UVICORN, "wsgi": GUNICORN_SYNC_2}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "base_url" in metafunc.fixturenames:
        external = metafunc.config.getoption("--base-url")
        targets = [external] if external else list(SERVERS)
        ids = ["external"] if external else None
        metafunc.parametrize("base_url", targets, indirect=True, scope="session", ids=ids)


@pytest.fixture(scope="session")
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of the app under test: a server this session starts, or the one given by --base-url."""
    if request.param not in SERVERS:
        yield request.param.rstrip("/")
        return
    env = {"MERGE_SECONDS": str(MERGE_SECONDS), "EVENTS_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS)}
    with run_server(SERVERS[request.param], env) as server:
        yield server.url


@pytest.fixture
def api(base_url: str) -> Iterator[ApiClient]:
    """A client for the app under test, with the shared resource free when the test starts."""
    client = ApiClient(base_url)
    try:
        client.wait_until_free()
        yield client
    finally:
        client.close()
