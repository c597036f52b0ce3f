"""The /lab routes of the FastAPI app, each isolating one lesson. Compare with wsgi_app/lab.py: the same routes."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query

from asgi_app.docs import documented
from asgi_app.inputs import InputRulesRoute
from common.lab import burn_cpu
from common.models import LAB_ERRORS, LabQuery, LabResult
from common.settings import Settings

router = APIRouter(prefix="/lab", tags=["lab"], responses=documented(LAB_ERRORS), route_class=InputRulesRoute)
LabParameters = Annotated[LabQuery, Query()]


@router.get("/io")
async def lab_io(query: LabParameters) -> LabResult:
    """Wait `ms` without blocking: the event loop serves other requests meanwhile (a well-behaved async driver)."""
    await asyncio.sleep(query.ms / 1000)
    return LabResult(waited_ms=query.ms, pid=os.getpid())


@router.get("/blocking")
async def lab_blocking(query: LabParameters) -> LabResult:
    """The classic mistake: time.sleep inside async def stalls the whole event loop for `ms`."""
    time.sleep(query.ms / 1000)  # noqa: ASYNC251 - this blocking call is the lesson
    return LabResult(waited_ms=query.ms, pid=os.getpid())


@router.get("/threadpool")
def lab_threadpool(query: LabParameters) -> LabResult:
    """A plain def: FastAPI runs it in AnyIO's thread pool (40 threads by default), so it blocks a thread only."""
    time.sleep(query.ms / 1000)
    return LabResult(waited_ms=query.ms, pid=os.getpid())


@router.get("/cpu")
def lab_cpu(query: LabParameters) -> LabResult:
    """Burn `ms` of CPU in pure Python; it holds the GIL, so threads cannot run it in parallel."""
    burn_cpu(query.ms)
    return LabResult(waited_ms=query.ms, pid=os.getpid())


def init_app(app: FastAPI, settings: Settings) -> None:
    """Serve the /lab routes, unless LAB_ENDPOINTS=false."""
    if settings.lab_endpoints:
        app.router.routes.extend(router.routes)  # as routes.init_app does, and for the same reason
