"""One look for every chart: the same colours for ASGI, WSGI and the baselines, readable in light and dark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # draw to files; there is no display here
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from launcher import config

# Okabe and Ito's palette, which stays distinct for the common kinds of colour blindness
ASGI = "#0072B2"  # blue
WSGI = "#D55E00"  # vermillion
BASELINE = "#999999"  # grey
IDEAL = "#000000"
EXTRA = ["#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442"]  # more lines on one chart
GENERATOR_BOUND_HATCH = "//"


def colour_of(server_id: str) -> str:
    """The colour of a configuration: grey for a baseline, else blue for ASGI and vermillion for WSGI."""
    row = config(server_id)
    if row.baseline:
        return BASELINE
    return ASGI if row.interface == "asgi" else WSGI


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


def save(figure: Figure, path: Path) -> Path:
    """Write the chart as a PNG and let go of it."""
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
