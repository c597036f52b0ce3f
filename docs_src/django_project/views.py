"""Four views, each a lesson about where Django runs a view on each interface.

Under WSGI a request holds a worker's thread from start to end, whatever the view. Under ASGI Django runs on the
server's event loop: an `async def` view runs there, and a plain `def` view runs through asgiref's
`sync_to_async(thread_sensitive=True)`, which sends every sync view of the process to one and the same thread,
one at a time. An `async def` view under WSGI gets an event loop of its own for that request (`async_to_sync`).
"""

from __future__ import annotations

import asyncio
import time

from django.http import HttpRequest, JsonResponse
from pydantic import ValidationError

from common.http import PUBLIC_MESSAGE
from common.lab import lab_result
from common.models import LabQuery


def hello(request: HttpRequest) -> JsonResponse:
    """The hello of our two apps, as a sync view: on ASGI it too crosses to the one sync thread."""
    return JsonResponse({"message": PUBLIC_MESSAGE})


def lab_query(request: HttpRequest) -> LabQuery | JsonResponse:
    """`?ms=` read by the model our two apps use, or the 422 they would answer."""
    try:
        return LabQuery.model_validate(request.GET.dict())
    except ValidationError as error:
        detail = [
            {"type": issue["type"], "loc": ["query", *issue["loc"]], "msg": issue["msg"]} for issue in error.errors()
        ]
        return JsonResponse({"detail": detail}, status=422)


# --8<-- [start:views]
def sync_io(request: HttpRequest) -> JsonResponse:
    """A blocking wait in a plain def: a worker's thread under WSGI, a thread of its own per request under ASGI."""
    query = lab_query(request)
    if isinstance(query, JsonResponse):
        return query
    started_at = time.time()
    time.sleep(query.ms / 1000)  # a blocking driver: requests, psycopg without async
    return JsonResponse(lab_result(query.ms, started_at).model_dump())


async def async_io(request: HttpRequest) -> JsonResponse:
    """An awaited wait: on ASGI the event loop serves others meanwhile; on WSGI it still holds the worker."""
    query = lab_query(request)
    if isinstance(query, JsonResponse):
        return query
    started_at = time.time()
    await asyncio.sleep(query.ms / 1000)  # an async driver: httpx.AsyncClient, psycopg's AsyncConnection
    return JsonResponse(lab_result(query.ms, started_at).model_dump())


async def blocking(request: HttpRequest) -> JsonResponse:
    """The classic mistake again: time.sleep inside async def stalls the event loop under ASGI."""
    query = lab_query(request)
    if isinstance(query, JsonResponse):
        return query
    started_at = time.time()
    time.sleep(query.ms / 1000)  # noqa: ASYNC251 - this blocking call is the lesson
    return JsonResponse(lab_result(query.ms, started_at).model_dump())


# --8<-- [end:views]
