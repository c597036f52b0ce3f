"""A WSGI app with no framework: `gunicorn docs_src.raw_wsgi:app`, then `curl 127.0.0.1:8000/hello`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIEnvironment


def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Answer every request with a JSON hello that names its method and path."""
    # the request is a dict of CGI-style variables; the server has read the headers already
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    payload = {"message": "hello from a bare WSGI app", "method": method, "path": path}
    body = json.dumps(payload).encode()
    # status and headers go out through a callback; the body is whatever iterable we return
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
