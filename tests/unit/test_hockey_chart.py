"""The open loop's chart as drawn (harness/report/hockey.py): each test draws rows of open-loop steps and reads the
figure's lines, markers and texts."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from harness.openload import OpenRow, OpenStep
from harness.report import hockey, style


def step(load: int, p50: float, p99: float, *, unsent: int = 0, lagged: bool = False) -> OpenStep:
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
    )


def closed(rps: float, p99: float) -> dict[str, float]:
    """A closed-loop measurement with only what the chart reads."""
    return {"rps": rps, "p99_ms": p99}


def rows() -> list[OpenRow]:
    sync = OpenRow(
        "gunicorn-sync-w5",
        "iowait",
        100,
        closed(48.0, 2100.0),
        closed(38.4, 120.0),
        4,
        [step(50, 104, 107), step(80, 104, 110), step(95, 104, 112), step(110, 330, 560, unsent=7)],
    )
    loop = OpenRow(
        "uvicorn",
        "iowait",
        100,
        closed(980.0, 130.0),
        None,
        None,
        [step(50, 101, 105), step(80, 101, 106), step(95, 101, 120), step(110, 101, 130, lagged=True)],
    )
    return [sync, loop]


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The figures the chart hands to style.save, kept open to be read."""
    figures: list[Figure] = []

    def keep(figure: Figure, path: Path, below: float = 0.0) -> Path:
        figures.append(figure)
        return path

    monkeypatch.setattr(style, "save", keep)
    return figures


def test_each_row_has_its_panel_on_one_latency_axis(drawn: list[Figure], tmp_path: Path) -> None:
    assert hockey.hockey_stick(rows(), tmp_path) == tmp_path / "open-loop.png"
    panels = [axes for axes in drawn[0].axes if axes.get_visible()]
    assert [axes.get_title().split("\n")[0] for axes in panels] == ["gunicorn-sync-w5 · iowait", "uvicorn · iowait"]
    assert panels[0].get_shared_y_axes().joined(panels[0], panels[1])
    assert panels[0].get_yscale() == "log"


def test_the_open_loop_lines_are_the_steps_coloured_by_what_runs_the_view(drawn: list[Figure], tmp_path: Path) -> None:
    hockey.hockey_stick(rows(), tmp_path)
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
    hockey.hockey_stick(rows(), tmp_path)
    sync_panel = drawn[0].axes[0]
    diamonds = [collection for collection in sync_panel.collections if collection.get_paths()]
    points = sorted(tuple(point) for collection in diamonds for point in collection.get_offsets())
    # the capacity run at 100 %, the four users' run at 38.4 / 48 = 80 %
    assert points == [(pytest.approx(80.0), 120.0), (100.0, 2100.0)]
    labels = {text.get_text() for text in sync_panel.texts}
    assert {"closed, 100 users", "closed, 4 users", "7 unsent or failed"} <= labels


def test_a_lagged_step_is_crossed_out_and_the_legend_says_why(drawn: list[Figure], tmp_path: Path) -> None:
    hockey.hockey_stick(rows(), tmp_path)
    loop_panel = drawn[0].axes[1]
    crosses = [tuple(point) for collection in loop_panel.collections for point in collection.get_offsets()]
    assert (110.0, 130.0) in crosses
    legend = [text.get_text() for text in drawn[0].legends[0].get_texts()]
    assert hockey.LAGGED_LABEL in legend
    assert style.RUNNER_LABELS["process"] in legend
    assert style.RUNNER_LABELS["event loop"] in legend


def test_no_row_with_an_answer_draws_nothing(drawn: list[Figure], tmp_path: Path) -> None:
    unanswered = OpenRow("uvicorn", "iowait", 100, closed(0.0, 0.0), None, None, [])
    assert hockey.hockey_stick([unanswered], tmp_path) is None
    assert drawn == []
