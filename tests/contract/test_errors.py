"""Bad input: a clear JSON error with the right 4xx, the same type and loc on both apps, no lock taken."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.api import JSON, ApiClient

MAX_BODY_BYTES = 16384  # the default; the servers under test do not change it

# (id, body, type, loc): each is sent as application/json
UNPROCESSABLE = [
    ("empty-body", b"", "missing", ["body"]),
    ("malformed-json", b'{"branch_name": ', "json_invalid", ["body", 16]),
    ("not-json-at-all", b"branch_name=main", "json_invalid", ["body", 0]),
    ("invalid-utf8", b'{"branch_name": "\xff"}', "json_invalid", ["body", 17]),
    ("array", b'["feature/login"]', "model_attributes_type", ["body"]),
    ("string", b'"feature/login"', "model_attributes_type", ["body"]),
    ("number", b"42", "model_attributes_type", ["body"]),
    ("null", b"null", "model_attributes_type", ["body"]),
    ("empty-object", b"{}", "missing", ["body", "branch_name"]),
    ("branch-number", b'{"branch_name": 7}', "string_type", ["body", "branch_name"]),
    ("branch-null", b'{"branch_name": null}', "string_type", ["body", "branch_name"]),
    ("branch-list", b'{"branch_name": ["a"]}', "string_type", ["body", "branch_name"]),
    ("branch-empty", b'{"branch_name": ""}', "string_too_short", ["body", "branch_name"]),
    ("branch-too-long", json.dumps({"branch_name": "a" * 256}).encode(), "string_too_long", ["body", "branch_name"]),
    ("extra-field", b'{"branch_name": "main", "force": true}', "extra_forbidden", ["body", "force"]),
]

# each breaks one rule of `git check-ref-format --branch`
BAD_BRANCH_NAMES = [
    "feature login",
    "tab\there",
    "a~1",
    "a^1",
    "a:b",
    "what?",
    "a*",
    "a[1]",
    "back\\slash",
    "a..b",
    "a@{1}",
    "@",
    "-leading-dash",
    "/leading",
    "trailing/",
    "double//slash",
    ".hidden",
    "feature/.hidden",
    "dot.",
    "x.lock",
    "feature/x.lock",
    "bell\x07",
    "del\x7f",
]


@pytest.mark.parametrize(
    ("body", "error_type", "loc"),
    [pytest.param(body, error_type, loc, id=case_id) for case_id, body, error_type, loc in UNPROCESSABLE],
)
def test_unprocessable_body_is_a_422_in_fastapi_shape(
    api: ApiClient, body: bytes, error_type: str, loc: list[str | int]
) -> None:
    response = api.post_merge(body, headers=JSON)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    [issue] = response.json()["detail"]
    assert (issue["type"], issue["loc"]) == (error_type, loc)
    assert isinstance(issue["msg"], str)
    assert issue["msg"]


def test_a_missing_body_without_content_type_is_a_422(api: ApiClient) -> None:
    response = api.post_merge()
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "missing"
    assert response.json()["detail"][0]["loc"] == ["body"]


@pytest.mark.parametrize("branch_name", BAD_BRANCH_NAMES)
def test_invalid_git_branch_name_is_a_422(api: ApiClient, branch_name: str) -> None:
    response = api.start_merge(branch_name)
    assert response.status_code == 422
    [issue] = response.json()["detail"]
    assert (issue["type"], issue["loc"]) == ("git_branch_name", ["body", "branch_name"])
    assert issue["msg"].startswith("Value is not a valid git branch name")


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/vnd.merge+json", "Application/JSON"],
)
def test_json_media_types_are_accepted(api: ApiClient, content_type: str) -> None:
    response = api.post_merge(b'{"branch_name": "feature/media-type"}', headers={"Content-Type": content_type})
    assert response.status_code == 202


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param("application/x-www-form-urlencoded", b"branch_name=main", id="curl-d"),
        pytest.param("text/plain", b'{"branch_name": "main"}', id="text-plain"),
        pytest.param("multipart/form-data; boundary=x", b"--x--", id="multipart"),
        pytest.param("application/xml", b"<branch_name>main</branch_name>", id="xml"),
        pytest.param("text/plain", b"", id="wrong-type-empty-body"),
        pytest.param(None, b'{"branch_name": "main"}', id="no-content-type"),
    ],
)
def test_non_json_body_is_a_415_that_names_the_fix(api: ApiClient, content_type: str | None, body: bytes) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.post_merge(body, headers=headers)
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/json"
    assert "Content-Type: application/json" in response.json()["detail"]


def _chunks(total: int, size: int = 4096) -> Iterator[bytes]:
    yield b'{"branch_name": "'
    for start in range(0, total, size):
        yield b"a" * min(size, total - start)
    yield b'"}'


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_over_the_limit_is_a_413(api: ApiClient, chunked: bool) -> None:
    # a generator makes httpx send Transfer-Encoding: chunked, with no length announced
    body = _chunks(4 * MAX_BODY_BYTES) if chunked else b"a" * (MAX_BODY_BYTES + 1)
    response = api.post_merge(body, headers=JSON)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert str(MAX_BODY_BYTES) in response.json()["detail"]


def test_body_at_the_limit_is_read_and_judged(api: ApiClient) -> None:
    body = json.dumps({"branch_name": "a" * (MAX_BODY_BYTES - 20)}).encode().ljust(MAX_BODY_BYTES)
    response = api.post_merge(body, headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "string_too_long"


def test_bad_requests_leave_the_resource_free(api: ApiClient) -> None:
    for body, headers in [(b"", JSON), (b"{", JSON), (b"{}", JSON), (b"x", {"Content-Type": "text/plain"})]:
        assert api.post_merge(body, headers=headers).status_code in {415, 422}
    assert api.merge_status().json()["busy"] is False
    assert api.start_merge("feature/after-errors").status_code == 202
