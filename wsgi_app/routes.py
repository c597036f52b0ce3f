"""The routes of the Flask app. Compare with asgi_app/routes.py: the same routes, in the same order."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Response, current_app
from flask_openapi3 import APIBlueprint, OpenAPI

from common import merges, models
from common.events import EVENT_STREAM, STREAM_HEADERS, documented_stream
from common.http import LIVE_STATE, PUBLIC_MESSAGE, RESOURCE_BUSY, retry_after_header
from common.lock import Busy, MergeLock
from common.models import MergeAccepted, MergeHistory, MergeRequest, MergeStatus, Message
from common.settings import Settings
from wsgi_app import events
from wsgi_app.auth import MERGE_TOKEN, merge_token_required
from wsgi_app.docs import documented
from wsgi_app.errors import HTTPException
from wsgi_app.hardening import apply_input_rules

logger = logging.getLogger("wsgi_app")
api = APIBlueprint("api", __name__)
api.before_request(apply_input_rules)


# plain functions: a Flask view reads the app it serves from the context of the request
def get_merge_lock() -> MergeLock:
    """The blocking face of the merge lock that create_app opened in this worker process."""
    return current_app.extensions["merge_lock"]  # type: ignore[no-any-return]


def get_settings() -> Settings:
    """The settings the app was built with."""
    return current_app.extensions["settings"]  # type: ignore[no-any-return]


@api.get("/public/test", responses={200: Message})
def public_test() -> dict[str, Any]:
    """Answer with a message anyone can see."""
    return {"message": PUBLIC_MESSAGE}


# --8<-- [start:start_merge]
@api.post(
    "/merge",
    responses={202: MergeAccepted, **documented(models.START_MERGE_ERRORS)},
    security=MERGE_TOKEN,
)
@merge_token_required
def start_merge(
    body: MergeRequest,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Take the shared resource and start a merge in the background, or answer 409 if it is held."""
    merge_lock, settings = get_merge_lock(), get_settings()
    lease = merge_lock.try_acquire(body.branch_name, settings.merge_seconds)
    if isinstance(lease, Busy):
        raise HTTPException(409, detail=RESOURCE_BUSY, headers={"Retry-After": retry_after_header(lease.seconds_left)})
    # a daemon thread: a worker that is shutting down does not wait for it, and the lease runs out on its own
    threading.Thread(target=merges.run_merge, args=(merge_lock, lease, logger), daemon=True).start()
    headers = {"Location": "/merge"}
    return merges.accepted(lease).model_dump(), 202, headers
    # --8<-- [end:start_merge]


@api.get("/merge", responses={200: MergeStatus, **documented(models.MERGE_STATUS_ERRORS)})
def merge_status() -> tuple[dict[str, Any], dict[str, str]]:
    """Tell whether the shared resource is held, by which branch, and for how long."""
    return merges.status(get_merge_lock().status()).model_dump(), LIVE_STATE


@api.get("/merge/history", responses={200: MergeHistory, **documented(models.MERGE_HISTORY_ERRORS)})
def merge_history(query: models.HistoryQuery) -> tuple[dict[str, Any], dict[str, str]]:
    """List the most recent merges, newest first, as the ledger recorded them."""
    return merges.history(get_merge_lock().history(query.limit)).model_dump(mode="json"), LIVE_STATE


@api.get(
    "/merge/events",
    responses={200: documented_stream(models.MERGE_EVENTS_DESCRIPTION), **documented(models.MERGE_STATUS_ERRORS)},
)
def merge_events() -> Response:
    """Stream the resource's status, then each merge's start and end, as Server-Sent Events."""
    # the bytes of each event are built once per worker process and shared by every stream (wsgi_app/events.py)
    stream = events.open_stream(current_app.extensions["event_hub"])
    return Response(stream, mimetype=EVENT_STREAM, headers=STREAM_HEADERS)


def init_app(app: OpenAPI, settings: Settings) -> None:
    """Serve the contract's routes."""
    app.register_api(api)
