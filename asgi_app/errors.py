"""Every error is JSON with a `detail`, including the ones Starlette would answer in plain text."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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


def init_app(app: FastAPI) -> None:
    """Register the JSON error handlers; 404, 405 and 422 already answer JSON in FastAPI."""
    app.add_exception_handler(LockUnavailableError, lock_unavailable)
    app.add_exception_handler(Exception, internal_error)
