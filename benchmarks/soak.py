"""`python -m benchmarks.soak`: minutes of the mixed scenario on each app, watching memory, descriptors and threads.

    python -m benchmarks.soak                     # 3 minutes per app (make soak)
    python -m benchmarks.soak --duration 60 --apps asgi
    python -m benchmarks.soak --warm-up 5 --duration 10 --interval 1    # the quick version the tests run

Each app runs as `make serve` runs it (Uvicorn with one worker; Gunicorn with gunicorn.conf.py's
2 x cores + 1 sync workers); harness/soak.py says what each run does and how it is judged. Any Locust
failure fails the run. Everything lands in benchmarks/results/soak-<timestamp>/.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from harness.measure import new_results_folder
from harness.report.checks import Check
from harness.report.environment import environment
from harness.scenarios import SCENARIOS
from harness.soak import SERVERS, SoakOptions, draw, soak_app

MOMENTS = ["start", "end of warm-up", "idle after warm-up", "end of soak", "idle after soak"]


def print_summary(results: dict[str, dict[str, Any]]) -> None:
    """The terminal table: the samples that matter for each app, then its checks."""
    print(f"\n{'app':<5} {'moment':<20} {'seconds':>8} {'RSS MiB':>8} {'fds':>5} {'threads':>8} {'processes':>10}")
    for app, result in results.items():
        by_phase = {sample["phase"]: sample for sample in result["samples"]}
        for moment in MOMENTS:
            sample = by_phase[moment]
            figures = f"{sample['seconds']:>8} {sample['rss_mib']:>8} {sample['fds']:>5} {sample['threads']:>8}"
            print(f"{app:<5} {moment:<20} {figures} {sample['processes']:>10}")
    for app, result in results.items():
        soak = result["loads"]["soak"]
        load = f"soak {soak['requests']:,} requests, {soak['rps']} requests/s"
        latency = f"p50 {soak['p50_ms']} ms, p99 {soak['p99_ms']} ms"
        print(f"\n{app} ({result['server']}): {load}, {latency}; RSS slope {result['rss_slope_mib_per_min']} MiB/min")
        for check in result["checks"]:
            print(f"  [{Check(**check).verdict}] {check['name']}: {check['detail']}")


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line, checked."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--apps", default="asgi,wsgi", help="comma-separated: asgi, wsgi (default both)")
    parser.add_argument("--duration", type=int, default=180, help="seconds of soak per app (default 180)")
    parser.add_argument("--warm-up", type=int, default=20, help="seconds of warm-up load per app (default 20)")
    parser.add_argument("--users", type=int, default=50, help="Locust users: ten readers to one merger (default 50)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples (default 5)")
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results/soak-<timestamp>)")
    arguments = parser.parse_args(argv)
    unknown = [app for app in arguments.apps.split(",") if app not in SERVERS]
    if unknown:
        parser.error(f"unknown --apps {', '.join(unknown)}; choose from asgi, wsgi")
    if not 1 <= arguments.duration <= 3600 or not 1 <= arguments.warm_up <= 600 or arguments.users < 1:
        parser.error("--duration must be 1 to 3600 seconds, --warm-up 1 to 600, --users ≥ 1")
    if arguments.interval <= 0:
        parser.error("--interval must be > 0 seconds")
    return arguments


def main(argv: list[str] | None = None) -> int:
    """Soak each app in turn; exit 1 if a check failed."""
    arguments = parse(argv)
    options = SoakOptions(arguments.duration, arguments.warm_up, arguments.users, arguments.interval)
    folder = arguments.out or new_results_folder("soak-")
    folder.mkdir(parents=True, exist_ok=True)
    apps = arguments.apps.split(",")
    settings = {
        "apps": {app: SERVERS[app].id for app in apps},
        "users": options.users,
        "warm_up_s": options.warm_up,
        "duration_s": options.duration,
        "interval_s": options.interval,
        "merge_seconds": SCENARIOS["mixed"].server_env["MERGE_SECONDS"],
    }
    results = {}
    for app in apps:
        try:
            results[app] = soak_app(app, options, folder)
        except (RuntimeError, OSError, ValueError, httpx.HTTPError) as error:
            print(f"soak: {app}: {str(error).splitlines()[0]} (logs in {folder})", file=sys.stderr)
            return 1
    chart = draw(results, folder)
    document = {"environment": environment(settings), "apps": results}
    (folder / "results.json").write_text(json.dumps(document, indent=2) + "\n")
    print_summary(results)
    print(f"\nresults: {folder / 'results.json'}, chart: {chart}")
    passed = all(check["passed"] for result in results.values() for check in result["checks"])
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
