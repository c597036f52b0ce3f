"""`python -m benchmarks.timelines`: one timeline per concurrency lesson, drawn from a real run of each server.

    python -m benchmarks.timelines                         # every lesson, into benchmarks/results/timelines-<time>/
    python -m benchmarks.timelines --lessons uvicorn-io,sync-1-io
    python -m benchmarks.timelines --out benchmarks/results/reference-timelines
    python -m benchmarks.timelines --report benchmarks/results/reference-timelines   # redraw from timelines.json
    python -m benchmarks.timelines --report benchmarks/results/reference-timelines-mix --seconds 1.3  # one axis

Each lesson starts its server, sends N requests to one /lab route at the same moment, and draws where each ran
(harness/timeline.py): one lane per process and thread, a bar per request, the queue before it. Writes
timelines.json and timeline-<lesson>.png, every timeline of the run on one time axis so that they compare by eye.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from harness.measure import new_results_folder
from harness.report.charts import timeline_chart
from harness.report.environment import environment
from harness.timeline import Lesson, Timeline, run_lesson
from launcher.catalog import (
    DJANGO_GUNICORN,
    DJANGO_UVICORN,
    GUNICORN_GEVENT,
    GUNICORN_GTHREAD_W2_T4,
    GUNICORN_SYNC_1,
    GUNICORN_SYNC_N,
    UVICORN,
)

LESSONS = {
    lesson.id: lesson
    for lesson in [
        Lesson("sync-1-io", GUNICORN_SYNC_1, "/lab/io?ms=200", 5, "One sync worker: one request at a time"),
        Lesson("sync-5-io", GUNICORN_SYNC_N, "/lab/io?ms=200", 10, "Five sync workers: five at a time, then a queue"),
        Lesson(
            "gthread-io", GUNICORN_GTHREAD_W2_T4, "/lab/io?ms=200", 12, "gthread, 2 × 4 threads: eight, then a queue"
        ),
        Lesson("gevent-io", GUNICORN_GEVENT, "/lab/io?ms=200", 20, "gevent: every wait overlaps, one greenlet each"),
        Lesson("uvicorn-io", UVICORN, "/lab/io?ms=200", 20, "Uvicorn, /lab/io: every wait overlaps on one thread"),
        Lesson(
            "uvicorn-blocking",
            UVICORN,
            "/lab/blocking?ms=200",
            5,
            "Uvicorn, /lab/blocking: the loop frozen, one by one",
        ),
        Lesson(
            "uvicorn-threadpool",
            UVICORN,
            "/lab/threadpool?ms=200",
            50,
            "Uvicorn, /lab/threadpool: 40 threads, then a queue",
        ),
        Lesson(
            "uvicorn-cpu",
            UVICORN,
            "/lab/cpu?ms=100",
            4,
            "Uvicorn, /lab/cpu: four threads, one GIL: each takes several times its 100 ms",
            computing=True,
        ),
        # long-lived connections: a stream holds whatever runs it from its first event to its last
        Lesson(
            "sync-1-stream",
            GUNICORN_SYNC_1,
            "/lab/stream?n=5&ms=100",
            3,
            "One sync worker, /lab/stream: one stream at a time",
            stream=True,
        ),
        Lesson(
            "uvicorn-stream",
            UVICORN,
            "/lab/stream?n=5&ms=100",
            20,
            "Uvicorn, /lab/stream: twenty streams at once on one loop",
            stream=True,
        ),
        # the pool decides: a lane per pooled connection, and the queue before it is the wait for one
        Lesson(
            "uvicorn-pool",
            UVICORN,
            "/lab/db?ms=200",
            20,
            "Uvicorn, /lab/db, a pool of 5: five queries at a time, the rest queue at the pool",
            postgres=True,
            env={"DB_POOL_SIZE": "5"},
        ),
        Lesson(
            "uvicorn-db-blocking",
            UVICORN,
            "/lab/db-blocking?ms=200",
            5,
            "Uvicorn, /lab/db-blocking: a blocking driver, one query at a time",
            postgres=True,
            env={"DB_POOL_SIZE": "5"},
        ),
        # Mix and match: where an async def view is not FastAPI's, and a sync view under ASGI
        Lesson(
            "flask-async-sync-1",
            GUNICORN_SYNC_1,
            "/lab/async-io?ms=200",
            5,
            "Flask async view, one sync worker: a new loop per request, one at a time",
        ),
        Lesson(
            "django-wsgi-async-io",
            DJANGO_GUNICORN,
            "/lab/async-io?ms=200",
            5,
            "Django on one sync worker, an async view: a loop per request, one at a time",
        ),
        Lesson(
            "django-asgi-sync-io",
            DJANGO_UVICORN,
            "/lab/io?ms=200",
            5,
            "Django on Uvicorn, a sync view: a thread of its own for each request",
        ),
        Lesson(
            "django-asgi-async-io",
            DJANGO_UVICORN,
            "/lab/async-io?ms=200",
            20,
            "Django on Uvicorn, an async view: every wait overlaps on the loop",
        ),
    ]
}


# a first use of AnyIO in a server process imports its asyncio backend, which blocks the event loop meanwhile
ANYIO_IMPORT = (
    "the first use of AnyIO in the server process imports its asyncio backend (anyio._backends._asyncio), "
    "20 to 45 ms during which the event loop runs nothing else; the clients' warm-up requests went to "
    "/public/test, which does not use AnyIO, so this run paid it"
)
# what a reader will ask of a timeline, said under it
NOTES = {
    "uvicorn-threadpool": (
        f"Why the first request starts 38 ms late though 40 threads are free: the route is a plain def, and at its "
        f"first call to FastAPI's thread pool {ANYIO_IMPORT}. The pool starts empty, so each of the first 40 "
        "requests then starts a thread of its own, a quarter of a millisecond apart; the other 10 wait for one."
    ),
    "uvicorn-cpu": (
        f"The first request starts 19 ms late: {ANYIO_IMPORT}. Each later one starts later still (36, 62, 104 ms): "
        "to hand the next request to a new thread the event loop needs the GIL back from the threads already "
        "burning it, which the interpreter forces them to give up every 5 ms at best (sys.getswitchinterval())."
    ),
    "uvicorn-stream": (
        "A stream's bar runs from its first event to its last as the client received them. The first arrives "
        f"24 ms after the request: Starlette streams a response inside an AnyIO task group, and {ANYIO_IMPORT}."
    ),
}
# 0 is when the clients' main thread noted their release, which a client's own thread can pass first
BEFORE_ZERO = (
    "A bar that starts a few milliseconds before 0: 0 is when the clients' main thread noted their release, and a "
    "client's own thread can pass that moment first."
)
NOTES |= {
    "gthread-io": BEFORE_ZERO,
    "django-asgi-async-io": BEFORE_ZERO,
    "gevent-io": (
        "The starts spread over 25 ms, about a millisecond apart, though the clients sent within 10 ms: one process "
        "reads and parses each request in turn before that request's greenlet reaches the wait."
    ),
}


def shared_seconds(timelines: list[Timeline]) -> float:
    """One time axis for every timeline of a run, so that they compare by eye: the last answer of all, rounded up
    to a tenth of a second."""
    last = max(request.answered for timeline in timelines for request in timeline.requests)
    return math.ceil(last * 10) / 10


def draw(timelines: list[Timeline], folder: Path, seconds: float | None = None) -> list[Path]:
    """Every timeline of a run on one shared time axis (`seconds` long, if given and long enough), each with its
    note."""
    seconds = max(seconds or 0.0, shared_seconds(timelines))
    return [timeline_chart(timeline, folder, seconds, NOTES.get(timeline.lesson, "")) for timeline in timelines]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.timelines", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lessons", default=",".join(LESSONS), help=f"comma-separated: {', '.join(LESSONS)}")
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results/timelines-<timestamp>)")
    parser.add_argument("--report", type=Path, metavar="FOLDER", help="redraw the charts of FOLDER/timelines.json")
    parser.add_argument(
        "--seconds", type=float, help="the time axis's end, to share another run's (default: this run's last answer)"
    )
    arguments = parser.parse_args(argv)
    if arguments.report:
        return redraw(arguments.report, arguments.seconds)
    chosen = arguments.lessons.split(",")
    if unknown := [lesson for lesson in chosen if lesson not in LESSONS]:
        parser.error(f"unknown --lessons {', '.join(unknown)}; choose from {', '.join(LESSONS)}")
    folder = arguments.out or new_results_folder("timelines-")
    folder.mkdir(parents=True, exist_ok=True)
    skipped = [reason for lesson in chosen if (reason := LESSONS[lesson].missing())]
    timelines: list[Timeline] = []
    for lesson_id in chosen:
        lesson = LESSONS[lesson_id]
        if lesson.missing():
            continue
        timeline = run_lesson(lesson)
        last = max(request.answered for request in timeline.requests)
        lanes = len({(request.pid, request.thread_id) for request in timeline.requests})
        print(
            f"{lesson_id:<20} {len(timeline.requests):>3} requests on {lanes:>2} lanes, last answered at {last:.2f} s"
        )
        timelines.append(timeline)
    for chart in draw(timelines, folder, arguments.seconds) if timelines else []:
        print(chart)
    document = {
        "environment": environment({"lessons": chosen}),
        "skipped": skipped,
        "timelines": [timeline.as_dict() for timeline in timelines],
    }
    (folder / "timelines.json").write_text(json.dumps(document, indent=2) + "\n")
    for reason in skipped:
        print(reason)
    return 0


def redraw(folder: Path, seconds: float | None = None) -> int:
    """Draw a finished run's timelines again (after a change to the chart), without running a server."""
    source = folder / "timelines.json"
    if not source.is_file():
        print(f"--report {folder}: no timelines.json there", file=sys.stderr)
        return 2
    timelines = [Timeline.from_dict(data) for data in json.loads(source.read_text())["timelines"]]
    for chart in draw(timelines, folder, seconds) if timelines else []:
        print(chart)
    return 0


if __name__ == "__main__":
    sys.exit(main())
