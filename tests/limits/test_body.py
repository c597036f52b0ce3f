"""Request bodies the contract suite does not send: lengths that lie, a chunked body that never ends.

The contract suite already checks the plain cases (a body one byte over MAX_BODY_BYTES, chunked or not, is a
413). These go through a bare socket, because httpx frames every body correctly.
"""

from __future__ import annotations

import json

import pytest

from tests.support.rawhttp import RawResponse, connect, exchange, post, read_response, send_quietly

MAX_BODY_BYTES = 16384  # the default; the servers under test do not change it


def _assert_413(response: RawResponse | None) -> None:
    assert response is not None, "the server closed the connection without an answer"
    assert response.status == 413
    assert response.headers["content-type"] == "application/json"
    assert str(MAX_BODY_BYTES) in json.loads(response.body)["detail"]


def test_a_declared_length_over_the_limit_is_refused_before_the_body_arrives(app_url: str) -> None:
    # 10 MB announced, not one byte sent: an answer at all proves the server did not wait to read it
    response = exchange(app_url, post(b"", "Content-Length: 10000000\r\n"))
    _assert_413(response)


def test_a_chunked_body_that_never_ends_is_cut_at_the_limit(app_url: str) -> None:
    # no Content-Length, no final zero-size chunk: the body could go on for ever, so the app must stop at the limit
    chunk = b"a" * 1024
    with connect(app_url) as connection:
        send_quietly(connection, post(b'11\r\n{"branch_name": "\r\n', "Transfer-Encoding: chunked\r\n"))
        for _ in range(MAX_BODY_BYTES // len(chunk) + 4):
            send_quietly(connection, b"400\r\n" + chunk + b"\r\n")
        _assert_413(read_response(connection))


def test_a_length_shorter_than_the_body_never_lets_the_rest_through(app_url: str) -> None:
    # the server reads the 10 bytes it was told about; the other 20 are not a request
    body = b'{"branch_name": "feature/lie"}'
    statuses = []
    with connect(app_url) as connection:
        send_quietly(connection, post(body, "Content-Length: 10\r\n"))
        while (response := read_response(connection)) is not None:
            statuses.append(response.status)
    # Gunicorn: 422 for '{"branch_n', then it closes (a sync worker closes after every answer);
    # Uvicorn: 400 for the leftover bytes, which arrive with the request, and it closes
    assert statuses in ([422], [400], [422, 400])


# two readings of where a body ends: the framing headers of each, by name
AMBIGUOUS_FRAMINGS = {
    "length-and-chunked": "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
    "two-different-lengths": "Content-Length: 5\r\nContent-Length: 6\r\n",
    "negative-length": "Content-Length: -1\r\n",
    "hex-length": "Content-Length: 0x10\r\n",
}


@pytest.mark.parametrize("framing", AMBIGUOUS_FRAMINGS.values(), ids=AMBIGUOUS_FRAMINGS.keys())
def test_ambiguous_framing_is_a_400_not_a_guess(app_url: str, framing: str) -> None:
    # two readings of where a body ends is how requests are smuggled past a proxy: the server refuses
    # (with its own plain-text or HTML page: the app never sees the request)
    response = exchange(app_url, post(b'0\r\n\r\n{"branch_name": "main"}', framing))
    assert response is not None
    assert response.status == 400
