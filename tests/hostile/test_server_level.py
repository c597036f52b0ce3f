"""What each server answers before the app sees a request, and what nginx in front makes of it.

The expected answers are the table in docs/many/hostile-input.md, read from the page itself: the
test holds the docs to what the servers do. Each cell is a status and the kind of body: `JSON` (our
apps' or deploy/nginx.conf's), `text` (Uvicorn's plain text), `HTML` (Gunicorn's page).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher import RunningServer, checkout_token, run_nginx
from tests.support.rawhttp import RawResponse, exchange
from tests.support.strict_json import loads_strict

PAGE = Path(__file__).parents[2] / "docs" / "many" / "hostile-input.md"
BODY = b'{"branch_name": "server-level"}'
CHUNKED = b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY)  # the body, not gzip-coded, in one chunk
POST = (
    "POST /merge HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    f"Authorization: Bearer {checkout_token()}\r\n"
)

# the request for each row of the table, by the name in its first column
REQUESTS = {
    "a space in the target": b"GET /public/test?a b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "a byte outside ASCII in the target": b"GET /public/test?\xff HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "a method that is not a token": b"G(T /public/test HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "HTTP/1.2": b"GET /public/test HTTP/1.2\r\nHost: 127.0.0.1\r\n\r\n",
    "a space in a header name": b"GET /public/test HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Name: x\r\n\r\n",
    "a header line without a colon": b"GET /public/test HTTP/1.1\r\nHost: 127.0.0.1\r\nNoColon\r\n\r\n",
    "a control character in a header value": b"GET /public/test HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\x01b\r\n\r\n",
    "a folded header line": b"GET /public/test HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\r\n b\r\n\r\n",
    "no Host": b"GET /public/test HTTP/1.1\r\n\r\n",
    "two Host lines": b"GET /public/test HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "two Content-Type lines": f"{POST}Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
    + BODY,
    "Content-Length and chunked": f"{POST}Content-Length: {len(BODY)}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    + CHUNKED,
    "two Content-Lengths": f"{POST}Content-Length: {len(BODY)}\r\nContent-Length: {len(BODY) + 1}\r\n\r\n".encode()
    + BODY
    + b"x",
    "a Content-Length that is not a number": f"{POST}Content-Length: abc\r\n\r\n".encode() + BODY,
    "Transfer-Encoding: gzip": f"{POST}Transfer-Encoding: gzip\r\n\r\n".encode() + BODY,
    "Transfer-Encoding: gzip, chunked": f"{POST}Transfer-Encoding: gzip, chunked\r\n\r\n".encode() + CHUNKED,
    "Transfer-Encoding: foo, chunked": f"{POST}Transfer-Encoding: foo, chunked\r\n\r\n".encode() + CHUNKED,
    "a chunk size that is not hex": f"{POST}Transfer-Encoding: chunked\r\n\r\n".encode()
    + b"zz\r\n"
    + BODY
    + b"\r\n0\r\n\r\n",
    "Expect: 200-ok": f"{POST}Expect: 200-ok\r\nContent-Length: {len(BODY)}\r\n\r\n".encode() + BODY,
    "a request line of 8 KiB": b"GET /public/test?q=" + b"a" * 8200 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "a header of 16 KiB": b"GET /public/test HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 16384 + b"\r\n\r\n",
}
COLUMNS = ["uvicorn", "gunicorn", "nginx → uvicorn", "nginx → gunicorn"]


def documented_table() -> dict[str, dict[str, str]]:
    """The table between the page's markers: {row name: {column: cell}}."""
    text = PAGE.read_text()
    section = text.split("<!-- server-level:start -->")[1].split("<!-- server-level:end -->")[0]
    rows = [line for line in section.strip().splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert header == ["request", *COLUMNS]
    table = {}
    for row in rows[2:]:
        name, *cells = (cell.strip() for cell in row.strip("|").split("|"))
        table[name.strip("`")] = dict(zip(COLUMNS, (re.sub(r"[*`]", "", cell) for cell in cells), strict=True))
    return table


def cell(response: RawResponse | None) -> str:
    """How the table writes an answer: its status and the kind of its body."""
    if response is None:
        return "no answer"
    kind = response.headers.get("content-type", "").split(";")[0]
    if kind == "application/json":
        loads_strict(response.body)  # a JSON cell must be JSON a strict client can read
        return f"{response.status} JSON"
    return f"{response.status} " + {"text/plain": "text", "text/html": "HTML"}.get(kind, kind or "empty")


@pytest.fixture(scope="module")
def targets(servers: dict[str, RunningServer], nginx_path: str) -> Iterator[dict[str, str]]:
    """The URL of each column: each server alone, and deploy/nginx.conf in front of each."""
    with (
        run_nginx([servers["asgi"].url], nginx=nginx_path) as to_uvicorn,
        run_nginx([servers["wsgi"].url], nginx=nginx_path) as to_gunicorn,
    ):
        urls = [servers["asgi"].url, servers["wsgi"].url, to_uvicorn.url, to_gunicorn.url]
        yield dict(zip(COLUMNS, urls, strict=True))


def test_the_table_has_a_request_for_each_row() -> None:
    assert set(documented_table()) == set(REQUESTS)


@pytest.mark.parametrize("row", list(REQUESTS))
def test_each_server_answers_as_the_table_says(targets: dict[str, str], row: str) -> None:
    observed = {column: cell(exchange(url, REQUESTS[row], deadline_seconds=10)) for column, url in targets.items()}
    assert observed == documented_table()[row]
