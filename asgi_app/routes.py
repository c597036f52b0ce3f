"""The routes of the FastAPI app. Compare with wsgi_app/routes.py: the same routes, in the same order."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.sse import EventSourceResponse

from asgi_app import events
from asgi_app.auth import require_merge_token
from asgi_app.docs import documented
from asgi_app.hardening import InputRulesRoute
from common import merges, models
from common.events import STREAM_HEADERS, documented_stream
from common.http import LIVE_STATE, PUBLIC_MESSAGE, RESOURCE_BUSY, retry_after_header
from common.lock import AsyncMergeLock, Busy
from common.models import MergeAccepted, MergeHistory, MergeRequest, MergeStatus, Message
from common.settings import Settings

logger = logging.getLogger("asgi_app")
router = APIRouter(route_class=InputRulesRoute)


# plain functions of the request, not Depends: FastAPI 0.163 solves each dependency anew on every request,
# which the busy path measurably pays (benchmarks/results/reference-inprocess/dependencies.txt)
def get_merge_lock(request: Request) -> AsyncMergeLock:
    """The async face of the merge lock that create_app opened in this worker process."""
    return request.app.state.merge_lock  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings  # type: ignore[no-any-return]


HistoryParameters = Annotated[models.HistoryQuery, Query()]


@router.get("/public/test", response_model=Message)
async def public_test() -> dict[str, str]:
    """Answer with a message anyone can see."""
    return {"message": PUBLIC_MESSAGE}


# --8<-- [start:start_merge]
@router.post(
    "/merge",
    status_code=202,
    responses=documented(models.START_MERGE_ERRORS),
    dependencies=[Depends(require_merge_token)],
)
async def start_merge(
    body: MergeRequest,
    background_tasks: BackgroundTasks,
    response: Response,
    request: Request,
) -> MergeAccepted:
    """Take the shared resource and start a merge in the background, or answer 409 if it is held."""
    merge_lock, settings = get_merge_lock(request), get_settings(request)
    # the async face: awaited on the loop, a worker thread only where SQLite must take its write lock
    lease = await merge_lock.try_acquire(body.branch_name, settings.merge_seconds)
    if isinstance(lease, Busy):
        raise HTTPException(409, detail=RESOURCE_BUSY, headers={"Retry-After": retry_after_header(lease.seconds_left)})
    # a task on the event loop, once the answer has been sent
    background_tasks.add_task(merges.run_merge_async, merge_lock, lease, logger)
    response.headers["Location"] = "/merge"
    return merges.accepted(lease)
    # --8<-- [end:start_merge]


@router.get("/merge", responses=documented(models.MERGE_STATUS_ERRORS))
async def merge_status(response: Response, request: Request) -> MergeStatus:
    """Tell whether the shared resource is held, by which branch, and for how long."""
    response.headers.update(LIVE_STATE)
    return merges.status(await get_merge_lock(request).status())


@router.get("/merge/history", responses=documented(models.MERGE_HISTORY_ERRORS))
async def merge_history(query: HistoryParameters, response: Response, request: Request) -> MergeHistory:
    """List the most recent merges, newest first, as the ledger recorded them."""
    response.headers.update(LIVE_STATE)
    return merges.history(await get_merge_lock(request).history(query.limit))


# not response_class=EventSourceResponse: FastAPI 0.163 then expects the route to be a generator, and formats
# every event anew for every stream; the class is this route's answer, given bytes built once for all streams
@router.get(
    "/merge/events",
    response_class=Response,
    responses={200: documented_stream(models.MERGE_EVENTS_DESCRIPTION), **documented(models.MERGE_STATUS_ERRORS)},
)
async def merge_events(request: Request) -> EventSourceResponse:
    """Stream the resource's status, then each merge's start and end, as Server-Sent Events."""
    # the bytes of each event are built once per worker process and shared by every stream (asgi_app/events.py)
    stream = await events.open_stream(request.app.state.event_hub)
    return EventSourceResponse(stream, headers=STREAM_HEADERS)


def init_app(app: FastAPI, settings: Settings) -> None:
    """Serve the contract's routes on the app's own router."""
    # not app.include_router: FastAPI 0.163 keeps an included router as a layer it matches on every request,
    # about a sixth of a hello (benchmarks/results/reference-inprocess/routers.txt); the router holds finished
    # routes (its settings applied as each was made), and include_router would add nothing to them
    app.router.routes.extend(router.routes)
