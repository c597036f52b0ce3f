"""`python -m benchmarks --generator open` end to end on one row: a real server, real Locust, the open loop, the
report and its chart, redrawn from open.json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from launcher import ROOT
from launcher.catalog import UVICORN

pytestmark = pytest.mark.slow


def benchmarks(*arguments: str) -> subprocess.CompletedProcess[str]:
    """`python -m benchmarks` in the repository's root, as a reader types it."""
    command = [sys.executable, "-m", "benchmarks", *arguments]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)


def test_one_row_closed_then_open_writes_the_comparison_and_the_chart(tmp_path: Path) -> None:
    row = ["--suite", "open", "--servers", UVICORN.id, "--scenarios", "iowait"]
    finished = benchmarks("--generator", "open", *row, "--duration", "1", "--loads", "50,110", "--out", str(tmp_path))
    assert finished.returncode == 0, finished.stdout + finished.stderr
    # a line per step, as it is measured
    key = f"iowait-{UVICORN.id}-u100"
    assert f"{key}: 50% of " in finished.stdout
    assert f"{key}: 110% of " in finished.stdout

    (measured,) = json.loads((tmp_path / "open.json").read_text())["rows"]
    assert measured["closed"]["rps"] > 0
    assert measured["light_users"] < 100
    assert [step["load_percent"] for step in measured["steps"]] == [50, 110]
    for step in measured["steps"]:
        assert step["offered_rps"] == pytest.approx(measured["closed"]["rps"] * step["load_percent"] / 100, rel=1e-3)
        assert step["sent"] + step["unsent"] == step["scheduled"]
        assert step["p50_ms"] >= 100  # every request waits its 100 ms, counted from its due time
    assert {"open.json", "report.md", "open-loop.png", "raw"} <= {path.name for path in tmp_path.iterdir()}
    report = (tmp_path / "report.md").read_text()
    assert f"| {UVICORN.id} · iowait |" in report

    # redrawn from open.json, the report comes out the same
    (tmp_path / "report.md").unlink()
    redrawn = benchmarks("--report", str(tmp_path))
    assert redrawn.returncode == 0, redrawn.stdout + redrawn.stderr
    assert (tmp_path / "report.md").read_text() == report


def test_loads_must_be_whole_percentages() -> None:
    refused = benchmarks("--generator", "open", "--loads", "50,abc")
    assert refused.returncode == 2
    assert "is not a list of whole percentages" in refused.stderr
