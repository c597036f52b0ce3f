"""The /lab routes of the Flask app. Compare with asgi_app/lab.py: a sync worker blocks in every one."""

from __future__ import annotations

import os
import time
from typing import Any

from flask_openapi3 import APIBlueprint, Tag

from common.lab import burn_cpu
from common.models import LAB_ERRORS, LabQuery, LabResult
from wsgi_app.routes import documented

api = APIBlueprint("lab", __name__, url_prefix="/lab", abp_tags=[Tag(name="lab")], abp_responses=documented(LAB_ERRORS))


@api.get("/io", responses={200: LabResult})
def lab_io(query: LabQuery) -> dict[str, Any]:
    """Wait `ms` with a blocking call: a WSGI app has no event loop to hand the wait to."""
    time.sleep(query.ms / 1000)
    return LabResult(waited_ms=query.ms, pid=os.getpid()).model_dump()


@api.get("/blocking", responses={200: LabResult})
def lab_blocking(query: LabQuery) -> dict[str, Any]:
    """The same blocking wait as /lab/io: in WSGI there is no other kind."""
    time.sleep(query.ms / 1000)
    return LabResult(waited_ms=query.ms, pid=os.getpid()).model_dump()


@api.get("/threadpool", responses={200: LabResult})
def lab_threadpool(query: LabQuery) -> dict[str, Any]:
    """The same blocking wait again: the server's workers and threads are the only pool."""
    time.sleep(query.ms / 1000)
    return LabResult(waited_ms=query.ms, pid=os.getpid()).model_dump()


@api.get("/cpu", responses={200: LabResult})
def lab_cpu(query: LabQuery) -> dict[str, Any]:
    """Burn `ms` of CPU in pure Python; it holds the GIL, so threads cannot run it in parallel."""
    burn_cpu(query.ms)
    return LabResult(waited_ms=query.ms, pid=os.getpid()).model_dump()
