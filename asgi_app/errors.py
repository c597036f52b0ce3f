"""Every error is JSON with a `detail`, including the ones Starlette would answer in plain text."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from common.http import invalid_json_issue, too_deep_issue
from common.lock import LockUnavailableError

logger = logging.getLogger("asgi_app")


async def lock_unavailable(request: Request, error: Exception) -> JSONResponse:
    """Answer 503 when the lock backend cannot be reached."""
    logger.error("lock backend unavailable: %s", error)
    return JSONResponse({"detail": f"Lock backend unavailable: {error}"}, status_code=503, headers={"Retry-After": "1"})


async def internal_error(request: Request, error: Exception) -> JSONResponse:
    """Answer 500 in JSON; the traceback goes to the log, not to the client."""
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)


class EscapedJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped (`\\u00e9`), as Flask sends it."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


async def validation_error(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422, escaped: a 422 echoes the input, and one with a lone surrogate cannot be sent as UTF-8."""
    # FastAPI's own handler answers 500 for {"branch_name": "\\ud800"}: pydantic refuses the string, then
    # the UTF-8 encoder refuses to echo it back in the error
    assert isinstance(error, RequestValidationError)
    return EscapedJSONResponse({"detail": jsonable_encoder(error.errors())}, status_code=422)


async def http_error(request: Request, error: Exception) -> Response:
    """FastAPI's handler, except that a body not in UTF-8, or nested too deep, is malformed JSON (422), not a 400."""
    # FastAPI turns json.loads's UnicodeDecodeError and RecursionError into a generic 400 "error parsing the body"
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400 and isinstance(error.__cause__, UnicodeDecodeError):
        return JSONResponse({"detail": [invalid_json_issue(error.__cause__)]}, status_code=422)
    if error.status_code == 400 and isinstance(error.__cause__, RecursionError):
        # the same answer as require_json_body gives to a body that json.loads could still parse
        return JSONResponse({"detail": [too_deep_issue(await request.body())]}, status_code=422)
    if error.status_code == 405:
        error.headers = {**(error.headers or {}), "Allow": ", ".join(sorted(_allowed_methods(request)))}
    return await http_exception_handler(request, error)


def _allowed_methods(request: Request) -> set[str]:
    # Starlette's Allow names only the first route on the path (GET /merge and POST /merge are two
    # routes), so ask every route about every method; HEAD comes with GET (HeadAsGetMiddleware)
    allowed = {
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        for route in request.app.router.routes
        if route.matches({**request.scope, "method": method})[0] == Match.FULL
    }
    return allowed | {"HEAD"} if "GET" in allowed else allowed


def init_app(app: FastAPI) -> None:
    """Register the JSON error handlers; 404 and 405 already answer JSON in FastAPI."""
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(LockUnavailableError, lock_unavailable)
    app.add_exception_handler(Exception, internal_error)
