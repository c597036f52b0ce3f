"""Oversized request lines and headers: what each server answers, and what nginx in front changes.

Gunicorn enforces limit_request_line, limit_request_field_size and limit_request_fields (its config states them).
Uvicorn's httptools parser has no limit on the size of a request head at all: the whole megabyte is read into
memory and the app answers. Its h11 parser refuses a head over --h11-max-incomplete-event-size (16 KiB by
default) only when the head takes more than one read to arrive; nginx refuses at large_client_header_buffers
(deploy/nginx.conf). None of them answers 5xx or falls over.
"""

from __future__ import annotations

import contextlib
import json
import socket

import httpx
import psutil
import pytest

from launcher import ServerConfig, run_server, wait_for
from launcher.catalog import UVICORN, UVICORN_H11
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


UNFINISHED_HEADS = 20  # connections, each sending a 1 MiB header and never the blank line that ends the head


def rss_mib(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def read_until_closed(connection: socket.socket) -> None:
    """Read until the server closes `connection`, or raise TimeoutError after the socket's timeout.

    Its 400 may be lost to the reset that a close with unread data sends, so only the close is certain."""
    with contextlib.suppress(ConnectionResetError):
        while connection.recv(65536):
            pass


@pytest.mark.parametrize(("row", "grows"), [(UVICORN, True), (UVICORN_H11, False)], ids=["httptools", "h11"])
def test_unfinished_megabyte_heads_stay_in_uvicorns_memory_with_httptools(row: ServerConfig, grows: bool) -> None:
    """httptools keeps every byte of an unfinished head, and nothing times the connection out; h11 refuses it."""
    with run_server(row) as server:
        host, port = server.url.removeprefix("http://").split(":")
        before = rss_mib(server.pid)
        head = b"GET /public/test HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2**20
        sent = UNFINISHED_HEADS * len(head) / 2**20
        connections = [socket.create_connection((host, int(port)), timeout=10) for _ in range(UNFINISHED_HEADS)]
        try:
            for connection in connections:
                with contextlib.suppress(ConnectionError):  # h11 may answer and close before the last byte
                    connection.sendall(head)  # and never the blank line that ends the head
            if grows:
                # every megabyte is held: at least three quarters of what was sent shows in the server's memory
                wait_for(lambda: rss_mib(server.pid) - before >= 0.75 * sent, 10, "the heads to reach memory")
            else:
                # h11 answers each head 400 and closes once it passes 16 KiB, and keeps none of it
                for connection in connections:
                    read_until_closed(connection)
                assert rss_mib(server.pid) - before < 0.25 * sent
            print(
                f"{row.id}: {UNFINISHED_HEADS} unfinished 1 MiB heads, RSS {before:.0f} → {rss_mib(server.pid):.0f} MiB"
            )
        finally:
            for connection in connections:
                connection.close()
