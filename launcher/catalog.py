"""Every server configuration the repository runs, as data: tests, the harness and `make serve` pick rows here.

Each row is one way to serve one app. `python -m benchmarks --list` prints them; `launcher.config(id)` finds one.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Literal

from launcher.servers import Interface, ServerConfig

CORES = os.cpu_count() or 1
# Gunicorn's advice for the number of sync workers, and wsgi_app/gunicorn.conf.py's default
SYNC_WORKERS = 2 * CORES + 1

OUR_ASGI = "asgi_app.main:app"
OUR_WSGI = "wsgi_app.main:app"
# our Flask app behind a WSGI-to-ASGI adapter: docs_src/flask_on_asgi.py
FLASK_ON_ASGI = "docs_src.flask_on_asgi:app"
# the framework of each app a row may serve; the rest are bare apps: docs_src/baselines.py's ceilings, and docs_src/
FRAMEWORKS = {OUR_ASGI: "FastAPI", OUR_WSGI: "Flask", FLASK_ON_ASGI: "Flask"}
# a minimal Django project on both interfaces: docs_src/django_project/
DJANGO_WSGI = "docs_src.django_project.wsgi:application"
DJANGO_ASGI = "docs_src.django_project.asgi:application"


def uvicorn(
    row_id: str, summary: str, *options: str, workers: int = 1, app: str = OUR_ASGI, package: str | None = None
) -> ServerConfig:
    """A row served by Uvicorn with asgi_app/uvicorn.conf.py and `options` after it."""
    interface: Interface = "wsgi" if "--interface" in options and "wsgi" in options else "asgi"
    return ServerConfig(row_id, interface, "uvicorn", app, workers, options, package, summary=summary)


def gunicorn(
    row_id: str, summary: str, *options: str, workers: int | None = 1, app: str = OUR_WSGI, package: str | None = None
) -> ServerConfig:
    """A row served by Gunicorn with wsgi_app/gunicorn.conf.py and `options` after it (a worker class, say)."""
    interface: Interface = "asgi" if app in (OUR_ASGI, DJANGO_ASGI) else "wsgi"
    return ServerConfig(row_id, interface, "gunicorn", app, workers, options, package, summary=summary)


def baseline(row: ServerConfig, app: str) -> ServerConfig:
    """A ceiling to compare our apps with: the same server serving a bare app from docs_src/baselines.py."""
    return replace(row, app=f"docs_src.baselines:{app}", baseline=True)


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
# Gunicorn 24 and later have an ASGI worker of their own (gunicorn/workers/gasgi.py): an asyncio loop per worker
GUNICORN_ASGI = gunicorn("gunicorn-asgi", "Gunicorn's own ASGI worker (-k asgi)", "-k", "asgi", app=OUR_ASGI)
DAPHNE = ServerConfig("daphne", "asgi", "daphne", OUR_ASGI, summary="Daphne, Django Channels' ASGI server, on Twisted")
# our Flask app on an ASGI server, a pool of threads under the event loop: Uvicorn's --interface wsgi is a2wsgi
# with 10 threads when a2wsgi is installed (its own WSGI code is deprecated), docs_src/flask_on_asgi.py has 32
UVICORN_WSGI = uvicorn(
    "uvicorn-wsgi", "Uvicorn serving the Flask app, --interface wsgi", "--interface", "wsgi", app=OUR_WSGI
)
UVICORN_A2WSGI = uvicorn(
    "uvicorn-a2wsgi", "Uvicorn serving the Flask app through a2wsgi, 32 threads", app=FLASK_ON_ASGI, package="a2wsgi"
)
DJANGO_GUNICORN = gunicorn("django-gunicorn-sync", "Django on WSGI, one sync worker", app=DJANGO_WSGI, package="django")
DJANGO_GUNICORN_GTHREAD = gunicorn(
    "django-gunicorn-gthread",
    "Django on WSGI, one worker with 32 threads",
    *("-k", "gthread", "--threads", "32"),
    app=DJANGO_WSGI,
    package="django",
)
DJANGO_UVICORN = uvicorn("django-uvicorn", "Django on ASGI, Uvicorn", app=DJANGO_ASGI, package="django")
DJANGO_DAPHNE = ServerConfig(
    "django-daphne", "asgi", "daphne", DJANGO_ASGI, summary="Django on ASGI, Daphne", package="django"
)
GRANIAN_ASGI = ServerConfig("granian-asgi", "asgi", "granian", OUR_ASGI, summary="Granian (Rust) serving ASGI")
GRANIAN_WSGI = ServerConfig("granian-wsgi", "wsgi", "granian", OUR_WSGI, summary="Granian (Rust) serving WSGI")
HYPERCORN = ServerConfig("hypercorn", "asgi", "hypercorn", OUR_ASGI, summary="Hypercorn, on asyncio")
WAITRESS = ServerConfig("waitress", "wsgi", "waitress", OUR_WSGI, summary="Waitress: one process, 4 threads")

# ceilings: the same answers with no app around them, then each framework with nothing but the routes
RAW_ASGI = baseline(uvicorn("raw-asgi", "a bare ASGI callable"), "raw_asgi")
RAW_WSGI = baseline(gunicorn("raw-wsgi", "a bare WSGI callable"), "raw_wsgi")
# why the two ceilings differ: Uvicorn's pure-Python parser, and a Gunicorn worker that keeps connections open
RAW_ASGI_H11 = baseline(uvicorn("raw-asgi-h11", "a bare ASGI callable, h11 parser", "--http", "h11"), "raw_asgi")
RAW_WSGI_GTHREAD = baseline(
    gunicorn("raw-wsgi-gthread", "a bare WSGI callable, gthread: keep-alive", "-k", "gthread", "--threads", "32"),
    "raw_wsgi",
)
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
        GUNICORN_ASGI,
        GRANIAN_ASGI,
        GRANIAN_WSGI,
        HYPERCORN,
        WAITRESS,
        DAPHNE,
        UVICORN_WSGI,
        UVICORN_A2WSGI,
        DJANGO_GUNICORN,
        DJANGO_GUNICORN_GTHREAD,
        DJANGO_UVICORN,
        DJANGO_DAPHNE,
        RAW_ASGI,
        RAW_ASGI_H11,
        RAW_WSGI,
        RAW_WSGI_GTHREAD,
        BARE_FASTAPI,
        BARE_FLASK,
        DOCS_RAW_ASGI,
        DOCS_RAW_WSGI,
    ]
}

# what `make serve` runs, on the ports the docs use
SERVE = {"asgi": (UVICORN, 8000), "wsgi": (GUNICORN_SYNC_N, 8001)}


def framework(row: ServerConfig) -> str:
    """The framework of the app a row serves: FastAPI, Flask or Django, or "none" for a bare app."""
    if row.app in (DJANGO_ASGI, DJANGO_WSGI):
        return "Django"
    return "none" if row.baseline else FRAMEWORKS.get(row.app, "none")


# what runs a view, the concurrency model a chart colours: how many requests can wait at once depends on it
Runner = Literal["process", "thread", "greenlet", "event loop"]
# the plain `def` views of an ASGI app, which the server's event loop hands to a thread (FastAPI: AnyIO's pool of
# 40; Django: asgiref's sync_to_async); every other view of an ASGI app here is an `async def` the loop runs
PLAIN_DEF_VIEWS = {
    OUR_ASGI: {"/lab/threadpool", "/lab/cpu"},
    DJANGO_ASGI: {"/public/test", "/lab/io"},
}


def what_runs_a_wsgi_view(row: ServerConfig) -> Runner:
    """What runs a WSGI view of this row, from its start to its end: a sync worker's process, a greenlet, a thread."""
    worker = row.options[row.options.index("-k") + 1] if "-k" in row.options else "sync"
    if row.server == "gunicorn" and worker == "sync":
        return "process"
    # gthread; waitress; Granian's blocking threads; a2wsgi's pool behind an event loop (uvicorn --interface wsgi)
    return "greenlet" if worker == "gevent" else "thread"


def what_runs_the_view(row: ServerConfig, path: str) -> Runner:
    """What runs the view of `path` (a query string is ignored) on this row: an `async def` view of an ASGI app
    runs on the event loop; a plain def there runs in a thread; a WSGI view (Flask's async views included, which
    asgiref runs to their end for the request) holds whatever the server gave the request."""
    route = path.split("?")[0]
    if row.interface == "wsgi" or row.app == FLASK_ON_ASGI:
        return what_runs_a_wsgi_view(row)
    return "thread" if route in PLAIN_DEF_VIEWS.get(row.app, set()) else "event loop"


def serves_our_api(row: ServerConfig) -> bool:
    """Whether the row serves one of our two apps, the whole contract: FastAPI, or Flask directly or adapted."""
    return row.app in FRAMEWORKS


def config(config_id: str) -> ServerConfig:
    """The configuration with this id, or a KeyError that lists the ids there are."""
    try:
        return CONFIGS[config_id]
    except KeyError:
        raise KeyError(f"no server configuration {config_id!r}; there are {', '.join(CONFIGS)}") from None
