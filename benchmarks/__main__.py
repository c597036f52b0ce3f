"""`python -m benchmarks`: measure the server configurations and write the report with its charts.

python -m benchmarks                       # the full suite, 3 repeats of 10 s (make bench)
python -m benchmarks --suite demo --repeats 1 --duration 5
python -m benchmarks --servers uvicorn,gunicorn-sync-w1 --scenarios hello,iowait
python -m benchmarks --generator wrk       # raw throughput, where the generator must not be the limit
python -m benchmarks --processes 4         # Locust distributed: a master and 4 worker processes
python -m benchmarks --generator open --suite open   # latency against offered load (benchmarks/openloop.py)
python -m benchmarks --list                # the configurations, scenarios and suites
python -m benchmarks --report benchmarks/results/<timestamp>   # redraw from results.json
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from benchmarks import openloop
from harness.measure import RAW, LoadOptions, cpu_split, measure, new_results_folder
from harness.openload import LOADS
from harness.report import write_report
from harness.report.checks import checks
from harness.report.environment import environment
from harness.report.summary import Summary
from harness.report.tables import terminal_table
from harness.scenarios import SCENARIOS, SUITES, Run
from launcher import CONFIGS, ToolNotFoundError, find_tool, postgres_bin_dir, postgres_version
from launcher.catalog import framework


@dataclass(frozen=True)
class Selection:
    """The runs the options keep, and one line for each configuration or scenario left out."""

    runs: list[Run]
    skipped: list[str]


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line, checked: unknown ids and impossible numbers are one line each."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--suite", choices=sorted(SUITES), default="full")
    parser.add_argument("--servers", help="comma-separated configuration ids: only these (see --list)")
    parser.add_argument("--scenarios", help="comma-separated scenario ids: only these")
    parser.add_argument("--repeats", type=int, default=3, help="fresh-server repeats of each run (default 3)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per run (default 10)")
    parser.add_argument("--generator", choices=["locust", "wrk", "open"], default="locust")
    parser.add_argument(
        "--loads",
        type=percentages,
        default=LOADS,
        help="with --generator open: shares of each row's capacity, in %% (default 50,80,95,110)",
    )
    parser.add_argument("--processes", type=int, metavar="N", help="Locust distributed: a master and N workers")
    parser.add_argument(
        "--out", type=Path, help="results folder (default benchmarks/results/<timestamp>): report on top, logs in raw/"
    )
    parser.add_argument("--list", action="store_true", help="list configurations, scenarios and suites")
    parser.add_argument("--report", type=Path, metavar="FOLDER", help="redraw report and charts from results.json")
    arguments = parser.parse_args(argv)
    if arguments.repeats < 1 or not 1 <= arguments.duration <= 600:
        parser.error("--repeats must be ≥ 1 and --duration between 1 and 600 seconds")
    if arguments.processes is not None and (arguments.processes < 1 or arguments.generator != "locust"):
        parser.error("--processes must be ≥ 1, and only with --generator locust")
    for option, table in [("servers", CONFIGS), ("scenarios", SCENARIOS)]:
        chosen = getattr(arguments, option)
        unknown = [name for name in (chosen.split(",") if chosen else []) if name not in table]
        if unknown:
            parser.error(f"unknown --{option} {', '.join(unknown)}; choose from {', '.join(table)}")
    return arguments


def percentages(text: str) -> tuple[int, ...]:
    """--loads: comma-separated whole percentages between 1 and 300."""
    try:
        loads = tuple(sorted(int(share) for share in text.split(",")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of whole percentages") from None
    if not loads or not all(1 <= load <= 300 for load in loads):
        raise argparse.ArgumentTypeError("each load must be between 1 and 300 percent")
    return loads


def select(arguments: argparse.Namespace) -> Selection:
    """The runs of the suite that the options keep; what cannot run here is skipped with its reason."""
    runs, skipped = list(SUITES[arguments.suite]), []
    if arguments.servers:
        runs = [run for run in runs if run.server in arguments.servers.split(",")]
    if arguments.scenarios:
        runs = [run for run in runs if run.scenario in arguments.scenarios.split(",")]
    for server in dict.fromkeys(run.server for run in runs):
        if reason := CONFIGS[server].missing():
            skipped.append(reason)
            runs = [run for run in runs if run.server != server]
    if any(SCENARIOS[run.scenario].postgres for run in runs):
        try:
            postgres_bin_dir()
        except ToolNotFoundError as error:
            skipped.append(f"the pool scenarios: skipped, {error}")
            runs = [run for run in runs if not SCENARIOS[run.scenario].postgres]
    if arguments.generator == "wrk":
        for scenario in dict.fromkeys(run.scenario for run in runs if not SCENARIOS[run.scenario].wrk_ok):
            skipped.append(f"{scenario}: skipped, wrk cannot play its users (use --generator locust)")
        runs = [run for run in runs if SCENARIOS[run.scenario].wrk_ok]
    return Selection(runs, skipped)


def print_list() -> None:
    """Every configuration, scenario and suite, one line each."""
    for row in CONFIGS.values():
        kind = "baseline" if row.baseline else framework(row)
        print(f"server   {row.id:<30} {row.interface}  {kind:<8}  {row.summary}")
    for scenario in SCENARIOS.values():
        print(f"scenario {scenario.id:<30} {scenario.locustfile}")
    for suite, runs in SUITES.items():
        print(f"suite    {suite:<30} {len(runs)} runs")


def redraw(folder: Path) -> int:
    """Write the report and charts again from a results.json (or an open-loop run's open.json)."""
    if (folder / openloop.RESULTS).is_file():
        return openloop.redraw(folder)
    if not (folder / "results.json").is_file():
        print(f"benchmarks: {folder} holds no results.json to redraw from", file=sys.stderr)
        return 2
    document = json.loads((folder / "results.json").read_text())
    runs = [Run(r["server"], r["scenario"], r["users"], r["access_log"]) for r in document["runs"]]
    summaries = write_report(folder, runs, document["measurements"], document["environment"], document["skipped"])
    print(terminal_table(summaries, checks(summaries)))
    return 0


@dataclass(frozen=True)
class Compared:
    """What a run of the suite left: its folder, a summary per run, and how many measurements failed."""

    folder: Path
    summaries: list[Summary]
    errors: int


def run_settings(arguments: argparse.Namespace, runs: list[Run]) -> dict[str, Any]:
    """The settings a report records: the options, and where the server and the generator ran."""
    split = cpu_split(arguments.processes)
    settings: dict[str, Any] = {
        "suite": arguments.suite,
        "repeats": 1 if arguments.generator == "open" else arguments.repeats,
        "duration_s": arguments.duration,
        "generator": arguments.generator,
        "server_cpus": split.server or "all",
        "generator_cpus": split.generator or "all",
        "generator_processes": f"1 master + {arguments.processes} workers" if arguments.processes else "1",
    }
    if arguments.generator == "open":
        settings["loads"] = arguments.loads
    if any(SCENARIOS[run.scenario].postgres for run in runs):
        settings["postgresql"] = postgres_version()  # the server the pool scenarios query
    return settings


def open_loop(arguments: argparse.Namespace) -> int:
    """--generator open: each run's capacity closed-loop, then the open loop at the --loads shares of it."""
    selection = select(arguments)
    for reason in selection.skipped:
        print(reason)
    if not selection.runs:
        print("benchmarks: nothing to run with these options", file=sys.stderr)
        return 2
    folder = arguments.out or new_results_folder("open-")
    folder.mkdir(parents=True, exist_ok=True)
    return openloop.run_open(selection.runs, selection.skipped, run_settings(arguments, selection.runs), folder)


def compare(arguments: argparse.Namespace) -> Compared | None:
    """Measure the selected runs with a progress bar and write the report; None if nothing could run."""
    if arguments.generator == "wrk":
        try:
            find_tool("wrk", "apt-get install wrk, or use --generator locust")
        except ToolNotFoundError as error:
            print(f"benchmarks: {error}", file=sys.stderr)
            return None
    selection = select(arguments)
    for reason in selection.skipped:
        print(reason)
    if not selection.runs:
        print("benchmarks: nothing to run with these options", file=sys.stderr)
        return None
    folder = arguments.out or new_results_folder()
    folder.mkdir(parents=True, exist_ok=True)
    options = LoadOptions(arguments.duration, arguments.generator, arguments.processes)
    env = environment(run_settings(arguments, selection.runs))
    total = len(selection.runs) * arguments.repeats
    print(f"{len(selection.runs)} runs × {arguments.repeats} repeats × {arguments.duration} s → {folder}")
    measurements: list[dict[str, object]] = []
    errors = 0
    with tqdm(total=total, unit="run", dynamic_ncols=True) as progress:
        for repeat in range(1, arguments.repeats + 1):
            for run in selection.runs:
                progress.set_description(f"{run.key} #{repeat}")
                try:
                    measurements.append(measure(run, repeat, options, folder).as_dict())
                except (RuntimeError, OSError, ValueError) as error:
                    errors += 1
                    tqdm.write(f"{run.key} #{repeat}: failed: {str(error).splitlines()[0]} (logs in {folder / RAW})")
                progress.update()
    summaries = write_report(folder, selection.runs, measurements, env, selection.skipped)
    return Compared(folder, summaries, errors)


def main(argv: list[str] | None = None) -> int:
    """Run the suite and write the report; exit 1 if a run failed outright, 2 if nothing could run."""
    arguments = parse(argv)
    if arguments.list:
        print_list()
        return 0
    if arguments.report:
        return redraw(arguments.report)
    if arguments.generator == "open":
        return open_loop(arguments)
    compared = compare(arguments)
    if compared is None:
        return 2
    print("\n" + terminal_table(compared.summaries, checks(compared.summaries)))
    print(f"\nreport: {compared.folder / 'report.md'}")
    return 1 if compared.errors else 0


if __name__ == "__main__":
    sys.exit(main())
