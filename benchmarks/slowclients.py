"""How many slow clients does it take to stall each server? A normal GET beside N clients trickling their headers.

`python -m benchmarks.slowclients` starts each server configuration in turn, directly and behind nginx (with
deploy/nginx.conf), opens N connections that send the start of a request and then one more header byte every
half second without ever finishing it (slowloris), and meanwhile sends a few ordinary `GET /public/test`: how
many are answered within the probe timeout, and how fast. It writes slowclients.json and slowclients.md to
benchmarks/results/slowclients-<timestamp>/ and prints the table. These are figures, not a pass/fail test;
tests/limits/test_slow_clients.py shows the same lesson as behaviour.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from harness.measure import new_results_folder
from harness.report.environment import environment, tool_version
from harness.slowclients import DEFAULT_COUNTS, Cell, SlowClientOptions, markdown_table, measure_target
from launcher import ToolNotFoundError, config, find_tool, run_nginx, run_server
from launcher.catalog import (
    GUNICORN_GTHREAD_W2_T4,
    GUNICORN_SYNC_1,
    GUNICORN_SYNC_N,
    UVICORN,
    UVICORN_LIMIT_CONCURRENCY_20,
)

SERVERS = [UVICORN, UVICORN_LIMIT_CONCURRENCY_20, GUNICORN_SYNC_1, GUNICORN_SYNC_N, GUNICORN_GTHREAD_W2_T4]


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line, checked."""
    ids = ",".join(row.id for row in SERVERS)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.slowclients", description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default=ids, help=f"configuration ids (default {ids})")
    parser.add_argument("--counts", default=",".join(map(str, DEFAULT_COUNTS)), help="numbers of slow clients")
    parser.add_argument("--probes", type=int, default=5, help="ordinary requests sent at once per count (default 5)")
    parser.add_argument("--probe-timeout", type=float, default=2.0, help="seconds a probe may take (default 2)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between two bytes of a slow client")
    parser.add_argument("--settle", type=float, default=0.5, help="seconds between opening slow clients and probing")
    parser.add_argument("--no-nginx", action="store_true", help="only the servers directly, not behind nginx")
    parser.add_argument("--out", type=Path, default=None, help="folder for the results (default a new one)")
    arguments = parser.parse_args(argv)
    for server_id in arguments.servers.split(","):
        try:
            config(server_id)
        except KeyError as error:
            parser.error(str(error.args[0]))
    return arguments


def main(argv: list[str] | None = None) -> int:
    """Measure every configuration, directly and behind nginx; write and print the table."""
    arguments = parse(argv)
    counts = tuple(int(count) for count in arguments.counts.split(","))
    options = SlowClientOptions(counts, arguments.probes, arguments.probe_timeout, arguments.interval, arguments.settle)
    nginx = None
    if not arguments.no_nginx:
        try:
            nginx = find_tool("nginx", "apt-get install nginx")
        except ToolNotFoundError as error:
            print(f"{error}: measuring the servers directly only", flush=True)
    folder = arguments.out or new_results_folder("slowclients-")
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    cells: list[Cell] = []
    for server_id in arguments.servers.split(","):
        print(f"{server_id}:", flush=True)
        with run_server(config(server_id), folder=folder) as server:
            cells += measure_target(server_id, "direct", server.url, options)
            if nginx:
                with run_nginx([server.url], nginx=nginx) as proxy:
                    cells += measure_target(server_id, "nginx", proxy.url, options)
    env = environment({key: value for key, value in vars(arguments).items() if key != "out"})
    env["nginx"] = tool_version([nginx, "-v"]) if nginx else None
    seconds = round(time.monotonic() - started, 1)
    result = {"environment": env, "seconds": seconds, "cells": [asdict(cell) for cell in cells]}
    (folder / "slowclients.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown_table(cells, options)
    versions = ", ".join(f"{name} {env['packages'][name]}" for name in ("uvicorn", "httptools", "gunicorn"))
    machine = f"{env['cpu_model']}, {env['cores']} cores, Python {env['python']}, {versions}, {env['nginx']}"
    (folder / "slowclients.md").write_text(f"# Slow clients\n\n{table}\n{machine}; {seconds} s.\n")
    print(f"\n{table}\n{machine}\n\n{seconds} s; written to {folder}/slowclients.md and slowclients.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
