"""Every error is JSON with a `detail`, in the shapes FastAPI uses, instead of Flask's HTML pages."""

from __future__ import annotations

import json
import logging
from typing import Any, NoReturn

from flask import Flask, Response, abort, current_app, jsonify, request
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge
from werkzeug.wrappers import Response as WerkzeugResponse

from common.http import BodyValidationError, body_too_large_detail, decode_json_object, media_type_problem
from common.lock import LockUnavailableError
from common.models import REQUEST_LOCATIONS

logger = logging.getLogger("wsgi_app")


def _max_body_bytes() -> int:
    return current_app.extensions["settings"].max_body_bytes  # type: ignore[no-any-return]


def abort_json(status: int, detail: Any, headers: dict[str, str] | None = None) -> NoReturn:
    """Stop the request with a JSON error body, as FastAPI's HTTPException does."""
    response = jsonify(detail=detail)
    response.status_code = status
    response.headers.update(headers or {})
    abort(response)


def validation_error(error: ValidationError) -> Response:
    """Answer 422 in FastAPI's shape: flask-openapi3 reports locations inside the model, FastAPI from the request."""
    location = REQUEST_LOCATIONS[error.title]
    # not error.json(): pydantic's serializer fails (a 500) on an input with a lone surrogate, such as
    # {"branch_name": "\\ud800"}, or nested more than 255 levels deep; the input was read from JSON, so
    # jsonify can echo it back as it is
    response = jsonify(detail=[_jsonable_issue(issue, location) for issue in error.errors(include_url=False)])
    response.status_code = 422
    return response


def _jsonable_issue(issue: ErrorDetails, location: str) -> dict[str, Any]:
    jsonable: dict[str, Any] = {**issue, "loc": [location, *issue["loc"]]}
    if "ctx" in issue:
        # a ctx may hold an exception, as in FastAPI, where jsonable_encoder turns it into text
        jsonable["ctx"] = {key: _json_scalar(value) for key, value in issue["ctx"].items()}
    return jsonable


def _json_scalar(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else str(value)


def require_json_object_body() -> None:
    """Before a POST view: refuse a non-JSON media type (415) or a body that is not a JSON object (422)."""
    # FastAPI does these checks itself before it validates the model; flask-openapi3 only validates the model
    if request.method != "POST" or request.routing_exception is not None:
        return
    raw = request.get_data(cache=True)
    if len(raw) > _max_body_bytes():
        # werkzeug cuts a chunked body at MAX_CONTENT_LENGTH without an error, so create_app sets it
        # one byte past our limit and a body that reaches that byte is too large
        raise RequestEntityTooLarge()
    problem = media_type_problem(request.headers.get("Content-Type"), has_body=bool(raw))
    if problem is not None:
        abort_json(415, problem)
    try:
        decode_json_object(raw)
    except BodyValidationError as error:
        abort_json(422, error.issues)


def http_error(error: HTTPException) -> WerkzeugResponse:
    """Turn werkzeug's HTML error pages into JSON, keeping their headers (Allow, for a 405)."""
    response = error.get_response()
    response.set_data(json.dumps({"detail": error.name}, separators=(",", ":")))
    response.content_type = "application/json"
    return response


def body_too_large(error: RequestEntityTooLarge) -> Response:
    """Answer 413 naming the limit."""
    response = jsonify(detail=body_too_large_detail(_max_body_bytes()))
    response.status_code = 413
    # the rest of the body is left unread, so the connection cannot carry another request
    response.headers["Connection"] = "close"
    return response


def lock_unavailable(error: LockUnavailableError) -> Response:
    """Answer 503 when the lock backend cannot be reached."""
    logger.error("lock backend unavailable: %s", error)
    response = jsonify(detail=f"Lock backend unavailable: {error}")
    response.status_code = 503
    response.headers["Retry-After"] = "1"
    return response


def internal_error(error: InternalServerError) -> Response:
    """Answer 500 in JSON; the traceback goes to the log, not to the client."""
    logger.error("unhandled error on %s %s", request.method, request.path, exc_info=error.original_exception)
    response = jsonify(detail="Internal Server Error")
    response.status_code = 500
    return response


def init_app(app: Flask) -> None:
    """Register the body checks and the JSON error handlers."""
    app.before_request(require_json_object_body)
    app.register_error_handler(RequestEntityTooLarge, body_too_large)
    app.register_error_handler(LockUnavailableError, lock_unavailable)
    app.register_error_handler(InternalServerError, internal_error)
    app.register_error_handler(HTTPException, http_error)
