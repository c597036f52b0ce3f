"""The report's charts as drawn: each test draws a chart from a small results structure and reads its patches."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from matplotlib.colors import to_rgba
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from harness.openload import OpenRow, OpenStep
from harness.report import charts, hockey, style
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


# the open loop's chart (harness/report/hockey.py): latency against offered load, a panel per row


def open_step(
    load: int, p50: float, p99: float, *, unsent: int = 0, lagged: bool = False, others: float = 0.0
) -> OpenStep:
    """A step with only what the chart reads."""
    return OpenStep(
        load_percent=load,
        offered_rps=load,
        achieved_rps=load,
        scheduled=100,
        sent=100 - unsent,
        unsent=unsent,
        ok=100 - unsent,
        failures={},
        p50_ms=p50,
        p90_ms=p99,
        p99_ms=p99,
        max_ms=p99,
        service_p99_ms=p99,
        lag_p99_ms=0.5,
        lag_max_ms=1.0,
        generator_cpu=0.1,
        server_cpu=0.5,
        generator_lagged=lagged,
        other_cpu=others,
    )


def closed_loop(rps: float, p99: float) -> dict[str, float]:
    """A closed-loop measurement with only what the chart reads."""
    return {"rps": rps, "p99_ms": p99}


def open_rows() -> list[OpenRow]:
    sync = OpenRow(
        "gunicorn-sync-w5",
        "iowait",
        100,
        closed_loop(48.0, 2100.0),
        closed_loop(38.4, 120.0),
        4,
        [
            *(open_step(load, 104, p99) for load, p99 in [(50, 107), (80, 110), (95, 112)]),
            open_step(110, 330, 560, unsent=7),
        ],
    )
    loop = OpenRow(
        "uvicorn",
        "iowait",
        100,
        closed_loop(980.0, 130.0),
        None,
        None,
        [
            open_step(50, 101, 105),
            open_step(80, 101, 106),
            open_step(95, 101, 120, others=0.6),  # other processes took 0.6 of a core meanwhile
            open_step(110, 101, 130, lagged=True),
        ],
    )
    return [sync, loop]


def test_each_row_has_its_panel_on_one_latency_axis(drawn: list[Figure], tmp_path: Path) -> None:
    assert hockey.hockey_stick(open_rows(), tmp_path) == tmp_path / "open-loop.png"
    panels = [axes for axes in drawn[0].axes if axes.get_visible()]
    assert [axes.get_title().split("\n")[0] for axes in panels] == ["gunicorn-sync-w5 · iowait", "uvicorn · iowait"]
    assert panels[0].get_shared_y_axes().joined(panels[0], panels[1])
    assert panels[0].get_yscale() == "log"


def test_the_open_loop_lines_are_the_steps_coloured_by_what_runs_the_view(drawn: list[Figure], tmp_path: Path) -> None:
    hockey.hockey_stick(open_rows(), tmp_path)
    for axes, runner, p99s in [
        (drawn[0].axes[0], "process", [107, 110, 112, 560]),
        (drawn[0].axes[1], "event loop", [105, 106, 120, 130]),
    ]:
        p99_line, p50_line = axes.get_lines()[:2]
        assert list(p99_line.get_xdata()) == [50, 80, 95, 110]
        assert list(p99_line.get_ydata()) == p99s
        assert p50_line.get_linestyle() == "--"
        assert to_rgba(p99_line.get_color()) == to_rgba(style.RUNNER_COLOURS[runner])


def test_the_closed_loop_stands_where_its_users_put_it(drawn: list[Figure], tmp_path: Path) -> None:
    hockey.hockey_stick(open_rows(), tmp_path)
    sync_panel = drawn[0].axes[0]
    diamonds = [collection for collection in sync_panel.collections if collection.get_paths()]
    points = sorted(tuple(point) for collection in diamonds for point in collection.get_offsets())
    # the capacity run at 100 %, the four users' run at 38.4 / 48 = 80 %
    assert points == [(pytest.approx(80.0), 120.0), (100.0, 2100.0)]
    labels = {text.get_text() for text in sync_panel.texts}
    assert {"closed, 100 users", "closed, 4 users", "7 unsent or failed"} <= labels


def test_a_step_not_the_servers_alone_is_crossed_out_and_the_legend_says_why(
    drawn: list[Figure], tmp_path: Path
) -> None:
    hockey.hockey_stick(open_rows(), tmp_path)
    loop_panel = drawn[0].axes[1]
    marks = [tuple(point) for collection in loop_panel.collections for point in collection.get_offsets()]
    # the lagged step and the disturbed one, beside the closed loop's diamond; no other step
    assert sorted(marks) == [(95.0, 120.0), (100.0, 130.0), (110.0, 130.0)]
    legend = [text.get_text() for text in drawn[0].legends[0].get_texts()]
    assert hockey.SUSPECT_LABEL in legend
    assert style.RUNNER_LABELS["process"] in legend
    assert style.RUNNER_LABELS["event loop"] in legend


def test_no_row_with_an_answer_draws_nothing(drawn: list[Figure], tmp_path: Path) -> None:
    unanswered = OpenRow("uvicorn", "iowait", 100, closed_loop(0.0, 0.0), None, None, [])
    assert hockey.hockey_stick([unanswered], tmp_path) is None
    assert drawn == []
