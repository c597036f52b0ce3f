"""The strict request rules of the FastAPI app: what RFC 9112 and RFC 3986 ask a server to refuse, and Uvicorn lets in.

One canonical form per path (no redirect to another, no `//`, no `%2F`), exactly one Host, one Content-Type, and
only the Expect that is understood. Compare with wsgi_app/strict.py: the same rules; Gunicorn applies
some of them itself, before the app sees the request (docs/many/hostile-input.md has the table).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from asgi_app.errors import send_error
from common.http import CLOSE_CONNECTION, HeaderFacts, header_problem, is_canonical_path
from common.settings import Settings


class StrictRequestMiddleware:
    """Pure ASGI middleware: answer 400, 404 or 417 in JSON to a request no route should see."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hosts = content_types = 0
        expect = transfer_encoding = None
        for name, value in scope["headers"]:  # one pass: this runs before every request
            if name == b"host":
                hosts += 1
            elif name == b"content-type":
                content_types += 1
            elif name == b"expect":
                expect = value.decode("latin-1")
            elif name == b"transfer-encoding":
                transfer_encoding = value.decode("latin-1")
        facts = HeaderFacts(hosts, content_types, expect, transfer_encoding, scope["http_version"])
        problem = header_problem(facts)
        if problem is not None:
            await send_error(send, *problem, CLOSE_CONNECTION)
        elif not is_canonical_path(scope.get("raw_path", b"").decode("latin-1")):
            await send_error(send, 404, "Not Found")
        else:
            await self.app(scope, receive, send)


def init_app(app: FastAPI, settings: Settings) -> None:
    """Refuse what no route should see; answer a path with a trailing slash 404, as Flask does, not 307."""
    # Starlette's redirect to the path without the slash builds its Location from the Host header the
    # client sent, and a 404 is what the same path gets from Flask
    app.router.redirect_slashes = False
    app.add_middleware(StrictRequestMiddleware)
