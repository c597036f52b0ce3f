"""Pure ASGI middleware: no BaseHTTPMiddleware, so each request pays one function call, not a task."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.http import body_too_large_detail

# the rest of the body is left unread, so the connection cannot carry another request
_CLOSE = {"Connection": "close"}


class BodySizeLimitMiddleware:
    """Answer 413 once a request body passes `max_body_bytes`, before it is all in memory."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            # the declared length is enough: answer before reading a byte of the body
            await self._send_413(send)
            return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                # a chunked body declares no length: stop at the first chunk past the limit; FastAPI
                # passes an HTTPException raised while reading the body on to its JSON handler
                raise HTTPException(413, detail=body_too_large_detail(self.max_body_bytes), headers=_CLOSE)
            return message

        await self.app(scope, counting_receive, send)

    async def _send_413(self, send: Send) -> None:
        body = json.dumps({"detail": body_too_large_detail(self.max_body_bytes)}, separators=(",", ":")).encode()
        headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
        headers += [(name.lower().encode(), value.encode()) for name, value in _CLOSE.items()]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class HeadAsGetMiddleware:
    """Answer HEAD like GET without the body, as Flask and RFC 9110 do; FastAPI routes skip HEAD."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        if scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
