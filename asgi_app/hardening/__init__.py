"""What makes the FastAPI app answer hostile input as the Flask app does, byte for byte: not the lesson.

A route never needs this package to be read. Compare with wsgi_app/hardening/: the same rules, in the same
order; where a rule is missing there, Flask or Gunicorn applies it without being asked.

request_rules.py, one pure ASGI middleware, before any route:

| the request | the answer | why |
| --- | --- | --- |
| HTTP/1.1 with no `Host`, or two | `400`, closes | RFC 9112 section 3.2 says a server must; Uvicorn lets both in |
| two `Content-Type` lines | `400`, closes | the two stacks would read different ones |
| an `Expect` other than `100-continue` | `417`, closes | RFC 9110; Gunicorn refuses it itself |
| a `Transfer-Encoding` other than `chunked` | `501`, closes | RFC 9112 section 6.1: a coded body would pass as plain |
| two `Authorization` lines | joined with commas | Starlette reads the first, Gunicorn joins them |
| a path with `//` or `%2F`, or a trailing `/` | `404` | one form per path: Starlette redirects, Werkzeug merges |
| `HEAD` | `GET`'s answer, no body | RFC 9110; FastAPI's routes skip HEAD, Flask's answer it |
| a body over `MAX_BODY_BYTES` | `413`, closes | refused on its declared length, or at the first chunk past it |

input_rules.py, a route class (InputRulesRoute), before FastAPI reads a route's query or body:

| the request | the answer | why |
| --- | --- | --- |
| a body that never arrives whole | `400`, closes | RFC 9112 section 6.3: no merge from half a request |
| a query parameter given twice | `422` | Starlette keeps the last, Werkzeug the first |
| a body not sent as JSON | `415` | naming the header to send |
| a body not an RFC 8259 JSON object, or nested too deep | `422` | json.loads takes NaN, 1e400, UTF-16 |
| any of these bodies on a route with dependencies | theirs first | a 401 before a 415, as Flask's hooks run first |

methods.py, for errors.py: a `405` lists every method of the path in `Allow` (Starlette's names one route's).

The rules run in this order: the head's, then the body's, then the route's. The answers are JSON, as every
error of the app (errors.py).
"""

from __future__ import annotations

from fastapi import FastAPI

from asgi_app.hardening.input_rules import InputRulesRoute
from asgi_app.hardening.methods import allowed_methods
from asgi_app.hardening.request_rules import RequestRulesMiddleware
from common.settings import Settings

__all__ = ["InputRulesRoute", "allowed_methods", "init_app"]


def init_app(app: FastAPI, settings: Settings) -> None:
    """Apply the request rules to every request; the input rules come with the routes (InputRulesRoute)."""
    # Starlette's redirect to the path without the slash builds its Location from the Host header the
    # client sent, and a 404 is what the same path gets from Flask
    app.router.redirect_slashes = False
    app.add_middleware(RequestRulesMiddleware, max_body_bytes=settings.max_body_bytes)
