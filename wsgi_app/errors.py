"""Every error of the Flask app is JSON with a `detail`, in FastAPI's shapes, instead of Flask's HTML pages.

Compare with asgi_app/errors.py: the same answers, from each framework's own error handlers.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, get_type_hints
from wsgiref.types import StartResponse

from flask import Flask, Response, current_app, jsonify, request
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from werkzeug import exceptions
from werkzeug.sansio.response import Response as SansIOResponse

from common.database import DatabaseUnavailableError
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


def start_error(
    start_response: StartResponse, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> list[bytes]:
    """Answer `{"detail": ...}` from a pure WSGI middleware, which runs before Flask's handlers can."""
    body = error_body(detail)
    all_headers = [("Content-Length", str(len(body))), ("Content-Type", "application/json"), *(headers or {}).items()]
    start_response(f"{status} {HTTPStatus(status).phrase}", all_headers)
    return [body]


# flask-openapi3 validates each part of a request into the view's parameter of that name, in this order,
# and stops at the first that fails; FastAPI names the part first in each error's loc (a form is a body)
REQUEST_PARTS = {
    "header": "header",
    "cookie": "cookie",
    "path": "path",
    "query": "query",
    "form": "body",
    "body": "body",
}


def validation_error(error: ValidationError) -> Response:
    """Answer 422 in FastAPI's shape: flask-openapi3 reports locations inside the model, FastAPI from the request."""
    assert request.endpoint is not None  # flask-openapi3 validates as it calls a view
    location = failed_part(current_app.view_functions[request.endpoint], error.title)
    # not error.json(): pydantic's serializer fails (a 500) on an input with a lone surrogate, such as
    # {"branch_name": "\\ud800"}, or nested more than 255 levels deep; the input was read from JSON, so
    # jsonify can echo it back as it is
    issues = [_jsonable_issue(issue, location) for issue in error.errors(include_url=False)]
    return validation_response(issues)


@functools.cache
def failed_part(view: Callable[..., Any], model_title: str) -> str:
    """The part of the request (`body`, `query`, ...) that the view reads into the model that failed."""
    hints = get_type_hints(view)  # as flask-openapi3 reads them: the parameters named for a part, with their models
    for parameter, location in REQUEST_PARTS.items():
        model = hints.get(parameter)
        # a ValidationError names its model by the model's title (its class name unless the model says otherwise)
        if model is not None and model.__pydantic_validator__.title == model_title:
            return location
    raise LookupError(f"{view.__name__} validates no request part with the model {model_title!r}")


def _jsonable_issue(issue: ErrorDetails, location: str) -> dict[str, Any]:
    jsonable: dict[str, Any] = {**issue, "loc": [location, *issue["loc"]]}
    if "ctx" in issue:
        # a ctx may hold an exception, as in FastAPI, where jsonable_encoder turns it into text
        jsonable["ctx"] = {key: _json_scalar(value) for key, value in issue["ctx"].items()}
    return jsonable


def _json_scalar(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else str(value)


def validation_response(issues: list[dict[str, Any]]) -> Response:
    """Answer 422 with every issue, in FastAPI's shape and with its bytes (asgi_app.errors.EscapedJSONResponse)."""
    return HTTPException(422, detail=strict_issues(issues)).json_response()


def input_invalid(error: InputValidationError) -> Response:
    """Answer 422, as for a body that fails the model, for a body or query the input rules refuse first."""
    return validation_response(error.issues)


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


def database_unavailable(error: DatabaseUnavailableError) -> Response:
    """Answer 503 when /lab/db has no PostgreSQL, or no pooled connection came free in time."""
    return HTTPException(503, detail=error.detail, headers=error.headers).json_response()


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
    app.register_error_handler(DatabaseUnavailableError, database_unavailable)
    app.register_error_handler(exceptions.InternalServerError, internal_error)
