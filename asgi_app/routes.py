"""The routes of the FastAPI app. Compare with wsgi_app/routes.py: the same routes, in the same order."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, HTTPException, Query, Request, Response

from asgi_app.body import JsonBodyRoute
from asgi_app.docs import documented
from common import merges
from common.http import PUBLIC_MESSAGE, RESOURCE_BUSY, retry_after_header
from common.lock import AsyncMergeLock, Busy
from common.models import (
    MERGE_HISTORY_ERRORS,
    MERGE_STATUS_ERRORS,
    START_MERGE_ERRORS,
    HistoryQuery,
    MergeAccepted,
    MergeHistory,
    MergeRequest,
    MergeStatus,
    Message,
)
from common.settings import Settings

logger = logging.getLogger("asgi_app")
router = APIRouter(route_class=JsonBodyRoute)


# async def, though they only read an attribute: FastAPI runs a plain def dependency in its thread pool
async def get_merge_lock(request: Request) -> AsyncMergeLock:
    """The async face of the merge lock that create_app opened in this worker process."""
    return request.app.state.merge_lock  # type: ignore[no-any-return]


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings  # type: ignore[no-any-return]


MergeLockDependency = Annotated[AsyncMergeLock, Depends(get_merge_lock)]
SettingsDependency = Annotated[Settings, Depends(get_settings)]
HistoryParameters = Annotated[HistoryQuery, Query()]


@router.get("/public/test")
async def public_test() -> Message:
    """Answer with a message anyone can see."""
    return Message(message=PUBLIC_MESSAGE)


@router.post("/merge", status_code=202, responses=documented(START_MERGE_ERRORS))
async def start_merge(
    body: MergeRequest,
    background_tasks: BackgroundTasks,
    response: Response,
    merge_lock: MergeLockDependency,
    settings: SettingsDependency,
) -> MergeAccepted:
    """Take the shared resource and start a merge in the background, or answer 409 if it is held."""
    # the async face: awaited on the loop, a worker thread only where SQLite must take its write lock
    lease = await merge_lock.try_acquire(body.branch_name, settings.merge_seconds)
    if isinstance(lease, Busy):
        raise HTTPException(409, detail=RESOURCE_BUSY, headers={"Retry-After": retry_after_header(lease.seconds_left)})
    # a task on the event loop, once the answer has been sent
    background_tasks.add_task(merges.run_merge_async, merge_lock, lease, logger)
    response.headers["Location"] = "/merge"
    return merges.accepted(lease)


@router.get("/merge", responses=documented(MERGE_STATUS_ERRORS))
async def merge_status(merge_lock: MergeLockDependency) -> MergeStatus:
    """Tell whether the shared resource is held, by which branch, and for how long."""
    return merges.status(await merge_lock.status())


@router.get("/merge/history", responses=documented(MERGE_HISTORY_ERRORS))
async def merge_history(query: HistoryParameters, merge_lock: MergeLockDependency) -> MergeHistory:
    """List the most recent merges, newest first, as the ledger recorded them."""
    return merges.history(await merge_lock.history(query.limit))


def init_app(app: FastAPI, settings: Settings) -> None:
    """Serve the contract's routes."""
    app.include_router(router)
