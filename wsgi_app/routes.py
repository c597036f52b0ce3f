"""The routes of the Flask app. Compare with asgi_app/routes.py: the same routes, in the same order."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import current_app
from flask_openapi3 import APIBlueprint, OpenAPI

from common.http import MERGE_IN_PROGRESS, PUBLIC_MESSAGE, RESOURCE_BUSY, retry_after_header
from common.lock import Hold, MergeLock, finish_merge, take_or_time_left
from common.models import MERGE_STATUS_ERRORS, START_MERGE_ERRORS, MergeAccepted, MergeRequest, MergeStatus, Message
from common.settings import Settings
from wsgi_app.body import require_json_body
from wsgi_app.docs import documented
from wsgi_app.errors import HTTPException

logger = logging.getLogger("wsgi_app")
api = APIBlueprint("api", __name__)
api.before_request(require_json_body)


# plain functions: a Flask view reads the app it serves from the context of the request
def get_merge_lock() -> MergeLock:
    """The merge lock that create_app opened in this worker process."""
    return current_app.extensions["merge_lock"]  # type: ignore[no-any-return]


def get_settings() -> Settings:
    """The settings the app was built with."""
    return current_app.extensions["settings"]  # type: ignore[no-any-return]


@api.get("/public/test", responses={200: Message})
def public_test() -> dict[str, Any]:
    """Answer with a message anyone can see."""
    return Message(message=PUBLIC_MESSAGE).model_dump()


def run_merge(merge_lock: MergeLock, hold: Hold, merge_seconds: float) -> None:
    """Simulate the merge: hold the shared resource for `merge_seconds`, then release it."""
    logger.info("merge of %r started: holding the shared resource for %.1f s", hold.branch_name, merge_seconds)
    # a blocking sleep: this thread does nothing else, and the worker keeps serving
    time.sleep(merge_seconds)
    finish_merge(merge_lock, hold, logger)


@api.post("/merge", responses={202: MergeAccepted, **documented(START_MERGE_ERRORS)})
def start_merge(
    body: MergeRequest,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Take the shared resource and start a merge in the background, or answer 409 if it is held."""
    merge_lock, settings = get_merge_lock(), get_settings()
    hold = take_or_time_left(merge_lock, body.branch_name, settings.merge_seconds)
    if not isinstance(hold, Hold):
        raise HTTPException(409, detail=RESOURCE_BUSY, headers={"Retry-After": retry_after_header(hold)})
    # a daemon thread: a worker that is shutting down does not wait for it; the lock's TTL frees the hold
    threading.Thread(target=run_merge, args=(merge_lock, hold, settings.merge_seconds), daemon=True).start()
    headers = {"Location": "/merge"}
    return MergeAccepted(message=MERGE_IN_PROGRESS, branch_name=hold.branch_name).model_dump(), 202, headers


@api.get("/merge", responses={200: MergeStatus, **documented(MERGE_STATUS_ERRORS)})
def merge_status() -> dict[str, Any]:
    """Tell whether the shared resource is held, by which branch, and for how long."""
    current = get_merge_lock().status()
    if current is None:
        return MergeStatus(busy=False, branch_name=None, retry_after=None).model_dump()
    return MergeStatus(
        busy=True, branch_name=current.branch_name, retry_after=round(current.seconds_left, 1)
    ).model_dump()


def init_app(app: OpenAPI, settings: Settings) -> None:
    """Serve the contract's routes."""
    app.register_api(api)
