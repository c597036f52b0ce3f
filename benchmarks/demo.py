"""`make demo`: what an event loop and a sync worker each do with waiting requests, measured here and now.

    python -m benchmarks.demo                                  # make demo
    python -m benchmarks.demo --duration 2 --out /tmp/demo     # shorter runs, another folder

1. the contract's smoke set against both apps as `make serve` runs them (`make test` runs the whole suite);
2. requests that wait 100 ms on I/O: one event loop, one sync worker, `make serve`'s sync workers, and a
   blocking call in `async def`, a fresh server each;
3. open event streams: 100 on one event loop, then on one sync worker, while a client says hello.

It ends with what the runs showed, a few lines with their figures and charts. The report and the charts are at
the top of benchmarks/results/demo-<timestamp>/, the streams' in its streams/ folder, the logs in raw/.
`make bench` measures every configuration, three times, with the checks of what our code costs.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from benchmarks import __main__ as bench
from benchmarks import streams
from harness.measure import RAW, new_results_folder, raw_folder
from harness.report.environment import environment
from harness.report.summary import Summary, find
from harness.streams import HELLO_TIMEOUT, StreamsRun, run_server_counts
from launcher import ROOT, StartedProcess, checkout_token, run_server, start_process, wait_for
from launcher.catalog import GUNICORN_SYNC_1, GUNICORN_SYNC_N, SERVE, SYNC_WORKERS, UVICORN
from launcher.token import token_lines

# the contract suite waits for every hold it takes to end; 2 s holds keep the demo short. A Gunicorn sync
# worker learns that an event stream's client left only at its next heartbeat: 1 s frees it sooner (with the
# default 15 s, stopping the streams' sync worker took 20 s of the demo's 3.5 minutes)
QUICK_HEARTBEAT = {"EVENTS_HEARTBEAT_SECONDS": "1"}
DEMO_ENV = {"MERGE_SECONDS": "2", **QUICK_HEARTBEAT}
NAMES = {"asgi": "FastAPI on Uvicorn", "wsgi": "Flask on Gunicorn"}
# one test of each promise a learner meets first: hello, a refused input, the merge and its 409, one grant
# among concurrent merges, the events of a merge; the whole suite (every edge) is make test's
SMOKE = [
    "tests/contract/test_public.py::test_public_test",
    "tests/contract/test_public.py::test_unknown_path_is_a_json_404",
    "tests/contract/test_errors.py::test_invalid_git_branch_name_is_a_422",
    "tests/contract/test_merge.py::test_merge_is_accepted_with_the_next_fencing_token_while_the_resource_is_free",
    "tests/contract/test_merge.py::test_merge_is_refused_with_409_and_retry_after_while_held",
    "tests/contract/test_merge.py::test_concurrent_merges_are_granted_once",
    "tests/contract/test_events.py::test_a_merge_is_streamed_as_it_starts_and_as_it_ends",
    "tests/contract/test_auth.py::test_the_scheme_is_read_in_any_case_and_a_stranger_learns_nothing_of_the_hold",
]
SUITE_SECONDS = 300
# the I/O lesson: the same waits on one event loop, one sync worker and make serve's sync workers, then a
# blocking call in async def; the demo suite's hello and busy-merge runs (what our code costs beside the bare
# frameworks) are make bench's
COMPARED = [UVICORN.id, GUNICORN_SYNC_1.id, GUNICORN_SYNC_N.id]
WAIT_MS = 100
IO_USERS = 100  # the demo suite's iowait runs
STREAMS = 100
STREAM_SERVERS = [UVICORN, GUNICORN_SYNC_1]
HOLD_SECONDS = 2.0


def shown(path: Path) -> str:
    """A path as the lesson prints it: from the repository's root when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def check_contract(folder: Path) -> bool:
    """The smoke set against both apps at once (they spend most of their time waiting for holds to end)."""
    raw = raw_folder(folder)
    print("1/3  a smoke set of the contract suite against both apps, as make serve runs them (make test runs it all)")
    with ExitStack() as stack:
        suites: dict[str, StartedProcess] = {}
        for app, (row, _port) in SERVE.items():
            server = stack.enter_context(run_server(row, DEMO_ENV, folder=raw))
            command = [sys.executable, "-m", "pytest", *SMOKE, "-q", "-p", "no:cacheprovider"]
            target = ["--base-url", server.url, f"--token={checkout_token()}"]  # the token run_server gave it
            suites[app] = start_process([*command, *target], raw / f"contract-{app}.log")
        passed = True
        for app, suite in suites.items():
            wait_for(suite.exited, SUITE_SECONDS, f"the contract's smoke set against the {app} app", interval=0.2)
            last = (suite.log().strip().splitlines() or ["(no output)"])[-1]
            print(f"     {NAMES[app]:<20} {last.strip('= ')}")
            if suite.process.returncode != 0:
                print(f"make demo: the contract's smoke set failed against {NAMES[app]}; see {shown(suite.log_path)}")
                passed = False
    return passed


def hold_streams(folder: Path) -> list[StreamsRun]:
    """Streams held open on each server, written as `python -m benchmarks.streams` writes them, in streams/."""
    print(f"3/3  {STREAMS} open event streams on one event loop, then on one sync worker, while a client says hello")
    raw, out = raw_folder(folder), folder / "streams"
    out.mkdir(exist_ok=True)
    runs: list[StreamsRun] = []
    for row in STREAM_SERVERS:
        runs += run_server_counts(row, [STREAMS], HOLD_SECONDS, 1.0, raw, env=QUICK_HEARTBEAT)
        print(f"     {row.id:<20} held {runs[-1].held:,} of {STREAMS:,}")
    env = environment({"counts": [STREAMS], "hold_seconds": HOLD_SECONDS, "merge_every_s": 1.0})
    streams.save(out, runs, env, [])
    return runs


def rate(summary: Summary | None) -> str:
    """A run's requests a second as the lesson says it, and how many requests that keeps waiting at once."""
    if summary is None:
        return "nothing: the run failed (its logs are in raw/)"
    at_once = round(summary.rps * WAIT_MS / 1000)
    bound = " at least (the load generator was the limit)" if summary.generator_bound else ""
    figure = f"{summary.rps:,.0f}" if summary.rps >= 100 else f"{summary.rps:.1f}"
    return f"{figure} a second{bound}, about {at_once:,} wait{'s' * (at_once != 1)} at once"


def stream_line(run: StreamsRun | None, who: str) -> str:
    """What a server did with the open streams, and with the hello client meanwhile."""
    if run is None:
        return f"{who}: not measured"
    if run.hello_ok == 0:
        hello = f"answered no hello meanwhile ({run.hello_failed} waited {HELLO_TIMEOUT:g} s each and gave up)"
    else:
        hello = f"answered {run.hello_ok:,} hellos meanwhile, p99 {run.hello_p99_ms or 0:,.1f} ms"
    return f"{who} held {run.held:,} of {run.requested:,} and {hello}"


def lesson(folder: Path, summaries: list[Summary], held: list[StreamsRun], duration: int, seconds: float) -> list[str]:
    """What the run showed, in plain words, from its own figures, each group with its chart."""

    def chart(path: Path) -> str:
        return f"       chart: {shown(path)}" if path.is_file() else "       (no chart: the runs failed)"

    def stream(server: str) -> StreamsRun | None:
        return next((run for run in held if run.server == server), None)

    iowait = {server: find(summaries, server, "iowait", IO_USERS) for server in COMPARED}
    blocking = find(summaries, UVICORN.id, "blocking")
    users = blocking.run.users if blocking else 0
    return [
        f"What this run measured, in {seconds:.0f} s (everything is in {shown(folder)}/):",
        f"  {IO_USERS} users at once, each request waiting {WAIT_MS} ms on I/O (GET /lab/io); requests served:",
        f"     one event loop (FastAPI on Uvicorn, 1 worker) served {rate(iowait[UVICORN.id])}",
        f"     one sync worker (Flask on Gunicorn) served {rate(iowait[GUNICORN_SYNC_1.id])}",
        f"     {SYNC_WORKERS} sync workers (Flask on Gunicorn, make serve on 2 cores) served "
        + rate(iowait[GUNICORN_SYNC_N.id]),
        chart(folder / "throughput-iowait.png"),
        f"  {users} users, a blocking call in async def (time.sleep in FastAPI on Uvicorn, GET /lab/blocking):",
        f"     one event loop served {rate(blocking)}: time.sleep stops it for everyone",
        chart(folder / "throughput-blocking.png"),
        f"  {STREAMS} open event streams (GET /merge/events) while a client asks GET /public/test:",
        f"     {stream_line(stream(UVICORN.id), 'one event loop')}",
        f"     {stream_line(stream(GUNICORN_SYNC_1.id), 'one sync worker')}",
        chart(folder / "streams" / "streams.png"),
        f"Tables: {shown(folder / 'report.md')} and streams/report.md; logs: raw/. One {duration}-second run each",
        "shows the shape, not figures to quote: make bench measures every configuration three times, with the",
        "checks of what our code costs beside the bare frameworks.",
    ]


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The demo's two options, for a shorter run (the tests) or another folder."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.demo", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per comparison run (default 5)")
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results/demo-<timestamp>)")
    arguments = parser.parse_args(argv)
    if not 1 <= arguments.duration <= 60:
        parser.error("--duration must be between 1 and 60 seconds")
    return arguments


def main(argv: list[str] | None = None) -> int:
    """Run the demo; exit non-zero if the contract's smoke set or a measurement failed."""
    arguments = parse(argv)
    folder = arguments.out or new_results_folder("demo-")
    folder.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    print("make demo: what one event loop and one sync worker do with requests that wait, measured on this machine")
    print(f"     in three parts, about a minute on 2 cores; everything goes to {shown(folder)}/")
    print(token_lines(), end="")  # POST /merge needs a token: the checkout's, made on first use
    try:
        if not check_contract(folder):
            return 1
        print(f"2/3  requests that wait {WAIT_MS} ms, {arguments.duration} s on each server, a fresh one each run")
        options = ["--suite", "demo", "--servers", ",".join(COMPARED), "--scenarios", "iowait,blocking"]
        options += ["--repeats", "1", "--duration", str(arguments.duration), "--out", str(folder)]
        compared = bench.compare(bench.parse(options))
        if compared is None:
            return 2
        held = hold_streams(folder)
    except RuntimeError as error:  # a server that would not start, a suite that would not end
        print(f"make demo: {str(error).splitlines()[0]}; the logs are in {shown(folder / RAW)}/", file=sys.stderr)
        return 1
    print("\n" + "\n".join(lesson(folder, compared.summaries, held, arguments.duration, time.monotonic() - began)))
    return 1 if compared.errors else 0


if __name__ == "__main__":
    sys.exit(main())
