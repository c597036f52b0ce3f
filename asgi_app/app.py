"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from asgi_app import errors, lab, routes
from asgi_app.middleware import BodySizeLimitMiddleware, HeadAsGetMiddleware
from common.lock import open_merge_lock
from common.logs import app_logger
from common.settings import Settings, load_settings
from common.swagger_ui import SWAGGER_CSS, SWAGGER_FAVICON, SWAGGER_JS, SWAGGER_UI_URL, swagger_ui_directory

TITLE = "WSGI vs ASGI: the FastAPI app"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the FastAPI app; each worker process builds its own, with its own merge lock."""
    settings = settings or load_settings()
    app_logger("asgi_app", settings.log_level)
    # opened here rather than in the lifespan, so that a bad LOCK_URL stops the server with one line
    # instead of a lifespan traceback; the lifespan closes it
    merge_lock = open_merge_lock(settings.lock_url_for("asgi"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            merge_lock.close()

    # docs_url=None: FastAPI's own /docs loads Swagger UI from a CDN; ours below serves installed files
    app = FastAPI(title=TITLE, version="1.0.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.merge_lock = merge_lock
    app.include_router(routes.router)
    if settings.lab_endpoints:
        app.include_router(lab.router)
    errors.init_app(app)

    app.mount(SWAGGER_UI_URL, StaticFiles(directory=swagger_ui_directory()), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{TITLE} - Swagger UI",
            swagger_js_url=SWAGGER_JS,
            swagger_css_url=SWAGGER_CSS,
            swagger_favicon_url=SWAGGER_FAVICON,
        )

    # the last one added runs first: limit the body before anything reads it
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    return app
