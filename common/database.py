"""The pools of PostgreSQL connections behind /lab/db: psycopg 3 and psycopg_pool, one pool per worker process.

A pool holds DB_POOL_SIZE open connections. A request borrows one, runs one query and gives it back; while every
connection is out, the next request queues at the pool, for DB_POOL_TIMEOUT_SECONDS at most. So a worker process
runs at most DB_POOL_SIZE queries at once, whatever its server could take, and N worker processes hold N pools.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from psycopg import OperationalError
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from common.lab import lab_result
from common.models import LabDbResult
from common.settings import Settings

logger = logging.getLogger("common.database")

# one round trip: wait on the server, and say which backend (one process per pooled connection) did
SLEEP = "SELECT pg_backend_pid() FROM pg_sleep(%s)"
Pool = TypeVar("Pool", ConnectionPool, AsyncConnectionPool)
NO_DATABASE_URL = "No database: set DATABASE_URL to a postgresql:// URL (make serve starts a PostgreSQL)"


class DatabaseUnavailableError(Exception):
    """PostgreSQL cannot serve this request; each app's errors.py answers 503 with `detail` and these headers."""

    def __init__(self, detail: str, retry_after: bool = True) -> None:
        self.detail = detail
        # unset DATABASE_URL is not a state that passes: no Retry-After for it
        self.headers = {"Retry-After": "1"} if retry_after else {}
        super().__init__(detail)


def pool_options(settings: Settings) -> dict[str, Any]:
    """What both kinds of pool are built with: DB_POOL_SIZE connections to DATABASE_URL, none opened yet."""
    return {
        "conninfo": settings.database_url,
        # a fixed size, opened at the start: a request never waits for a connection to be made, only for one to free
        "min_size": settings.db_pool_size,
        "timeout": settings.db_pool_timeout_seconds,
        # one statement per request, nothing to commit: no transaction around it
        "kwargs": {"autocommit": True},
        "open": False,
    }


def new_pool(settings: Settings) -> ConnectionPool | None:
    """A blocking pool for /lab/db, not yet open; None when the /lab routes are off or DATABASE_URL is unset."""
    if not settings.lab_endpoints or settings.database_url is None:
        return None
    return ConnectionPool(**pool_options(settings))


def new_async_pool(settings: Settings) -> AsyncConnectionPool | None:
    """An asyncio pool for /lab/db, not yet open (it belongs to the loop that opens it); None as for new_pool."""
    if not settings.lab_endpoints or settings.database_url is None:
        return None
    return AsyncConnectionPool(**pool_options(settings))


def require(pool: Pool | None) -> Pool:
    """The pool, or a 503 naming DATABASE_URL when there is none."""
    if pool is None:
        raise DatabaseUnavailableError(NO_DATABASE_URL, retry_after=False)
    return pool


@contextmanager
def database_errors(pool: ConnectionPool | AsyncConnectionPool) -> Iterator[None]:
    """Turn a pool that stayed empty, or a PostgreSQL that cannot be reached, into DatabaseUnavailableError (a 503)."""
    try:
        yield
    except PoolTimeout:
        raise DatabaseUnavailableError(
            f"No pooled connection came free within {pool.timeout:g} s (DB_POOL_SIZE={pool.max_size}): all of them "
            "are busy, or PostgreSQL cannot be reached"
        ) from None
    except OperationalError as error:
        # libpq's messages run over several lines ("connection failed: ...\nIs the server running ...")
        reason = " ".join(str(error).split())
        logger.error("PostgreSQL unavailable: %s", reason)
        raise DatabaseUnavailableError(f"Database unavailable: {reason}") from None


def lab_db_result(
    ms: int, pool: ConnectionPool | AsyncConnectionPool, started_at: float, got_connection_at: float, row: Any
) -> LabDbResult:
    """The answer of a /lab/db route: what it waited, on which backend of which pool, from when to now."""
    (backend_pid,) = row
    return LabDbResult(
        **lab_result(ms, started_at).model_dump(),
        pool_size=pool.max_size,
        got_connection_at=got_connection_at,
        backend_pid=backend_pid,
    )
