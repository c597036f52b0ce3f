"""`python -m benchmarks` end to end on a tiny suite: real servers, real Locust, the report, the charts, the checks."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from launcher import ROOT
from launcher.catalog import GUNICORN_SYNC_N
from tests.support.tools import require_tool

pytestmark = pytest.mark.slow


def run_module(*command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """`python -m <command>` in the repository's root, as a reader types it."""
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def succeeds(*command: str, timeout: float) -> str:
    """What `python -m <command>` printed, once it has exited 0 (else all it said is the failure's message)."""
    finished = run_module(*command, timeout=timeout)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout


def test_a_short_run_writes_results_report_and_charts(tmp_path: Path) -> None:
    command = ["benchmarks", "--suite", "demo", "--servers", "uvicorn,bare-fastapi", "--scenarios", "hello,merge"]
    output = succeeds(*command, "--repeats", "1", "--duration", "2", "--out", str(tmp_path), timeout=180)

    results = json.loads((tmp_path / "results.json").read_text())
    assert results["environment"]["cores"] >= 1
    assert results["environment"]["packages"]["fastapi"]
    runs = {measurement["run"]: measurement for measurement in results["measurements"]}
    assert set(runs) == {"hello-uvicorn-u50", "hello-bare-fastapi-u50", "merge-uvicorn-u50", "merge-bare-fastapi-u50"}
    for measurement in runs.values():
        assert measurement["requests"] > 0
        assert measurement["failures"] == 0
        assert measurement["rps"] > 0
        assert measurement["p50_ms"] is not None
        assert measurement["p50_ms"] <= measurement["p99_ms"]

    report = (tmp_path / "report.md").read_text()
    assert "## Checks" in report
    assert "our FastAPI GET /public/test" in report
    assert "busy POST /merge (409, SQLite)" in report
    # each scenario's table and charts are one snippet section, which the docs' pages include on their own
    sections = {
        name: report.split(f"<!-- --8<-- [start:{name}] -->")[1].split(f"<!-- --8<-- [end:{name}] -->")[0]
        for name in ["hello", "merge", "checks"]
    }
    for scenario, chart in [
        ("hello", "throughput-hello.png"),
        ("merge", "throughput-merge.png"),
        ("hello", "latency-hello.png"),
    ]:
        assert (tmp_path / chart).read_bytes().startswith(b"\x89PNG")
        assert f"]({chart})" in sections[scenario]
    # what a reader opens at the top; what the servers and Locust left behind in raw/
    assert {path.suffix for path in tmp_path.iterdir() if path.is_file()} == {".md", ".json", ".png"}
    raw = {path.name for path in (tmp_path / "raw").iterdir()}
    assert {"hello-uvicorn-u50-r1.html", "hello-uvicorn-u50-r1.json", "hello-uvicorn-u50-r1.locust.log"} <= raw
    assert any(name.startswith("uvicorn-") and name.endswith(".lock.sqlite3") for name in raw)
    assert "| uvicorn | 50 |" in sections["merge"]
    assert "busy POST /merge (409, SQLite)" in sections["checks"]
    # a caption says how many of the scenario's runs the generator bounded
    assert "of its 2 runs" in sections["hello"]
    assert "checks:" in output


def test_the_demo_prints_its_lesson_from_its_own_figures_and_keeps_the_logs_apart(tmp_path: Path) -> None:
    lines = succeeds("benchmarks.demo", "--duration", "2", "--out", str(tmp_path), timeout=240).splitlines()
    assert lines[0].startswith("make demo: what one event loop and one sync worker do with requests that wait")
    # the progress of each part, then the lesson; the harness's checks are make bench's
    assert [line[:4] for line in lines if line[:2] in {"1/", "2/", "3/"}] == ["1/3 ", "2/3 ", "3/3 "]
    assert not [line for line in lines if "[not measured]" in line or "[inconclusive]" in line or "checks:" in line]
    lesson = lines[next(i for i, line in enumerate(lines) if line.startswith("What this run measured")) :]
    text = "\n".join(lesson)
    # each figure is the run's own: the event loop's I/O waits as results.json has them, the streams as streams.json
    results = json.loads((tmp_path / "results.json").read_text())
    rps = {measurement["run"]: measurement["rps"] for measurement in results["measurements"]}
    assert set(rps) == {
        "iowait-uvicorn-u100",
        "iowait-gunicorn-sync-w1-u100",
        f"iowait-{GUNICORN_SYNC_N.id}-u100",
        "blocking-uvicorn-u20",
    }
    assert f"one event loop (FastAPI on Uvicorn, 1 worker) served {rps['iowait-uvicorn-u100']:,.0f} a second" in text
    assert f"one sync worker (Flask on Gunicorn) served {rps['iowait-gunicorn-sync-w1-u100']:.1f} a second" in text
    assert "a blocking call in async def" in text
    held = {run["server"]: run for run in json.loads((tmp_path / "streams" / "streams.json").read_text())["runs"]}
    assert f"one event loop held {held['uvicorn']['held']:,} of 100 and answered" in text
    assert "one sync worker held 1 of 100 and answered no hello" in text
    # every chart the lesson names is there, at the top of the folder or of its streams/ folder
    charts = [line.split("chart: ")[1] for line in lesson if "chart: " in line]
    assert [Path(chart).name for chart in charts] == ["throughput-iowait.png", "throughput-blocking.png", "streams.png"]
    for chart in charts:
        assert (ROOT / chart).read_bytes().startswith(b"\x89PNG")

    top = {path.name for path in tmp_path.iterdir()}
    assert {"report.md", "results.json", "throughput-iowait.png", "streams", "raw"} <= top
    assert not [name for name in top if name.endswith((".log", ".sqlite3", ".html"))]
    assert {path.name for path in (tmp_path / "streams").iterdir()} == {"report.md", "streams.json", "streams.png"}
    raw = {path.name for path in (tmp_path / "raw").iterdir()}
    assert {"contract-asgi.log", "contract-wsgi.log", "iowait-uvicorn-u100-r1.html"} <= raw
    # the report is redrawn from the demo's results.json as from any other run's
    assert "iowait-uvicorn-u100" in succeeds("benchmarks", "--report", str(tmp_path), timeout=120)


@pytest.mark.parametrize("reference", ["reference", "reference-lock"])
def test_a_committed_reference_run_is_redrawn_from_its_results(reference: str, tmp_path: Path) -> None:
    shutil.copy(ROOT / "benchmarks" / "results" / reference / "results.json", tmp_path)
    succeeds("benchmarks", "--report", str(tmp_path), timeout=120)
    assert "## Checks" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "throughput-hello.png").read_bytes().startswith(b"\x89PNG")


def test_a_folder_without_results_is_refused_in_one_line(tmp_path: Path) -> None:
    finished = run_module("benchmarks", "--report", str(tmp_path), timeout=60)
    assert finished.returncode == 2
    assert finished.stderr.strip().splitlines() == [f"benchmarks: {tmp_path} holds no results.json to redraw from"]


def test_the_mix_suite_writes_its_table_and_chart(tmp_path: Path) -> None:
    require_tool("wrk", "apt-get install wrk")
    command = ["benchmarks", "--suite", "mix", "--generator", "wrk", "--scenarios", "hello,asyncwait"]
    command += ["--servers", "uvicorn,gunicorn-gthread,django-uvicorn", "--repeats", "1", "--duration", "2"]
    succeeds(*command, "--out", str(tmp_path), timeout=180)

    report = (tmp_path / "report.md").read_text()
    table = report.split("<!-- --8<-- [start:mix] -->")[1].split("<!-- --8<-- [end:mix] -->")[0]
    rows = {
        line.split(" | ")[1].strip("`"): line for line in table.splitlines() if line.startswith("| ") and "`" in line
    }
    assert set(rows) == {"uvicorn", "gunicorn-gthread", "django-uvicorn"}
    assert rows["django-uvicorn"].startswith("| Django | `django-uvicorn` | ASGI | ")
    assert (tmp_path / "mix-and-match.png").read_bytes().startswith(b"\x89PNG")
    assert "](mix-and-match.png)" in report


def test_unknown_server_is_refused_in_one_line() -> None:
    finished = run_module("benchmarks", "--servers", "nginx-unit", timeout=60)
    assert finished.returncode == 2
    assert "unknown --servers nginx-unit" in finished.stderr


def test_the_pause_run_draws_a_lease_lost_and_a_late_end_refused(tmp_path: Path) -> None:
    succeeds("benchmarks.pause", "--out", str(tmp_path), timeout=120)
    run = json.loads((tmp_path / "pause.json").read_text())
    assert run["outcomes"] == {"1": "fenced off", "2": "released"}
    kinds = [(event["fencing_token"], event["kind"]) for event in run["events"]]
    # the paused merge renewed before its pause, lost its lease after it, and had its end refused
    assert (1, "renewed") in kinds
    assert kinds.index((1, "lost")) < kinds.index((1, "ended: fenced off"))
    # the successor started while the paused merge was stopped
    started_2 = next(
        event["at"] for event in run["events"] if (event["fencing_token"], event["kind"]) == (2, "started")
    )
    assert run["pause"][0] < started_2 < run["pause"][1]
    assert (tmp_path / "pause-timeline.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("comparison", ["ours", "routers", "dependencies", "hop"])
def test_every_in_process_comparison_runs(comparison: str, tmp_path: Path) -> None:
    command = ["benchmarks.inprocess", "--compare", comparison, "--calls", "20", "--repeats", "1"]
    succeeds(*command, "--out", str(tmp_path / "out.txt"), timeout=120)
    rows = [line for line in (tmp_path / "out.txt").read_text().splitlines() if not line.startswith("#")]
    assert len(rows) >= 2
    assert all(float(row.split()[-1]) > 0 for row in rows)


def test_the_profile_names_where_ours_spends_what_bare_does_not(tmp_path: Path) -> None:
    command = ["benchmarks.inprocess", "--profile", "busy", "--calls", "50"]
    succeeds(*command, "--out", str(tmp_path / "out.txt"), timeout=120)
    text = (tmp_path / "out.txt").read_text()
    for stack, hardening in [("FastAPI", "asgi_app/hardening/request_rules.py"), ("Flask", "wsgi_app/hardening")]:
        section = text.split(f"## {stack}, busy:", 1)[1].split("## ", 1)[0]
        rows = {line.split()[0]: line.split()[1:] for line in section.splitlines()[2:] if line.strip()}
        # the busy path reads the lock in SQLite and applies the hardening; the bare app does neither
        ours, bare = float(rows["sqlite3"][-3]), float(rows["sqlite3"][-2])
        assert ours > 0, rows
        assert bare == 0, rows
        assert any(area.startswith(hardening) and float(row[-3]) > 0 == float(row[-2]) for area, row in rows.items())


def test_the_streams_scenario_holds_streams_and_delivers_every_merge(tmp_path: Path) -> None:
    command = ["benchmarks.streams", "--servers", "uvicorn,gunicorn-sync-w1", "--counts", "1,5", "--hold", "3"]
    succeeds(*command, "--out", str(tmp_path), timeout=240)

    runs = {
        (run["server"], run["requested"]): run for run in json.loads((tmp_path / "streams.json").read_text())["runs"]
    }
    # the event loop holds both counts, answers hello throughout and delivers every merge to every stream
    for count in (1, 5):
        run = runs[("uvicorn", count)]
        assert (run["held"], run["hello_failed"]) == (count, 0)
        assert run["merges"] >= 2
        assert run["deliveries"] == run["expected_deliveries"] == count * run["merges"]
    # one sync worker holds one stream and answers nobody else meanwhile: 5 is past its ceiling, and not tried
    assert runs[("gunicorn-sync-w1", 1)]["held"] == 1
    assert runs[("gunicorn-sync-w1", 1)]["hello_ok"] == 0
    assert runs[("gunicorn-sync-w1", 5)]["held"] == 1
    assert (tmp_path / "streams.png").read_bytes().startswith(b"\x89PNG")
    assert "[not measured] one Uvicorn worker at 10,000 streams" in (tmp_path / "report.md").read_text()


def test_timelines_show_one_at_a_time_on_a_sync_worker_and_overlap_on_an_event_loop(tmp_path: Path) -> None:
    lessons = "sync-1-io,uvicorn-io,uvicorn-threadpool,sync-1-stream,uvicorn-stream"
    succeeds("benchmarks.timelines", "--lessons", lessons, "--out", str(tmp_path), timeout=180)

    timelines = {t["lesson"]: t["requests"] for t in json.loads((tmp_path / "timelines.json").read_text())["timelines"]}
    sync, loop, pool = timelines["sync-1-io"], timelines["uvicorn-io"], timelines["uvicorn-threadpool"]
    # one sync worker: one lane, and each request starts only once the one before it has ended
    assert len({(r["pid"], r["thread_id"]) for r in sync}) == 1
    assert all(later["started"] >= earlier["ended"] for earlier, later in itertools.pairwise(sync))
    # one event loop: one lane too, and every wait overlaps every other
    assert len({(r["pid"], r["thread_id"]) for r in loop}) == 1
    assert max(r["started"] for r in loop) < min(r["ended"] for r in loop)
    # 50 requests on AnyIO's 40 threads: 40 lanes
    assert len({r["thread_id"] for r in pool}) == 40
    # a stream holds one sync worker from its first event to its last: the next one starts after it;
    # on an event loop every stream is open at the same time
    sync_streams = sorted(timelines["sync-1-stream"], key=lambda r: r["started"])
    assert all(later["started"] >= earlier["ended"] for earlier, later in itertools.pairwise(sync_streams))
    loop_streams = timelines["uvicorn-stream"]
    assert max(r["started"] for r in loop_streams) < min(r["ended"] for r in loop_streams)
    for lesson in timelines:
        assert (tmp_path / f"timeline-{lesson}.png").read_bytes().startswith(b"\x89PNG")


def test_timelines_show_where_django_and_flask_run_a_view_that_is_not_fastapis(tmp_path: Path) -> None:
    lessons = "flask-async-sync-1,django-wsgi-async-io,django-asgi-sync-io,django-asgi-async-io"
    succeeds("benchmarks.timelines", "--lessons", lessons, "--out", str(tmp_path), timeout=180)

    timelines = {t["lesson"]: t["requests"] for t in json.loads((tmp_path / "timelines.json").read_text())["timelines"]}
    flask_async, django_wsgi_async, django_sync, django_async = (timelines[lesson] for lesson in lessons.split(","))

    def one_at_a_time(requests: list[dict[str, Any]]) -> bool:
        ordered = sorted(requests, key=lambda r: r["started"])
        return all(later["started"] >= earlier["ended"] for earlier, later in itertools.pairwise(ordered))

    def all_overlap(requests: list[dict[str, Any]]) -> bool:
        return max(r["started"] for r in requests) < min(r["ended"] for r in requests)

    # an async view under WSGI, Flask's and Django's: an event loop of its own per request, one request at a time
    assert one_at_a_time(flask_async)
    assert one_at_a_time(django_wsgi_async)
    # Django's sync view under ASGI: each request's ThreadSensitiveContext, a thread of its own, all overlapping
    assert len({r["thread_id"] for r in django_sync}) == len(django_sync)
    assert all_overlap(django_sync)
    # Django's async view under ASGI: on the event loop's one thread, every wait overlapping every other
    assert len({r["thread_id"] for r in django_async}) == 1
    assert all_overlap(django_async)
