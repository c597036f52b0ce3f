"""One look for every chart: a colour for what runs the view (the concurrency model), readable in light and dark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # draw to files; there is no display here
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from launcher import config
from launcher.catalog import what_runs_the_view

# Okabe and Ito's palette, which stays distinct for the common kinds of colour blindness
BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREEN = "#009E73"
PURPLE = "#CC79A7"
BASELINE = "#999999"  # grey
IDEAL = "#000000"
# the lease marks of the pause timeline: granted and released, lost and refused
ASGI, WSGI = BLUE, VERMILLION
GENERATOR_BOUND_HATCH = "///"
GENERATOR_BOUND_LABEL = "hatched: generator-bound, a lower bound"

# colour for the concurrency model, not the interface: what runs the view decides how many requests wait at once
RUNNER_COLOURS = {"process": VERMILLION, "thread": GREEN, "greenlet": PURPLE, "event loop": BLUE, "baseline": BASELINE}
RUNNER_LABELS = {
    "process": "a process runs the view (a sync worker)",
    "thread": "a thread runs the view (gthread, a thread pool, waitress, a2wsgi)",
    "greenlet": "a greenlet runs the view (gevent)",
    "event loop": "an event loop runs the view (async def)",
    "baseline": "a bare baseline: no app around the answer",
}


def runner_of(server_id: str, path: str = "/public/test") -> str:
    """What runs the view of `path` on a configuration (launcher/catalog.py decides), or "baseline" for a bare one."""
    row = config(server_id)
    return "baseline" if row.baseline else what_runs_the_view(row, path)


def colour_of(server_id: str) -> str:
    """The colour of a configuration serving hello: the colour of what runs the view, grey for a baseline."""
    return RUNNER_COLOURS[runner_of(server_id)]


def runner_legend(runners: list[str], hatched: bool = False) -> list[Patch]:
    """Legend entries for the runners a chart draws, in a fixed order, and the generator-bound hatching if drawn."""
    handles = [
        Patch(facecolor=RUNNER_COLOURS[runner], label=RUNNER_LABELS[runner])
        for runner in RUNNER_COLOURS
        if runner in runners
    ]
    if hatched:
        handles.append(bound_patch())
    return handles


def bound_patch() -> Patch:
    """The legend entry of a generator-bound bar: grey, hatched in white."""
    return Patch(facecolor=BASELINE, edgecolor="white", hatch=GENERATOR_BOUND_HATCH, label=GENERATOR_BOUND_LABEL)


def hatch_as_bound(bar: Any) -> None:
    """Hatch a bar in white over its own colour. Matplotlib 3.11 separated a hatch's colour from the edge's:
    Patch.set_color sets the hatch's too, and a later set_edgecolor no longer changes it, so the hatch was drawn in
    the bar's own colour, where no one could see it; the hatch colour is set on its own."""
    bar.set_hatch(GENERATOR_BOUND_HATCH)
    bar.set_edgecolor("white")
    bar.set_hatchcolor("white")
    bar.set_linewidth(0)


def legend_below(figure: Figure, handles: list[Any], ncols: int = 2, title: str | None = None) -> float:
    """One legend under the whole figure, where no data can hide it, the figure grown to make room; the inches it
    takes, for save(below=...)."""
    figure.legend(
        handles=handles, loc="lower center", ncols=ncols, fontsize="small", title=title, title_fontsize="small"
    )
    lines = -(-len(handles) // ncols) + (1 if title else 0)
    inches = 0.2 * lines + 0.25
    figure.set_figheight(figure.get_figheight() + inches)
    return inches


def x_grid(axes: Any) -> None:
    """Light vertical grid lines, drawn under the data."""
    axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)


def new_figure(width: float, height: float) -> tuple[Figure, Any]:
    """A figure with a white background, so that it reads the same on a light and on a dark page."""
    figure, axes = plt.subplots(figsize=(width, height))
    figure.patch.set_facecolor("white")
    x_grid(axes)
    return figure, axes


def new_figure_rows(
    rows: int, width: float, height: float, height_ratios: list[float] | None = None
) -> tuple[Figure, Any]:
    """A figure of `rows` charts one above the other, sharing their x axis."""
    figure, axes = plt.subplots(
        rows, 1, figsize=(width, height), sharex=True, gridspec_kw={"height_ratios": height_ratios}
    )
    figure.patch.set_facecolor("white")
    return figure, axes


def new_figure_columns(columns: int, width: float, height: float) -> tuple[Figure, Any]:
    """A figure of `columns` charts side by side."""
    figure, axes = plt.subplots(1, columns, figsize=(width, height))
    figure.patch.set_facecolor("white")
    return figure, axes


def new_figure_grid(rows: int, columns: int, width: float, height: float) -> tuple[Figure, Any]:
    """A figure of rows x columns charts sharing their y axis: small multiples meant to be compared."""
    figure, axes = plt.subplots(rows, columns, figsize=(width, height), sharey=True, squeeze=False)
    figure.patch.set_facecolor("white")
    return figure, axes


def save(figure: Figure, path: Path, below: float = 0.0) -> Path:
    """Write the chart as a PNG and let go of it; `below`: inches kept free at the bottom for a figure legend."""
    figure.tight_layout(rect=(0, below / figure.get_figheight(), 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
