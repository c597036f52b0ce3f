"""The strict request rules of the Flask app: what RFC 9112 and RFC 3986 ask a server to refuse, and the app enforces.

One canonical form per path (no redirect to another, no `//`, no `%2F`), exactly one Host, one Content-Type, and
only the Expect that is understood. Compare with asgi_app/strict.py: the same rules; Gunicorn refuses a
repeated Host or Content-Type and an unknown Expect itself, with an HTML page, before the app sees them.
"""

from __future__ import annotations

from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from flask import Flask

from common.http import HeaderFacts, header_problem, is_canonical_path
from common.settings import Settings
from wsgi_app.errors import start_error


class StrictRequestMiddleware:
    """Pure WSGI middleware: answer 400, 404 or 417 in JSON to a request no route should see."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # a WSGI server joins repeated header lines into one, or refuses them: at most one of each is seen
        facts = HeaderFacts(
            hosts=int("HTTP_HOST" in environ),
            content_types=int("CONTENT_TYPE" in environ),
            expect=environ.get("HTTP_EXPECT"),
            transfer_encoding=environ.get("HTTP_TRANSFER_ENCODING"),
            http_version=environ.get("SERVER_PROTOCOL", "HTTP/1.1").removeprefix("HTTP/"),
        )
        problem = header_problem(facts)
        if problem is not None:
            return start_error(start_response, *problem)  # no Connection header: see common.http
        # PEP 3333 has no raw path; Gunicorn (RAW_URI), Waitress and Granian (REQUEST_URI) keep the target
        target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
        if not is_canonical_path(target.split("?", 1)[0]):
            return start_error(start_response, 404, "Not Found")
        return self.app(environ, start_response)


def init_app(app: Flask, settings: Settings) -> None:
    """Refuse what no route should see; answer a path with repeated slashes 404, as FastAPI does, not 308."""
    # Werkzeug merges repeated slashes with a redirect (an HTML page) by default
    app.url_map.merge_slashes = False
    app.wsgi_app = StrictRequestMiddleware(app.wsgi_app)  # type: ignore[method-assign]
