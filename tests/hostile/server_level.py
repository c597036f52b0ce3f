"""The allow-list of the differential test: differences between the twins that come from the servers, not the apps.

Each entry names a class of request that a server answers itself, before the app sees it, so that no
app code can make the two answers the same. The differential test still requires the same status for
each; only the body is not compared, and it counts how many examples each entry excused.
docs/many/hostile-input.md shows this file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.hostile.requests import RawRequest


@dataclass(frozen=True)
class ServerLevel:
    """A class of request one server answers before the app can."""

    name: str
    applies: Callable[[RawRequest], bool]
    reason: str


# --8<-- [start:allow-list]
ALLOW_LIST = [
    ServerLevel(
        "a space, a control character or a byte outside ASCII in the request target",
        lambda request: any(not 0x20 < ord(char) < 0x7F for char in request.target),
        "both parsers refuse the request line with a 400 of their own: plain text from Uvicorn, HTML from Gunicorn",
    ),
    ServerLevel(
        "repeated Host or Content-Type",
        lambda request: request.count("Host") > 1 or request.count("Content-Type") > 1,
        "Gunicorn refuses the request with its own HTML 400 page; the FastAPI app answers the same 400 in JSON",
    ),
    ServerLevel(
        "an Expect other than 100-continue",
        lambda request: (request.value("Expect") or "100-continue").lower() != "100-continue",
        "Gunicorn answers 417 with its own HTML page; the FastAPI app answers the same 417 in JSON",
    ),
]
# --8<-- [end:allow-list]


def server_level(request: RawRequest) -> ServerLevel | None:
    """The allow-list entry that excuses this request's bodies from comparison, or None."""
    return next((entry for entry in ALLOW_LIST if entry.applies(request)), None)
