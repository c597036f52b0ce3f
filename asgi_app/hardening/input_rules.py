"""The input rules of the FastAPI app: a body's framing, media type and JSON; one value per query parameter.

Compare with wsgi_app/hardening/input_rules.py: the same rules in the same order, each where its stack lets it act
first. The body's size is request_rules.py's, which sees every request before a route does.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from common.http import BodyIncompleteError, BodyTooLargeError, InputValidationError, UnsupportedMediaTypeError
from common.json_body import read_json_body
from common.query import query_names, repeated_parameter_issues

if TYPE_CHECKING:
    from fastapi._compat import ModelField  # the type of a route's parameters, for the annotation only


class InputRulesRoute(APIRoute):
    """A route that applies the input rules before FastAPI reads its query and body, as apply_input_rules on Flask."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        names = frozenset().union(*(query_fields(field) for field in self.dependant.query_params))
        body, takes_body = self.body_field, self.body_field is not None
        # a route's dependencies (POST /merge's token) answer before its body's problems, as Flask's hooks do
        dependencies_first = body is not None and body.field_info.is_required() and bool(self.dependant.dependencies)
        if not names and not takes_body:
            return handle  # a route that reads neither has nothing to check

        async def handle_inputs(request: Request) -> Response:
            # FastAPI reads the query and parses the body with json.loads before it runs any dependency, so
            # the rules go here: the same checks, in the same order, as the Flask app
            if names and (issues := repeated_parameter_issues(request.query_params.multi_items(), names)):
                raise InputValidationError(issues)
            if takes_body:
                # the body is parsed once: FastAPI validates the route's model from request.json(), which
                # Starlette answers from request._json when it is there, so the strict parse goes there
                try:
                    request._json = read_json_body(request.headers.get("content-type"), await body_of(request))
                except BODY_PROBLEMS as problem:
                    if not dependencies_first:
                        raise
                    return await after_the_dependencies(handle, request, problem)
            return await handle(request)

        return handle_inputs


BODY_PROBLEMS = (BodyIncompleteError, BodyTooLargeError, UnsupportedMediaTypeError, InputValidationError)


async def after_the_dependencies(
    handle: Callable[[Request], Coroutine[Any, Any, Response]], request: Request, problem: Exception
) -> Response:
    """Let the route's dependencies answer first (a 401 to a stranger), then raise the body's problem."""
    # FastAPI reads the body before it runs the dependencies: given none, it runs them, then finds the required
    # body missing, and that failure is where the problem the rules found belongs
    request._body = b""
    try:
        await handle(request)
    except RequestValidationError:
        raise problem from None
    raise AssertionError("a route whose body is required ran without one")


def query_fields(field: ModelField) -> frozenset[str]:
    """The names a query parameter of a route reads: a model's fields (Annotated[Model, Query()]), or its own."""
    annotation = field.field_info.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return query_names(annotation)
    return frozenset({field.alias})


async def body_of(request: Request) -> bytes:
    """The whole body, or BodyIncompleteError if the client went away before it had all arrived."""
    try:
        return await request.body()
    except ClientDisconnect:
        # the client closed with the body short of its Content-Length (or its last chunk): the answer has
        # no one to go to, but it must not be a 500 in the log, and the route must not run
        raise BodyIncompleteError("the client closed the connection before the body ended") from None
