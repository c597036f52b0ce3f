"""The input rules of the Flask app: a body's media type and JSON; one value per query parameter.

Compare with asgi_app/hardening/input_rules.py: the same rules in the same order, each where its stack lets it act
first. The body's size and framing are request_rules.py's, which sees every request before a view does.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import flask
from flask import current_app, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.utils import cached_property

from common.http import InputValidationError
from common.json_body import read_json_body
from common.query import parse_query, query_names, repeated_parameter_issues


class Request(flask.Request):
    """Flask's request, reading its query as Starlette does (common.query.parse_query)."""

    @cached_property
    def args(self) -> ImmutableMultiDict[str, str]:
        """The query's parameters, with percent-escapes that are not UTF-8 decoded to U+FFFD."""
        # Werkzeug 2.3+ leaves such bytes percent-encoded ("%FF"), Starlette decodes them to U+FFFD
        return ImmutableMultiDict(parse_query(self.query_string.decode("latin-1")))


@dataclass(frozen=True)
class ViewInputs:
    """What a view reads, as flask-openapi3 sees its parameters: the query's names, and whether it takes a body."""

    query_names: frozenset[str]
    takes_body: bool


@functools.cache
def view_inputs(view: Callable[..., Any]) -> ViewInputs:
    """What a view validates (flask-openapi3's `query` and `body` parameters), as FastAPI's route knows it."""
    parameters = inspect.signature(view, eval_str=True).parameters
    query = parameters.get("query")
    names = query_names(query.annotation) if query is not None else frozenset()
    return ViewInputs(query_names=names, takes_body="body" in parameters)


def apply_input_rules() -> None:
    """Before a view that reads a query or a body: the input rules, raising what errors.py answers (415, 422)."""
    # the request itself, looked up in the context once rather than once per attribute: this runs on every request
    asked: Request = request._get_current_object()  # type: ignore[attr-defined]
    if asked.endpoint is None:
        return  # no view: a 404 or 405 to come
    inputs = view_inputs(current_app.view_functions[asked.endpoint])
    # flask-openapi3 validates the query and the body before the view runs, so the rules go in a
    # before_request hook: the same checks, in the same order, as the FastAPI app
    if inputs.query_names and (issues := repeated_parameter_issues(asked.args.items(multi=True), inputs.query_names)):
        raise InputValidationError(issues)
    if inputs.takes_body:
        document = read_json_body(asked.headers.get("Content-Type"), asked.get_data(cache=True))
        # the body is parsed once: flask-openapi3 validates the view's model from request.get_json(), which
        # Werkzeug answers from request._cached_json when it is there (for silent and loud calls alike)
        asked._cached_json = (document, document)
