"""Every error of the Flask app is JSON with a `detail`, in FastAPI's shapes, instead of Flask's HTML pages.

Compare with asgi_app/errors.py: the same answers, from each framework's own error handlers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from wsgiref.types import StartResponse

from flask import Flask, Response, jsonify, request
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from werkzeug import exceptions
from werkzeug.sansio.response import Response as SansIOResponse

from common.http import (
    LOCK_UNAVAILABLE,
    BodyIncompleteError,
    BodyTooLargeError,
    InputValidationError,
    UnsupportedMediaTypeError,
    error_body,
)
from common.json_body import strict_issues
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


def start_error(
    start_response: StartResponse, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> list[bytes]:
    """Answer `{"detail": ...}` from a pure WSGI middleware, which runs before Flask's handlers can."""
    body = error_body(detail)
    all_headers = [("Content-Length", str(len(body))), ("Content-Type", "application/json"), *(headers or {}).items()]
    start_response(f"{status} {HTTPStatus(status).phrase}", all_headers)
    return [body]


def validation_error(error: ValidationError) -> Response:
    """Answer 422 in FastAPI's shape: flask-openapi3 reports locations inside the model, FastAPI from the request."""
    location = REQUEST_LOCATIONS[error.title]
    # not error.json(): pydantic's serializer fails (a 500) on an input with a lone surrogate, such as
    # {"branch_name": "\\ud800"}, or nested more than 255 levels deep; the input was read from JSON, so
    # jsonify can echo it back as it is
    issues = [_jsonable_issue(issue, location) for issue in error.errors(include_url=False)]
    return RequestValidationError(strict_issues(issues)).json_response()


def _jsonable_issue(issue: ErrorDetails, location: str) -> dict[str, Any]:
    jsonable: dict[str, Any] = {**issue, "loc": [location, *issue["loc"]]}
    if "ctx" in issue:
        # a ctx may hold an exception, as in FastAPI, where jsonable_encoder turns it into text
        jsonable["ctx"] = {key: _json_scalar(value) for key, value in issue["ctx"].items()}
    return jsonable


def _json_scalar(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else str(value)


def input_invalid(error: InputValidationError) -> Response:
    """Answer 422, as for a body that fails the model, for a body or query the input rules refuse first."""
    return RequestValidationError(strict_issues(error.issues)).json_response()


def body_incomplete(error: BodyIncompleteError) -> Response:
    """Answer 400 for a body that never arrived whole; the server closes the connection (see common.http)."""
    return HTTPException(400, detail=error.detail).json_response()


def body_too_large(error: BodyTooLargeError) -> Response:
    """Answer 413 naming the limit; what becomes of the unread rest is the server's business (see common.http)."""
    return HTTPException(413, detail=error.detail).json_response()


def unsupported_media_type(error: UnsupportedMediaTypeError) -> Response:
    """Answer 415 naming the header to send."""
    return HTTPException(415, detail=error.detail).json_response()


def http_error(error: exceptions.HTTPException) -> SansIOResponse:
    """Answer an HTTP error in JSON: ours as they are, werkzeug's own (404, 405) with their headers kept."""
    if isinstance(error, HTTPException):
        return error.json_response()
    response = error.get_response()
    if "Allow" in response.headers:  # in the order FastAPI's app lists them, so both send the same bytes
        response.headers["Allow"] = ", ".join(sorted(response.headers["Allow"].split(", ")))
    response.set_data(json.dumps({"detail": error.name}, separators=(",", ":")))
    response.content_type = "application/json"
    return response


def lock_unavailable(error: LockUnavailableError) -> Response:
    """Answer 503 when the lock backend cannot be reached."""
    logger.error("lock backend unavailable: %s", error)
    return HTTPException(503, detail=f"{LOCK_UNAVAILABLE}{error}", headers={"Retry-After": "1"}).json_response()


def internal_error(error: exceptions.InternalServerError) -> Response:
    """Answer 500 in JSON; the traceback goes to the log, not to the client."""
    logger.error("unhandled error on %s %s", request.method, request.path, exc_info=error.original_exception)
    return HTTPException(500, detail="Internal Server Error").json_response()


def init_app(app: Flask, settings: Settings) -> None:
    """Register the JSON error handlers."""
    app.register_error_handler(InputValidationError, input_invalid)
    app.register_error_handler(BodyIncompleteError, body_incomplete)
    app.register_error_handler(BodyTooLargeError, body_too_large)
    app.register_error_handler(UnsupportedMediaTypeError, unsupported_media_type)
    app.register_error_handler(exceptions.HTTPException, http_error)
    app.register_error_handler(LockUnavailableError, lock_unavailable)
    app.register_error_handler(exceptions.InternalServerError, internal_error)
