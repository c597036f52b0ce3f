"""`python -m benchmarks --generator open`: latency against offered load, the open loop beside the closed.

    python -m benchmarks --generator open --suite open --duration 8     # the reference run (about 9 minutes)
    python -m benchmarks --generator open --servers uvicorn --scenarios iowait --suite demo --loads 50,110

For each run of the chosen suite, harness/openload.py measures the closed loop (the row's capacity), the
closed loop again with fewer users, and then harness/openloop.py at 50, 80, 95 and 110 % of the capacity,
printing a line per step. Writes open.json, report.md and open-loop.png into the results folder, logs in raw/;
`python -m benchmarks --report FOLDER` redraws them from open.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tqdm import tqdm

from harness.openload import LAG_LIMIT_MS, LIGHT_LOAD, LOADS, OTHERS_LIMIT, OpenRow, OpenStep, measure_open
from harness.report.environment import environment
from harness.report.hockey import hockey_stick
from harness.report.tables import environment_lines, milliseconds
from harness.scenarios import Run

RESULTS = "open.json"
# the two shares the closing note compares with the closed loop: below the capacity, and past it
COMPARED = (LIGHT_LOAD, 110)


def p99_cell(p99_ms: float | None, rps: float, note: str = "") -> str:
    """A p99 and the rate it was measured at, for the comparison table."""
    return f"{milliseconds(p99_ms)} ms at {rps:,.1f}/s{note}"


def step_cell(step: OpenStep | None) -> str:
    """An open-loop step's p99 and answered rate."""
    if step is None:
        return "–"
    return p99_cell(step.p99_ms, step.achieved_rps, f" ({step.suspect})" if step.suspect else "")


def closed_cell(figures: dict[str, Any] | None, users: int | None) -> str:
    """A closed-loop measurement's p99 and rate, and its users."""
    return "–" if figures is None else p99_cell(figures["p99_ms"], figures["rps"], f" ({users} users)")


def markdown_table(columns: list[str], rows: list[list[str]]) -> str:
    """A Markdown table: the first column left-aligned, the figures right-aligned."""
    lines = ["| " + " | ".join(columns) + " |", "| --- |" + " ---: |" * (len(columns) - 1)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows])


def comparison_table(rows: list[OpenRow]) -> str:
    """Per row: p99 open-loop at 80 and 110 % of the capacity, against the closed loop's p99 at that throughput."""
    cells = []
    for row in rows:
        light, past = (row.step(load) for load in COMPARED)
        cells.append(
            [
                f"{row.server} · {row.scenario}",
                f"{row.capacity:,.1f}/s",
                closed_cell(row.light, row.light_users),
                step_cell(light),
                closed_cell(row.closed, row.users),
                step_cell(past),
                f"{past.unsent:,}, {past.failed:,}" if past else "–",
            ]
        )
    columns = ["row", "capacity", "closed p99 near 80 %", "open p99 at 80 %", "closed p99 at capacity"]
    return markdown_table([*columns, "open p99 at 110 %", "unsent, failed at 110 %"], cells)


def steps_table(rows: list[OpenRow]) -> str:
    """Every open-loop step of every row."""
    cells = [
        [
            f"{row.server} · {row.scenario}",
            f"{step.load_percent} %",
            f"{step.offered_rps:,.1f}",
            f"{step.achieved_rps:,.1f}",
            *(milliseconds(value) for value in (step.p50_ms, step.p90_ms, step.p99_ms, step.max_ms)),
            milliseconds(step.service_p99_ms),
            f"{step.unsent:,}",
            ", ".join(f"{count} {kind}" for kind, count in sorted(step.failures.items())) or "0",
            milliseconds(step.lag_p99_ms) + (" (lagged)" if step.generator_lagged else ""),
            f"{step.generator_cpu:.2f}",
            f"{step.server_cpu:.2f}",
            f"{step.other_cpu:.2f}" + (" (busy)" if step.disturbed else ""),
        ]
        for row in rows
        for step in row.steps
    ]
    columns = ["row", "load", "offered/s", "answered/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "p99 from sending"]
    columns += ["unsent", "failed", "send lag p99 ms", "gen. CPU", "server CPU", "others' CPU"]
    return markdown_table(columns, cells)


def report(rows: list[OpenRow], env: dict[str, Any], skipped: list[str], chart: Path | None) -> str:
    """report.md: what was measured, the comparison, every step, the chart."""
    skipped_lines = "".join(f"- {reason}\n" for reason in skipped)
    loads = ", ".join(str(load) for load in env["settings"].get("loads", LOADS))
    return (
        "# Open-loop report\n\n" + "\n".join(environment_lines(env)) + "\n\n"
        "Each row's *capacity* is what the closed loop served (Locust, its users each sending the next request "
        "once the last is answered); the closed loop ran again with as few users as carry about "
        f"{LIGHT_LOAD} % of it. Then one fresh server took requests at a constant rate, whatever the answers, "
        f"at {loads} % of the capacity, each latency counted from the request's due time "
        "(`harness/openloop.py`). *Answered/s*: 2xx answers per second from the first due time to the last "
        "answer. *Unsent*: due while every one of the generator's connections was busy. *Lagged*: the generator "
        f"sent late (p99 send lag over {LAG_LIMIT_MS:g} ms) or used its whole core, so its delay is in the "
        f"figures. *Machine busy*: other processes used more than {OTHERS_LIMIT:g} of a core meanwhile (the "
        "machine is shared), so a stall may not be the server's.\n\n"
        # docs/load-testing.md includes the table between these markers
        "<!-- --8<-- [start:comparison] -->\n"
        f"{comparison_table(rows)}\n"
        "<!-- --8<-- [end:comparison] -->\n\n"
        + (f"![latency against offered load]({chart.name})\n\n" if chart else "")
        + "## Every step\n\n"
        + f"{steps_table(rows)}\n\n"
        + (f"Skipped:\n\n{skipped_lines}\n" if skipped else "")
    )


def save(folder: Path, rows: list[OpenRow], env: dict[str, Any], skipped: list[str]) -> None:
    """What a run leaves in its folder: open.json, the chart and report.md."""
    document = {"environment": env, "skipped": skipped, "rows": [row.as_dict() for row in rows]}
    (folder / RESULTS).write_text(json.dumps(document, indent=2) + "\n")
    draw(folder, rows, env, skipped)


def draw(folder: Path, rows: list[OpenRow], env: dict[str, Any], skipped: list[str]) -> None:
    """The chart and report.md, from the rows."""
    chart = hockey_stick(rows, folder)
    (folder / "report.md").write_text(report(rows, env, skipped, chart))


def redraw(folder: Path) -> int:
    """Write the report and chart again from an open.json."""
    document = json.loads((folder / RESULTS).read_text())
    rows = [OpenRow.from_dict(row) for row in document["rows"]]
    draw(folder, rows, document["environment"], document["skipped"])
    print(comparison_table(rows))
    return 0


def run_open(runs: list[Run], skipped: list[str], settings: dict[str, Any], folder: Path) -> int:
    """Measure each run closed and open, a line per step; write the results. 1 if a run failed outright."""
    loads: tuple[int, ...] = settings["loads"]
    env = environment(settings)
    rows: list[OpenRow] = []
    errors = 0
    print(f"{len(runs)} runs × (2 closed + {len(loads)} open steps) × {settings['duration_s']} s → {folder}")
    with tqdm(total=len(runs), unit="run", dynamic_ncols=True) as progress:
        for run in runs:
            progress.set_description(run.key)
            try:
                rows.append(measure_open(run, settings["duration_s"], folder, loads, report=tqdm.write))
            except (RuntimeError, OSError, ValueError) as error:
                errors += 1
                tqdm.write(f"{run.key}: failed: {str(error).splitlines()[0]} (logs in {folder / 'raw'})")
            progress.update()
    save(folder, rows, env, skipped)
    print("\n" + comparison_table(rows))
    print(f"\nreport: {folder / 'report.md'}")
    return 1 if errors else 0
