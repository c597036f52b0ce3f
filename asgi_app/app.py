"""The FastAPI application factory. Compare with wsgi_app/app.py: the same steps, in the same order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from asgi_app import auth, docs, errors, events, hardening, lab, routes
from common.database import new_async_pool, new_pool
from common.lock import open_async_merge_lock
from common.logs import app_logger
from common.settings import Settings, load_settings

TITLE = "WSGI vs ASGI: the FastAPI app"


def watch_the_loop(slow_seconds: float) -> None:
    """Turn on asyncio's debug mode on the running loop: each step that holds it past `slow_seconds` is logged."""
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = slow_seconds
    # asyncio logs "Executing <Task ...> took 2.060 seconds" (a real one: docs/pitfalls.output.txt) as a warning of
    # its "asyncio" logger, which no server configures: give it the app's handler, so the line lands beside the app's
    logging.getLogger("asyncio").handlers = logging.getLogger("asgi_app").handlers
    logging.getLogger("asyncio").setLevel(logging.WARNING)


# --8<-- [start:create_app]
def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the FastAPI app; each worker process builds its own, with the async face of its merge lock."""
    settings = settings or load_settings()
    app_logger("asgi_app", settings.log_level)
    # opened here rather than in the lifespan, so that a bad LOCK_URL stops the server with one line
    # instead of a lifespan traceback; the lifespan closes it
    merge_lock = open_async_merge_lock(settings.lock_url_for("asgi"), settings.lock_lease_seconds)
    # /lab/db's pool of PostgreSQL connections, and /lab/db-blocking's blocking one: None without DATABASE_URL
    db_pool, blocking_db_pool = new_async_pool(settings), new_pool(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.loop_slow_callback_seconds is not None:
            watch_the_loop(settings.loop_slow_callback_seconds)
        # each worker process opens its own pools, here on the loop the async one belongs to; they connect in the
        # background, so a PostgreSQL that is down costs /lab/db a 503, not the app its start
        if db_pool is not None and blocking_db_pool is not None:
            await db_pool.open()
            blocking_db_pool.open()
        try:
            yield
        finally:
            await merge_lock.close()
            if db_pool is not None and blocking_db_pool is not None:
                await db_pool.close()
                blocking_db_pool.close()

    # docs_url=None: FastAPI's own /docs loads Swagger UI from a CDN, docs.py serves the installed files
    app = FastAPI(title=TITLE, version="1.0.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.merge_lock = merge_lock
    app.state.db_pool, app.state.blocking_db_pool = db_pool, blocking_db_pool

    # who may merge (asgi_app/auth.py), before any rule reads a body, as on Flask
    auth.init_app(app, settings)
    # what makes the two apps answer hostile input alike; before the routes, as on Flask
    hardening.init_app(app, settings)
    # each module wires its own part; the OpenAPI document after the routes it describes
    for part in (events, routes, lab, errors, docs):
        part.init_app(app, settings)
    return app
    # --8<-- [end:create_app]
