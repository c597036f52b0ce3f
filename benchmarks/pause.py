"""`python -m benchmarks.pause`: the lease, its renewals, a pause past it and the fence, drawn from a real run.

    python -m benchmarks.pause                    # into benchmarks/results/pause-<timestamp>/
    python -m benchmarks.pause --out benchmarks/results/reference-pause

One merge on `uvicorn --workers 2` (1 s lease, 2.5 s merge) has its worker's event loop blocked for 2 s with
/lab/blocking while a client presses POST /merge: the other worker takes over once the lease runs out, and
the paused merge, resumed, loses its lease at its next renewal and has its late end refused by the ledger.
Writes pause.json (every event, from the servers' log lines) and pause-timeline.png; exits 1 if the run did
not show what it should.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.measure import new_results_folder
from harness.pause import LEASE_SECONDS, MERGE_SECONDS, PAUSE_SECONDS, run
from harness.report.charts import pause_timeline
from harness.report.environment import environment


def main(argv: list[str] | None = None) -> int:
    """Run the pause once, write its events and its timeline."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pause", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results/pause-<timestamp>)")
    arguments = parser.parse_args(argv)
    folder = arguments.out or new_results_folder("pause-")
    folder.mkdir(parents=True, exist_ok=True)
    result = run(folder)
    settings = {"lease_seconds": LEASE_SECONDS, "merge_seconds": MERGE_SECONDS, "pause_seconds": PAUSE_SECONDS}
    document = {"environment": environment(settings), **result.as_dict()}
    (folder / "pause.json").write_text(json.dumps(document, indent=2) + "\n")
    chart = pause_timeline(result, LEASE_SECONDS, folder)
    paused = min(result.outcomes)
    print(f"merges and outcomes: {result.outcomes}; pause {result.pause[0]:.2f}–{result.pause[1]:.2f} s")
    print(f"events: {folder / 'pause.json'}, timeline: {chart}")
    shown = result.outcomes.get(paused) == "fenced off" and result.outcomes.get(paused + 1) == "released"
    return 0 if shown else 1


if __name__ == "__main__":
    sys.exit(main())
