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

from asgi_app.methods import allowed_methods
from common.http import CLOSE_CONNECTION, BodyTooLargeError, BodyValidationError, UnsupportedMediaTypeError
from common.lock import LockUnavailableError
from common.settings import Settings

logger = logging.getLogger("asgi_app")


class EscapedJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped (`\\u00e9`), as Flask sends it."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


async def validation_error(request: Request, error: Exception) -> Response:
    """Answer 422 in FastAPI's shape, escaped: a 422 echoes the input, which may not be sendable as UTF-8."""
    # FastAPI's own handler answers 500 for {"branch_name": "\\ud800"}: pydantic refuses the string, then
    # the UTF-8 encoder refuses to echo it back in the error
    assert isinstance(error, RequestValidationError)
    return EscapedJSONResponse({"detail": jsonable_encoder(error.errors())}, status_code=422)


async def body_invalid(request: Request, error: Exception) -> Response:
    """Answer 422, as for a body that fails the model, when the body is not a JSON object at all."""
    assert isinstance(error, BodyValidationError)
    return await validation_error(request, RequestValidationError(error.issues))


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
    if error.status_code == 405:
        error.headers = {**(error.headers or {}), "Allow": ", ".join(sorted(allowed_methods(request)))}
    return await http_exception_handler(request, error)


async def lock_unavailable(request: Request, error: Exception) -> Response:
    """Answer 503 when the lock backend cannot be reached."""
    logger.error("lock backend unavailable: %s", error)
    return JSONResponse({"detail": f"Lock backend unavailable: {error}"}, status_code=503, headers={"Retry-After": "1"})


async def internal_error(request: Request, error: Exception) -> Response:
    """Answer 500 in JSON; the traceback goes to the log, not to the client."""
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)


def init_app(app: FastAPI, settings: Settings) -> None:
    """Register the JSON error handlers."""
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(BodyValidationError, body_invalid)
    app.add_exception_handler(BodyTooLargeError, body_too_large)
    app.add_exception_handler(UnsupportedMediaTypeError, unsupported_media_type)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(LockUnavailableError, lock_unavailable)
    app.add_exception_handler(Exception, internal_error)
