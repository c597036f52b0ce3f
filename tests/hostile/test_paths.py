"""Paths have one canonical form: a trailing slash, an empty segment or an encoded slash is a 404 in JSON.

Never a redirect (Starlette's 307 built its Location from the Host header the client sent; Werkzeug's 308
came with an HTML page), and never a merge (Werkzeug routed `POST //merge` to `/merge`). The rules are
common/http.py's is_canonical_path and each app's hardening/request_rules.py.
"""

from __future__ import annotations

import pytest

from launcher import RunningServer
from tests.support.rawhttp import exchange
from tests.support.strict_json import loads_strict

pytestmark = pytest.mark.usefixtures("no_new_merges", "no_tracebacks")

MERGE_BODY = b'{"branch_name": "never-merged"}'

NOT_CANONICAL = [
    ("GET", "/public/test/"),
    ("GET", "/merge/"),
    ("POST", "/merge/"),
    ("GET", "/merge/history/"),
    ("GET", "/public//test"),
    ("GET", "//public/test"),
    ("POST", "//merge"),
    ("GET", "/docs/"),
    ("GET", "/public%2Ftest"),
    ("GET", "/public%2ftest"),
    ("POST", "/merge%2F"),
    ("GET", "/merge%2Fhistory"),
]


@pytest.mark.parametrize(("method", "path"), NOT_CANONICAL, ids=[f"{m} {p}" for m, p in NOT_CANONICAL])
def test_a_path_that_is_not_canonical_is_a_404_in_json(
    servers: dict[str, RunningServer], method: str, path: str
) -> None:
    # the Host a hostile client sends: a redirect built from it would send the next request there
    request = (
        f"{method} {path} HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(MERGE_BODY)}\r\n\r\n"
    ).encode() + MERGE_BODY
    for server in servers.values():
        response = exchange(server.url, request)

        assert response is not None
        assert response.status == 404
        assert "location" not in response.headers
        assert loads_strict(response.body) == {"detail": "Not Found"}


@pytest.mark.parametrize("path", ["/public/%74est", "/%70ublic/test", "/public/te%73t?x=%2F"])
def test_a_percent_encoded_unreserved_character_is_the_character(servers: dict[str, RunningServer], path: str) -> None:
    # RFC 3986 section 6.2.2.2: %74 is "t", the same path, unlike %2F, which is data and not a "/"
    for server in servers.values():
        response = exchange(server.url, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())

        assert response is not None
        assert response.status == 200
        assert loads_strict(response.body) == {"message": "anyone can see this"}
