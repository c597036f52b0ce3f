"""What makes the Flask app answer hostile input as the FastAPI app does, byte for byte: not the lesson.

A view never needs this package to be read. Compare with asgi_app/hardening/: the same rules, in the same
order; where a rule is missing here, Flask or Gunicorn applies it without being asked.

request_rules.py, one pure WSGI middleware, before Flask sees the request:

| the request | the answer | why |
| --- | --- | --- |
| HTTP/1.1 with no `Host` (two: Gunicorn) | `400` | RFC 9112 section 3.2 says a server must |
| two `Content-Type` lines | `400` (Gunicorn) | the two stacks would read different ones |
| an `Expect` other than `100-continue` | `417` (Gunicorn) | RFC 9110 |
| a `Transfer-Encoding` other than `chunked` | `501` | RFC 9112 section 6.1: a coded body would pass as plain |
| two `Authorization` lines | joined with commas (Gunicorn) | PEP 3333 keeps one value a name |
| a path with `//` or `%2F`, or a trailing `/` | `404` | one form per path: Werkzeug merges `//` (init_app) |
| `HEAD` | `GET`'s answer, no body | RFC 9110; Flask does it |
| a body over `MAX_BODY_BYTES` | `413` | refused on its declared length, or at the first byte past it |
| a body that never arrives whole | `400` | RFC 9112 section 6.3: no merge from half a request |

input_rules.py, a Request class and a `before_request` hook (apply_input_rules), before flask-openapi3
validates a view's query or body:

| the request | the answer | why |
| --- | --- | --- |
| a query parameter given twice | `422` | Starlette keeps the last, Werkzeug the first |
| a percent-escape in the query that is not UTF-8 | read as U+FFFD | as Starlette; Werkzeug keeps `%FF` |
| a body not sent as JSON | `415` | naming the header to send |
| a body not an RFC 8259 JSON object, or nested too deep | `422` | json.loads takes NaN, 1e400, UTF-16 |

init_app: `OPTIONS` is a `405`, as on FastAPI, not Flask's automatic answer; a `405` lists every method in
`Allow` (Flask does it).

The rules run in this order: the head's, then the body's, then the view's. The answers are JSON, as every
error of the app (errors.py).
"""

from __future__ import annotations

from flask import Flask

from common.settings import Settings
from wsgi_app.hardening.input_rules import Request, apply_input_rules
from wsgi_app.hardening.request_rules import RequestRulesMiddleware

__all__ = ["apply_input_rules", "init_app"]


def init_app(app: Flask, settings: Settings) -> None:
    """Apply the request rules to every request, before the routes are added; the input rules come with them."""
    # Werkzeug merges repeated slashes with a redirect (an HTML page) by default
    app.url_map.merge_slashes = False
    # answer OPTIONS with a 405, as FastAPI does: Flask decides at each route whether it answers it itself
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.request_class = Request
    app.wsgi_app = RequestRulesMiddleware(app.wsgi_app, settings.max_body_bytes)  # type: ignore[method-assign]
