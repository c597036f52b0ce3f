"""`make demo`: both apps as `make serve` runs them, the contract suite against each, then a short comparison.

Finishes in about three minutes on a 2-core machine and leaves the report in benchmarks/results/<timestamp>/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from benchmarks import __main__ as bench
from benchmarks.harness import ROOT

# the contract suite waits for every hold it takes to end; 2 s holds keep the demo short
DEMO_MERGE_SECONDS = "2"
SERVERS = {
    "FastAPI on uvicorn": [sys.executable, "-m", "uvicorn", "asgi_app.main:app", "--port", "{port}"],
    "Flask on gunicorn": [sys.executable, "-m", "gunicorn", "-c", "wsgi_app/gunicorn.conf.py", "wsgi_app.main:app",
                          "--bind", "127.0.0.1:{port}"],
}  # fmt: skip
PORTS = {"FastAPI on uvicorn": 8000, "Flask on gunicorn": 8001}


def _start(name: str, folder: str, stack: ExitStack) -> str:
    port = PORTS[name]
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
    except httpx.TransportError:
        pass
    else:
        raise SystemExit(f"make demo: port {port} is in use (is `make serve` running?); stop it and try again")
    env = {**os.environ, "MERGE_SECONDS": DEMO_MERGE_SECONDS, "LOG_LEVEL": "warning",
           "LOCK_URL": f"sqlite:///{folder}/{port}.lock.sqlite3"}  # fmt: skip
    command = [part.format(port=port) for part in SERVERS[name]]
    log = open(f"{folder}/{port}.server.log", "wb")  # noqa: SIM115 - closed by the stack
    stack.callback(log.close)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    stack.callback(process.wait, 20)
    stack.callback(process.terminate)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/public/test", timeout=1).status_code == 200:
                return url
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"make demo: {name} did not start; see {folder}/{port}.server.log")


def main() -> int:
    """Run the demo; exit non-zero if the contract suite or the comparison failed."""
    folder = bench.new_results_folder()
    print(f"1/2  contract suite against both apps (MERGE_SECONDS={DEMO_MERGE_SECONDS}); logs in {folder}")
    with ExitStack() as stack:
        suites = {}
        for name in SERVERS:
            url = _start(name, str(folder), stack)
            pytest = [
                sys.executable,
                "-m",
                "pytest",
                "tests/contract",
                "-q",
                "-p",
                "no:cacheprovider",
                "--base-url",
                url,
            ]
            log = open(folder / f"contract-{PORTS[name]}.log", "w")  # noqa: SIM115 - closed by the stack
            stack.callback(log.close)
            # both suites at once: they spend most of their time waiting for holds to end
            suites[name] = (subprocess.Popen(pytest, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT), log.name)
        failed = False
        for name, (process, log_name) in suites.items():
            code = process.wait(timeout=600)
            last = Path(log_name).read_text().strip().splitlines()[-1]
            print(f"     {name:<20} {last}")
            failed |= code != 0
    if failed:
        print("make demo: the contract suite failed; see the logs above")
        return 1
    print("2/2  short comparison (hello, io, blocking, merge), one fresh server per run")
    return bench.main(["--suite", "demo", "--repeats", "1", "--duration", "5", "--out", str(folder)])


if __name__ == "__main__":
    sys.exit(main())
