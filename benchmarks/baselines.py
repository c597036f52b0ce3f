"""Ceilings for the hello scenario: the same answer as GET /public/test with as little as possible.

`raw_asgi` and `raw_wsgi` are bare callables with the body prepared once; `bare_fastapi` and
`bare_flask` are each framework with one route and nothing else. Our apps are compared with these.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from fastapi import FastAPI
from flask import Flask

from common.http import PUBLIC_MESSAGE

_BODY = b'{"message":"' + PUBLIC_MESSAGE.encode() + b'"}'
_ASGI_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]
_WSGI_HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(_BODY)))]


async def raw_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer every HTTP request with the hello body; acknowledge lifespan events."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": _ASGI_HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


def raw_wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Answer every request with the hello body."""
    start_response("200 OK", _WSGI_HEADERS)
    return [_BODY]


bare_fastapi = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@bare_fastapi.get("/public/test")
async def fastapi_hello() -> dict[str, str]:
    """The hello route, nothing else."""
    return {"message": PUBLIC_MESSAGE}


bare_flask = Flask(__name__)


@bare_flask.get("/public/test")
def flask_hello() -> dict[str, str]:
    """The hello route, nothing else."""
    return {"message": PUBLIC_MESSAGE}
