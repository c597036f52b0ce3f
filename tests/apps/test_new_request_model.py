"""A new route with new request models: bad input is a 422 naming where the problem is, on both apps, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from launcher import RunningServer, run_server
from launcher.catalog import GUNICORN_SYNC_1, UVICORN

NEW_ROUTE = "tests.apps.with_a_new_route"
# each server calls the factory itself (Uvicorn's --factory, Gunicorn's `module:factory()`), so that, as in
# main.py, the app is built where it is served
WITH_A_NEW_ROUTE = [
    pytest.param(
        replace(UVICORN, id="uvicorn-new-route", app=f"{NEW_ROUTE}:create_fastapi_app", options=("--factory",)),
        id="asgi",
    ),
    pytest.param(replace(GUNICORN_SYNC_1, id="gunicorn-new-route", app=f"{NEW_ROUTE}:create_flask_app()"), id="wsgi"),
]

# POST /rooms/7/bookings?nights=2 {"guest": "Ada"}, and the booking the route answers with
GOOD_BOOKING = {"room_id": 7, "nights": 2, "guest": "Ada"}
# each request puts one bad value into the good booking, as flask-openapi3 reports only the first part that fails
# where FastAPI reports them all: (the part, the name there, the value, and pydantic's type, message and ctx)
BAD_BOOKINGS: list[tuple[str, str, Any, str, str, dict[str, Any]]] = [
    (
        "path",
        "room_id",
        "seven",
        "int_parsing",
        "Input should be a valid integer, unable to parse string as an integer",
        {},
    ),
    ("query", "nights", "0", "greater_than_equal", "Input should be greater than or equal to 1", {"ge": 1}),
    ("body", "guest", "", "string_too_short", "String should have at least 1 character", {"min_length": 1}),
    ("body", "pets", 2, "extra_forbidden", "Extra inputs are not permitted", {}),
]


def booking(**fields: Any) -> tuple[str, dict[str, Any]]:
    """The good booking with these fields in its place: its path and query, and its body."""
    body = {**GOOD_BOOKING, **fields}
    return f"/rooms/{body.pop('room_id')}/bookings?nights={body.pop('nights')}", body


@pytest.fixture(scope="module", params=WITH_A_NEW_ROUTE)
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """Each app, built by its create_app with the bookings route added, on its server."""
    with run_server(request.param) as running:
        yield running


def test_the_new_route_answers(server: RunningServer) -> None:
    path, body = booking()
    response = httpx.post(f"{server.url}{path}", json=body)
    assert (response.status_code, response.json()) == (201, GOOD_BOOKING)


@pytest.mark.parametrize(
    ("part", "name", "value", "error_type", "message", "ctx"),
    BAD_BOOKINGS,
    ids=[f"{part}-{name}" for part, name, *_ in BAD_BOOKINGS],
)
def test_bad_input_to_the_new_route_is_a_422_naming_its_place(
    server: RunningServer, part: str, name: str, value: Any, error_type: str, message: str, ctx: dict[str, Any]
) -> None:
    path, body = booking(**{name: value})
    response = httpx.post(f"{server.url}{path}", json=body)
    assert (response.status_code, response.headers["content-type"]) == (422, "application/json")
    issue = {"type": error_type, "loc": [part, name], "msg": message, "input": value}
    assert response.json() == {"detail": [{**issue, "ctx": ctx} if ctx else issue]}
