"""Each body is parsed once: the strict parse of the input rules is the one the route's model is validated from.

A unit test of the two input-rule hooks, each app called directly with one request (as in test_middleware.py):
it counts the calls of json.loads while the request is handled (the strict parse makes one; the framework made
a second before).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from asgi_app.app import create_app as create_asgi_app
from common.settings import Settings
from launcher import bearer
from wsgi_app.app import create_app as create_wsgi_app

TOKEN = "body-parsed-once-token"
SETTINGS = Settings(lock_url="memory://", merge_tokens=(TOKEN,))
# valid JSON, and an object, so both parsers read it; not a valid merge request, so no merge starts
BODY = b'{"branch_name": 5}'
EXPECTED_422 = {
    "detail": [
        {"type": "string_type", "loc": ["body", "branch_name"], "msg": "Input should be a valid string", "input": 5}
    ]
}


@pytest.fixture
def json_loads_calls(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every call of json.loads (Starlette, Werkzeug and common.json_body all call it through the module)."""
    calls: list[object] = []
    real_loads: Callable[..., Any] = json.loads

    def counting_loads(document: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(document)
        return real_loads(document, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting_loads)
    return calls


def test_fastapi_parses_a_body_once(json_loads_calls: list[object]) -> None:
    app = create_asgi_app(SETTINGS)
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": "/merge",
        "raw_path": b"/merge",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {TOKEN}".encode()),
        ],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    parsed = list(json_loads_calls)  # before the test parses the answer
    assert (sent[0]["status"], json.loads(sent[1]["body"])) == (422, EXPECTED_422)
    assert parsed == [BODY.decode()]


def test_flask_parses_a_body_once(json_loads_calls: list[object]) -> None:
    client = create_wsgi_app(SETTINGS).test_client()
    response = client.post("/merge", data=BODY, headers={"Content-Type": "application/json", **bearer(TOKEN)})
    parsed = list(json_loads_calls)  # before response.get_json() parses the answer
    assert (response.status_code, response.get_json()) == (422, EXPECTED_422)
    assert parsed == [BODY.decode()]
