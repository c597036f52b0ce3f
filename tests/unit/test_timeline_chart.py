"""The timeline's lower panel: how many requests were queued and how many ran, moment by moment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness.report.charts import clients_over_time
from harness.timeline import Request, Timeline
from launcher import ROOT


def request(client: int, sent: float, started: float, ended: float) -> Request:
    return Request(client, sent, started, ended, ended + 0.001, pid=1, thread="MainThread", thread_id=1)


def one_worker_two_clients() -> Timeline:
    # both sent at 0; the first runs 0 to 1, the second queues until 1 and runs 1 to 2
    return Timeline("t", "one worker", "gunicorn-sync-w1", "/lab/io", False, [request(0, 0, 0, 1), request(1, 0, 1, 2)])


def test_the_second_client_queues_while_the_first_runs() -> None:
    moments, queued, running = clients_over_time(one_worker_two_clients())
    assert moments == [0.0, 1.0, 2.0]
    assert queued == [1, 0, 0]
    assert running == [1, 1, 0]


def test_a_finished_runs_timelines_are_redrawn_from_their_json(tmp_path: Path) -> None:
    timeline = one_worker_two_clients()
    assert Timeline.from_dict(json.loads(json.dumps(timeline.as_dict()))) == timeline
    (tmp_path / "timelines.json").write_text(json.dumps({"timelines": [timeline.as_dict()]}))
    command = [sys.executable, "-m", "benchmarks.timelines", "--report", str(tmp_path)]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stderr
    assert (tmp_path / "timeline-t.png").read_bytes().startswith(b"\x89PNG")
    missing = subprocess.run(
        [*command[:-1], str(tmp_path / "nowhere")], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2
    assert "no timelines.json" in missing.stderr
