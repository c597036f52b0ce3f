"""Fuzz both apps with schemathesis: every operation of each app's own /openapi.json, valid and invalid requests.

Each app runs as a real server (uvicorn, gunicorn). schemathesis reads the document the server publishes,
generates requests from it and checks every answer against that same document: no 5xx, and only the
status codes, content types, headers and bodies it documents. The settings are in schemathesis.toml beside
this file, the same file a reader passes to `st` by hand (docs/reference/fuzzing.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from launcher import PostgresServer, RunningServer, checkout_token, run_server
from launcher.catalog import GUNICORN_SYNC_1, UVICORN

CONFIG = Path(__file__).with_name("schemathesis.toml")
SERVERS = {"asgi": UVICORN, "wsgi": GUNICORN_SYNC_1}
APPS = pytest.mark.parametrize("app", list(SERVERS))
# a short hold, so that POST /merge is sometimes accepted (202), not only refused as busy (409)
# a short heartbeat: a Gunicorn sync worker learns that schemathesis closed an event stream only when it next
# writes, and holds the worker until then
SETTINGS = {"MERGE_SECONDS": "1", "EVENTS_HEARTBEAT_SECONDS": "1"}
# each run takes about 40 s here, most of it the /lab routes' sleeps; this only stops a hung run
RUN_DEADLINE_SECONDS = 240


# --8<-- [start:command]
def st_command(schema_url: str, report_dir: Path) -> list[str]:
    """`st run` with our settings, writing its JSON report (the verdict) and a HAR file (every request)."""
    options = ["--config-file", str(CONFIG), "--no-color"]
    reports = ["--report", "json,har", "--report-dir", str(report_dir)]
    return [sys.executable, "-m", "schemathesis.cli", *options, "run", schema_url, *reports]


# --8<-- [end:command]


@dataclass(frozen=True)
class FuzzRun:
    """What one `st run` against one app sent, and what it found."""

    app: str
    exit_code: int
    output: str  # schemathesis's terminal report: each failure with a curl command that repeats it
    verdict: dict[str, Any]  # its JSON report: operations tested, test cases, failures, errors
    requests: Counter[str]  # requests sent, by "METHOD /path"
    documented: frozenset[str]  # every operation in the app's /openapi.json, as "METHOD /path"
    seconds: float
    server_log: str

    def summary(self) -> str:
        """One line of figures for the report."""
        cases = self.verdict["test_cases"]
        return (
            f"{self.app}: {len(self.documented)} operations, {cases['generated']} test cases, "
            f"{self.requests.total()} requests, {len(self.verdict['failures'])} failures, {self.seconds:.0f} s"
        )


def documented_operations(base_url: str) -> frozenset[str]:
    """Every (method, path) the server's own OpenAPI document lists."""
    document = httpx.get(f"{base_url}/openapi.json", timeout=10).json()
    return frozenset(f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item)


def read_report(report_dir: Path, kind: str) -> Any:
    """The one report of this kind that the run wrote (`json-<time>.json`, `har-<time>.json`)."""
    (path,) = report_dir.glob(f"{kind}-*.json")
    return json.loads(path.read_text())


def requests_sent(har: dict[str, Any]) -> Counter[str]:
    """Count the requests in a HAR file by method and path."""
    return Counter(
        f"{entry['request']['method']} {urlsplit(entry['request']['url']).path}" for entry in har["log"]["entries"]
    )


def finish(app: str, process: subprocess.Popen[bytes], folder: Path, server: RunningServer, started: float) -> FuzzRun:
    """Wait for one `st run`, then gather its reports and the server's log."""
    try:
        exit_code = process.wait(timeout=RUN_DEADLINE_SECONDS - (time.monotonic() - started))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"st run against {app} did not finish in {RUN_DEADLINE_SECONDS} s") from None
    seconds = time.monotonic() - started
    output = (folder / "st.log").read_text(errors="replace")
    reports = folder / "reports"
    if exit_code == 2:  # schemathesis itself could not run: a bad option, a document it cannot load
        raise AssertionError(f"st run against {app} could not run:\n{output}")
    return FuzzRun(
        app=app,
        exit_code=exit_code,
        output=output,
        verdict=read_report(reports, "json"),
        requests=requests_sent(read_report(reports, "har")),
        documented=documented_operations(server.url),
        seconds=seconds,
        server_log=server.log(),
    )


@pytest.fixture(scope="module")
def servers(postgres_server: PostgresServer) -> Iterator[dict[str, RunningServer]]:
    """Both apps, each on its real server, for every test of this module, with a PostgreSQL behind /lab/db."""
    env = {**SETTINGS, "DATABASE_URL": postgres_server.url}
    with ExitStack() as stack:
        yield {app: stack.enter_context(run_server(config, env)) for app, config in SERVERS.items()}


@pytest.fixture(scope="module")
def fuzz_runs(servers: dict[str, RunningServer], tmp_path_factory: pytest.TempPathFactory) -> dict[str, FuzzRun]:
    """Fuzz both apps at once: each run mostly waits on the /lab routes' sleeps, so two share the clock."""
    started = time.monotonic()
    processes: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    try:
        for app, server in servers.items():
            # a folder of its own: schemathesis keeps Hypothesis's files in its working directory
            folder = tmp_path_factory.mktemp(f"fuzz-{app}")
            command = st_command(f"{server.url}/openapi.json", folder / "reports")
            with (folder / "st.log").open("wb") as log:
                # schemathesis.toml reads the token POST /merge sends from MERGE_TOKEN
                env = {**os.environ, "MERGE_TOKEN": checkout_token()}
                process = subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT, env=env)
                processes[app] = (process, folder)
        runs = {
            app: finish(app, process, folder, servers[app], started) for app, (process, folder) in processes.items()
        }
    finally:
        for process, _folder in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    for run in runs.values():
        print(run.summary())  # shown with pytest -s, and in the report of a failing test
    return runs


@APPS
def test_every_operation_is_fuzzed(
    fuzz_runs: dict[str, FuzzRun], app: str, record_property: Callable[[str, object], None]
) -> None:
    run = fuzz_runs[app]
    record_property("fuzz_summary", run.summary())
    operations = len(run.documented)

    # GET /public/test, POST and GET /merge, GET /merge/history and /merge/events, and the eight /lab routes
    # that are HTTP (the WebSocket /lab/echo is in no OpenAPI document)
    assert operations == 13
    assert run.verdict["operations"] == {
        "total": operations,
        "selected": operations,
        "tested": operations,
        "errored": 0,
        "skipped": 0,
        "skip_reasons": [],
    }
    # valid and invalid values for every parameter and body, then random cases
    assert run.verdict["phases"]["coverage"]["status"] == "success"
    assert run.verdict["phases"]["fuzzing"]["status"] == "success"
    assert run.documented <= set(run.requests)


@APPS
def test_every_answer_matches_the_document(fuzz_runs: dict[str, FuzzRun], app: str) -> None:
    run = fuzz_runs[app]

    # the output names each failure, the check it broke, and a curl command that repeats it
    assert run.exit_code == 0, run.output
    assert run.verdict["failures"] == [], run.output
    assert run.verdict["errors"] == [], run.output
    assert run.verdict["test_cases"]["with_failures"] == 0


@APPS
def test_server_logged_no_traceback(fuzz_runs: dict[str, FuzzRun], app: str) -> None:
    # an error in a background merge never reaches a response, but it reaches the log
    assert "Traceback" not in fuzz_runs[app].server_log
