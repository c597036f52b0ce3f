"""The harness drives Locust distributed (`--processes N`): a master and N workers, figures added up by the master."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.measure import WORKERS_PLUGIN, distributed_options
from launcher import ROOT, run_server, wait_for
from launcher.catalog import UVICORN

pytestmark = pytest.mark.slow

MERGE_LINE = re.compile(r"^merge: (\d+) accepted, (\d+) refused \(409\), (\d+) overlapping holds$", re.MULTILINE)


def test_processes_2_runs_two_workers_and_adds_up_their_figures(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "benchmarks", "--suite", "demo", "--servers", "uvicorn", "--scenarios", "merge"]
    command += ["--repeats", "1", "--duration", "4", "--processes", "2", "--out", str(tmp_path)]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert finished.returncode == 0, finished.stdout + finished.stderr

    results = json.loads((tmp_path / "results.json").read_text())
    assert results["environment"]["settings"]["generator_processes"] == "1 master + 2 workers"
    [measurement] = results["measurements"]
    assert measurement["failures"] == 0
    # the harness takes the hold first, so every POST /merge of the run is a 409; each worker prints its own
    # count of them when it stops (the master runs no users), and the master's figures hold both
    lines = MERGE_LINE.findall((tmp_path / "raw" / "merge-uvicorn-u50-r1.locust.log").read_text())
    refused_per_worker = [int(refused) for accepted, refused, overlaps in lines]
    assert len(refused_per_worker) == 2
    assert all(refused > 0 for refused in refused_per_worker)
    assert measurement["requests"] == sum(refused_per_worker)


def locust_processes_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("plugin", [True, False], ids=["with-the-workers-plugin", "without-it"])
def test_a_worker_that_writes_late_leaves_the_masters_figures_alone(tmp_path: Path, plugin: bool) -> None:
    """The race behind a red CI run: a forked worker writes its emptied --json-file after the master wrote its
    figures. The locustfile makes the worker late for certain; without the plugin the master's figures are lost
    (which shows this test can fail), with it they stay."""
    locustfiles = str(Path(__file__).with_name("slow_worker_save.py")) + (f",{WORKERS_PLUGIN}" if plugin else "")
    with run_server(UVICORN, folder=tmp_path) as server:
        command = [sys.executable, "-m", "locust", "-f", locustfiles, "--headless", "--host", server.url]
        command += ["-u", "4", "-r", "4", "-t", "3s", "--json-file", str(tmp_path / "stats"), "--only-summary"]
        command += distributed_options(2)
        log = tmp_path / "locust.log"
        with log.open("w") as output:
            locust = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=output, start_new_session=True)
            assert locust.wait(timeout=60) == 0, log.read_text()
        # the master may exit before its workers: wait until every process of its session has gone
        wait_for(lambda: locust_processes_gone(locust.pid), 30, "Locust's workers to exit")
    requests = sum(entry["num_requests"] for entry in json.loads((tmp_path / "stats.json").read_text()))
    if plugin:
        assert requests > 0
    else:
        assert requests == 0
