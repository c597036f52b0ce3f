"""`python -m benchmarks.streams`: how many open event streams each server holds while it keeps answering.

    python -m benchmarks.streams                                  # every configuration, N = 1 to 10,000
    python -m benchmarks.streams --servers uvicorn,gunicorn-sync-w1 --counts 1,10 --hold 4   # make demo's
    python -m benchmarks.streams --out benchmarks/results/reference-streams

For each server and N, a fresh server, N streams of /merge/events held open by harness/streamholders.py, a
hello client and a merger (harness/streams.py says what is measured). Writes streams.json, report.md and
streams.png, and checks the goals: one Uvicorn worker with its connection limit raised holds 10,000 streams
with hello p99 under 100 ms, no failures, and each merge's event at every stream within 1 s (p99).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from harness.measure import new_results_folder
from harness.report.charts import streams_chart
from harness.report.environment import environment
from harness.scenarios import OUR_SERVERS
from harness.streams import COUNTS, StreamsRun, run_server_counts
from launcher import CONFIGS
from launcher.catalog import UVICORN_CORES, UVICORN_MANY_CONNECTIONS, WAITRESS

# every configuration of ours, the event loop with its connection limit raised first; not Uvicorn with a worker
# per core (each worker would hold its share: the one-worker rows say more) nor Waitress (its 4 threads are
# gthread's lesson again)
SERVERS = [UVICORN_MANY_CONNECTIONS.id, *(row for row in OUR_SERVERS if row not in {UVICORN_CORES.id, WAITRESS.id})]


SHOWN = {"fastapi", "starlette", "uvicorn", "uvloop", "flask", "werkzeug", "gunicorn", "gevent", "granian", "hypercorn"}


def goals(runs: list[StreamsRun]) -> list[tuple[bool | None, str]]:
    """The issue's goals for one Uvicorn worker at 10,000 streams: passed, failed, or not measured (None)."""
    at_goal = [run for run in runs if run.server == UVICORN_MANY_CONNECTIONS.id and run.requested == 10_000]
    if not at_goal:
        return [(None, "one Uvicorn worker at 10,000 streams: not measured in this run")]
    run = at_goal[0]
    p99 = run.hello_p99_ms
    delivery = run.delivery_p99_ms
    return [
        (run.held == 10_000, f"{run.server} holds 10,000 streams: held {run.held:,}"),
        (p99 is not None and p99 < 100, f"hello p99 under 100 ms with them open: {_ms(p99)}"),
        (run.hello_failed == 0, f"no failed hello: {run.hello_failed} failed of {run.hello_ok + run.hello_failed}"),
        (
            delivery is not None and delivery < 1000 and run.deliveries == run.expected_deliveries,
            f"each merge's event at every stream within 1 s (p99): {_ms(delivery)}, "
            f"{run.deliveries:,} of {run.expected_deliveries:,} delivered",
        ),
    ]


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f} ms"


def table(runs: list[StreamsRun]) -> str:
    """The runs as a Markdown table."""
    lines = [
        "| server | streams asked | held | hello p50 | hello p99 | hello failed | delivery p50 | delivery p99 "
        "| delivered | KiB per stream | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        memory = "–" if run.memory_per_stream_kib is None else f"{run.memory_per_stream_kib:,.1f}"
        notes = []
        if run.held < run.requested:
            notes.append("ceiling")
        if run.generator_bound:
            notes.append("generator-bound")
        lines.append(
            f"| {run.server} | {run.requested:,} | {run.held:,} | {_ms(run.hello_p50_ms)} | {_ms(run.hello_p99_ms)} "
            f"| {run.hello_failed} of {run.hello_ok + run.hello_failed} | {_ms(run.delivery_p50_ms)} "
            f"| {_ms(run.delivery_p99_ms)} | {run.deliveries:,} of {run.expected_deliveries:,} | {memory} "
            f"| {', '.join(notes)} |"
        )
    return "\n".join(lines)


def report(runs: list[StreamsRun], env: dict[str, object], skipped: list[str], chart: Path | None) -> str:
    """report.md: the machine, the table, the goals, the chart."""
    checked = "\n".join(
        f"- [{'pass' if ok else 'not measured' if ok is None else 'FAIL'}] {text}" for ok, text in goals(runs)
    )
    skipped_lines = "".join(f"- {reason}\n" for reason in skipped)
    packages: dict[str, str] = env["packages"]  # type: ignore[assignment]
    versions = ", ".join(f"{name} {version}" for name, version in sorted(packages.items()) if name in SHOWN)
    return (
        "# Streams report\n\n"
        # docs/streams.md includes the part between these markers; the chart is on the page itself
        "<!-- --8<-- [start:body] -->\n"
        f"Machine: {env['cpu_model']}, {env['cores']} cores, {env['memory_gib']} GiB; Python {env['python']} "
        f"(GIL {'enabled' if env['gil_enabled'] else 'disabled'}); {env['platform']}.\n"
        f"Versions: {versions}.\n"
        f"Settings: {json.dumps(env['settings'])}.\n\n"
        "Each row is one fresh server with N streams of `/merge/events` held by one asyncio client on its own "
        "core, while a hello client sends `GET /public/test` one after another (2 s timeout) and a merger starts "
        "a merge every second. *Held*: streams whose status event arrived. *Delivery*: from the POST that started "
        "a merge to its `merge-started` event at each held stream. *Ceiling*: the server held fewer streams than "
        "asked, and larger N were not tried. *Generator-bound*: the stream holders used their whole core.\n\n"
        f"{table(runs)}\n\n**Goals**\n\n{checked}\n\n"
        + (f"Skipped:\n\n{skipped_lines}\n" if skipped else "")
        + "<!-- --8<-- [end:body] -->\n\n"
        + (f"![streams]({chart.name})\n" if chart else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.streams", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated configuration ids")
    parser.add_argument("--counts", default=",".join(map(str, COUNTS)), help="numbers of streams (1,10,...)")
    parser.add_argument("--hold", type=float, default=6.0, help="seconds the streams stay open under load (6)")
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results/streams-<timestamp>)")
    parser.add_argument("--report", type=Path, metavar="FOLDER", help="redraw report and chart from streams.json")
    arguments = parser.parse_args(argv)
    if arguments.report:
        return redraw(arguments.report)
    servers = arguments.servers.split(",")
    if unknown := [server for server in servers if server not in CONFIGS]:
        parser.error(f"unknown --servers {', '.join(unknown)}; choose from {', '.join(CONFIGS)}")
    counts = sorted(int(count) for count in arguments.counts.split(","))
    if not counts or counts[0] < 1 or counts[-1] > 10_000 or not 1 <= arguments.hold <= 120:
        parser.error("--counts must be between 1 and 10000, --hold between 1 and 120 seconds")
    folder = arguments.out or new_results_folder("streams-")
    folder.mkdir(parents=True, exist_ok=True)
    skipped = [reason for server in servers if (reason := CONFIGS[server].missing())]
    servers = [server for server in servers if not CONFIGS[server].missing()]
    env = environment({"counts": counts, "hold_seconds": arguments.hold, "merge_every_s": 1.0})
    runs: list[StreamsRun] = []
    with tqdm(total=len(servers), unit="server", dynamic_ncols=True) as progress:
        for server in servers:
            progress.set_description(server)
            runs += run_server_counts(CONFIGS[server], counts, arguments.hold, 1.0, folder)
            last = runs[-1]
            tqdm.write(f"{server}: held {last.held:,} of {last.requested:,}; hello p99 {_ms(last.hello_p99_ms)}")
            progress.update()
    save(folder, runs, env, skipped)
    return show(folder, runs)


def save(folder: Path, runs: list[StreamsRun], env: dict[str, object], skipped: list[str]) -> None:
    """What a run leaves in its folder: streams.json, the chart and report.md (make demo's streams too)."""
    (folder / "streams.json").write_text(
        json.dumps({"environment": env, "skipped": skipped, "runs": [run.as_dict() for run in runs]}, indent=2) + "\n"
    )
    draw(folder, runs, env, skipped)


def draw(folder: Path, runs: list[StreamsRun], env: dict[str, object], skipped: list[str]) -> None:
    """The chart and report.md, from the runs."""
    chart = streams_chart(runs, folder)
    (folder / "report.md").write_text(report(runs, env, skipped, chart))


def show(folder: Path, runs: list[StreamsRun]) -> int:
    """The table and goals on the terminal."""
    print("\n" + table(runs))
    for ok, text in goals(runs):
        print(f"  [{'pass' if ok else 'not measured' if ok is None else 'FAIL'}] {text}")
    print(f"\nreport: {folder / 'report.md'}")
    return 0


def redraw(folder: Path) -> int:
    """Write the report and chart again from a streams.json."""
    document = json.loads((folder / "streams.json").read_text())
    runs = [StreamsRun(**run) for run in document["runs"]]
    draw(folder, runs, document["environment"], document["skipped"])
    return show(folder, runs)


if __name__ == "__main__":
    sys.exit(main())
