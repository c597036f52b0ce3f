"""The method rules of the FastAPI app: every 405 lists the methods in `Allow` (HEAD like GET is request_rules.py's).

Compare with wsgi_app/hardening/__init__.py: Flask does both itself; what is left there is to refuse OPTIONS.
"""

from __future__ import annotations

from fastapi import Request
from starlette.routing import Match


def allowed_methods(request: Request) -> set[str]:
    """Every method some route of the app answers at this request's path, for a 405's `Allow`."""
    # Starlette's Allow names only the first route on the path (GET /merge and POST /merge are two
    # routes), so ask every route about every method; HEAD comes with GET (RequestRulesMiddleware)
    allowed = {
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        for route in request.app.router.routes
        if route.matches({**request.scope, "method": method})[0] == Match.FULL
    }
    return allowed | {"HEAD"} if "GET" in allowed else allowed
