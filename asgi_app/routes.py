"""The routes of the FastAPI app. Compare with wsgi_app/routes.py: the same routes, in the same order."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool

from asgi_app.body import JsonBodyRoute
from asgi_app.docs import documented
from common.http import MERGE_IN_PROGRESS, PUBLIC_MESSAGE, RESOURCE_BUSY, retry_after_header
from common.lock import Hold, MergeLock, finish_merge, take_or_time_left
from common.models import MERGE_STATUS_ERRORS, START_MERGE_ERRORS, MergeAccepted, MergeRequest, MergeStatus, Message
from common.settings import Settings

logger = logging.getLogger("asgi_app")
router = APIRouter(route_class=JsonBodyRoute)


# async def, though they only read an attribute: FastAPI runs a plain def dependency in its thread pool
async def get_merge_lock(request: Request) -> MergeLock:
    """The merge lock that create_app opened in this worker process."""
    return request.app.state.merge_lock  # type: ignore[no-any-return]


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings  # type: ignore[no-any-return]


MergeLockDependency = Annotated[MergeLock, Depends(get_merge_lock)]
SettingsDependency = Annotated[Settings, Depends(get_settings)]


@router.get("/public/test")
async def public_test() -> Message:
    """Answer with a message anyone can see."""
    return Message(message=PUBLIC_MESSAGE)


async def run_merge(merge_lock: MergeLock, hold: Hold, merge_seconds: float) -> None:
    """Simulate the merge: hold the shared resource for `merge_seconds`, then release it."""
    logger.info("merge of %r started: holding the shared resource for %.1f s", hold.branch_name, merge_seconds)
    # an await: the event loop serves other requests while this merge waits
    await asyncio.sleep(merge_seconds)
    await run_in_threadpool(finish_merge, merge_lock, hold, logger)


@router.post("/merge", status_code=202, responses=documented(START_MERGE_ERRORS))
async def start_merge(
    body: MergeRequest,
    background_tasks: BackgroundTasks,
    response: Response,
    merge_lock: MergeLockDependency,
    settings: SettingsDependency,
) -> MergeAccepted:
    """Take the shared resource and start a merge in the background, or answer 409 if it is held."""
    # lock I/O runs in a worker thread, so that a slow SQLite or Redis never stalls the event loop
    hold = await run_in_threadpool(take_or_time_left, merge_lock, body.branch_name, settings.merge_seconds)
    if not isinstance(hold, Hold):
        raise HTTPException(409, detail=RESOURCE_BUSY, headers={"Retry-After": retry_after_header(hold)})
    background_tasks.add_task(run_merge, merge_lock, hold, settings.merge_seconds)
    response.headers["Location"] = "/merge"
    return MergeAccepted(message=MERGE_IN_PROGRESS, branch_name=hold.branch_name)


@router.get("/merge", responses=documented(MERGE_STATUS_ERRORS))
async def merge_status(merge_lock: MergeLockDependency) -> MergeStatus:
    """Tell whether the shared resource is held, by which branch, and for how long."""
    current = await run_in_threadpool(merge_lock.status)
    if current is None:
        return MergeStatus(busy=False, branch_name=None, retry_after=None)
    return MergeStatus(busy=True, branch_name=current.branch_name, retry_after=round(current.seconds_left, 1))


def init_app(app: FastAPI, settings: Settings) -> None:
    """Serve the contract's routes."""
    app.include_router(router)
