"""The Flask application factory. Compare with asgi_app/app.py: the same steps, in the same order."""

from __future__ import annotations

import atexit

from flask_openapi3 import Info, OpenAPI

from common.lock import open_merge_lock
from common.logs import app_logger
from common.models import ValidationErrorBody
from common.settings import Settings, load_settings
from wsgi_app import docs, errors, events, inputs, lab, methods, routes, strict

TITLE = "WSGI vs ASGI: the Flask app"


def create_app(settings: Settings | None = None) -> OpenAPI:
    """Build the Flask app; each worker process builds its own, with its own merge lock."""
    settings = settings or load_settings()
    app_logger("wsgi_app", settings.log_level)
    # a Flask app has no lifespan: the lock opens here and closes when the worker process exits
    merge_lock = open_merge_lock(settings.lock_url_for("wsgi"), settings.lock_lease_seconds)
    atexit.register(merge_lock.close)

    # doc_ui=False: flask-openapi3 still writes the OpenAPI document, docs.py serves it at FastAPI's URLs
    app = OpenAPI(
        __name__,
        info=Info(title=TITLE, version="1.0.0"),
        doc_ui=False,
        static_folder=None,
        validation_error_status=422,
        validation_error_model=ValidationErrorBody,
        validation_error_callback=errors.validation_error,
    )
    app.extensions["settings"] = settings
    app.extensions["merge_lock"] = merge_lock
    # FastAPI keeps a model's field order in its JSON; Flask sorts keys unless told not to
    app.json.sort_keys = False  # type: ignore[attr-defined]

    # each module wires its own part, in this order: each middleware wraps the ones before it, so strict's
    # checks come first and the body limit last; the methods before the routes (Flask decides at each route
    # whether it answers OPTIONS), the OpenAPI document after them
    for part in (inputs, methods, strict, events, routes, lab, errors, docs):
        part.init_app(app, settings)
    return app
