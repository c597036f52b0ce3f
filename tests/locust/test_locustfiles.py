"""Every locustfile runs headless against real servers of both apps, and reports no failures.

Locust runs as people run it, in its own process: `python -m locust -f <file> --headless ...`. Its
statistics come from the --json-file it writes as it stops; the exit code covers the rest (any failure makes
Locust exit with 1).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from launcher import ROOT, PostgresServer, RunningServer, run_server
from launcher.catalog import GUNICORN_SYNC_1, GUNICORN_SYNC_2, UVICORN

pytestmark = pytest.mark.slow

LOCUSTFILES = ROOT / "benchmarks" / "locustfiles"
# short waits and holds keep a 3 s run busy; the defaults (100 ms, 10 s) are for people watching
LAB_MS = "10"
SERVER_ENV = {"MERGE_SECONDS": "1"}
SERVERS = {"asgi": UVICORN, "wsgi": GUNICORN_SYNC_1}

# the rows each scenario's statistics must show: requests, and no failures
ROUTES = {
    "hello": {("GET", "/public/test")},
    "iowait": {("GET", "/lab/io")},
    "asyncwait": {("GET", "/lab/async-io")},
    "blocking": {("GET", "/lab/blocking")},
    "threadpool": {("GET", "/lab/threadpool")},
    "cpu": {("GET", "/lab/cpu")},
    "mixed": {("GET", "/public/test"), ("POST", "/merge")},
    "merge": {("POST", "/merge"), ("GET", "/merge")},
}
MERGE_SUMMARY = re.compile(
    r"^merge: (?P<accepted>\d+) accepted, (?P<refused>\d+) refused \(409\), (?P<overlaps>\d+) overlapping holds$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class LocustRun:
    """What a headless Locust run left behind: its exit code, its output, and its statistics by row."""

    exit_code: int
    output: str
    requests: dict[tuple[str, str], int]
    failures: dict[tuple[str, str], int]

    def merge_summary(self) -> dict[str, int]:
        """The numbers of the one line merge.py prints at the end."""
        lines = MERGE_SUMMARY.findall(self.output)
        assert len(lines) == 1, f"expected one merge summary line:\n{self.output}"
        accepted, refused, overlaps = (int(number) for number in lines[0])
        return {"accepted": accepted, "refused": refused, "overlaps": overlaps}


def run_locust(scenario: str, base_url: str, folder: Path, env: dict[str, str] | None = None) -> LocustRun:
    """Run one locustfile headless for 5 s with 5 users against `base_url`.

    Locust's run time can end early on a loaded machine: gevent's clock is the loop's cached time, so a
    start-up that takes seconds comes off the run. The statistics are the final ones of --json-file.
    """
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILES / f"{scenario}.py"), "--host", base_url]
    command += ["--headless", "-u", "5", "-r", "5", "-t", "5s", "--stop-timeout", "2"]
    command += ["--json-file", str(folder / "run"), "--only-summary"]
    # only what this test sets: a MERGE_SECONDS or LAB_MS in the caller's shell must not leak in
    locust_env = {name: value for name, value in os.environ.items() if name not in {"MERGE_SECONDS", "LAB_MS"}}
    locust_env |= {"LAB_MS": LAB_MS, **(env or {})}
    finished = subprocess.run(command, cwd=ROOT, env=locust_env, capture_output=True, text=True, timeout=60)
    rows = json.loads((folder / "run.json").read_text())
    return LocustRun(
        exit_code=finished.returncode,
        output=finished.stdout + finished.stderr,
        requests={(row["method"], row["name"]): row["num_requests"] for row in rows},
        failures={(row["method"], row["name"]): row["num_failures"] for row in rows},
    )


def assert_busy_without_failures(run: LocustRun, routes: set[tuple[str, str]]) -> None:
    """Every route has requests, none failed, and no other row shows up (name= grouped every ?ms=)."""
    assert run.exit_code == 0, run.output
    assert set(run.requests) == routes, run.output
    assert all(count > 0 for count in run.requests.values()), run.requests
    assert run.failures == dict.fromkeys(routes, 0), run.output


@pytest.fixture(scope="module", params=list(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """One server per app for the whole module, with 1 s merges."""
    with run_server(SERVERS[request.param], SERVER_ENV) as server:
        yield server


@pytest.mark.parametrize("scenario", sorted(set(ROUTES) - {"merge"}))
def test_scenario_runs_without_failures(scenario: str, server: RunningServer, tmp_path: Path) -> None:
    run = run_locust(scenario, server.url, tmp_path)
    assert_busy_without_failures(run, ROUTES[scenario])


def test_merge_scenario_accepts_merges_one_at_a_time(server: RunningServer, tmp_path: Path) -> None:
    # no MERGE_SECONDS for Locust here: merge.py learns the hold from GET /merge
    run = run_locust("merge", server.url, tmp_path)
    assert_busy_without_failures(run, ROUTES["merge"])
    summary = run.merge_summary()
    assert summary["accepted"] >= 1
    assert summary["overlaps"] == 0


def test_pool_scenario_runs_without_failures(postgres_server: PostgresServer, tmp_path: Path) -> None:
    # /lab/db needs a PostgreSQL behind the app; the locustfile checks each answer names the backend that served it
    with run_server(UVICORN, {"DATABASE_URL": postgres_server.url}) as server:
        run = run_locust("pool", server.url, tmp_path)
    assert_busy_without_failures(run, {("GET", "/lab/db")})


def test_merge_scenario_fails_on_overlapping_holds(tmp_path: Path) -> None:
    # the pitfall the docs teach: with the in-memory lock, each of the two gunicorn workers grants its own hold
    with run_server(GUNICORN_SYNC_2, {**SERVER_ENV, "LOCK_URL": "memory://"}) as server:
        # MERGE_SECONDS for Locust too: merge.py takes the hold from it instead of learning it
        run = run_locust("merge", server.url, tmp_path, env=SERVER_ENV)
    assert run.exit_code == 1, run.output
    assert run.merge_summary()["overlaps"] >= 1
    # the failure row the scenario fires for each overlap, beside the requests that looked fine one by one
    assert run.failures[("CHECK", "overlapping holds")] == run.merge_summary()["overlaps"]
