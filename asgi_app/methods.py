"""The method rules of the FastAPI app: HEAD answers like GET, and every 405 lists the methods in `Allow`.

Compare with wsgi_app/methods.py: Flask does both itself, so there the rules are a line of configuration.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.settings import Settings


class HeadAsGetMiddleware:
    """Answer HEAD like GET without the body, as Flask and RFC 9110 do; FastAPI routes skip HEAD."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


def allowed_methods(request: Request) -> set[str]:
    """Every method some route of the app answers at this request's path, for a 405's `Allow`."""
    # Starlette's Allow names only the first route on the path (GET /merge and POST /merge are two
    # routes), so ask every route about every method; HEAD comes with GET (HeadAsGetMiddleware)
    allowed = {
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        for route in request.app.router.routes
        if route.matches({**request.scope, "method": method})[0] == Match.FULL
    }
    return allowed | {"HEAD"} if "GET" in allowed else allowed


def init_app(app: FastAPI, settings: Settings) -> None:
    """Answer HEAD on every GET route; errors.py puts allowed_methods in every 405."""
    app.add_middleware(HeadAsGetMiddleware)
