"""What the harness measures, as data: the scenarios, a run (a configuration under a scenario), the suites."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from common.settings import Settings
from launcher.catalog import (
    BARE_FASTAPI,
    BARE_FLASK,
    CONFIGS,
    DAPHNE,
    DJANGO_DAPHNE,
    DJANGO_GUNICORN,
    DJANGO_GUNICORN_GTHREAD,
    DJANGO_UVICORN,
    GRANIAN_ASGI,
    GRANIAN_WSGI,
    GUNICORN_ASGI,
    GUNICORN_GEVENT,
    GUNICORN_GTHREAD,
    GUNICORN_SYNC_1,
    GUNICORN_SYNC_N,
    GUNICORN_UVICORN_WORKER,
    HYPERCORN,
    RAW_ASGI,
    RAW_ASGI_H11,
    RAW_WSGI,
    RAW_WSGI_GTHREAD,
    UVICORN,
    UVICORN_A2WSGI,
    UVICORN_CORES,
    UVICORN_WSGI,
    WAITRESS,
    config,
    what_runs_the_view,
)

LOCUSTFILES = "benchmarks/locustfiles"
WRK_SCRIPTS = "benchmarks/wrk"


@dataclass(frozen=True)
class Scenario:
    """A load: its locustfile (benchmarks/locustfiles/<id>.py), what wrk asks for, and what the server needs."""

    id: str
    path: str  # what wrk requests, and what the warm-up touches; Locust's users follow their locustfile
    server_env: dict[str, str] = field(default_factory=dict)
    lab_ms: int | None = None  # for the /lab scenarios: LAB_MS, what each request spends
    wrk_script: str | None = None  # a Lua script in benchmarks/wrk/, for a POST and for judging answers
    wrk_ok: bool = True  # mixed needs two kinds of users, which wrk cannot play
    locust_env: dict[str, str] = field(default_factory=dict)
    redis: bool = False  # the harness starts a redis-server and gives the server LOCK_URL for it
    postgres: bool = False  # the harness starts a PostgreSQL and gives the server DATABASE_URL for it
    locust_scenario: str | None = None  # the locustfile's name, when it is another scenario's

    @property
    def locustfile(self) -> str:
        """The scenario's locustfile, relative to the repository root."""
        return f"{LOCUSTFILES}/{self.locust_scenario or self.id}.py"


# a long merge: after the first 202 every POST takes the busy path (409) that the checks measure
MERGE = Scenario(
    "merge",
    "/merge",
    server_env={"MERGE_SECONDS": "3600"},
    wrk_script="merge.lua",
    locust_env={"THINK_TIME": "0"},
)
# a query of 100 ms on a pooled connection: each worker process runs at most DB_POOL_SIZE (10) of them at once
POOL = Scenario("pool", "/lab/db?ms=100", lab_ms=100, postgres=True)
SCENARIOS: dict[str, Scenario] = {
    scenario.id: scenario
    for scenario in [
        Scenario("hello", "/public/test"),
        Scenario("iowait", "/lab/io?ms=100", lab_ms=100),
        Scenario("asyncwait", "/lab/async-io?ms=100", lab_ms=100),
        Scenario("blocking", "/lab/blocking?ms=100", lab_ms=100),
        Scenario("threadpool", "/lab/threadpool?ms=100", lab_ms=100),
        Scenario("cpu", "/lab/cpu?ms=50", lab_ms=50),
        MERGE,
        # the same busy path with the lock in Redis: every refusal is a round trip to it
        replace(MERGE, id="merge-redis", redis=True, locust_scenario="merge"),
        # the busy path of a server started without MERGE_TOKENS: a bare 409 then checks no token, the ceiling
        # benchmarks/auth_cost.py measures the bearer check against (our apps would refuse every merge)
        replace(
            MERGE, id="merge-unchecked", server_env={**MERGE.server_env, "MERGE_TOKENS": ""}, locust_scenario="merge"
        ),
        Scenario("mixed", "/public/test", server_env={"MERGE_SECONDS": "2"}, wrk_ok=False),
        POOL,
        # the blocking driver inside async def (FastAPI); on Flask the same query as /lab/db
        replace(
            POOL,
            id="pool-blocking",
            path="/lab/db-blocking?ms=100",
            locust_scenario="pool",
            locust_env={"DB_ROUTE": "/lab/db-blocking"},
        ),
        # what a larger pool buys, until the server's own bound (threads, workers, CPU) takes over
        *(
            replace(POOL, id=f"pool-{size}", server_env={"DB_POOL_SIZE": str(size)}, locust_scenario="pool")
            for size in (50, 100)
        ),
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


def pool_size(scenario: Scenario) -> int:
    """DB_POOL_SIZE for the server of a pool scenario: what it sets, or the apps' default."""
    default: int = Settings.model_fields["db_pool_size"].default
    return int(scenario.server_env.get("DB_POOL_SIZE", default))


def option(row_options: tuple[str, ...], name: str, default: int) -> int:
    """The number a server option is given in a row (`--threads 32`), or `default`."""
    return int(row_options[row_options.index(name) + 1]) if name in row_options else default


def queries_at_once(run: Run) -> int | None:
    """For a pool scenario, how many queries can wait in PostgreSQL at once: each worker process runs as many as
    its pool has connections, unless it runs fewer requests at once (one sync worker runs one); None otherwise."""
    scenario = SCENARIOS[run.scenario]
    if not scenario.postgres:
        return None
    row = config(run.server)
    runner = what_runs_the_view(row, scenario.path)
    # what one worker process runs at once: an event loop, every request but one that blocks it; gthread, its
    # threads; gevent, its greenlets (Gunicorn's --worker-connections, 1000 by default); a sync worker, one
    per_worker = {
        "event loop": 1 if scenario.path.startswith("/lab/db-blocking") else run.users,
        "thread": option(row.options, "--threads", 1),
        "greenlet": option(row.options, "--worker-connections", 1000),
        "process": 1,
    }[runner]
    return min(run.users, row.expected_workers({}) * min(per_worker, pool_size(scenario)))


def grid(servers: list[str], scenario: str, users: list[int]) -> list[Run]:
    """Every server under `scenario` with every number of users."""
    return [Run(server, scenario, count) for server in servers for count in users]


OUR_SERVERS = [
    UVICORN.id,
    UVICORN_CORES.id,
    GUNICORN_SYNC_1.id,
    GUNICORN_SYNC_N.id,
    GUNICORN_GTHREAD.id,
    GUNICORN_GEVENT.id,
    GUNICORN_UVICORN_WORKER.id,
    GUNICORN_ASGI.id,
    DAPHNE.id,
    GRANIAN_ASGI.id,
    GRANIAN_WSGI.id,
    HYPERCORN.id,
    WAITRESS.id,
    UVICORN_WSGI.id,
    UVICORN_A2WSGI.id,
]
# Mix and match: each framework on each interface, one process each (the lesson is the model, not the cores)
MIX_FASTAPI = [UVICORN.id, GUNICORN_UVICORN_WORKER.id, GUNICORN_ASGI.id, DAPHNE.id, HYPERCORN.id, GRANIAN_ASGI.id]
MIX_FLASK = [GUNICORN_SYNC_1.id, GUNICORN_GTHREAD.id, GUNICORN_GEVENT.id, WAITRESS.id, GRANIAN_WSGI.id]
MIX_FLASK += [UVICORN_WSGI.id, UVICORN_A2WSGI.id]
MIX_DJANGO = [DJANGO_GUNICORN.id, DJANGO_GUNICORN_GTHREAD.id, DJANGO_UVICORN.id, DJANGO_DAPHNE.id]
MIX = MIX_FASTAPI + MIX_FLASK + MIX_DJANGO
# where an async def view is not FastAPI's: Flask's async extra on Gunicorn's workers, Django on both interfaces
ASYNC_VIEWS = [UVICORN.id, GUNICORN_SYNC_1.id, GUNICORN_GTHREAD.id, GUNICORN_GEVENT.id, *MIX_DJANGO]
BASELINES = [row.id for row in CONFIGS.values() if row.baseline]
IO_CURVE_SERVERS = [UVICORN.id, GUNICORN_SYNC_1.id, GUNICORN_GTHREAD.id]
# ours against the bare frameworks, one worker each: what our own code costs on hello and on the busy path
OURS_AND_BARE = [UVICORN.id, GUNICORN_SYNC_1.id, BARE_FASTAPI.id, BARE_FLASK.id]
LOCK_RUNS = [
    *grid(OURS_AND_BARE, "hello", [50]),
    *grid(OURS_AND_BARE, "merge", [50]),
    *grid([UVICORN.id, GUNICORN_SYNC_1.id], "merge-redis", [50]),
]
IO_BESIDE = [GUNICORN_GEVENT.id, GRANIAN_ASGI.id, HYPERCORN.id, WAITRESS.id, GUNICORN_SYNC_N.id]
# one process with an event loop, with threads, with greenlets, and make serve's sync workers
POOL_SERVERS = [UVICORN.id, GUNICORN_GTHREAD.id, GUNICORN_GEVENT.id, GUNICORN_SYNC_N.id]
CPU_SERVERS = [UVICORN.id, UVICORN_CORES.id, GUNICORN_SYNC_1.id, GUNICORN_SYNC_N.id, GUNICORN_GTHREAD.id]

SUITES: dict[str, list[Run]] = {
    "full": [
        *grid(OUR_SERVERS + BASELINES, "hello", [50]),
        *grid(IO_CURVE_SERVERS, "iowait", [1, 10, 50, 100, 200]),
        *grid(IO_BESIDE, "iowait", [100]),
        *grid([UVICORN.id], "blocking", [10, 100]),
        *grid([UVICORN.id], "threadpool", [10, 40, 100]),
        *grid(CPU_SERVERS, "cpu", [10]),
        *grid([UVICORN.id, GUNICORN_SYNC_1.id, GUNICORN_SYNC_N.id, BARE_FASTAPI.id, BARE_FLASK.id], "merge", [50]),
        *grid([UVICORN.id, GUNICORN_SYNC_1.id], "merge-redis", [50]),
        *grid([UVICORN.id, GUNICORN_SYNC_N.id], "mixed", [50]),
        Run(UVICORN.id, "hello", 50, access_log=True),
        Run(GUNICORN_SYNC_1.id, "hello", 50, access_log=True),
        Run(RAW_ASGI.id, "hello", 50, access_log=True),
    ],
    # make demo: the four lessons that matter most, each with the configuration its check needs
    "demo": [
        *grid(OURS_AND_BARE, "hello", [50]),
        *grid([UVICORN.id, GUNICORN_SYNC_1.id, GUNICORN_SYNC_N.id], "iowait", [100]),
        *grid([UVICORN.id], "blocking", [20]),
        *grid(OURS_AND_BARE, "merge", [50]),
    ],
    # what our code costs beside the bare frameworks: the lock checks, best run with --generator wrk
    "lock": LOCK_RUNS,
    # why the bare ASGI callable answers several times as fast as the bare WSGI one: best with --generator wrk
    "ceilings": grid([RAW_ASGI.id, RAW_ASGI_H11.id, RAW_WSGI.id, RAW_WSGI_GTHREAD.id], "hello", [50]),
    # The pool decides: 100 users, each query 100 ms on a pooled connection; the pool of 10, then larger ones
    "pool": [
        *grid(POOL_SERVERS, "pool", [100]),
        Run(UVICORN.id, "pool-blocking", 10),
        *grid(POOL_SERVERS, "pool-50", [100]),
        Run(UVICORN.id, "pool-100", 100),
    ],
    # latency against offered load (--generator open): each row's capacity closed-loop, then the open loop at
    # shares of it; the I/O wait and the pool, on one event loop, threads, greenlets and make serve's sync workers
    "open": [*grid(POOL_SERVERS, "iowait", [100]), *grid(POOL_SERVERS, "pool", [100])],
    # Mix and match: hello (best with --generator wrk) and the I/O waits of every framework on every interface
    "mix": [
        *grid(MIX, "hello", [50]),
        *grid(MIX, "iowait", [100]),
        *grid(ASYNC_VIEWS, "asyncwait", [100]),
        # a blocking call in an async def view: wherever an event loop runs the view, it stalls for everyone
        *grid([*MIX_FASTAPI, DJANGO_UVICORN.id, DJANGO_DAPHNE.id], "blocking", [10]),
    ],
}
