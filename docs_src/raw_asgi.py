"""An ASGI app with no framework: `uvicorn docs_src.raw_asgi:app`, then `curl 127.0.0.1:8000/hello`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer every HTTP request with a JSON hello that names its method and path."""
    if scope["type"] == "lifespan":
        # the server calls once more for start-up and shutdown; this app has nothing to open or close
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    # scope describes the connection; the body, if we wanted it, would come from `await receive()`
    method, path = scope["method"], scope["path"]
    payload = {"message": "hello from a bare ASGI app", "method": method, "path": path}
    body = json.dumps(payload).encode()
    # the response is events we send: its start (status and headers), then its body
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
