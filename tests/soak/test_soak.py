"""A short soak of each app: the mixed scenario with no failures, and no descriptor or thread left behind.

`python -m benchmarks.soak` does the work; this runs it for a few seconds per app and reads its results.json.
Memory is not judged here: seconds of load say nothing about steady memory, the full soak (make soak) does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from launcher import ROOT

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("app", ["asgi", "wsgi"])
def test_a_short_soak_fails_nothing_and_leaks_nothing(app: str, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "benchmarks.soak", "--apps", app, "--warm-up", "2", "--duration", "6"]
    command += ["--users", "20", "--interval", "1", "--out", str(tmp_path)]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    output = finished.stdout + finished.stderr
    assert (tmp_path / "results.json").exists(), output

    result = json.loads((tmp_path / "results.json").read_text())["apps"][app]
    checks = {check["name"]: check for check in result["checks"]}
    assert result["loads"]["soak"]["requests"] > 0
    for name in ["no unexpected failures", "no leaked file descriptors", "no leaked threads"]:
        assert checks[name]["passed"], f"{name}: {checks[name]['detail']}\n{output}"
