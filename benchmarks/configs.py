"""What the harness runs, as data: server configurations, scenarios, and the suites that pair them."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from importlib.util import find_spec

CORES = os.cpu_count() or 1
PYTHON = sys.executable
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Server:
    """One way to serve one app: the command, the package it needs, and whether it is a baseline."""

    id: str
    interface: str  # "asgi" or "wsgi"
    package: str  # the module that must be importable, else the configuration is skipped
    argv: tuple[str, ...]  # {port} and {app} are filled in
    app: str
    baseline: bool = False
    access_log_argv: tuple[str, ...] = ()  # what turns the access log on (it is off in measured runs)

    def command(self, port: int, access_log: bool = False) -> list[str]:
        """The command line serving the app on `port`."""
        argv = [part.format(port=port, app=self.app, host=HOST) for part in self.argv]
        return argv + (list(self.access_log_argv) if access_log else [])

    def missing(self) -> str | None:
        """Why this configuration cannot run here, or None."""
        return None if find_spec(self.package) else f"{self.id}: skipped, the {self.package!r} package is not installed"


def _uvicorn(id: str, app: str, workers: int = 1, baseline: bool = False) -> Server:
    argv = (PYTHON, "-m", "uvicorn", "{app}", "--host", "{host}", "--port", "{port}", "--no-access-log")
    argv += ("--loop", "uvloop", "--http", "httptools", "--workers", str(workers))
    return Server(id, "asgi", "uvicorn", argv, app, baseline, access_log_argv=("--access-log",))


def _gunicorn(id: str, app: str, worker_class: str = "sync", workers: int = 1, *extra: str, **kw: bool) -> Server:
    argv = (PYTHON, "-m", "gunicorn", "-c", "wsgi_app/gunicorn.conf.py", "{app}", "--bind", "{host}:{port}")
    argv += ("--workers", str(workers), "--worker-class", worker_class, "--access-logfile", "/dev/null", *extra)
    package = {"gevent": "gevent", "uvicorn_worker.UvicornWorker": "uvicorn_worker"}.get(worker_class, "gunicorn")
    interface = "asgi" if "Uvicorn" in worker_class else "wsgi"
    return Server(
        id, interface, package, argv, app, kw.get("baseline", False), access_log_argv=("--access-logfile", "-")
    )


OURS_ASGI = "asgi_app.main:app"
OURS_WSGI = "wsgi_app.main:app"
SYNC_WORKERS = 2 * CORES + 1  # gunicorn's own advice, and our gunicorn.conf.py default
UVICORN_N = f"uvicorn-w{CORES}"
SYNC_N = f"gunicorn-sync-w{SYNC_WORKERS}"
_GRANIAN = (PYTHON, "-m", "granian", "--host", "{host}", "--port", "{port}", "--no-access-log", "--interface")

SERVERS: dict[str, Server] = {
    server.id: server
    for server in [
        _uvicorn("uvicorn", OURS_ASGI),
        _uvicorn(UVICORN_N, OURS_ASGI, workers=CORES),
        _gunicorn("gunicorn-sync-w1", OURS_WSGI),
        _gunicorn(SYNC_N, OURS_WSGI, workers=SYNC_WORKERS),
        _gunicorn("gunicorn-gthread", OURS_WSGI, "gthread", 1, "--threads", "32"),
        _gunicorn("gunicorn-gevent", OURS_WSGI, "gevent", 1, "--worker-connections", "1000"),
        _gunicorn("gunicorn-uvicorn-worker", OURS_ASGI, "uvicorn_worker.UvicornWorker", 1),
        Server(
            "granian-asgi", "asgi", "granian",
            (*_GRANIAN, "asgi", "{app}"),
            OURS_ASGI, access_log_argv=("--access-log",),
        ),
        Server(
            "granian-wsgi", "wsgi", "granian",
            (*_GRANIAN, "wsgi", "{app}"),
            OURS_WSGI, access_log_argv=("--access-log",),
        ),
        Server("hypercorn", "asgi", "hypercorn", (PYTHON, "-m", "hypercorn", "--bind", "{host}:{port}", "{app}"), OURS_ASGI),
        Server("waitress", "wsgi", "waitress", (PYTHON, "-m", "waitress", "--listen={host}:{port}", "{app}"), OURS_WSGI),
        # ceilings: the same hello with no app around it, then each framework with nothing but the route
        _uvicorn("raw-asgi", "benchmarks.baselines:raw_asgi", baseline=True),
        _gunicorn("raw-wsgi", "benchmarks.baselines:raw_wsgi", baseline=True),
        _uvicorn("bare-fastapi", "benchmarks.baselines:bare_fastapi", baseline=True),
        _gunicorn("bare-flask", "benchmarks.baselines:bare_flask", baseline=True),
    ]
}  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    """A load: which locustfile, which URL for wrk, and what the server needs for it."""

    id: str
    locustfile: str
    path: str  # what wrk requests; locust's users follow their locustfile
    server_env: dict[str, str] = field(default_factory=dict)
    lab_ms: int | None = None
    wrk_ok: bool = True  # wrk sends GETs, or what wrk_script tells it to; mixed needs two kinds of users
    wrk_script: str | None = None  # a Lua script in benchmarks/wrk/, for a POST and for judging answers
    locust_env: dict[str, str] = field(default_factory=dict)


SCENARIOS: dict[str, Scenario] = {
    scenario.id: scenario
    for scenario in [
        Scenario("hello", "hello.py", "/public/test"),
        Scenario("io", "iowait.py", "/lab/io?ms=100", lab_ms=100),
        Scenario("blocking", "blocking.py", "/lab/blocking?ms=100", lab_ms=100),
        Scenario("threadpool", "threadpool.py", "/lab/threadpool?ms=100", lab_ms=100),
        Scenario("cpu", "cpu.py", "/lab/cpu?ms=50", lab_ms=50),
        # a long hold: after the first 202 every POST takes the busy path (409) that the check measures
        Scenario(
            "merge",
            "merge.py",
            "/merge",
            {"MERGE_SECONDS": "3600"},
            wrk_script="merge.lua",
            locust_env={"THINK_TIME": "0"},
        ),
        Scenario("mixed", "mixed.py", "/public/test", server_env={"MERGE_SECONDS": "2"}, wrk_ok=False),
    ]
}


@dataclass(frozen=True)
class Run:
    """One measurement: a server configuration under a scenario with a number of users."""

    server: str
    scenario: str
    users: int
    access_log: bool = False

    @property
    def key(self) -> str:
        """A name for the run, used in file names and tables."""
        log = "-accesslog" if self.access_log else ""
        return f"{self.scenario}-{self.server}-u{self.users}{log}"


def _grid(servers: list[str], scenario: str, users: list[int]) -> list[Run]:
    return [Run(server, scenario, count) for server in servers for count in users]


OUR_SERVERS = [id for id, server in SERVERS.items() if not server.baseline]
BASELINES = [id for id, server in SERVERS.items() if server.baseline]
IO_CURVE_SERVERS = ["uvicorn", "gunicorn-sync-w1", "gunicorn-gthread"]

SUITES: dict[str, list[Run]] = {
    "full": [
        *_grid(OUR_SERVERS + BASELINES, "hello", [50]),
        *_grid(IO_CURVE_SERVERS, "io", [1, 10, 50, 100, 200]),
        *_grid(["gunicorn-gevent", "granian-asgi", "hypercorn", "waitress", SYNC_N], "io", [100]),
        *_grid(["uvicorn"], "blocking", [10, 100]),
        *_grid(["uvicorn"], "threadpool", [10, 40, 100]),
        *_grid(["uvicorn", UVICORN_N, "gunicorn-sync-w1", SYNC_N, "gunicorn-gthread"], "cpu", [10]),
        *_grid(["uvicorn", "gunicorn-sync-w1", SYNC_N], "merge", [50]),
        *_grid(["uvicorn", SYNC_N], "mixed", [50]),
        Run("uvicorn", "hello", 50, access_log=True),
        Run("gunicorn-sync-w1", "hello", 50, access_log=True),
        Run("raw-asgi", "hello", 50, access_log=True),
    ],
    # make demo: the four lessons that matter most, each with the configuration its check needs
    "demo": [
        *_grid(["uvicorn", "gunicorn-sync-w1", "bare-fastapi", "bare-flask"], "hello", [50]),
        *_grid(["uvicorn", "gunicorn-sync-w1", SYNC_N], "io", [100]),
        *_grid(["uvicorn"], "blocking", [20]),
        *_grid(["uvicorn", "gunicorn-sync-w1"], "merge", [50]),
    ],
}  # fmt: skip
