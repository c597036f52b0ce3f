"""The Flask application factory."""

from __future__ import annotations

import atexit

from flask_openapi3 import Info, OpenAPI

from common.lock import open_merge_lock
from common.logs import app_logger
from common.models import ValidationErrorBody
from common.settings import Settings, load_settings
from wsgi_app import docs, errors, lab, routes

TITLE = "WSGI vs ASGI: the Flask app"


def create_app(settings: Settings | None = None) -> OpenAPI:
    """Build the Flask app; the merge lock opens here, once per worker process."""
    settings = settings or load_settings()
    app_logger("wsgi_app", settings.log_level)

    # doc_ui=False: flask-openapi3 still builds the OpenAPI document; docs.py serves it at FastAPI's URLs
    app = OpenAPI(
        __name__,
        static_folder=None,
        info=Info(title=TITLE, version="1.0.0"),
        doc_ui=False,
        validation_error_status=422,
        validation_error_model=ValidationErrorBody,
        validation_error_callback=errors.validation_error,
    )
    # werkzeug refuses a longer Content-Length with 413 before reading, as the ASGI middleware does;
    # the extra byte lets errors.py tell a chunked body that was cut at the limit from one that fits
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes + 1
    # OPTIONS is a wrong method here, as it is in FastAPI, so it gets a 405 too
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["settings"] = settings
    merge_lock = open_merge_lock(settings.lock_url_for("wsgi"))
    app.extensions["merge_lock"] = merge_lock
    atexit.register(merge_lock.close)

    app.register_api(routes.api)
    if settings.lab_endpoints:
        app.register_api(lab.api)
    errors.init_app(app)
    docs.init_app(app, title=TITLE)
    return app
