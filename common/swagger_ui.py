"""Where the installed Swagger UI files live, so that `/docs` works with no internet."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

# both apps serve the files at this path, so their /docs pages load the same Swagger UI build
SWAGGER_UI_URL = "/static/swagger-ui"
SWAGGER_JS = f"{SWAGGER_UI_URL}/js/swagger-ui-bundle.js"
SWAGGER_CSS = f"{SWAGGER_UI_URL}/css/swagger-ui.css"
SWAGGER_FAVICON = f"{SWAGGER_UI_URL}/images/swagger.svg"


def swagger_ui_directory() -> Path:
    """Return the folder of Swagger UI 5 files that the flask-openapi3-swagger package installs."""
    # find_spec locates the package without importing it, so the ASGI app does not load Flask
    spec = find_spec("flask_openapi3_swagger")
    if spec is None or spec.origin is None:
        raise SystemExit("Swagger UI files not found: install the flask-openapi3-swagger package (make install)")
    return Path(spec.origin).parent / "templates" / "swagger"
