"""Ceilings for our apps: the same answers with as little as possible around them.

`raw_asgi` and `raw_wsgi` are bare callables with the hello body prepared once. `bare_fastapi` and `bare_flask`
are each framework with nothing but two routes: `GET /public/test`, and a `POST /merge` that validates the
same body with the same model and answers the busy path's 409, with no lock at all. Flask's is built on
flask-openapi3, the layer that validates our Flask app's bodies, so that both ratios measure our own code:
the lock, the body rules, the error handling.

The bare `POST /merge` checks the bearer token as our apps do, each framework's plainest way, so that ours
against bare stays like for like; started without MERGE_TOKENS it checks nothing, which is how
benchmarks/auth_cost.py measures what the check costs.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Annotated, Any
from wsgiref.types import StartResponse, WSGIEnvironment

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from flask import request
from flask_openapi3 import OpenAPI
from werkzeug.exceptions import abort

from common.http import PUBLIC_MESSAGE, RESOURCE_BUSY
from common.models import MergeRequest
from common.settings import load_settings

_BODY = b'{"message":"' + PUBLIC_MESSAGE.encode() + b'"}'
_ASGI_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]
_WSGI_HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(_BODY)))]
_BUSY = {"Retry-After": "1"}
# a bare app is a module served by its import string: it reads its tokens once, as it is imported
_TOKENS = [token.encode() for token in load_settings().all_merge_tokens()]


def checks_tokens() -> bool:
    """Whether the bare apps check a bearer token: MERGE_TOKENS was set when this module was imported."""
    return bool(_TOKENS)


def _known(token: str) -> bool:
    """Whether `token` is one of MERGE_TOKENS, compared in constant time."""
    return any(hmac.compare_digest(token.encode(), known) for known in _TOKENS)


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


async def fastapi_token(credentials: Annotated[HTTPAuthorizationCredentials, Depends(HTTPBearer())]) -> None:
    """The bearer check as FastAPI's tutorial writes it: HTTPBearer's own 401 for no token, ours for a bad one."""
    if not _known(credentials.credentials):
        raise HTTPException(401, detail="Invalid token", headers={"WWW-Authenticate": "Bearer"})


@bare_fastapi.post("/merge", dependencies=[Depends(fastapi_token)] if _TOKENS else [])
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
    """The busy path with no lock: validate the body, check the token, answer 409."""
    if _TOKENS:  # the bearer check in the view, Flask's plainest way (Werkzeug parses the header)
        authorization = request.authorization
        if authorization is None or authorization.type != "bearer" or not _known(authorization.token or ""):
            abort(401)
    response = bare_flask.json.response(detail=RESOURCE_BUSY)
    response.status_code = 409
    response.headers.update(_BUSY)
    abort(response)
