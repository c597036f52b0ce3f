"""Headers and queries, one rule each, the same on both apps: Allow, bodies where none is taken, repeated
parameters, percent-escapes that are not UTF-8, and the headers RFC 9112 says a server must refuse.
"""

from __future__ import annotations

import pytest

from launcher import RunningServer
from tests.support.rawhttp import RawResponse, exchange
from tests.support.strict_json import loads_strict

pytestmark = pytest.mark.usefixtures("no_new_merges", "no_tracebacks")


def both(servers: dict[str, RunningServer], request: bytes) -> dict[str, RawResponse]:
    """Send the same bytes to each app; every request here is answered."""
    answers = {app: exchange(server.url, request) for app, server in servers.items()}
    for app, answer in answers.items():
        assert answer is not None, f"{app} closed without answering"
    return answers  # type: ignore[return-value]


def same_json_answer(servers: dict[str, RunningServer], request: bytes) -> tuple[int, object]:
    """Both apps' status and strict-JSON body, which must be the same; return them."""
    answers = both(servers, request)
    statuses = {app: answer.status for app, answer in answers.items()}
    bodies = {app: loads_strict(answer.body) for app, answer in answers.items()}
    assert len(set(statuses.values())) == 1, statuses
    assert bodies["asgi"] == bodies["wsgi"], bodies
    return statuses["asgi"], bodies["asgi"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/merge", "GET, HEAD, POST"),
        ("OPTIONS", "/merge", "GET, HEAD, POST"),
        ("PUT", "/public/test", "GET, HEAD"),
        ("POST", "/merge/history", "GET, HEAD"),
        ("POST", "/docs", "GET, HEAD"),
        ("POST", "/openapi.json", "GET, HEAD"),
        # the Swagger UI files: FastAPI's answer came from the mounted StaticFiles with an empty Allow
        ("POST", "/static/swagger-ui/swagger-ui.css", "GET, HEAD"),
        ("DELETE", "/lab/io", "GET, HEAD"),
    ],
)
def test_every_405_lists_the_allowed_methods(
    servers: dict[str, RunningServer], method: str, path: str, allow: str
) -> None:
    request = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n".encode()
    for answer in both(servers, request).values():
        assert answer.status == 405
        assert answer.headers["allow"] == allow  # RFC 9110 section 15.5.6: the list is required
        assert loads_strict(answer.body) == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize(
    ("headers_and_body", "status"),
    [
        # a route that takes no body ignores one within MAX_BODY_BYTES, and refuses a larger one as any route does
        pytest.param(b"Content-Length: 5\r\n\r\nhello", 200, id="small-body"),
        pytest.param(b"Content-Length: 20000\r\n\r\n", 413, id="content-length-over-the-limit"),
        pytest.param(b"Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi", 200, id="any-media-type"),
    ],
)
def test_a_body_on_a_route_that_takes_none(
    servers: dict[str, RunningServer], headers_and_body: bytes, status: int
) -> None:
    request = b"GET /public/test HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers_and_body
    assert same_json_answer(servers, request)[0] == status


def test_a_repeated_query_parameter_is_refused_not_guessed(servers: dict[str, RunningServer]) -> None:
    # Starlette took the last value (a 2 s wait) and Werkzeug the first
    request = b"GET /lab/io?ms=1&ms=2000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    assert same_json_answer(servers, request) == (
        422,
        {
            "detail": [
                {
                    "type": "too_many_values",
                    "loc": ["query", "ms"],
                    "msg": "Query parameter given 2 times: give it once",
                    "input": ["1", "2000"],
                }
            ]
        },
    )


def test_a_parameter_a_route_does_not_read_may_repeat(servers: dict[str, RunningServer]) -> None:
    # /public/test reads no parameter; the two apps' ledgers differ, so not /merge/history
    request = b"GET /public/test?utm=a&utm=b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    assert same_json_answer(servers, request)[0] == 200


@pytest.mark.parametrize(
    ("query", "echoed"), [("ms=%ff", "\ufffd"), ("ms=1%fe%ff", "1\ufffd\ufffd"), ("ms=%C3%A9", "é")]
)
def test_a_percent_escape_is_decoded_as_utf_8_on_both_apps(
    servers: dict[str, RunningServer], query: str, echoed: str
) -> None:
    # a byte that is not UTF-8 becomes U+FFFD, as Starlette decodes it; Werkzeug had kept "%FF"
    status, body = same_json_answer(servers, f"GET /lab/io?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    assert status == 422
    assert body["detail"][0]["input"] == echoed  # type: ignore[index]


@pytest.mark.parametrize(
    ("request_bytes", "status", "detail"),
    [
        pytest.param(
            b"GET /public/test HTTP/1.1\r\n\r\n",
            400,
            "Bad Request: an HTTP/1.1 request must carry a Host header (RFC 9112 section 3.2)",
            id="no-host",
        ),
        pytest.param(
            b"POST /merge HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 200-ok\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\n\r\n{}",
            417,
            "Expectation Failed: only 'Expect: 100-continue' is understood, not '200-ok'",
            id="unknown-expect",
        ),
    ],
)
def test_headers_a_server_must_refuse(
    servers: dict[str, RunningServer], request_bytes: bytes, status: int, detail: str
) -> None:
    answers = both(servers, request_bytes)

    assert {answer.status for answer in answers.values()} == {status}
    assert loads_strict(answers["asgi"].body) == {"detail": detail}
    # Gunicorn answers an unknown Expect itself, before the app, with its own HTML page (the docs' table)
    if status != 417:
        assert loads_strict(answers["wsgi"].body) == {"detail": detail}


@pytest.mark.parametrize(
    ("header_lines", "detail"),
    [
        ("Host: 127.0.0.1\r\nHost: evil.example\r\n", "Bad Request: more than one Host header (RFC 9112 section 3.2)"),
        (
            "Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\n",
            "Bad Request: more than one Content-Type header",
        ),
    ],
    ids=["two-hosts", "two-content-types"],
)
def test_a_header_given_twice_is_a_400(servers: dict[str, RunningServer], header_lines: str, detail: str) -> None:
    body = b'{"branch_name": "never-merged"}'
    request = f"POST /merge HTTP/1.1\r\n{header_lines}Content-Length: {len(body)}\r\n\r\n".encode() + body
    answers = both(servers, request)

    assert {answer.status for answer in answers.values()} == {400}
    assert loads_strict(answers["asgi"].body) == {"detail": detail}
    # Gunicorn refuses the repeated header itself, with an HTML page (the docs' table)
    assert answers["wsgi"].headers["content-type"] == "text/html"


def test_an_http_1_0_request_needs_no_host(servers: dict[str, RunningServer]) -> None:
    assert same_json_answer(servers, b"GET /public/test HTTP/1.0\r\n\r\n") == (200, {"message": "anyone can see this"})
