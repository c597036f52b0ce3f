"""`make demo`: both apps as `make serve` runs them, the contract suite against each, then short comparisons.

Finishes in about three minutes on a 2-core machine and leaves the report in benchmarks/results/<timestamp>/.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack

from benchmarks import __main__ as bench
from benchmarks import streams
from harness.measure import new_results_folder
from launcher import run_server, start_process, wait_for
from launcher.catalog import SERVE

# the contract suite waits for every hold it takes to end; 2 s holds keep the demo short. A Gunicorn sync
# worker learns that an event stream's client left only at its next heartbeat: 1 s frees it sooner
DEMO_ENV = {"MERGE_SECONDS": "2", "EVENTS_HEARTBEAT_SECONDS": "1"}
NAMES = {"asgi": "FastAPI on Uvicorn", "wsgi": "Flask on Gunicorn"}
SUITE_SECONDS = 600


def main() -> int:
    """Run the demo; exit non-zero if the contract suite or the comparison failed."""
    folder = new_results_folder()
    print(f"1/3  contract suite against both apps (MERGE_SECONDS={DEMO_ENV['MERGE_SECONDS']}); logs in {folder}")
    with ExitStack() as stack:
        suites = {}
        for app, (row, _port) in SERVE.items():
            server = stack.enter_context(run_server(row, DEMO_ENV, folder=folder))
            command = [sys.executable, "-m", "pytest", "tests/contract", "-q", "-p", "no:cacheprovider"]
            # both suites at once: they spend most of their time waiting for holds to end
            suites[app] = start_process([*command, "--base-url", server.url], folder / f"contract-{app}.log")
        failed = False
        for app, suite in suites.items():
            wait_for(suite.exited, SUITE_SECONDS, f"the contract suite against the {app} app", interval=0.5)
            last = suite.log().strip().splitlines()[-1]
            print(f"     {NAMES[app]:<20} {last}")
            failed |= suite.process.returncode != 0
    if failed:
        print(f"make demo: the contract suite failed; see the logs in {folder}")
        return 1
    print("2/3  short comparison (hello, iowait, blocking, merge), one fresh server per run")
    compared = bench.main(["--suite", "demo", "--repeats", "1", "--duration", "5", "--out", str(folder)])
    print("3/3  open event streams: one event loop against one sync worker, while a client says hello")
    lesson = ["--servers", "uvicorn,gunicorn-sync-w1", "--counts", "1,100", "--hold", "2"]
    held = streams.main([*lesson, "--out", str(folder / "streams")])
    return compared or held


if __name__ == "__main__":
    sys.exit(main())
