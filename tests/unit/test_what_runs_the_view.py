"""What runs a view on each row of the catalog: the concurrency model the charts colour."""

from __future__ import annotations

import inspect

from asgi_app import lab, routes
from docs_src.django_project import urls
from launcher.catalog import DJANGO_ASGI, OUR_ASGI, PLAIN_DEF_VIEWS, config, what_runs_the_view

# what runs the view of each path on each row of the catalog (a query string is ignored)
RUNNERS = {
    ("uvicorn", "/lab/io?ms=100"): "event loop",
    ("uvicorn", "/lab/threadpool?ms=100"): "thread",
    ("uvicorn", "/lab/cpu?ms=50"): "thread",
    ("gunicorn-asgi", "/lab/blocking?ms=100"): "event loop",
    ("gunicorn-sync-w1", "/lab/io?ms=100"): "process",
    ("gunicorn-sync-w1", "/lab/async-io?ms=100"): "process",
    ("gunicorn-gthread", "/lab/io?ms=100"): "thread",
    ("gunicorn-gevent", "/lab/io?ms=100"): "greenlet",
    ("waitress", "/lab/io?ms=100"): "thread",
    ("granian-wsgi", "/public/test"): "thread",
    ("uvicorn-wsgi", "/lab/io?ms=100"): "thread",
    ("uvicorn-a2wsgi", "/lab/async-io?ms=100"): "thread",
    ("django-uvicorn", "/lab/io?ms=100"): "thread",
    ("django-uvicorn", "/lab/async-io?ms=100"): "event loop",
    ("django-daphne", "/public/test"): "thread",
    ("django-gunicorn-gthread", "/lab/async-io?ms=100"): "thread",
    ("raw-asgi", "/public/test"): "event loop",
}


def test_what_runs_the_view() -> None:
    assert {(row, path): what_runs_the_view(config(row), path) for row, path in RUNNERS} == RUNNERS


def test_the_plain_def_views_are_the_apps_own() -> None:
    fastapi_routes = [*lab.router.routes, *routes.router.routes]
    fastapi_plain = {
        route.path
        for route in fastapi_routes
        if hasattr(route, "endpoint") and not inspect.iscoroutinefunction(route.endpoint)
    }
    django_plain = {
        f"/{pattern.pattern}" for pattern in urls.urlpatterns if not inspect.iscoroutinefunction(pattern.callback)
    }
    assert {OUR_ASGI: fastapi_plain, DJANGO_ASGI: django_plain} == PLAIN_DEF_VIEWS
