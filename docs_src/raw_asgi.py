"""An ASGI app with no framework: `uvicorn docs_src.raw_asgi:app`, then `curl 127.0.0.1:8000/hello`.

It also echoes WebSocket messages on any path: `python -m websockets ws://127.0.0.1:8000/echo`.
"""

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

    if scope["type"] == "websocket":
        await echo(receive, send)
        return

    # scope describes the connection; the body, if we wanted it, would come from `await receive()`
    method, path = scope["method"], scope["path"]
    payload = {"message": "hello from a bare ASGI app", "method": method, "path": path}
    body = json.dumps(payload).encode()
    # the response is events we send: its start (status and headers), then its body
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --8<-- [start:echo]
async def echo(receive: Receive, send: Send) -> None:
    """A WebSocket is one call for the whole connection: accept it, then send back each message until it closes."""
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            # a message is text or bytes; the echo keeps which
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message["bytes"]})
        elif message["type"] == "websocket.disconnect":
            return


# --8<-- [end:echo]
