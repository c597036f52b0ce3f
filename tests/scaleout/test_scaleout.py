"""Scale-out: instances of both apps behind a real nginx share one real Redis, under a Locust merge crowd.

`python -m benchmarks.scaleout` does the work and writes results.json; these tests run a short version of it
and read what three witnesses counted: the ledger in Redis (every merge, when it started and ended), nginx's
access log (202s, by instance) and Locust (merge.py's count).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from common.lock import MergeRecord, Outcome
from common.merges import overlapping
from launcher import ROOT
from tests.support.tools import require_tool


def merge(token: int, started: float, ended: float | None, outcome: Outcome = "released") -> MergeRecord:
    """A merge of the ledger."""
    return MergeRecord(token, f"branch-{token}", started, ended, outcome)


@pytest.mark.parametrize(
    ("records", "pairs"),
    [
        pytest.param([merge(1, 10.0, 12.0), merge(2, 12.0, 14.0)], [], id="one-after-another"),
        pytest.param([merge(1, 10.0, 12.5), merge(2, 12.0, 14.0)], [(1, 2)], id="the-second-started-first"),
        pytest.param([merge(2, 12.0, 14.0), merge(1, 10.0, 12.5)], [(1, 2)], id="in-any-order"),
        # a fenced-off merge's end was refused: its accepted work ended with its start
        pytest.param([merge(1, 10.0, None, "fenced off"), merge(2, 11.0, 13.0)], [], id="fenced-off"),
        pytest.param([merge(1, 10.0, None, "running")], [], id="still-running"),
    ],
)
def test_overlapping_merges_are_read_from_what_the_ledger_accepted(
    records: list[MergeRecord], pairs: list[tuple[int, int]]
) -> None:
    assert overlapping(records) == pairs


@pytest.mark.slow
def test_instances_behind_nginx_run_one_merge_at_a_time(tmp_path: Path) -> None:
    require_tool("nginx", "apt-get install nginx")
    require_tool("redis-server", "apt-get install redis-server")
    command = [sys.executable, "-m", "benchmarks.scaleout", "--duration", "20", "--users", "30", "--out", str(tmp_path)]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert finished.returncode == 0, finished.stdout + finished.stderr

    result = json.loads((tmp_path / "results.json").read_text())
    figures = result["figures"]
    assert figures["overlaps_ledger"] == []
    assert figures["overlaps_locust"] == 0
    # 20 s of 2 s merges: several, each in the ledger, each answered by one 202 that Locust saw
    assert figures["merges_ledger"] >= 2
    assert figures["outcomes_ledger"] == {"released": figures["merges_ledger"]}
    assert figures["accepted_nginx"] == figures["merges_ledger"]
    assert figures["accepted_locust"] == figures["merges_ledger"]
    assert figures["failures"] == 0
    assert set(figures["statuses"]) <= {"200", "202", "409"}
    answered = [instance for instance in result["instances"] if instance["requests"] > 0]
    assert len(answered) > 1
    assert {instance["app"] for instance in answered} == {"asgi", "wsgi"}
    assert all(check["passed"] for check in result["checks"]), result["checks"]
