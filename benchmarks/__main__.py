"""`python -m benchmarks`: measure the server configurations and write the report with its charts.

python -m benchmarks                       # the full suite, 3 repeats of 10 s (make bench)
python -m benchmarks --suite demo --repeats 1 --duration 5
python -m benchmarks --servers uvicorn,gunicorn-sync-w1 --scenarios hello,io
python -m benchmarks --generator wrk       # raw throughput of GET scenarios
python -m benchmarks --processes 4         # Locust distributed: a master and 4 worker processes
python -m benchmarks --list                # the configurations and scenarios
python -m benchmarks --report benchmarks/results/<timestamp>   # redraw from results.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from tqdm import tqdm

from benchmarks import report
from benchmarks.configs import SCENARIOS, SERVERS, SUITES, Run
from benchmarks.harness import measure, new_results_folder, pinning


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=sorted(SUITES), default="full")
    parser.add_argument("--servers", help="comma-separated configuration ids: only these (see --list)")
    parser.add_argument("--scenarios", help="comma-separated scenario ids: only these")
    parser.add_argument("--repeats", type=int, default=3, help="fresh-server repeats of each run (default 3)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per run (default 10)")
    parser.add_argument("--generator", choices=["locust", "wrk"], default="locust")
    parser.add_argument(
        "--processes", type=int, metavar="N", help="Locust distributed: a master and N workers (Locust's --processes)"
    )
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results/<timestamp>)")
    parser.add_argument("--list", action="store_true", help="list configurations, scenarios and suites")
    parser.add_argument("--report", type=Path, metavar="FOLDER", help="redraw report and charts from results.json")
    arguments = parser.parse_args(argv)
    if arguments.repeats < 1 or not 1 <= arguments.duration <= 600:
        parser.error("--repeats must be ≥ 1 and --duration between 1 and 600 seconds")
    if arguments.processes is not None and (arguments.processes < 1 or arguments.generator == "wrk"):
        parser.error("--processes must be ≥ 1, and only with --generator locust")
    for option, table in [("servers", SERVERS), ("scenarios", SCENARIOS)]:
        chosen = getattr(arguments, option)
        unknown = [name for name in (chosen.split(",") if chosen else []) if name not in table]
        if unknown:
            parser.error(f"unknown --{option} {', '.join(unknown)}; choose from {', '.join(table)}")
    return arguments


def select(arguments: argparse.Namespace) -> tuple[list[Run], list[str]]:
    """The runs of the suite that the options keep, and one line for each one skipped."""
    runs, skipped = list(SUITES[arguments.suite]), []
    if arguments.servers:
        runs = [run for run in runs if run.server in arguments.servers.split(",")]
    if arguments.scenarios:
        runs = [run for run in runs if run.scenario in arguments.scenarios.split(",")]
    for server in sorted({run.server for run in runs}):
        if reason := SERVERS[server].missing():
            skipped.append(reason)
            runs = [run for run in runs if run.server != server]
    if arguments.generator == "wrk":
        for scenario in sorted({run.scenario for run in runs if not SCENARIOS[run.scenario].wrk_ok}):
            skipped.append(f"{scenario}: skipped, wrk has no script for it (use --generator locust)")
        runs = [run for run in runs if SCENARIOS[run.scenario].wrk_ok]
    return runs, skipped


def write_report(folder: Path, runs: list[Run], measurements: list[dict[str, object]], env: dict[str, object],
                 skipped: list[str]) -> list[report.Summary]:  # fmt: skip
    """Write results.json, the charts and report.md into `folder`."""
    document = {"environment": env, "runs": [run.__dict__ | {"key": run.key} for run in runs],
                "skipped": skipped, "measurements": measurements}  # fmt: skip
    (folder / "results.json").write_text(json.dumps(document, indent=2) + "\n")
    summaries = report.summarize(runs, measurements)  # type: ignore[arg-type]
    drawn = report.charts(summaries, folder)
    (folder / "report.md").write_text(report.markdown(summaries, env, drawn, skipped))  # type: ignore[arg-type]
    return summaries


def print_summary(summaries: list[report.Summary]) -> None:
    """The terminal table: one line per run, then the checks."""
    print(f"\n{'run':<44} {'requests/s':>11} {'range':>17} {'p99 ms':>8} {'fails':>6}")
    for summary in summaries:
        if not summary.repeats:
            continue
        low, high = summary.spread
        p99 = summary.median("p99_ms")
        flag = "  generator-bound" if summary.generator_bound else ""
        p99_text = f"{p99:8.1f}" if p99 is not None else f"{'–':>8}"
        figures = f"{summary.rps:11,.1f} {low:8,.1f}–{high:<8,.1f} {p99_text} {summary.failures:6}"
        print(f"{summary.run.key:<44} {figures}{flag}")
    print("\nchecks:")
    for check in report.checks(summaries):
        verdict = check.verdict
        print(f"  [{verdict}] {check.name}: {check.detail}")


def main(argv: list[str] | None = None) -> int:
    """Run the suite and write the report; exit 1 if a run failed outright."""
    arguments = _parse(argv)
    if arguments.list:
        for server in SERVERS.values():
            print(f"server   {server.id:<26} {server.interface}  {'baseline' if server.baseline else server.app}")
        for scenario in SCENARIOS.values():
            print(f"scenario {scenario.id:<26} {scenario.locustfile}")
        for suite, runs in SUITES.items():
            print(f"suite    {suite:<26} {len(runs)} runs")
        return 0
    if arguments.report:
        document = json.loads((arguments.report / "results.json").read_text())
        runs = [Run(r["server"], r["scenario"], r["users"], r["access_log"]) for r in document["runs"]]
        print_summary(write_report(arguments.report, runs, document["measurements"], document["environment"],
                                   document["skipped"]))  # fmt: skip
        return 0
    if arguments.generator == "wrk" and shutil.which("wrk") is None:
        print("benchmarks: wrk is not on PATH: apt-get install wrk, or use --generator locust", file=sys.stderr)
        return 2

    runs, skipped = select(arguments)
    for reason in skipped:
        print(reason)
    if not runs:
        print("benchmarks: nothing to run with these options", file=sys.stderr)
        return 2
    folder = arguments.out or new_results_folder()
    folder.mkdir(parents=True, exist_ok=True)
    server_pin, generator_pin = pinning(arguments.processes)
    settings = {
        "suite": arguments.suite, "repeats": arguments.repeats, "duration_s": arguments.duration,
        "generator": arguments.generator, "server_cpus": " ".join(server_pin[2:]) or "all",
        "generator_cpus": " ".join(generator_pin[2:]) or "all",
        "generator_processes": f"1 master + {arguments.processes} workers" if arguments.processes else "1",
    }  # fmt: skip
    env = report.environment(settings)
    print(f"{len(runs)} runs × {arguments.repeats} repeats × {arguments.duration} s → {folder}")
    measurements: list[dict[str, object]] = []
    errors = 0
    with tqdm(total=len(runs) * arguments.repeats, unit="run", dynamic_ncols=True) as progress:
        for repeat in range(1, arguments.repeats + 1):
            for run in runs:
                progress.set_description(f"{run.key} #{repeat}")
                try:
                    measurement = measure(run, repeat, arguments.duration, arguments.generator, folder,
                                          arguments.processes)  # fmt: skip
                    measurements.append(measurement.as_dict())
                except (RuntimeError, OSError, ValueError) as error:
                    errors += 1
                    tqdm.write(f"{run.key} #{repeat}: failed: {str(error).splitlines()[0]}")
                progress.update()
    summaries = write_report(folder, runs, measurements, env, skipped)
    print_summary(summaries)
    print(f"\nreport: {folder / 'report.md'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
