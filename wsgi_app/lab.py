"""The /lab routes of the Flask app, each isolating one lesson. Compare with asgi_app/lab.py: the same routes."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, request
from flask_openapi3 import APIBlueprint, OpenAPI, Tag
from flask_sock import Sock
from psycopg_pool import ConnectionPool
from simple_websocket import Server

from common import models
from common.database import SLEEP, database_errors, lab_db_result, require
from common.events import EVENT_STREAM, STREAM_HEADERS, documented_stream, encode_event
from common.lab import burn_cpu, lab_result
from common.models import LabDbResult, LabQuery, LabResult, LabStreamQuery, LabStreamTick
from common.settings import Settings
from wsgi_app.docs import documented
from wsgi_app.errors import HTTPException
from wsgi_app.hardening import apply_input_rules

api = APIBlueprint(
    "lab", __name__, url_prefix="/lab", abp_tags=[Tag(name="lab")], abp_responses=documented(models.LAB_ERRORS)
)
api.before_request(apply_input_rules)


def blocking_wait(query: LabQuery) -> dict[str, Any]:
    """Wait `ms` with a blocking call: a WSGI app has no event loop to hand the wait to, and no pool of its own."""
    started_at = time.time()
    time.sleep(query.ms / 1000)
    return lab_result(query.ms, started_at).model_dump()


# one view for three routes, because in WSGI they are one thing: where the FastAPI app awaits (/io), blocks
# its event loop (/blocking) or blocks a pool thread (/threadpool), the Flask app blocks whatever runs it,
# every time; the server's workers and threads are the only pool
LAB_WAITS = {
    "/io": "Wait `ms` blocking a worker: there is no event loop to hand the wait to.",
    "/blocking": "The same blocking wait as /lab/io: in WSGI there is no other kind.",
    "/threadpool": "The same blocking wait again: the server's workers and threads are the only pool.",
}
for path, summary in LAB_WAITS.items():
    endpoint = f"lab_{path.removeprefix('/')}"
    api.get(path, responses={200: LabResult}, summary=summary, operation_id=f"{endpoint}_get", endpoint=endpoint)(
        blocking_wait
    )


# --8<-- [start:async-io]
@api.get("/async-io", responses={200: LabResult})
async def lab_async_io(query: LabQuery) -> dict[str, Any]:
    """An async def view that awaits: Flask runs it to its end in a new event loop, while the worker waits for it."""
    # Flask's async extra calls asgiref's async_to_sync for each request: a fresh event loop in a thread of its own
    # runs this coroutine, and the worker (or thread, or greenlet) that took the request blocks until it is done
    started_at = time.time()
    await asyncio.sleep(query.ms / 1000)  # others can run on this loop meanwhile, but there are no others
    return lab_result(query.ms, started_at).model_dump()


# --8<-- [end:async-io]


@api.get("/cpu", responses={200: LabResult})
def lab_cpu(query: LabQuery) -> dict[str, Any]:
    """Burn `ms` of CPU in pure Python; it holds the GIL, so threads cannot run it in parallel."""
    started_at = time.time()
    burn_cpu(query.ms)
    return lab_result(query.ms, started_at).model_dump()


def get_db_pool() -> ConnectionPool:
    """This worker process's pool of PostgreSQL connections, which create_app opened (a 503 without one)."""
    return require(current_app.extensions["db_pool"])


# --8<-- [start:db]
def lab_db(query: LabQuery) -> dict[str, Any]:
    """Wait `ms` in PostgreSQL on a pooled connection, blocking whatever runs the request: worker, thread, greenlet."""
    pool, started_at = get_db_pool(), time.time()
    with database_errors(pool), pool.connection() as connection:  # waits here while every connection is out
        got_connection_at = time.time()
        row = connection.execute(SLEEP, [query.ms / 1000]).fetchone()
    return lab_db_result(query.ms, pool, started_at, got_connection_at, row).model_dump()


# --8<-- [end:db]

# one view for both routes: the FastAPI app's /lab/db-blocking is a blocking driver inside async def, which holds
# up its whole event loop; in WSGI every driver blocks, and holds up only the request that called it
LAB_DB = {
    "/db": "Wait `ms` in PostgreSQL on a pooled connection, blocking what runs the request.",
    "/db-blocking": "The same query as /lab/db: in WSGI every driver blocks, and only its own request waits.",
}
for path, summary in LAB_DB.items():
    endpoint = f"lab_{path.removeprefix('/').replace('-', '_')}"
    responses = {200: LabDbResult, **documented(models.LAB_DB_ERRORS)}
    api.get(path, responses=responses, summary=summary, operation_id=f"{endpoint}_get", endpoint=endpoint)(lab_db)


# --8<-- [start:stream]
@api.get(
    "/stream",
    responses={
        200: documented_stream(models.TICKS),
        **documented(models.LAB_STREAM_ERRORS),
    },
)
def lab_stream(query: LabStreamQuery) -> Response:
    """Send `n` events `ms` apart: a generator that the server iterates, holding its worker or thread throughout."""

    def ticks() -> Iterator[bytes]:
        for number in range(1, query.n + 1):
            if number > 1:
                time.sleep(query.ms / 1000)  # whatever runs this request waits with it
            tick = LabStreamTick(n=number, of=query.n, pid=os.getpid())
            yield encode_event("tick", tick.model_dump_json(), str(number))

    return Response(ticks(), mimetype=EVENT_STREAM, headers=STREAM_HEADERS)


# --8<-- [end:stream]

sock = Sock()


# --8<-- [start:echo]
def lab_echo(websocket: Server) -> None:
    """Send back every message, text as text and bytes as bytes, until the client closes: a worker per connection.

    WSGI has no WebSocket: flask-sock takes the connection's socket from under the server (simple-websocket reads
    `gunicorn.socket` or `werkzeug.socket` from the environ), and the request that upgraded it runs until it closes.
    """
    while True:
        message = websocket.receive()
        if message is None:
            return
        websocket.send(message)


sock.route("/lab/echo")(lab_echo)
# --8<-- [end:echo]

# simple-websocket takes the connection's socket from what the server put in the environ: Gunicorn's and
# Werkzeug's servers put it there, a WSGI adapter on an ASGI server (`uvicorn --interface wsgi`) cannot
SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket", "eventlet.input")


def refuse_a_websocket_with_no_socket() -> None:
    """Answer 501 to a WebSocket request on a server that hands the app no socket, instead of failing with a 500."""
    rule = request.url_rule
    if rule is None or not rule.websocket:
        return
    environ = request.environ
    if any(key in environ for key in SOCKET_KEYS) or environ.get("SERVER_SOFTWARE", "").startswith("gevent"):
        return
    raise HTTPException(501, "this server gives a WSGI app no socket to take over: no WebSocket here")


def init_app(app: OpenAPI, settings: Settings) -> None:
    """Serve the /lab routes, unless LAB_ENDPOINTS=false."""
    if settings.lab_endpoints:
        app.register_api(api)
        # before the WebSocket routes only, which flask-sock keeps in a blueprint of its own
        sock.bp.before_request(refuse_a_websocket_with_no_socket)
        sock.init_app(app)
