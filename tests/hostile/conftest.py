"""Both apps on their real servers, for requests a hostile client would send; and the ledger, to see no merge."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from launcher import RunningServer, run_server
from launcher.catalog import GUNICORN_SYNC_1, UVICORN

SERVERS = {"asgi": UVICORN, "wsgi": GUNICORN_SYNC_1}
# short merges, so that the valid requests the differential fuzzer sends do not hold the resource long
SETTINGS = {"MERGE_SECONDS": "0.05"}


@pytest.fixture(scope="package")
def servers() -> Iterator[dict[str, RunningServer]]:
    """The FastAPI app on Uvicorn and the Flask app on one Gunicorn sync worker."""
    with ExitStack() as stack:
        yield {app: stack.enter_context(run_server(config, SETTINGS)) for app, config in SERVERS.items()}


def newest_fencing_token(base_url: str) -> int:
    """The fencing token of the newest merge in the app's ledger (0 if none): a new merge raises it."""
    merges = httpx.get(f"{base_url}/merge/history", params={"limit": 1}, timeout=10).json()["merges"]
    return int(merges[0]["fencing_token"]) if merges else 0


@pytest.fixture
def no_new_merges(servers: dict[str, RunningServer]) -> Iterator[None]:
    """Fail the test if either app started a merge during it: the ledger is where a merge shows."""
    before = {app: newest_fencing_token(server.url) for app, server in servers.items()}
    yield
    after = {app: newest_fencing_token(server.url) for app, server in servers.items()}
    assert after == before, "a hostile request started a merge"


@pytest.fixture
def no_tracebacks(servers: dict[str, RunningServer]) -> Iterator[None]:
    """Fail the test if either server logged a traceback during it (an unhandled error, a 500)."""
    lengths = {app: len(server.log()) for app, server in servers.items()}
    yield
    for app, server in servers.items():
        assert "Traceback" not in server.log()[lengths[app] :], f"{app} logged a traceback"
