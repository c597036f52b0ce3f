"""Scale-out: instances of both apps behind a real nginx share one real Redis, under a Locust merge crowd.

`python -m benchmarks.scaleout` does the work and writes results.json; these tests run a short version of it
and read what three witnesses counted: Redis (holds granted), nginx's access log (202s, by instance) and
Locust (merge.py's ledger).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.scaleout import Answer, overlapping_holds
from launcher import ROOT
from tests.support.tools import require_tool

HOLD_SECONDS = 2.0


def accepted(sent_at: float, seconds: float = 0.001) -> Answer:
    """A 202 that nginx sent at `sent_at`, `seconds` after its request arrived."""
    return Answer(sent_at, seconds, 202, "POST", "/merge", "127.0.0.1:8000")


@pytest.mark.parametrize(
    ("answers", "gaps"),
    [
        pytest.param([accepted(10.0), accepted(12.003)], [], id="one-hold-after-another"),
        pytest.param([accepted(10.0), accepted(10.004)], [0.005], id="granted-together"),
        pytest.param([accepted(11.5, seconds=0.2), accepted(10.0)], [1.501], id="logged-out-of-order"),
        # the first 202 took 0.3 s: its hold may have begun 0.3 s before nginx sent it, so 1.8 s later is fine
        pytest.param([accepted(10.0, seconds=0.3), accepted(11.8)], [], id="slow-answer-widens-the-window"),
    ],
)
def test_overlapping_holds_are_the_202s_that_no_hold_can_separate(answers: list[Answer], gaps: list[float]) -> None:
    assert overlapping_holds(answers, HOLD_SECONDS) == gaps


@pytest.mark.slow
def test_instances_behind_nginx_accept_one_merge_per_hold(tmp_path: Path) -> None:
    require_tool("nginx", "apt-get install nginx")
    require_tool("redis-server", "apt-get install redis-server")
    command = [sys.executable, "-m", "benchmarks.scaleout", "--duration", "20", "--users", "30", "--out", str(tmp_path)]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert finished.returncode == 0, finished.stdout + finished.stderr

    result = json.loads((tmp_path / "results.json").read_text())
    figures = result["figures"]
    assert figures["overlaps_nginx"] == 0
    assert figures["overlaps_locust"] == 0
    # 20 s of 2 s holds: several merges, and each hold Redis granted was answered by one 202, seen by Locust
    assert figures["holds_granted_redis"] >= 2
    assert figures["accepted_nginx"] == figures["holds_granted_redis"]
    assert figures["accepted_locust"] == figures["holds_granted_redis"]
    assert figures["failures"] == 0
    assert set(figures["statuses"]) <= {"200", "202", "409"}
    answered = [instance for instance in result["instances"] if instance["requests"] > 0]
    assert len(answered) > 1
    assert {instance["app"] for instance in answered} == {"asgi", "wsgi"}
    assert all(check["passed"] for check in result["checks"]), result["checks"]
