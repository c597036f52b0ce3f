"""Four views, each a lesson about where Django runs a view on each interface.

Under WSGI a request holds a worker's thread from start to end, whatever the view. Under ASGI Django runs on the
server's event loop: an `async def` view runs there, and a plain `def` view runs through asgiref's
`sync_to_async(thread_sensitive=True)` in a thread of its own per request (Django opens a
`ThreadSensitiveContext` for each). An `async def` view under WSGI gets an event loop of its own for that request
(`async_to_sync`).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from pydantic import ValidationError

from common.http import PUBLIC_MESSAGE
from common.lab import lab_result
from common.models import LabQuery


def hello(request: HttpRequest) -> JsonResponse:
    """The hello of our two apps, as a sync view: on ASGI it too runs in a thread of its own."""
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


def with_lab_query(view: Callable[[HttpRequest, LabQuery], Any]) -> Callable[[HttpRequest], Any]:
    """Call the view with its `?ms=` read, or answer the 422 instead. An async view stays async, as Django's own
    decorators keep it, so that each interface runs it where it runs any async view."""
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_view(request: HttpRequest) -> JsonResponse:
            query = lab_query(request)
            return query if isinstance(query, JsonResponse) else await view(request, query)

        return async_view

    @functools.wraps(view)
    def sync_view(request: HttpRequest) -> JsonResponse:
        query = lab_query(request)
        return query if isinstance(query, JsonResponse) else view(request, query)

    return sync_view


# --8<-- [start:views]
@with_lab_query
def sync_io(request: HttpRequest, query: LabQuery) -> JsonResponse:
    """A blocking wait in a plain def: a worker's thread under WSGI, a thread of its own per request under ASGI."""
    started_at = time.time()
    time.sleep(query.ms / 1000)  # a blocking driver: requests, psycopg without async
    return JsonResponse(lab_result(query.ms, started_at).model_dump())


@with_lab_query
async def async_io(request: HttpRequest, query: LabQuery) -> JsonResponse:
    """An awaited wait: on ASGI the event loop serves others meanwhile; on WSGI it still holds the worker."""
    started_at = time.time()
    await asyncio.sleep(query.ms / 1000)  # an async driver: httpx.AsyncClient, psycopg's AsyncConnection
    return JsonResponse(lab_result(query.ms, started_at).model_dump())


@with_lab_query
async def blocking(request: HttpRequest, query: LabQuery) -> JsonResponse:
    """The classic mistake again: time.sleep inside async def stalls the event loop under ASGI."""
    started_at = time.time()
    time.sleep(query.ms / 1000)  # noqa: ASYNC251 - this blocking call is the lesson
    return JsonResponse(lab_result(query.ms, started_at).model_dump())


# --8<-- [end:views]
