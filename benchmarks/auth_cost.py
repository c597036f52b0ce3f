"""`python -m benchmarks.auth_cost`: what the bearer check costs on the busy path, as ratios measured in one run.

    flock /tmp/bench.lock .venv/bin/python -m benchmarks.auth_cost --out benchmarks/results/reference-auth

Each bare framework's 409 (docs_src/baselines.py: the body validated, no lock) is loaded with wrk twice per
repeat, started with the checkout's token (the check, each framework's plainest way) and without MERGE_TOKENS
(no check), the two runs side by side so that a slow minute falls on both; the harness's wrk machinery (a fresh
server on its own core, a warm-up, benchmarks/wrk/merge.lua) measures each. The ratio is that of requests per
second of the server's CPU, checked over unchecked, in each repeat: on a machine others share, a server waits
for its core now and then, which lowers its requests per second and not the CPU each request takes (both ratios
are in auth.json). The report gives the median and range. Our apps cannot run without the check (started
without tokens they refuse every merge), so the bare pair stands for the check's cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass
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
    """One framework's busy path with the check and without, repeat by repeat: requests/s and the server's CPU."""

    checked: list[Measurement]
    unchecked: list[Measurement]

    @staticmethod
    def cpu_us(runs: list[Measurement]) -> list[float]:
        """Microseconds of the server's CPU per request, in each run."""
        return [round(run.server_cpu / run.rps * 1e6, 1) for run in runs]

    @property
    def ratios(self) -> list[float]:
        """Requests per CPU-second, checked over unchecked: unchecked CPU per request over checked, each repeat."""
        pairs = zip(self.cpu_us(self.unchecked), self.cpu_us(self.checked), strict=True)
        return [round(unchecked / checked, 3) for unchecked, checked in pairs]

    @property
    def rps_ratios(self) -> list[float]:
        """Requests per second, checked over unchecked, each repeat: what a busy machine blurs."""
        pairs = zip(self.checked, self.unchecked, strict=True)
        return [round(checked.rps / unchecked.rps, 3) for checked, unchecked in pairs]

    def as_dict(self) -> dict[str, object]:
        """The figures as JSON-ready data."""
        ratios = self.ratios
        return {
            "ratio_median": round(statistics.median(ratios), 3),
            "ratio_range": [min(ratios), max(ratios)],
            "ratios": ratios,
            "rps_ratios": self.rps_ratios,
            "checked_cpu_us": self.cpu_us(self.checked),
            "unchecked_cpu_us": self.cpu_us(self.unchecked),
        }


def costs(measured: dict[str, list[Measurement]]) -> dict[str, Cost]:
    """Each framework's figures from the runs' measurements."""
    return {name: Cost(measured[checked.key], measured[unchecked.key]) for name, (checked, unchecked) in PAIRS.items()}


def report(figures: dict[str, Cost], repeats: int, duration: int) -> str:
    """The figures as a Markdown table, with how they were made."""
    lines = [
        "# What the bearer check costs on the busy path",
        "",
        f"Each bare framework's 409 with the check against the same without it, wrk, {USERS} connections, {repeats} "
        f"repeats of {duration} s, interleaved (`python -m benchmarks.auth_cost`). Ratio: requests per second of "
        "the server's CPU, checked over unchecked, in the same repeat.",
        "",
        "<!-- --8<-- [start:table] -->",
        "| bare 409 | checked / unchecked, median | range | server CPU per request, checked | unchecked |",
        "| --- | ---: | --- | --- | --- |",
    ]
    for name, cost in figures.items():
        ratios = cost.ratios
        checked, unchecked = (
            statistics.median(cost.cpu_us(cost.checked)),
            statistics.median(cost.cpu_us(cost.unchecked)),
        )
        spread = f"{min(ratios):.2f}–{max(ratios):.2f}"
        lines.append(f"| {name} | {statistics.median(ratios):.2f} | {spread} | {checked:.0f} µs | {unchecked:.0f} µs |")
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
