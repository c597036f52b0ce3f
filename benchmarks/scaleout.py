"""`python -m benchmarks.scaleout`: instances of both apps behind nginx share one Redis; the merge crowd goes through.

    python -m benchmarks.scaleout                        # 4 instances, 50 users for 60 s (make scaleout)
    python -m benchmarks.scaleout --duration 20 --users 20
    python -m benchmarks.scaleout --instances uvicorn,uvicorn,gunicorn-sync-w1,gunicorn-sync-w1
    python -m benchmarks.scaleout --processes 2          # Locust distributed: a master and 2 workers
    python -m benchmarks.scaleout --lock sqlite          # no shared lock: one SQLite file per instance

harness/scaleout.py says what is counted and how the run is judged. Everything lands in
benchmarks/results/scaleout-<timestamp>/.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from harness.measure import new_results_folder
from harness.report.checks import Check
from harness.report.environment import environment, tool_version
from harness.scaleout import DEFAULT_INSTANCES, ScaleOutOptions, run
from launcher import CONFIGS, ToolNotFoundError, find_tool


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line, checked."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaleout", description=(__doc__ or "").splitlines()[0])
    default_instances = ",".join(DEFAULT_INSTANCES)
    parser.add_argument("--instances", default=default_instances, help=f"server ids (default {default_instances})")
    parser.add_argument("--users", type=int, default=50, help="Locust users pressing merge (default 50)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--merge-seconds", type=float, default=2.0, help="how long each merge holds (default 2)")
    parser.add_argument("--processes", type=int, metavar="N", help="Locust distributed: a master and N workers")
    parser.add_argument(
        "--lock",
        choices=["redis", "sqlite"],
        default="redis",
        help="redis: every instance on the one Redis (default); sqlite: a file per instance, as if each ran on a "
        "machine of its own (the checks then fail)",
    )
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results/scaleout-<timestamp>)")
    arguments = parser.parse_args(argv)
    unknown = [id for id in arguments.instances.split(",") if id not in CONFIGS or CONFIGS[id].baseline]
    if unknown:
        choices = ", ".join(id for id, row in CONFIGS.items() if not row.baseline)
        parser.error(f"unknown --instances {', '.join(unknown)}; choose from {choices}")
    if arguments.users < 1 or not 1 <= arguments.duration <= 3600 or arguments.merge_seconds <= 0:
        parser.error("--users must be ≥ 1, --duration between 1 and 3600 seconds, --merge-seconds > 0")
    if arguments.processes is not None and arguments.processes < 1:
        parser.error("--processes must be ≥ 1")
    return arguments


def print_summary(result: dict[str, Any]) -> None:
    """The terminal table: one line per instance, the counts of the three witnesses, then the checks."""
    figures = result["figures"]
    print(f"\n{'instance':<24} {'app':<5} {'address':<17} {'requests':>9} {'202':>5} {'409':>7} {'other':>6}")
    for instance in result["instances"]:
        statuses = Counter({int(status): count for status, count in instance["statuses"].items()})
        other = instance["requests"] - statuses[202] - statuses[409] - statuses[200]
        counts = f"{instance['requests']:>9,} {statuses[202]:>5} {statuses[409]:>7,} {other:>6}"
        print(f"{instance['id']:<24} {instance['app']:<5} {instance['address']:<17} {counts}")
    ledger, nginx, locust = figures["merges_ledger"], figures["accepted_nginx"], figures["accepted_locust"]
    ledgers = "the ledger" if figures["ledgers"] == 1 else f"the {figures['ledgers']} ledgers"
    print(f"\nmerges: {ledger} in {ledgers}, {nginx} 202s in nginx's log, {locust} seen by Locust")
    print(f"overlapping merges: {len(figures['overlaps_ledger'])} in {ledgers}, {figures['overlaps_locust']} (Locust)")
    load = f"{figures['requests']:,} requests, {figures['rps']:,.1f} requests/s"
    print(
        f"through nginx: {load}, p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, {figures['failures']} failures"
    )
    print("\nchecks:")
    for check in result["checks"]:
        print(f"  [{Check(**check).verdict}] {check['name']}: {check['detail']}")


def main(argv: list[str] | None = None) -> int:
    """Run the scale-out scenario once; exit 1 if a check failed, 2 if a tool is missing."""
    arguments = parse(argv)
    try:
        nginx = find_tool("nginx", "apt-get install nginx")
        redis_server = find_tool("redis-server", "apt-get install redis-server")
    except ToolNotFoundError as error:
        print(f"scaleout: {error}", file=sys.stderr)
        return 2
    options = ScaleOutOptions(
        tuple(arguments.instances.split(",")),
        arguments.users,
        arguments.duration,
        arguments.merge_seconds,
        arguments.processes,
        arguments.lock,
    )
    folder = arguments.out or new_results_folder("scaleout-")
    folder.mkdir(parents=True, exist_ok=True)
    settings = {
        "instances": arguments.instances,
        "users": options.users,
        "duration_s": options.duration,
        "merge_seconds": options.merge_seconds,
        "locust_processes": options.processes or 1,
        "lock": options.lock,
        "nginx": tool_version([nginx, "-v"]),
        "redis": tool_version([redis_server, "--version"]),
    }
    try:
        result = {"environment": environment(settings), **run(options, folder)}
    except (RuntimeError, OSError, TimeoutError) as error:
        print(f"scaleout: {str(error).splitlines()[0]} (logs in {folder})", file=sys.stderr)
        return 1
    (folder / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    print_summary(result)
    print(f"\nresults: {folder / 'results.json'}")
    return 0 if all(check["passed"] for check in result["checks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
