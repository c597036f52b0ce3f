"""Every server configuration the repository runs, as data: tests, the harness and `make serve` pick rows here.

Each row is one way to serve one app. `python -m benchmarks --list` prints them; `launcher.config(id)` finds one.
"""

from __future__ import annotations

import os
from dataclasses import replace

from launcher.servers import Interface, ServerConfig

CORES = os.cpu_count() or 1
# Gunicorn's advice for the number of sync workers, and wsgi_app/gunicorn.conf.py's default
SYNC_WORKERS = 2 * CORES + 1

OUR_ASGI = "asgi_app.main:app"
OUR_WSGI = "wsgi_app.main:app"


def uvicorn(row_id: str, summary: str, *options: str, workers: int = 1, app: str = OUR_ASGI) -> ServerConfig:
    """A row served by Uvicorn with asgi_app/uvicorn.conf.py and `options` after it."""
    return ServerConfig(row_id, "asgi", "uvicorn", app, workers, options, summary=summary)


def gunicorn(
    row_id: str, summary: str, *options: str, workers: int | None = 1, app: str = OUR_WSGI, package: str | None = None
) -> ServerConfig:
    """A row served by Gunicorn with wsgi_app/gunicorn.conf.py and `options` after it (a worker class, say)."""
    interface: Interface = "asgi" if app == OUR_ASGI else "wsgi"
    return ServerConfig(row_id, interface, "gunicorn", app, workers, options, package, summary=summary)


def baseline(row: ServerConfig, app: str) -> ServerConfig:
    """A ceiling to compare our apps with: the same server serving a bare app from benchmarks/baselines.py."""
    return replace(row, app=f"benchmarks.baselines:{app}", baseline=True)


UVICORN = uvicorn("uvicorn", "one event loop in one process")
UVICORN_W2 = uvicorn("uvicorn-w2", "two event-loop processes", workers=2)
UVICORN_CORES = uvicorn(f"uvicorn-w{CORES}", "one event-loop process per core", workers=CORES)
UVICORN_H11 = uvicorn("uvicorn-h11", "the pure-Python h11 parser, which bounds a request head", "--http", "h11")
UVICORN_LIMIT_CONCURRENCY_20 = uvicorn(
    "uvicorn-limit-concurrency-20", "503 past 20 open connections, slow clients included", "--limit-concurrency", "20"
)
# long-lived connections: limit_concurrency (1000 in uvicorn.conf.py) counts every open stream, so a server
# meant to hold thousands raises it, and the open-files limit with it (the launcher raises that to 20,000)
UVICORN_MANY_CONNECTIONS = uvicorn(
    "uvicorn-many-connections",
    "one event loop, limit-concurrency 20000, for open streams",
    "--limit-concurrency",
    "20000",
)
GUNICORN_SYNC_1 = gunicorn("gunicorn-sync-w1", "one sync worker")
GUNICORN_SYNC_2 = gunicorn("gunicorn-sync-w2", "two sync workers", workers=2)
# no --workers: gunicorn.conf.py chooses, as it does for `make serve`
GUNICORN_SYNC_N = gunicorn(f"gunicorn-sync-w{SYNC_WORKERS}", "2 x cores + 1 sync workers: make serve's", workers=None)
GUNICORN_GTHREAD = gunicorn("gunicorn-gthread", "one worker with 32 threads", "-k", "gthread", "--threads", "32")
GUNICORN_GTHREAD_W2_T4 = gunicorn(
    "gunicorn-gthread-w2-t4", "two workers with 4 threads each", "-k", "gthread", "--threads", "4", workers=2
)
GUNICORN_GEVENT = gunicorn(
    "gunicorn-gevent",
    "one worker, up to 1000 greenlets",
    "-k",
    "gevent",
    "--worker-connections",
    "1000",
    package="gevent",
)
GUNICORN_UVICORN_WORKER = gunicorn(
    "gunicorn-uvicorn-worker",
    "Gunicorn's master over one Uvicorn worker",
    *("-k", "uvicorn_worker.UvicornWorker"),
    app=OUR_ASGI,
    package="uvicorn_worker",
)
GRANIAN_ASGI = ServerConfig("granian-asgi", "asgi", "granian", OUR_ASGI, summary="Granian (Rust) serving ASGI")
GRANIAN_WSGI = ServerConfig("granian-wsgi", "wsgi", "granian", OUR_WSGI, summary="Granian (Rust) serving WSGI")
HYPERCORN = ServerConfig("hypercorn", "asgi", "hypercorn", OUR_ASGI, summary="Hypercorn, on asyncio")
WAITRESS = ServerConfig("waitress", "wsgi", "waitress", OUR_WSGI, summary="Waitress: one process, 4 threads")

# ceilings: the same answers with no app around them, then each framework with nothing but the routes
RAW_ASGI = baseline(uvicorn("raw-asgi", "a bare ASGI callable"), "raw_asgi")
RAW_WSGI = baseline(gunicorn("raw-wsgi", "a bare WSGI callable"), "raw_wsgi")
BARE_FASTAPI = baseline(uvicorn("bare-fastapi", "FastAPI with the routes and nothing else"), "bare_fastapi")
BARE_FLASK = baseline(gunicorn("bare-flask", "Flask with the routes and nothing else"), "bare_flask")
# the bare apps of the docs' first chapter
DOCS_RAW_ASGI = uvicorn("docs-raw-asgi", "docs_src/raw_asgi.py", app="docs_src.raw_asgi:app")
DOCS_RAW_WSGI = gunicorn("docs-raw-wsgi", "docs_src/raw_wsgi.py", app="docs_src.raw_wsgi:app")

CONFIGS: dict[str, ServerConfig] = {
    row.id: row
    for row in [
        UVICORN,
        UVICORN_W2,
        UVICORN_CORES,
        UVICORN_H11,
        UVICORN_LIMIT_CONCURRENCY_20,
        UVICORN_MANY_CONNECTIONS,
        GUNICORN_SYNC_1,
        GUNICORN_SYNC_2,
        GUNICORN_SYNC_N,
        GUNICORN_GTHREAD,
        GUNICORN_GTHREAD_W2_T4,
        GUNICORN_GEVENT,
        GUNICORN_UVICORN_WORKER,
        GRANIAN_ASGI,
        GRANIAN_WSGI,
        HYPERCORN,
        WAITRESS,
        RAW_ASGI,
        RAW_WSGI,
        BARE_FASTAPI,
        BARE_FLASK,
        DOCS_RAW_ASGI,
        DOCS_RAW_WSGI,
    ]
}

# what `make serve` runs, on the ports the docs use
SERVE = {"asgi": (UVICORN, 8000), "wsgi": (GUNICORN_SYNC_N, 8001)}


def config(config_id: str) -> ServerConfig:
    """The configuration with this id, or a KeyError that lists the ids there are."""
    try:
        return CONFIGS[config_id]
    except KeyError:
        raise KeyError(f"no server configuration {config_id!r}; there are {', '.join(CONFIGS)}") from None
