"""The OpenAPI document and Swagger UI of the Flask app, with Swagger UI served from the installed package.

Compare with asgi_app/docs.py: flask-openapi3 writes the document; both serve the same Swagger UI page.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Blueprint, render_template_string
from flask_openapi3 import OpenAPI, Schema
from pydantic import BaseModel

from common.models import HTTPError, ValidationErrorBody
from common.settings import Settings
from common.swagger_ui import SWAGGER_CSS, SWAGGER_FAVICON, SWAGGER_JS, SWAGGER_UI_URL, swagger_ui_directory

# the page FastAPI's get_swagger_ui_html writes, so that /docs is the same page on both apps
SWAGGER_UI_PAGE = """<!DOCTYPE html>
<html>
<head>
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link type="text/css" rel="stylesheet" href="{{ css_url }}">
<link rel="shortcut icon" href="{{ favicon_url }}">
<title>{{ title }}</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{{ js_url }}"></script>
<script>
const ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
})
</script>
</body>
</html>
"""


SCHEMA_REF = "#/components/schemas/{model}"
# FastAPI's description of the answer a route returns, where the route gives none of its own
SUCCESS_DESCRIPTION = "Successful Response"
# the error bodies documented() names; flask-openapi3 puts a model's schema in the document only where an answer
# is the bare model, which would describe it by its status's reason phrase ("Conflict") instead of ours
ERROR_BODIES = (HTTPError, ValidationErrorBody)


def documented(errors: dict[int, tuple[type[BaseModel], str]]) -> dict[Any, Any]:
    """Turn a table of error answers from common.models into flask-openapi3's `responses`, descriptions kept."""
    return {
        status: {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": SCHEMA_REF.format(model=model.__name__)}}},
        }
        for status, (model, text) in errors.items()
    }


def _successes_described_as_fastapi_does(document: dict[str, Any]) -> dict[str, Any]:
    """Describe a route's own answer as FastAPI does, where flask-openapi3 wrote its status's reason phrase."""
    for path_item in document["paths"].values():
        for operation in path_item.values():
            for status, answer in operation["responses"].items():
                if status.startswith("2") and answer["description"] == HTTPStatus(int(status)).phrase:
                    answer["description"] = SUCCESS_DESCRIPTION
    return document


def _without_phantom_422s(document: dict[str, Any]) -> dict[str, Any]:
    """Drop the 422 that flask-openapi3 adds to every operation, even one that takes no input."""
    # FastAPI documents a 422 only where there is something to validate; so do we
    for path_item in document["paths"].values():
        for operation in path_item.values():
            if "requestBody" not in operation and not operation.get("parameters"):
                operation["responses"].pop("422", None)
    return document


def init_app(app: OpenAPI, settings: Settings) -> None:
    """Serve `/openapi.json`, `/docs` and the Swagger UI files at FastAPI's URLs; none of them is in the document."""
    docs = Blueprint("docs", __name__, static_folder=swagger_ui_directory(), static_url_path=SWAGGER_UI_URL)

    for model in ERROR_BODIES:
        app.components_schemas[model.__name__] = Schema(**model.model_json_schema(ref_template=SCHEMA_REF))
    document = _without_phantom_422s(_successes_described_as_fastapi_does(app.api_doc))

    @docs.get("/openapi.json")
    def openapi_document() -> dict[str, Any]:
        return document

    @docs.get("/docs")
    def swagger_ui() -> str:
        return render_template_string(
            SWAGGER_UI_PAGE,
            title=f"{app.info.title} - Swagger UI",
            css_url=SWAGGER_CSS,
            js_url=SWAGGER_JS,
            favicon_url=SWAGGER_FAVICON,
        )

    app.register_blueprint(docs)
