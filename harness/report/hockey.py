"""The open loop's chart: latency against offered load for each row, the hockey stick, beside the closed loop's.

One panel per row, all on one latency axis (log scale). The open loop's p99 (solid) and p50 (dashed) at each
share of the row's capacity, coloured by what runs the view; the closed loop's p99 as hollow diamonds where its
throughput put it (its users' share of the capacity); the wait itself as a dotted floor. A step the generator
lagged on, or that other processes disturbed, is crossed out, and a step with requests unsent or
failed says how many.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from harness.openload import OpenRow
from harness.report import style
from harness.report.summary import lab_ms
from harness.scenarios import SCENARIOS

CLOSED_MARKER = "D"
SUSPECT_LABEL = "×: not the server's alone: the generator lagged, or other processes were busy"


def closed_points(row: OpenRow) -> list[tuple[float, float, int]]:
    """The closed loop's measurements as (share of the capacity in %, p99 ms, users)."""
    measured = [(row.closed, row.users), *([(row.light, row.light_users)] if row.light and row.light_users else [])]
    return [
        (100 * measurement["rps"] / row.capacity, measurement["p99_ms"], users)
        for measurement, users in measured
        if measurement["p99_ms"] is not None and row.capacity > 0
    ]


def latencies(rows: list[OpenRow]) -> list[float]:
    """Every latency the panels draw: the open loop's p50 and p99, the closed loop's p99."""
    open_loop = [value for row in rows for step in row.steps for value in (step.p50_ms, step.p99_ms) if value]
    return open_loop + [p99 for row in rows for _, p99, _ in closed_points(row)]


def draw_row(axes: Any, row: OpenRow) -> None:
    """One row's panel."""
    path = SCENARIOS[row.scenario].path if row.scenario in SCENARIOS else "/public/test"
    colour = style.RUNNER_COLOURS[style.runner_of(row.server, path)]
    steps = [step for step in row.steps if step.p99_ms is not None]
    loads = [step.load_percent for step in steps]
    axes.plot(loads, [step.p99_ms for step in steps], "-o", color=colour, linewidth=2)
    axes.plot(loads, [step.p50_ms for step in steps], "--o", color=colour, markerfacecolor="white", linewidth=1.2)
    for step in steps:
        if step.suspect:
            axes.scatter([step.load_percent], [step.p99_ms], marker="x", s=90, color="black", zorder=4)
        lost = step.unsent + step.failed
        if lost:
            axes.annotate(
                f"{lost:,} unsent or failed",
                (step.load_percent, step.p99_ms),
                xytext=(-4, 8),
                textcoords="offset points",
                ha="right",
                fontsize=7,
            )
    for share, p99, users in closed_points(row):
        axes.scatter([share], [p99], marker=CLOSED_MARKER, s=60, facecolor="white", edgecolor=colour, zorder=3)
        # the capacity run's label to its right; the lighter run's under it, clear of the capacity run's
        offset, align = ((6, -3), "left") if users == row.users else ((0, -13), "center")
        axes.annotate(
            f"closed, {users} users", (share, p99), xytext=offset, textcoords="offset points", ha=align, fontsize=7
        )
    if floor := lab_ms(row.scenario):
        axes.axhline(floor, linestyle=":", color=style.IDEAL, linewidth=0.8)
    axes.axvline(100, color="#bbbbbb", linewidth=0.8)
    axes.set_yscale("log")
    # plain milliseconds on the log axis (100, 200, 500), not powers of ten
    axes.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.set_xlim(40, 125)
    axes.grid(color="#eeeeee", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.set_title(
        f"{row.server} · {row.scenario}\ncapacity {row.capacity:,.1f}/s (closed loop, {row.users} users)", fontsize=9
    )


def hockey_stick(rows: list[OpenRow], folder: Path) -> Path | None:
    """Latency against offered load, a panel per row, the closed loop's p99 beside; None with no row measured."""
    rows = [row for row in rows if any(step.p99_ms is not None for step in row.steps)]
    if not rows:
        return None
    columns = min(4, len(rows))
    lines = math.ceil(len(rows) / columns)
    # at least as wide as the legend under the panels
    figure, grid = style.new_figure_grid(lines, columns, max(10.0, 3.4 * columns + 0.6), 3.1 * lines + 0.9)
    for index, axes in enumerate(grid.flat):
        if index >= len(rows):
            axes.set_visible(False)
            continue
        draw_row(axes, rows[index])
        if index % columns == 0:
            axes.set_ylabel("latency, ms (log scale)")
        if index >= len(rows) - columns:
            axes.set_xlabel("offered load, % of capacity")
    # one latency axis for every panel, from under the lowest floor (room for the labels there) to over the top
    lowest = min([*(lab_ms(row.scenario) or math.inf for row in rows), *latencies(rows)])
    grid[0][0].set_ylim(0.75 * lowest, 1.6 * max(latencies(rows)))
    runners = [style.runner_of(row.server, SCENARIOS[row.scenario].path) for row in rows if row.scenario in SCENARIOS]
    grey = "#444444"
    handles: list[Any] = [
        Line2D([], [], color=grey, marker="o", linewidth=2, label="open loop p99, from each request's due time"),
        Line2D([], [], color=grey, marker="o", markerfacecolor="white", linestyle="--", label="open loop p50"),
        Line2D(
            [],
            [],
            color=grey,
            marker=CLOSED_MARKER,
            markerfacecolor="white",
            linestyle="",
            label="closed loop p99 (Locust: each user waits for its answer), at the share its users carried",
        ),
        Line2D([], [], color=style.IDEAL, linestyle=":", label="the wait itself"),
    ]
    if any(step.suspect for row in rows for step in row.steps):
        handles.append(Line2D([], [], color="black", marker="x", linestyle="", label=SUSPECT_LABEL))
    handles += style.runner_legend(runners)
    figure.suptitle("Latency against offered load: the open loop's hockey stick, the closed loop's p99 beside it")
    below = style.legend_below(figure, handles)
    return style.save(figure, folder / "open-loop.png", below=below)
