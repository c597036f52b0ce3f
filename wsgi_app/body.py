"""The body rules of the Flask app: its size, its media type, a JSON object not nested too deep.

Compare with asgi_app/body.py: the same rules in the same order, each where its stack lets it act first.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from flask import Flask, current_app, request

from common.http import CLOSE_CONNECTION, BodyMeter, BodyTooLargeError, error_body, read_json_body
from common.settings import Settings


class BodySizeLimitMiddleware:
    """Pure WSGI middleware: answer 413 once a request body passes the limit, before it is all in memory."""

    def __init__(self, app: WSGIApplication, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        meter = BodyMeter(self.max_body_bytes, environ.get("CONTENT_LENGTH"))
        if meter.declared_too_large():
            # the declared length is enough: answer before reading a byte of the body
            return self._send_413(start_response)
        environ["wsgi.input"] = CountingInput(environ["wsgi.input"], meter)
        return self.app(environ, start_response)

    def _send_413(self, start_response: StartResponse) -> Iterable[bytes]:
        body = error_body(BodyTooLargeError(self.max_body_bytes).detail)
        headers = [("Content-Length", str(len(body))), ("Content-Type", "application/json")]
        start_response("413 Request Entity Too Large", headers + list(CLOSE_CONNECTION.items()))
        return [body]


class CountingInput:
    """wsgi.input that counts what it reads and never reads past the limit: the twin of counting_receive."""

    def __init__(self, stream: IO[bytes], meter: BodyMeter) -> None:
        self.stream = stream
        self.meter = meter

    def read(self, size: int = -1) -> bytes:
        """Read up to `size` bytes (all of them if negative), never asking for more than one byte past the limit."""
        # a chunked body declares no length, and a read waits until it has all it asked for: asking for one
        # byte past the limit at most answers 413 the moment that byte arrives, not when the client stops
        return self.meter.count(self.stream.read(self.meter.allowed(size)))

    def readline(self, size: int = -1) -> bytes:
        """Read one line, counted like read()."""
        return self.meter.count(self.stream.readline(self.meter.allowed(size)))

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


@functools.cache
def takes_body(view: Callable[..., Any]) -> bool:
    """Whether a view validates a body (flask-openapi3's `body` parameter), as FastAPI's route.body_field says."""
    return "body" in inspect.signature(view).parameters


def require_json_body() -> None:
    """Before a view that takes a body: the JSON rules, raising what errors.py answers with 415 or 422."""
    if request.endpoint is None or not takes_body(current_app.view_functions[request.endpoint]):
        return  # a route that takes no body has nothing to check
    # flask-openapi3 validates the body before the view runs, so the rules go in a before_request hook:
    # the same checks, in the same order, as the FastAPI app, whatever Flask's get_json would have said
    read_json_body(request.headers.get("Content-Type"), request.get_data(cache=True))


def init_app(app: Flask, settings: Settings) -> None:
    """Limit every request body; the JSON rules come with the blueprints whose routes take one."""
    app.wsgi_app = BodySizeLimitMiddleware(app.wsgi_app, settings.max_body_bytes)  # type: ignore[method-assign]
