"""The input rules of the Flask app: a body's size, framing, media type and JSON; one value per query parameter.

Compare with asgi_app/inputs.py: the same rules in the same order, each where its stack lets it act first.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import flask
from flask import Flask, current_app, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.utils import cached_property

from common.http import (
    BodyIncompleteError,
    BodyMeter,
    BodyTooLargeError,
    InputValidationError,
)
from common.json_body import read_json_body
from common.query import parse_query, query_names, repeated_parameter_issues
from common.settings import Settings
from wsgi_app.errors import start_error


# --8<-- [start:body-limit]
class BodySizeLimitMiddleware:
    """Pure WSGI middleware: answer 413 once a request body passes the limit, before it is all in memory."""

    def __init__(self, app: WSGIApplication, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        meter = BodyMeter(self.max_body_bytes, environ.get("CONTENT_LENGTH"))
        if meter.declared_too_large():
            # the declared length is enough: answer before reading a byte of the body
            return start_error(start_response, 413, BodyTooLargeError(self.max_body_bytes).detail)
        if "CONTENT_LENGTH" not in environ and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            # a chunked body ends where the server's decoding of it ends; Gunicorn and Werkzeug say so
            # (wsgi.input_terminated), a2wsgi does not, and Werkzeug would then read the body as empty
            environ["wsgi.input_terminated"] = True
        environ["wsgi.input"] = CountingInput(environ["wsgi.input"], meter)
        return self.app(environ, start_response)
        # --8<-- [end:body-limit]


class CountingInput:
    """wsgi.input that counts what it reads, never reads past the limit, and tells a body cut short.

    The twin of counting_receive. Gunicorn says that wsgi.input ends where the body does
    (wsgi.input_terminated), so Werkzeug reads until EOF: a client that sends 26 of the 60 bytes its
    Content-Length promised, then half-closes, would otherwise hand the view 26 bytes as the whole body.
    """

    def __init__(self, stream: IO[bytes], meter: BodyMeter) -> None:
        self.stream = stream
        self.meter = meter

    # --8<-- [start:read]
    def read(self, size: int = -1) -> bytes:
        """Read up to `size` bytes (all of them if negative), never asking for more than one byte past the limit."""
        # a chunked body declares no length, and a read waits until it has all it asked for: asking for one
        # byte past the limit at most answers 413 the moment that byte arrives, not when the client stops
        asked = self.meter.allowed(size)
        piece = self.meter.count(self._from_server(self.stream.read, asked))
        if len(piece) < asked:  # a read returns less than it was asked for only at the end of the body
            self.meter.ended()
        return piece

    # --8<-- [end:read]

    def readline(self, size: int = -1) -> bytes:
        """Read one line, counted like read()."""
        asked = self.meter.allowed(size)
        line = self.meter.count(self._from_server(self.stream.readline, asked))
        if len(line) < asked and not line.endswith(b"\n"):
            self.meter.ended()
        return line

    @staticmethod
    def _from_server(read: Callable[[int], bytes], size: int) -> bytes:
        try:
            return read(size)
        except Exception as error:
            # the server found the body broken while the app read it (Gunicorn: InvalidChunkSize,
            # NoMoreData, ...): the request is incomplete, not the app's failure, so a 400, never a 500
            raise BodyIncompleteError(f"the server could not read it ({type(error).__name__})") from error

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


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
    if request.endpoint is None:
        return  # no view: a 404 or 405 to come
    inputs = view_inputs(current_app.view_functions[request.endpoint])
    # flask-openapi3 validates the query and the body before the view runs, so the rules go in a
    # before_request hook: the same checks, in the same order, as the FastAPI app
    if issues := repeated_parameter_issues(request.args.items(multi=True), inputs.query_names):
        raise InputValidationError(issues)
    if inputs.takes_body:
        read_json_body(request.headers.get("Content-Type"), request.get_data(cache=True))


def init_app(app: Flask, settings: Settings) -> None:
    """Limit every request body, read queries as Starlette does; the other rules come with the blueprints."""
    app.wsgi_app = BodySizeLimitMiddleware(app.wsgi_app, settings.max_body_bytes)  # type: ignore[method-assign]
    app.request_class = Request
