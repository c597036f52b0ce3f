"""Bodies that never arrive whole, or arrive mis-framed: they never reach a route, on either app.

RFC 9112 section 6.3: a message whose body ends before its Content-Length says, or whose chunks cannot be
read, is incomplete, and must not be acted on. Uvicorn's parser refuses a broken chunk itself, with its
own plain-text 400; a client that half-closes mid-body gets no answer, the app never sees a whole request.
Gunicorn hands the app what arrived and raises from wsgi.input where the framing breaks: the Flask app
answers 400 in JSON (wsgi_app/hardening/request_rules.py, CountingInput). Either way: no merge, no 500, no traceback.
"""

from __future__ import annotations

import socket

import pytest

from launcher import RunningServer, checkout_token
from tests.support.rawhttp import RawResponse, connect, read_response
from tests.support.strict_json import loads_strict

pytestmark = pytest.mark.usefixtures("no_new_merges", "no_tracebacks")

BODY = b'{"branch_name": "never-merged"}'
# with the token: without it, the 401 would come before anything reads the body
HEAD = (
    "POST /merge HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    f"Authorization: Bearer {checkout_token()}\r\n"
)


def send_then_half_close(server: RunningServer, request: bytes) -> RawResponse | None:
    """Send `request`, then close our side for writing: the server sees the end of the stream."""
    with connect(server.url) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        return read_response(connection, deadline_seconds=10)


# (request, what Uvicorn answers, what Gunicorn's app answers): None is a close without an answer
CUT_SHORT = [
    pytest.param(
        f"{HEAD}Content-Length: 60\r\n\r\n".encode() + BODY,
        None,
        f"Content-Length is 60 bytes, {len(BODY)} arrived",
        id="short-of-content-length",
    ),
    pytest.param(
        f"{HEAD}Transfer-Encoding: chunked\r\n\r\n".encode() + b"%x\r\n%s\r\n" % (len(BODY), BODY),
        None,
        "the server could not read it (NoMoreData)",
        id="no-last-chunk",
    ),
    pytest.param(
        f"{HEAD}Transfer-Encoding: chunked\r\n\r\n".encode() + b"40\r\n" + BODY,
        None,
        "the server could not read it (NoMoreData)",
        id="chunk-cut-short",
    ),
]


@pytest.mark.parametrize(("request_bytes", "uvicorn_answer", "gunicorn_detail"), CUT_SHORT)
def test_a_body_cut_short_never_reaches_a_route(
    servers: dict[str, RunningServer], request_bytes: bytes, uvicorn_answer: None, gunicorn_detail: str
) -> None:
    assert send_then_half_close(servers["asgi"], request_bytes) is uvicorn_answer

    response = send_then_half_close(servers["wsgi"], request_bytes)
    assert response is not None
    assert response.status == 400
    assert response.headers["connection"] == "close"
    assert loads_strict(response.body) == {"detail": f"Request body incomplete: {gunicorn_detail}"}


MIS_FRAMED = [
    pytest.param(b"zz\r\n" + BODY + b"\r\n0\r\n\r\n", "InvalidChunkSize", id="chunk-size-not-hex"),
    pytest.param(b"%x\r\n%sXX0\r\n\r\n" % (len(BODY), BODY), "ChunkMissingTerminator", id="chunk-without-crlf"),
    pytest.param(b"-1\r\n" + BODY + b"\r\n0\r\n\r\n", "InvalidChunkSize", id="negative-chunk-size"),
]


@pytest.mark.parametrize(("chunks", "gunicorn_error"), MIS_FRAMED)
def test_a_mis_framed_body_is_a_400_never_a_500(
    servers: dict[str, RunningServer], chunks: bytes, gunicorn_error: str
) -> None:
    request = f"{HEAD}Transfer-Encoding: chunked\r\n\r\n".encode() + chunks
    with connect(servers["asgi"].url) as connection:
        connection.sendall(request)
        uvicorn = read_response(connection)
    # Uvicorn's parser answers before the app: plain text, which the app cannot change (the docs' table)
    assert uvicorn is not None
    assert (uvicorn.status, uvicorn.headers["content-type"]) == (400, "text/plain; charset=utf-8")

    with connect(servers["wsgi"].url) as connection:
        connection.sendall(request)
        gunicorn = read_response(connection)
    assert gunicorn is not None
    assert gunicorn.status == 400
    assert loads_strict(gunicorn.body) == {
        "detail": f"Request body incomplete: the server could not read it ({gunicorn_error})"
    }
