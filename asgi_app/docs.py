"""The OpenAPI document and Swagger UI of the FastAPI app, with Swagger UI served from the installed package.

Compare with wsgi_app/docs.py: FastAPI writes the document itself; both serve the same Swagger UI page.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from common.settings import Settings
from common.swagger_ui import SWAGGER_CSS, SWAGGER_FAVICON, SWAGGER_JS, SWAGGER_UI_URL, swagger_ui_directory


def documented(errors: dict[int, tuple[type[BaseModel], str]]) -> dict[int | str, dict[str, Any]]:
    """Turn a table of error answers from common.models into FastAPI's `responses`."""
    return {status: {"model": model, "description": text} for status, (model, text) in errors.items()}


def init_app(app: FastAPI, settings: Settings) -> None:
    """Serve `/docs` and the Swagger UI files; FastAPI serves `/openapi.json` itself."""
    app.mount(SWAGGER_UI_URL, StaticFiles(directory=swagger_ui_directory()), name="swagger-ui")

    # FastAPI's own /docs (docs_url, turned off in create_app) loads Swagger UI from a CDN
    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=SWAGGER_JS,
            swagger_css_url=SWAGGER_CSS,
            swagger_favicon_url=SWAGGER_FAVICON,
        )
