"""`python -m benchmarks.auth_cost`: what the bearer check costs on the busy path, as ratios measured in one run.

    flock /tmp/bench.lock .venv/bin/python -m benchmarks.auth_cost --out benchmarks/results/reference-auth

Each bare framework's 409 (docs_src/baselines.py: the body validated, no lock) is loaded with wrk twice per
repeat, started with the checkout's token (the check, each framework's plainest way) and without MERGE_TOKENS
(no check), the two runs side by side so that a slow minute falls on both; the harness's wrk machinery (a fresh
server on its own core, a warm-up, benchmarks/wrk/merge.lua) measures each. The ratio of each repeat is checked
over unchecked requests per second; the report gives their median and range. Our apps cannot run without the
check (started without tokens they refuse every merge), so the bare pair stands for the check's cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.measure import LoadOptions, Measurement, measure, new_results_folder
from harness.report.environment import environment
from harness.scenarios import Run
from launcher import ToolNotFoundError, find_tool
from launcher.catalog import BARE_FASTAPI, BARE_FLASK

USERS = 50
# with the check, then without, for each framework: the order every repeat runs them in
PAIRS = {
    "FastAPI": (Run(BARE_FASTAPI.id, "merge", USERS), Run(BARE_FASTAPI.id, "merge-unchecked", USERS)),
    "Flask": (Run(BARE_FLASK.id, "merge", USERS), Run(BARE_FLASK.id, "merge-unchecked", USERS)),
}


@dataclass(frozen=True)
class Cost:
    """One framework's busy path with the check and without, repeat by repeat."""

    checked_rps: list[float]
    unchecked_rps: list[float]

    @property
    def ratios(self) -> list[float]:
        """Checked over unchecked requests per second, in each repeat."""
        pairs = zip(self.checked_rps, self.unchecked_rps, strict=True)
        return [round(checked / unchecked, 3) for checked, unchecked in pairs]

    def as_dict(self) -> dict[str, object]:
        """The figures as JSON-ready data, the ratios' median and range with them."""
        ratios = self.ratios
        median, low, high = statistics.median(ratios), min(ratios), max(ratios)
        return {"ratio_median": round(median, 3), "ratio_range": [low, high], "ratios": ratios, **asdict(self)}


def costs(measured: dict[str, list[Measurement]]) -> dict[str, Cost]:
    """Each framework's figures from the runs' measurements."""
    return {
        name: Cost([m.rps for m in measured[checked.key]], [m.rps for m in measured[unchecked.key]])
        for name, (checked, unchecked) in PAIRS.items()
    }


def report(figures: dict[str, Cost], repeats: int, duration: int) -> str:
    """The figures as a Markdown table, with how they were made."""
    lines = [
        "# What the bearer check costs on the busy path",
        "",
        f"Each bare framework's 409 with the check against the same without it, wrk, {USERS} connections, {repeats} "
        f"repeats of {duration} s, interleaved (`python -m benchmarks.auth_cost`). Ratio: checked over unchecked "
        "requests per second in the same repeat.",
        "",
        "<!-- --8<-- [start:table] -->",
        "| framework | checked / unchecked, median | range | checked req/s | unchecked req/s |",
        "| --- | ---: | --- | --- | --- |",
    ]
    for name, cost in figures.items():
        ratios = cost.ratios
        checked = ", ".join(f"{rps:,.0f}" for rps in cost.checked_rps)
        unchecked = ", ".join(f"{rps:,.0f}" for rps in cost.unchecked_rps)
        spread = f"{min(ratios):.2f}–{max(ratios):.2f}"
        lines.append(f"| {name} | {statistics.median(ratios):.2f} | {spread} | {checked} | {unchecked} |")
    return "\n".join([*lines, "<!-- --8<-- [end:table] -->", ""])


def main(argv: list[str] | None = None) -> int:
    """Measure every pair, interleaved, and write auth.json and report.md."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.auth_cost", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="repeats of each run (default 5)")
    parser.add_argument("--duration", type=int, default=8, help="seconds of load per run (default 8)")
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results/auth-<timestamp>)")
    arguments = parser.parse_args(argv)
    try:
        find_tool("wrk", "apt-get install wrk")
    except ToolNotFoundError as error:
        print(f"python -m benchmarks.auth_cost: {error}", file=sys.stderr)
        return 1
    folder = arguments.out or new_results_folder("auth-")
    folder.mkdir(parents=True, exist_ok=True)
    options = LoadOptions(arguments.duration, generator="wrk")
    runs = [run for pair in PAIRS.values() for run in pair]
    measured: dict[str, list[Measurement]] = {run.key: [] for run in runs}
    for repeat in range(1, arguments.repeats + 1):
        for run in runs:
            result = measure(run, repeat, options, folder)
            if result.failures or result.exit_code:
                print(f"{run.key} repeat {repeat}: {result.failures} unexpected answers, exit {result.exit_code}")
                return 1
            measured[run.key].append(result)
            print(f"repeat {repeat}/{arguments.repeats}  {run.key:<40} {result.rps:>9,.1f} requests/s")
    figures = costs(measured)
    settings = {"repeats": arguments.repeats, "duration_s": arguments.duration, "generator": "wrk", "users": USERS}
    runs_out = {key: [m.as_dict() for m in values] for key, values in measured.items()}
    ratios = {name: cost.as_dict() for name, cost in figures.items()}
    document = {"environment": environment(settings), "ratios": ratios, "runs": runs_out}
    (folder / "auth.json").write_text(json.dumps(document, indent=2) + "\n")
    (folder / "report.md").write_text(report(figures, arguments.repeats, arguments.duration))
    print(report(figures, arguments.repeats, arguments.duration))
    return 0


if __name__ == "__main__":
    sys.exit(main())
