"""The harness drives Locust distributed (`--processes N`): a master and N workers, figures added up by the master."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from launcher import ROOT

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
    lines = MERGE_LINE.findall((tmp_path / "merge-uvicorn-u50-r1.locust.log").read_text())
    refused_per_worker = [int(refused) for accepted, refused, overlaps in lines]
    assert len(refused_per_worker) == 2
    assert all(refused > 0 for refused in refused_per_worker)
    assert measurement["requests"] == sum(refused_per_worker)
