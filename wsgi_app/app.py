"""The Flask application factory. Compare with asgi_app/app.py: the same steps, in the same order."""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from flask_openapi3 import Info, OpenAPI

from common.database import new_pool
from common.lock import open_merge_lock
from common.logs import app_logger
from common.models import ValidationErrorBody
from common.settings import Settings, load_settings
from wsgi_app import auth, docs, errors, events, hardening, lab, routes

TITLE = "WSGI vs ASGI: the Flask app"


def gevent_patched() -> bool:
    """Whether this process runs under gevent's monkey-patching (Gunicorn's gevent worker)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("threading"))


class FlaskApp(OpenAPI):
    """flask-openapi3's app, running async views in a real thread where gevent has patched threads away."""

    def async_to_sync(self, func: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
        """Flask's way (asgiref: a new event loop in a new thread per call), except under gevent.

        Under gevent a "thread" is a greenlet in the one real thread, so the loop asgiref starts for one request
        is running when the next request's view starts its own, and asgiref refuses it ("You cannot use
        AsyncToSync in the same thread as an async event loop"): under 100 users nearly every answer was a 500
        before this (see Views across the interfaces). A real thread of gevent's pool (10 threads) runs each
        coroutine to its end instead, while the request's greenlet waits for it without holding up the others.
        """
        if not gevent_patched():
            return super().async_to_sync(func)
        from gevent import get_hub

        def run(*args: Any, **kwargs: Any) -> Any:
            # in this request's context (contextvars): Flask's request and app contexts live there
            context = contextvars.copy_context()
            return get_hub().threadpool.apply(context.run, (asyncio.run, func(*args, **kwargs)))

        return run


# --8<-- [start:create_app]
def create_app(settings: Settings | None = None) -> FlaskApp:
    """Build the Flask app; each worker process builds its own, with its own merge lock."""
    settings = settings or load_settings()
    app_logger("wsgi_app", settings.log_level)
    # a Flask app has no lifespan: the lock opens here and closes when the worker process exits
    merge_lock = open_merge_lock(settings.lock_url_for("wsgi"), settings.lock_lease_seconds)
    atexit.register(merge_lock.close)
    # /lab/db's pool of PostgreSQL connections (None without DATABASE_URL): each worker process builds the app,
    # so each opens its own here, connecting in the background, and closes it when it exits
    db_pool = new_pool(settings)
    if db_pool is not None:
        db_pool.open()
        atexit.register(db_pool.close)

    # doc_ui=False: flask-openapi3 still writes the OpenAPI document, docs.py serves it at FastAPI's URLs
    app = FlaskApp(
        __name__,
        info=Info(title=TITLE, version="1.0.0"),
        doc_ui=False,
        static_folder=None,
        validation_error_status=422,
        validation_error_model=ValidationErrorBody,
        validation_error_callback=errors.validation_error,
        security_schemes=auth.SECURITY_SCHEMES,
    )
    app.extensions["settings"] = settings
    app.extensions["merge_lock"] = merge_lock
    app.extensions["db_pool"] = db_pool
    # FastAPI keeps a model's field order in its JSON; Flask sorts keys unless told not to
    app.json.sort_keys = False  # type: ignore[attr-defined]

    # who may merge (wsgi_app/auth.py): its hook first, before any rule reads a body
    auth.init_app(app, settings)
    # what makes the two apps answer hostile input alike; before the routes: Flask settles OPTIONS per route
    hardening.init_app(app, settings)
    # each module wires its own part; the OpenAPI document after the routes it describes
    for part in (events, routes, lab, errors, docs):
        part.init_app(app, settings)
    return app
    # --8<-- [end:create_app]
