"""The body rules of the FastAPI app: its size, its media type, a JSON object not nested too deep.

Compare with wsgi_app/body.py: the same rules in the same order, each where its stack lets it act first.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.http import CLOSE_CONNECTION, BodyMeter, BodyTooLargeError, error_body, read_json_body
from common.settings import Settings


class BodySizeLimitMiddleware:
    """Pure ASGI middleware: answer 413 once a request body passes the limit, before it is all in memory."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"").decode("latin-1")
        meter = BodyMeter(self.max_body_bytes, declared)
        if meter.declared_too_large():
            # the declared length is enough: answer before reading a byte of the body
            await self._send_413(send)
            return

        async def counting_receive() -> Message:
            message = await receive()
            # a chunked body declares no length: stop at the first chunk past the limit
            meter.count(message.get("body", b""))
            return message

        await self.app(scope, counting_receive, send)

    async def _send_413(self, send: Send) -> None:
        body = error_body(BodyTooLargeError(self.max_body_bytes).detail)
        headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
        headers += [(name.lower().encode(), value.encode()) for name, value in CLOSE_CONNECTION.items()]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class JsonBodyRoute(APIRoute):
    """A route that applies the JSON body rules before FastAPI reads the body, as wsgi_app/body.py does."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        if self.body_field is None:
            return handle  # a route that takes no body has nothing to check

        async def handle_json_body(request: Request) -> Response:
            # FastAPI parses the body with json.loads before it runs any dependency, so the rules go here:
            # the same checks, in the same order, as the Flask app, whatever json.loads would have said
            read_json_body(request.headers.get("content-type"), await request.body())
            return await handle(request)

        return handle_json_body


def init_app(app: FastAPI, settings: Settings) -> None:
    """Limit every request body; the JSON rules come with the routes that take one (JsonBodyRoute)."""
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
