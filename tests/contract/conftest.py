"""The contract suite runs every test against both apps, or against the server given by --base-url."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from launcher import CONFIGS, ServerConfig, config, run_server
from launcher.catalog import GUNICORN_SYNC_2, UVICORN, serves_our_api
from tests.support.api import ApiClient

# short holds keep the suite fast; the 10 s default is for people
MERGE_SECONDS = 2.0
# a short heartbeat: a Gunicorn sync worker learns that a stream's client left only when it next writes, and
# frees itself for the next test within this
HEARTBEAT_SECONDS = 1.0
SERVERS = {"asgi": UVICORN, "wsgi": GUNICORN_SYNC_2}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "base_url" in metafunc.fixturenames:
        external, rows = metafunc.config.getoption("--base-url"), metafunc.config.getoption("--servers")
        if external:
            targets, ids = [external], ["external"]
        elif rows == "our-api":  # every row of the catalog that serves one of our two apps
            targets = ids = [row.id for row in CONFIGS.values() if serves_our_api(row)]
        elif rows:
            targets = ids = [row.strip() for row in rows.split(",")]
        else:
            targets = ids = list(SERVERS)
        metafunc.parametrize("base_url", targets, indirect=True, scope="session", ids=ids)


def server_config(name: str) -> ServerConfig:
    """One of the two default servers by its short name, or any row of the catalog that serves our API."""
    if name in SERVERS:
        return SERVERS[name]
    row = config(name)
    if not serves_our_api(row):
        raise pytest.UsageError(f"--servers {name}: that row serves {row.app}, not our API")
    return row


@pytest.fixture(scope="session")
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of the app under test: a server this session starts, or the one given by --base-url."""
    if request.param.startswith("http"):
        yield request.param.rstrip("/")
        return
    row = server_config(request.param)
    if reason := row.missing():
        pytest.skip(reason)
    env = {"MERGE_SECONDS": str(MERGE_SECONDS), "EVENTS_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS)}
    with run_server(row, env) as server:
        yield server.url


@pytest.fixture
def api(base_url: str, merge_token: str) -> Iterator[ApiClient]:
    """A client for the app under test, with its token, and the shared resource free when the test starts."""
    client = ApiClient(base_url, merge_token)
    try:
        client.wait_until_free()
        yield client
    finally:
        client.close()


# the lines of the contract a row cannot keep by its nature, by test and parameters (the row's id first), with
# the reason; docs/mix-and-match.md lists them too. Strict: the day one of them passes, the run fails, and the
# entry (and the chapter's table) must go
ROW_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("test_a_merge_is_streamed_as_it_starts_and_as_it_ends", "gunicorn-sync-w1"): "one sync worker holds one stream",
    ("test_every_stream_gets_every_event", "gunicorn-sync-w1"): "one sync worker holds one stream",
    ("test_concurrent_merges_are_granted_once", "uvicorn-limit-concurrency-20"): "503 past 20 open connections",
    ("test_non_json_body_is_a_415_that_names_the_fix", "daphne-multipart"): "Twisted answers a bad multipart 400",
    **{
        ("test_lab_echo_sends_back_text_as_text_and_bytes_as_bytes", row): "no WebSocket for a WSGI app here"
        for row in ("granian-wsgi", "waitress", "uvicorn-wsgi", "uvicorn-a2wsgi")
    },
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        name, _, parameters = item.name.partition("[")
        if reason := ROW_EXCEPTIONS.get((name, parameters.removesuffix("]"))):
            item.add_marker(pytest.mark.xfail(reason=f"{parameters.removesuffix(']')}: {reason}", strict=True))
