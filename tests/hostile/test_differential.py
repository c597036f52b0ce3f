"""Differential fuzzing of the twins: the same raw request to both real servers must get the same answer.

hypothesis writes each request as bytes (tests/hostile/requests.py), sends it to the FastAPI app on
Uvicorn and to the Flask app on Gunicorn, and requires the same status; for every 4xx, a JSON body
that a strict client can read and the same error: the same `type` and `loc` of each issue of a 422,
the same `detail` otherwise, and the same `WWW-Authenticate` challenge. A request that a server answers
before the app (server_level.py's allow-list) is held to the same status only. A bounded run is part of
`make test`; `make fuzz-twins` runs a longer one (DIFFERENTIAL_EXAMPLES).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from launcher import RunningServer, wait_for
from tests.hostile.requests import REQUESTS, RawRequest
from tests.hostile.server_level import server_level
from tests.support.rawhttp import RawResponse, exchange
from tests.support.strict_json import loads_strict

EXAMPLES = int(os.environ.get("DIFFERENTIAL_EXAMPLES", "400"))
excused: Counter[str] = Counter()
sent: Counter[str] = Counter()
authorization_lines: Counter[int] = Counter()


def error_of(response: RawResponse) -> Any:
    """What must match between the twins in a 4xx: each 422 issue's type and loc, or the detail."""
    try:
        detail = loads_strict(response.body)["detail"]
    except (ValueError, KeyError, TypeError) as error:
        return f"not a JSON error ({error}): {response.headers.get('content-type')} {response.body[:100]!r}"
    if response.status == 422:
        return sorted((issue["type"], tuple(issue["loc"])) for issue in detail)
    return detail


def difference(request: RawRequest, asgi: RawResponse | None, wsgi: RawResponse | None) -> str | None:
    """How the two answers differ where they must not, or None."""
    statuses = (asgi.status if asgi else None, wsgi.status if wsgi else None)
    if statuses[0] != statuses[1]:
        return f"status {statuses[0]} from the FastAPI app, {statuses[1]} from the Flask app"
    if asgi is None or wsgi is None or not 400 <= asgi.status < 500 or request.method == "HEAD":
        return None
    if (entry := server_level(request)) is not None:
        excused[entry.name] += 1
        return None
    errors = (error_of(asgi), error_of(wsgi))
    if errors[0] != errors[1]:
        return f"errors differ: {errors[0]!r} and {errors[1]!r}"
    challenges = (asgi.headers.get("www-authenticate"), wsgi.headers.get("www-authenticate"))
    return None if challenges[0] == challenges[1] else f"challenges differ: {challenges[0]!r} and {challenges[1]!r}"


def wait_until_free(servers: dict[str, RunningServer]) -> None:
    """After a 202 on both: let the merges end, so that the next request finds both resources free."""
    for server in servers.values():
        wait_for(lambda url=server.url: httpx.get(f"{url}/merge", timeout=10).json()["busy"] is False, 10, "free")


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    """Print the run's figures (pytest -s shows them; `make fuzz-twins` does)."""
    started = time.monotonic()
    yield
    print(
        f"\ndifferential: {sent.total()} requests to each app in {time.monotonic() - started:.0f} s; "
        f"statuses {dict(sorted(sent.items()))}; "
        f"requests by their Authorization lines {dict(sorted(authorization_lines.items()))}; "
        f"bodies excused by the allow-list: {dict(excused) or 'none'}"
    )


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=REQUESTS)
def test_the_twins_answer_every_request_alike(servers: dict[str, RunningServer], request: RawRequest) -> None:
    raw = request.to_bytes()
    asgi = exchange(servers["asgi"].url, raw, deadline_seconds=10)
    wsgi = exchange(servers["wsgi"].url, raw, deadline_seconds=10)
    sent[str(asgi.status if asgi else "closed")] += 1
    authorization_lines[request.count("Authorization")] += 1
    if asgi is not None and wsgi is not None and asgi.status == wsgi.status == 202:
        wait_until_free(servers)

    assert difference(request, asgi, wsgi) is None, (
        f"{difference(request, asgi, wsgi)}\nrequest: {raw!r}\nFastAPI: {asgi}\nFlask: {wsgi}"
    )
