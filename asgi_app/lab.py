"""The /lab routes of the FastAPI app, each isolating one lesson. Compare with wsgi_app/lab.py: the same routes."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request, Response, WebSocket
from fastapi.sse import EventSourceResponse
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from asgi_app.docs import documented
from asgi_app.hardening import InputRulesRoute
from common import models
from common.database import SLEEP, database_errors, lab_db_result, require
from common.events import STREAM_HEADERS, documented_stream, encode_event
from common.lab import burn_cpu, lab_result
from common.models import LabDbResult, LabQuery, LabResult, LabStreamQuery, LabStreamTick
from common.settings import Settings

router = APIRouter(prefix="/lab", tags=["lab"], responses=documented(models.LAB_ERRORS), route_class=InputRulesRoute)
LabParameters = Annotated[LabQuery, Query()]
StreamParameters = Annotated[LabStreamQuery, Query()]


@router.get("/io")
async def lab_io(query: LabParameters) -> LabResult:
    """Wait `ms` without blocking: the event loop serves other requests meanwhile (a well-behaved async driver)."""
    started_at = time.time()
    await asyncio.sleep(query.ms / 1000)
    return lab_result(query.ms, started_at)


# the route Flask's async view has (wsgi_app/lab.py): in FastAPI every async def view is this one already
router.get(
    "/async-io", summary="Lab Async Io", description="The same awaited wait as /lab/io: FastAPI awaits every async def."
)(lab_io)


@router.get("/blocking")
async def lab_blocking(query: LabParameters) -> LabResult:
    """The classic mistake: time.sleep inside async def stalls the whole event loop for `ms`."""
    started_at = time.time()
    time.sleep(query.ms / 1000)  # noqa: ASYNC251 - this blocking call is the lesson
    return lab_result(query.ms, started_at)


@router.get("/threadpool")
def lab_threadpool(query: LabParameters) -> LabResult:
    """A plain def: FastAPI runs it in AnyIO's thread pool (40 threads by default), so it blocks a thread only."""
    started_at = time.time()
    time.sleep(query.ms / 1000)
    return lab_result(query.ms, started_at)


@router.get("/cpu")
def lab_cpu(query: LabParameters) -> LabResult:
    """Burn `ms` of CPU in pure Python; it holds the GIL, so threads cannot run it in parallel."""
    started_at = time.time()
    burn_cpu(query.ms)
    return lab_result(query.ms, started_at)


def get_db_pool(request: Request) -> AsyncConnectionPool:
    """This worker process's asyncio pool of PostgreSQL connections, which the lifespan opened (a 503 without one)."""
    return require(request.app.state.db_pool)


def get_blocking_db_pool(request: Request) -> ConnectionPool:
    """This worker process's blocking pool, for /lab/db-blocking only: the mistake that route shows."""
    return require(request.app.state.blocking_db_pool)


# --8<-- [start:db]
@router.get("/db", responses=documented(models.LAB_DB_ERRORS))
async def lab_db(query: LabParameters, request: Request) -> LabDbResult:
    """Wait `ms` in PostgreSQL on a pooled connection, awaited: the loop serves other requests meanwhile."""
    pool, started_at = get_db_pool(request), time.time()
    with database_errors(pool):
        async with pool.connection() as connection:  # waits here while every connection is out
            got_connection_at = time.time()
            cursor = await connection.execute(SLEEP, [query.ms / 1000])
            row = await cursor.fetchone()
    return lab_db_result(query.ms, pool, started_at, got_connection_at, row)


@router.get("/db-blocking", responses=documented(models.LAB_DB_ERRORS))
async def lab_db_blocking(query: LabParameters, request: Request) -> LabDbResult:
    """The classic mistake again: a blocking driver inside async def stalls the loop, so one query runs at a time."""
    pool, started_at = get_blocking_db_pool(request), time.time()
    with database_errors(pool), pool.connection() as connection:
        got_connection_at = time.time()
        row = connection.execute(SLEEP, [query.ms / 1000]).fetchone()
    return lab_db_result(query.ms, pool, started_at, got_connection_at, row)


# --8<-- [end:db]


# --8<-- [start:stream]
# not FastAPI's generator mode (response_class=EventSourceResponse and `yield`): FastAPI 0.163 then writes
# OpenAPI 3.2's itemSchema into its 3.1 document and documents the route's 422 as an event stream too
@router.get(
    "/stream",
    response_class=Response,
    responses={200: documented_stream(models.TICKS), **documented(models.LAB_STREAM_ERRORS)},
)
async def lab_stream(query: StreamParameters) -> EventSourceResponse:
    """Send `n` events `ms` apart: an async generator on the event loop, which serves everyone else meanwhile."""

    async def ticks() -> AsyncIterator[bytes]:
        for number in range(1, query.n + 1):
            if number > 1:
                await asyncio.sleep(query.ms / 1000)  # the loop serves other requests while this one waits
            tick = LabStreamTick(n=number, of=query.n, pid=os.getpid())
            yield encode_event("tick", tick.model_dump_json(), str(number))

    return EventSourceResponse(ticks(), headers=STREAM_HEADERS)


# --8<-- [end:stream]


# --8<-- [start:echo]
@router.websocket("/echo")
async def lab_echo(websocket: WebSocket) -> None:
    """Send back every message, text as text and bytes as bytes, until the client closes: a task per connection."""
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await websocket.send_text(message["text"])
        else:
            await websocket.send_bytes(message["bytes"])


# --8<-- [end:echo]


def init_app(app: FastAPI, settings: Settings) -> None:
    """Serve the /lab routes, unless LAB_ENDPOINTS=false."""
    if settings.lab_endpoints:
        app.router.routes.extend(router.routes)  # as routes.init_app does, and for the same reason
