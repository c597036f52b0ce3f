"""POST /merge needs a bearer token (RFC 6750); every GET stays public. Both apps answer each case alike."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.api import JSON, ApiClient

BODY = b'{"branch_name": "feature/auth"}'
NOT_AUTHENTICATED = {
    "status": 401,
    "www-authenticate": "Bearer",
    "json": {"detail": "Not authenticated: send 'Authorization: Bearer <token>' with one of MERGE_TOKENS"},
}
INVALID_TOKEN = {
    "status": 401,
    "www-authenticate": 'Bearer error="invalid_token"',
    "json": {"detail": "Invalid token: it is not one of MERGE_TOKENS"},
}
MALFORMED = {
    "status": 400,
    "www-authenticate": 'Bearer error="invalid_request"',
    "json": {
        "detail": "Malformed Authorization header: a bearer token is one word of letters, digits and -._~+/ "
        "(RFC 6750 section 2.1)"
    },
}


def answer(response: httpx.Response) -> dict[str, Any]:
    """The status, the challenge (if any) and the JSON body."""
    challenge = (
        {"www-authenticate": response.headers["www-authenticate"]} if "www-authenticate" in response.headers else {}
    )
    return {"status": response.status_code, **challenge, "json": response.json()}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({}, NOT_AUTHENTICATED, id="no-authorization"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, NOT_AUTHENTICATED, id="another-scheme"),
        pytest.param({"Authorization": "Bearer"}, NOT_AUTHENTICATED, id="bearer-with-no-token"),
        pytest.param({"Authorization": ""}, NOT_AUTHENTICATED, id="empty"),
        pytest.param({"Authorization": "Bearer not-one-of-the-tokens"}, INVALID_TOKEN, id="unknown-token"),
        pytest.param({"Authorization": "Bearer a b"}, MALFORMED, id="two-words"),
        pytest.param({"Authorization": "Bearer tok,en"}, MALFORMED, id="comma"),
        pytest.param({"Authorization": "Bearer tok*en"}, MALFORMED, id="not-a-b64token"),
        pytest.param({"Authorization": 'Bearer realm="merge"'}, MALFORMED, id="parameters"),
    ],
)
def test_a_merge_without_a_valid_token_is_refused(
    api: ApiClient, headers: dict[str, str], expected: dict[str, Any]
) -> None:
    response = api.post_merge(BODY, headers={**JSON, **headers}, authorized=False)
    assert answer(response) == expected
    assert api.merge_status().json()["busy"] is False


def test_two_authorization_lines_are_malformed_even_if_both_are_valid(api: ApiClient, merge_token: str) -> None:
    # Starlette would read the first, a WSGI server joins them: both apps judge the joined value, a 400
    line = ("Authorization", f"Bearer {merge_token}")
    response = api.http.post("/merge", content=BODY, headers=[("Content-Type", "application/json"), line, line])
    assert answer(response) == MALFORMED


def chunks() -> Iterator[bytes]:
    yield b'{"branch_name": '
    yield b'"feature/chunked"}'


# what the request would get with a token: a stranger learns none of it
@pytest.mark.parametrize(
    ("body", "headers"),
    [
        pytest.param(b"branch_name=main", {"Content-Type": "application/x-www-form-urlencoded"}, id="a-form-415"),
        pytest.param(b'{"branch_name": ', JSON, id="broken-json-422"),
        pytest.param(b'{"branch_name": "no spaces"}', JSON, id="bad-branch-422"),
        pytest.param(b"", JSON, id="no-body-422"),
        pytest.param(None, JSON, id="chunked-202"),
        pytest.param(b'{"branch_name": NaN}', JSON, id="nan-422"),
    ],
)
def test_a_stranger_gets_the_401_whatever_the_body(api: ApiClient, body: bytes | None, headers: dict[str, str]) -> None:
    response = api.post_merge(chunks() if body is None else body, headers=headers, authorized=False)
    assert answer(response) == NOT_AUTHENTICATED


def test_the_scheme_is_read_in_any_case_and_a_stranger_learns_nothing_of_the_hold(
    api: ApiClient, merge_token: str
) -> None:
    held = api.post_merge(BODY, headers={**JSON, "Authorization": f"bEaReR {merge_token}"}, authorized=False)
    assert held.status_code == 202
    response = api.post_merge(
        BODY, headers={**JSON, "Authorization": "Bearer wrong-token-0123456789"}, authorized=False
    )
    assert answer(response) == INVALID_TOKEN  # not the 409 and its Retry-After: nothing about the resource
    assert "retry-after" not in response.headers


def test_the_body_limit_comes_before_the_token(api: ApiClient) -> None:
    # refused on its declared length, before any rule of the app: the same 413 on both apps, token or not
    response = api.post_merge(b"a" * 16385, headers=JSON, authorized=False)
    assert response.status_code == 413


def test_every_get_is_public(api: ApiClient) -> None:
    for path in ("/public/test", "/merge", "/merge/history", "/openapi.json"):
        assert api.http.get(path).status_code == 200, path
