"""Both apps as create_app builds them, plus one route whose request models nothing in the apps has seen.

Served by tests/apps/test_new_request_model.py: a route a reader adds must answer bad input with a 422 that
says where the problem is (`path`, `query`, `body`), without registering its models anywhere.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Query
from flask_openapi3 import OpenAPI
from pydantic import BaseModel, ConfigDict, Field

from asgi_app.app import create_app as create_asgi_app
from wsgi_app.app import create_app as create_wsgi_app


class BookingQuery(BaseModel):
    """Query of `POST /rooms/{room_id}/bookings`: for how many nights."""

    nights: int = Field(default=1, ge=1, le=14)


class Booking(BaseModel):
    """Body of `POST /rooms/{room_id}/bookings`: who stays."""

    model_config = ConfigDict(extra="forbid")

    guest: str = Field(min_length=1)


class RoomPath(BaseModel):
    """Path of `POST /rooms/<room_id>/bookings` (Flask): flask-openapi3 reads a path's parameters into a model."""

    room_id: int


def create_fastapi_app() -> FastAPI:
    """The FastAPI app with the bookings route."""
    app = create_asgi_app()

    @app.post("/rooms/{room_id}/bookings", status_code=201)
    def book_room(room_id: int, query: Annotated[BookingQuery, Query()], body: Booking) -> dict[str, Any]:
        return {"room_id": room_id, "guest": body.guest, "nights": query.nights}

    return app


def create_flask_app() -> OpenAPI:
    """The Flask app with the bookings route."""
    app = create_wsgi_app()

    @app.post("/rooms/<room_id>/bookings")
    def book_room(path: RoomPath, query: BookingQuery, body: Booking) -> tuple[dict[str, Any], int]:
        return {"room_id": path.room_id, "guest": body.guest, "nights": query.nights}, 201

    return app
