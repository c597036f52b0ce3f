"""Every error of the Flask app is JSON with a `detail`, in FastAPI's shapes, instead of Flask's HTML pages.

Compare with asgi_app/errors.py: the same answers, from each framework's own error handlers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from werkzeug import exceptions
from werkzeug.sansio.response import Response as SansIOResponse

from common.http import CLOSE_CONNECTION, BodyTooLargeError, BodyValidationError, UnsupportedMediaTypeError
from common.lock import LockUnavailableError
from common.models import REQUEST_LOCATIONS
from common.settings import Settings

logger = logging.getLogger("wsgi_app")


class HTTPException(exceptions.HTTPException):
    """An error answered as JSON with a `detail`, raised as FastAPI's HTTPException is."""

    def __init__(self, status_code: int, detail: Any = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.code = status_code
        self.detail = detail
        self.headers = dict(headers or {})

    def json_response(self) -> Response:
        """The JSON answer; Flask's jsonify escapes every non-ASCII character, so any input can be echoed."""
        response = jsonify(detail=self.detail)
        response.status_code = self.code or 500
        response.headers.update(self.headers)
        return response


class RequestValidationError(HTTPException):
    """A 422 that lists every problem in FastAPI's shape, raised as FastAPI's RequestValidationError is."""

    def __init__(self, issues: list[dict[str, Any]]) -> None:
        super().__init__(422, detail=issues)


def validation_error(error: ValidationError) -> Response:
    """Answer 422 in FastAPI's shape: flask-openapi3 reports locations inside the model, FastAPI from the request."""
    location = REQUEST_LOCATIONS[error.title]
    # not error.json(): pydantic's serializer fails (a 500) on an input with a lone surrogate, such as
    # {"branch_name": "\\ud800"}, or nested more than 255 levels deep; the input was read from JSON, so
    # jsonify can echo it back as it is
    issues = [_jsonable_issue(issue, location) for issue in error.errors(include_url=False)]
    return RequestValidationError(issues).json_response()


def _jsonable_issue(issue: ErrorDetails, location: str) -> dict[str, Any]:
    jsonable: dict[str, Any] = {**issue, "loc": [location, *issue["loc"]]}
    if "ctx" in issue:
        # a ctx may hold an exception, as in FastAPI, where jsonable_encoder turns it into text
        jsonable["ctx"] = {key: _json_scalar(value) for key, value in issue["ctx"].items()}
    return jsonable


def _json_scalar(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else str(value)


def body_invalid(error: BodyValidationError) -> Response:
    """Answer 422, as for a body that fails the model, when the body is not a JSON object at all."""
    return RequestValidationError(error.issues).json_response()


def body_too_large(error: BodyTooLargeError) -> Response:
    """Answer 413 naming the limit, and close: the rest of the body was never read."""
    return HTTPException(413, detail=error.detail, headers=CLOSE_CONNECTION).json_response()


def unsupported_media_type(error: UnsupportedMediaTypeError) -> Response:
    """Answer 415 naming the header to send."""
    return HTTPException(415, detail=error.detail).json_response()


def http_error(error: exceptions.HTTPException) -> SansIOResponse:
    """Answer an HTTP error in JSON: ours as they are, werkzeug's own (404, 405) with their headers kept."""
    if isinstance(error, HTTPException):
        return error.json_response()
    response = error.get_response()
    response.set_data(json.dumps({"detail": error.name}, separators=(",", ":")))
    response.content_type = "application/json"
    return response


def lock_unavailable(error: LockUnavailableError) -> Response:
    """Answer 503 when the lock backend cannot be reached."""
    logger.error("lock backend unavailable: %s", error)
    return HTTPException(503, detail=f"Lock backend unavailable: {error}", headers={"Retry-After": "1"}).json_response()


def internal_error(error: exceptions.InternalServerError) -> Response:
    """Answer 500 in JSON; the traceback goes to the log, not to the client."""
    logger.error("unhandled error on %s %s", request.method, request.path, exc_info=error.original_exception)
    return HTTPException(500, detail="Internal Server Error").json_response()


def init_app(app: Flask, settings: Settings) -> None:
    """Register the JSON error handlers."""
    app.register_error_handler(BodyValidationError, body_invalid)
    app.register_error_handler(BodyTooLargeError, body_too_large)
    app.register_error_handler(UnsupportedMediaTypeError, unsupported_media_type)
    app.register_error_handler(exceptions.HTTPException, http_error)
    app.register_error_handler(LockUnavailableError, lock_unavailable)
    app.register_error_handler(exceptions.InternalServerError, internal_error)
