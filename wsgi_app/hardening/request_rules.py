"""The request rules of the Flask app, in one pure WSGI middleware: one pass over each request's head.

Compare with asgi_app/hardening/request_rules.py: the same rules in the same order. Gunicorn refuses a repeated
Host or Content-Type and an unknown Expect itself, with an HTML page, before the app sees them; and Flask
answers HEAD like GET without being asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import IO
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from common.http import (
    BodyIncompleteError,
    BodyMeter,
    BodyTooLargeError,
    header_problem,
    is_canonical_path,
)
from wsgi_app.errors import start_error


class RequestRulesMiddleware:
    """Pure WSGI middleware: refuse a request no route should see, and limit the body.

    Not Flask's MAX_CONTENT_LENGTH: Werkzeug checks it only when a view reads the body, from inside Flask (its
    own 413), and on a streamed body (Gunicorn's wsgi.input_terminated) it stops reading at the limit and hands
    the view the body cut there, with no error (Werkzeug 3.1.9); nor does it notice a body cut short.
    """

    def __init__(self, app: WSGIApplication, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # the strict rules: what RFC 9112 and RFC 3986 ask a server to refuse; a WSGI server joins repeated
        # header lines into one, or refuses them: at most one of each is seen
        problem = header_problem(
            hosts=int("HTTP_HOST" in environ),
            content_types=int("CONTENT_TYPE" in environ),
            expect=environ.get("HTTP_EXPECT"),
            transfer_encoding=environ.get("HTTP_TRANSFER_ENCODING"),
            http_version=environ.get("SERVER_PROTOCOL", "HTTP/1.1").removeprefix("HTTP/"),
        )
        if problem is not None:
            return start_error(start_response, *problem)  # no Connection header: see common.http
        # PEP 3333 has no raw path; Gunicorn (RAW_URI), Waitress and Granian (REQUEST_URI) keep the target
        target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
        if not is_canonical_path(target.split("?", 1)[0]):
            return start_error(start_response, 404, "Not Found")
        # --8<-- [start:body-limit]
        if "CONTENT_LENGTH" not in environ and "HTTP_TRANSFER_ENCODING" not in environ:
            # no body: HTTP/1.1 frames a request body by one of the two headers (RFC 9112 section 6.3)
            return self.app(environ, start_response)
        # the body limit: answer 413 once a request body passes it, before the body is all in memory
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
