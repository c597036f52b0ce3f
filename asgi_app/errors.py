"""Every error of the FastAPI app is JSON with a `detail`, including those Starlette would answer in plain text.

Compare with wsgi_app/errors.py: the same answers, from each framework's own error handlers.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from asgi_app.hardening import allowed_methods
from common.database import DatabaseUnavailableError
from common.http import (
    CLOSE_CONNECTION,
    LOCK_UNAVAILABLE,
    BodyIncompleteError,
    BodyTooLargeError,
    InputValidationError,
    UnsupportedMediaTypeError,
)
from common.json_body import strict_issues
from common.lock import LockUnavailableError
from common.settings import Settings

logger = logging.getLogger("asgi_app")


class EscapedJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped (`\u00e9`), as Flask sends it: the two apps' 422s match."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


async def validation_error(request: Request, error: Exception) -> Response:
    """Answer 422 in FastAPI's shape, with every echoed input strict JSON (common.json_body.strict_issues)."""
    # FastAPI's own handler answers 500 for {"branch_name": "\ud800"}: pydantic refuses the string, then
    # the UTF-8 encoder refuses to echo it back in the error
    assert isinstance(error, RequestValidationError)
    return EscapedJSONResponse({"detail": strict_issues(jsonable_encoder(error.errors()))}, status_code=422)


async def input_invalid(request: Request, error: Exception) -> Response:
    """Answer 422, as for a body that fails the model, for a body or query the input rules refuse first."""
    assert isinstance(error, InputValidationError)
    return await validation_error(request, RequestValidationError(error.issues))


async def body_incomplete(request: Request, error: Exception) -> Response:
    """Answer 400 for a body that never arrived whole, and close: the connection's framing is lost."""
    assert isinstance(error, BodyIncompleteError)
    return JSONResponse({"detail": error.detail}, status_code=400, headers=CLOSE_CONNECTION)


async def body_too_large(request: Request, error: Exception) -> Response:
    """Answer 413 naming the limit, and close: the rest of the body was never read."""
    assert isinstance(error, BodyTooLargeError)
    return JSONResponse({"detail": error.detail}, status_code=413, headers=CLOSE_CONNECTION)


async def unsupported_media_type(request: Request, error: Exception) -> Response:
    """Answer 415 naming the header to send."""
    assert isinstance(error, UnsupportedMediaTypeError)
    return JSONResponse({"detail": error.detail}, status_code=415)


async def http_error(request: Request, error: Exception) -> Response:
    """Answer an HTTP error as FastAPI does, with the full list of methods in a 405's `Allow`."""
    assert isinstance(error, HTTPException)
    if error.status_code == 405 and (allowed := allowed_methods(request)):
        # none allowed: the path belongs to a mounted app (the Swagger UI files), whose own 405 says them
        error.headers = {**(error.headers or {}), "Allow": ", ".join(sorted(allowed))}
    return await http_exception_handler(request, error)


async def lock_unavailable(request: Request, error: Exception) -> Response:
    """Answer 503 when the lock backend cannot be reached."""
    logger.error("lock backend unavailable: %s", error)
    return JSONResponse({"detail": f"{LOCK_UNAVAILABLE}{error}"}, status_code=503, headers={"Retry-After": "1"})


async def database_unavailable(request: Request, error: Exception) -> Response:
    """Answer 503 when /lab/db has no PostgreSQL, or no pooled connection came free in time."""
    assert isinstance(error, DatabaseUnavailableError)
    return JSONResponse({"detail": error.detail}, status_code=503, headers=error.headers)


async def internal_error(request: Request, error: Exception) -> Response:
    """Answer 500 in JSON; the traceback goes to the log, not to the client."""
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)


def init_app(app: FastAPI, settings: Settings) -> None:
    """Register the JSON error handlers."""
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(InputValidationError, input_invalid)
    app.add_exception_handler(BodyIncompleteError, body_incomplete)
    app.add_exception_handler(BodyTooLargeError, body_too_large)
    app.add_exception_handler(UnsupportedMediaTypeError, unsupported_media_type)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(LockUnavailableError, lock_unavailable)
    app.add_exception_handler(DatabaseUnavailableError, database_unavailable)
    app.add_exception_handler(Exception, internal_error)
