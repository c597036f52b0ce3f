"""The report's charts as drawn: each test draws a chart from a small results structure and reads its patches."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from matplotlib.colors import to_rgba
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from harness.report import charts, style
from harness.report.summary import Summary
from harness.scenarios import Run
from harness.streams import StreamsRun
from harness.timeline import Request, Timeline


def measured(run: Run, rps: float, bound: list[bool]) -> Summary:
    """A run with one repeat per entry of `bound`, each at `rps` and generator-bound as it says."""
    repeats = [
        {"rps": rps, "generator_bound": one, "p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 3.0, "failures": 0}
        for one in bound
    ]
    return Summary(run, repeats)


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The figures the charts hand to style.save, kept open to be read."""
    figures: list[Figure] = []

    def keep(figure: Figure, path: Path, below: float = 0.0) -> Path:
        figures.append(figure)
        return path

    monkeypatch.setattr(style, "save", keep)
    return figures


def hello_runs() -> list[Summary]:
    # two bound runs (one of them in a single repeat of three), two free ones, and one with the access log on
    return [
        measured(Run("uvicorn", "hello", 50), 5000, [True, True, True]),
        measured(Run("gunicorn-sync-w1", "hello", 50), 1500, [False, True, False]),
        measured(Run("gunicorn-gthread", "hello", 50), 1300, [False, False, False]),
        measured(Run("raw-wsgi", "hello", 50), 1800, [False, False, False]),
        measured(Run("uvicorn", "hello", 50, access_log=True), 4000, [True, True, True]),
    ]


def bars_by_width(figure: Figure) -> dict[float, Any]:
    (axes,) = [axes for axes in figure.axes if axes.containers]
    (container,) = [container for container in axes.containers if isinstance(container, BarContainer)]
    return {bar.get_width(): bar for bar in container.patches}


def test_every_generator_bound_bar_is_drawn_hatched_and_no_other(drawn: list[Figure], tmp_path: Path) -> None:
    charts.throughput(hello_runs(), "hello", tmp_path)
    bars = bars_by_width(drawn[0])
    # the access-log run is the access-log chart's, and only it is left out
    assert sorted(bars) == [1300, 1500, 1800, 5000]
    for width, bar in bars.items():
        bound = width in (5000, 1500)
        assert bool(bar.get_hatch()) is bound, width
        if bound:
            # a hatch drawn in the bar's own colour is not there to see
            assert to_rgba(bar.get_hatchcolor()) != to_rgba(bar.get_facecolor()), width


def test_bars_are_coloured_by_what_runs_the_view(drawn: list[Figure], tmp_path: Path) -> None:
    charts.throughput(hello_runs(), "hello", tmp_path)
    bars = bars_by_width(drawn[0])
    colours = {width: bar.get_facecolor() for width, bar in bars.items()}
    assert colours == {
        5000: to_rgba(style.RUNNER_COLOURS["event loop"]),
        1500: to_rgba(style.RUNNER_COLOURS["process"]),
        1300: to_rgba(style.RUNNER_COLOURS["thread"]),
        1800: to_rgba(style.RUNNER_COLOURS["baseline"]),
    }
    legend = [text.get_text() for text in drawn[0].legends[0].get_texts()]
    assert style.RUNNER_LABELS["event loop"] in legend
    assert style.GENERATOR_BOUND_LABEL in legend


def streams_run(server: str, requested: int, held: int, p99: float | None) -> StreamsRun:
    """A streams run with only what the chart reads."""
    figures: dict[str, Any] = {field.name: None for field in fields(StreamsRun)}
    return StreamsRun(**figures | {"server": server, "requested": requested, "held": held, "hello_p99_ms": p99})


def test_a_hello_with_no_answer_is_drawn_as_a_refusal_not_a_latency(drawn: list[Figure], tmp_path: Path) -> None:
    runs = [
        streams_run("uvicorn", 100, 100, 1.5),
        streams_run("uvicorn", 1000, 999, None),
        streams_run("gunicorn-sync-w1", 1, 1, None),
    ]
    charts.streams_chart(runs, tmp_path)
    held_axes, hello_axes = drawn[0].axes
    latencies = [
        y for line in hello_axes.get_lines() for y in line.get_ydata() if line.get_marker() not in ("", "None")
    ]
    assert latencies == [1.5]  # no 2,000 ms stands in for "none answered"
    refusals = [collection for collection in hello_axes.collections if len(collection.get_offsets())]
    assert sum(len(collection.get_offsets()) for collection in refusals) == 2
    assert all(collection.get_offsets()[0][1] > hello_axes.get_ylim()[1] / 2 for collection in refusals)
    # where a server stops taking streams, the chart says so
    labels = [text.get_text() for text in held_axes.texts]
    assert "uvicorn: holds 999 of 1,000" in labels


def test_timelines_of_one_run_share_one_time_axis(drawn: list[Figure], tmp_path: Path) -> None:
    one = Timeline("a", "short", "uvicorn", "/lab/io", False, [Request(0, 0, 0, 0.2, 0.21, 1, "MainThread", 1)])
    two = Timeline("b", "long", "gunicorn-sync-w1", "/lab/io", False, [Request(0, 0, 0, 1.0, 1.01, 2, "MainThread", 2)])
    charts.timeline_chart(one, tmp_path, seconds=1.1)
    charts.timeline_chart(two, tmp_path, seconds=1.1)
    assert drawn[0].axes[0].get_xlim() == drawn[1].axes[0].get_xlim()
    colours = [figure.axes[0].patches[-1].get_facecolor() for figure in drawn]
    assert colours == [to_rgba(style.RUNNER_COLOURS["event loop"]), to_rgba(style.RUNNER_COLOURS["process"])]
