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

# (id, path and query, body, the one issue): each request breaks one part, as flask-openapi3 reports only
# the first part that fails where FastAPI reports them all
BAD_BOOKINGS: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    (
        "path",
        "/rooms/seven/bookings?nights=2",
        {"guest": "Ada"},
        {
            "type": "int_parsing",
            "loc": ["path", "room_id"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "seven",
        },
    ),
    (
        "query",
        "/rooms/7/bookings?nights=0",
        {"guest": "Ada"},
        {
            "type": "greater_than_equal",
            "loc": ["query", "nights"],
            "msg": "Input should be greater than or equal to 1",
            "input": "0",
            "ctx": {"ge": 1},
        },
    ),
    (
        "body",
        "/rooms/7/bookings?nights=2",
        {"guest": ""},
        {
            "type": "string_too_short",
            "loc": ["body", "guest"],
            "msg": "String should have at least 1 character",
            "input": "",
            "ctx": {"min_length": 1},
        },
    ),
    (
        "body-extra-field",
        "/rooms/7/bookings?nights=2",
        {"guest": "Ada", "pets": 2},
        {"type": "extra_forbidden", "loc": ["body", "pets"], "msg": "Extra inputs are not permitted", "input": 2},
    ),
]


@pytest.fixture(scope="module", params=WITH_A_NEW_ROUTE)
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """Each app, built by its create_app with the bookings route added, on its server."""
    with run_server(request.param) as running:
        yield running


def test_the_new_route_answers(server: RunningServer) -> None:
    response = httpx.post(f"{server.url}/rooms/7/bookings?nights=2", json={"guest": "Ada"})
    assert (response.status_code, response.json()) == (201, {"room_id": 7, "guest": "Ada", "nights": 2})


@pytest.mark.parametrize(
    ("path", "body", "issue"), [case[1:] for case in BAD_BOOKINGS], ids=[case[0] for case in BAD_BOOKINGS]
)
def test_bad_input_to_the_new_route_is_a_422_naming_its_place(
    server: RunningServer, path: str, body: dict[str, Any], issue: dict[str, Any]
) -> None:
    response = httpx.post(f"{server.url}{path}", json=body)
    assert (response.status_code, response.headers["content-type"]) == (422, "application/json")
    assert response.json() == {"detail": [issue]}
