"""Oversized request lines and headers: what each server answers, and what nginx in front changes.

Gunicorn enforces limit_request_line, limit_request_field_size and limit_request_fields (its config states them).
Uvicorn's httptools parser has no limit on the size of a request head at all: the whole megabyte is read into
memory and the app answers. Its h11 parser refuses a head over --h11-max-incomplete-event-size (16 KiB by
default) only when the head takes more than one read to arrive; nginx refuses at large_client_header_buffers
(deploy/nginx.conf). None of them answers 5xx or falls over.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.rawhttp import exchange, get

LONG_QUERY = "q=" + "a" * 8200  # over Gunicorn's 4094 and nginx's 8k for the request line
HEADER_16K = "X-Big: " + "a" * 16 * 1024 + "\r\n"
HEADER_1M = "X-Big: " + "a" * 1024 * 1024 + "\r\n"
MANY_HEADERS = "".join(f"X-Header-{number}: {number}\r\n" for number in range(101))  # Gunicorn allows 100

REQUESTS = {
    "request-line-8k": get(f"/public/test?{LONG_QUERY}"),
    "header-16k": get(headers=HEADER_16K),
    "header-1m": get(headers=HEADER_1M),
    "101-headers": get(headers=MANY_HEADERS),
}

# (server, request): the statuses it may answer
EXPECTED: dict[str, dict[str, set[int]]] = {
    "gunicorn": {"request-line-8k": {414}, "header-16k": {431}, "header-1m": {431}, "101-headers": {431}},
    # no limit: the app answers, whatever the size of the head
    "uvicorn": {"request-line-8k": {200}, "header-16k": {200}, "header-1m": {200}, "101-headers": {200}},
    # h11 only measures a head it has not finished parsing: 16 KiB that arrive in one read pass, and a
    # megabyte, which takes many, does not
    "uvicorn-h11": {"request-line-8k": {200}, "header-16k": {200, 400}, "header-1m": {400}, "101-headers": {200}},
    "nginx": {"request-line-8k": {414}, "header-16k": {400}, "header-1m": {400}, "101-headers": {200}},
}


@pytest.fixture(scope="module", params=list(EXPECTED))
def server(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(name, base URL) of each server in turn; nginx runs deploy/nginx.conf in front of Uvicorn."""
    name = request.param
    if name == "nginx":
        return name, request.getfixturevalue("nginx_to_uvicorn").url
    return name, request.getfixturevalue(f"{name.replace('-', '_')}_url")


@pytest.mark.parametrize("kind", list(REQUESTS))
def test_oversized_heads_get_a_4xx_or_reach_the_app_never_a_5xx(server: tuple[str, str], kind: str) -> None:
    name, url = server
    response = exchange(url, REQUESTS[kind])
    assert response is not None, "the server closed the connection without an answer"
    assert response.status in EXPECTED[name][kind]
    if name == "nginx" and response.status >= 400:
        # deploy/nginx.conf turns its own error pages (the 414 too) into the apps' JSON shape
        assert response.headers["content-type"] == "application/json"
        assert json.loads(response.body)["detail"]
    # and the server is still there for the next client
    assert httpx.get(f"{url}/public/test", timeout=10).status_code == 200
