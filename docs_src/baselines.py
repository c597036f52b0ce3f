"""Ceilings for our apps: the same answers with as little as possible around them.

`raw_asgi` and `raw_wsgi` are bare callables with the hello body prepared once. `bare_fastapi` and `bare_flask`
are each framework with nothing but two routes: `GET /public/test`, and a `POST /merge` that validates the
same body with the same model and answers the busy path's 409, with no lock at all. Flask's is built on
flask-openapi3, the layer that validates our Flask app's bodies, so that both ratios measure our own code:
the lock, the body rules, the error handling.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from fastapi import FastAPI, HTTPException
from flask_openapi3 import OpenAPI
from werkzeug.exceptions import abort

from common.http import PUBLIC_MESSAGE, RESOURCE_BUSY
from common.models import MergeRequest

_BODY = b'{"message":"' + PUBLIC_MESSAGE.encode() + b'"}'
_ASGI_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]
_WSGI_HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(_BODY)))]
_BUSY = {"Retry-After": "1"}


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


@bare_fastapi.post("/merge")
async def fastapi_busy(body: MergeRequest) -> None:
    """The busy path with no lock: validate the body, answer 409."""
    raise HTTPException(409, detail=RESOURCE_BUSY, headers=_BUSY)


bare_flask = OpenAPI(__name__, doc_ui=False, validation_error_status=422)


@bare_flask.get("/public/test")
def flask_hello() -> dict[str, str]:
    """The hello route, nothing else."""
    return {"message": PUBLIC_MESSAGE}


@bare_flask.post("/merge")
def flask_busy(body: MergeRequest) -> None:
    """The busy path with no lock: validate the body, answer 409."""
    response = bare_flask.json.response(detail=RESOURCE_BUSY)
    response.status_code = 409
    response.headers.update(_BUSY)
    abort(response)
