"""POST /merge, GET /merge and GET /merge/history: the resource is taken, refused while held, freed, and recorded."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from unittest.mock import ANY

import httpx
import pytest

from tests.support.api import ApiClient, race

FREE = {"busy": False, "branch_name": None, "retry_after": None, "fencing_token": None}
# the headers that say what an answer is and who may keep a copy; the others (date, server, framing) are the server's
ANSWER_HEADERS = ("content-type", "cache-control", "expires", "etag", "last-modified")


def answer(response: httpx.Response) -> dict[str, Any]:
    """The status, the headers that say what the answer is and who may keep it, and the JSON body (None if empty)."""
    headers = {name: response.headers[name] for name in ANSWER_HEADERS if name in response.headers}
    return {"status": response.status_code, **headers, "json": response.json() if response.content else None}


def newest_merge(api: ApiClient) -> dict[str, Any]:
    """The newest merge of the ledger."""
    merges: list[dict[str, Any]] = api.merge_history(limit=1).json()["merges"]
    return merges[0]


def test_merge_is_accepted_with_the_next_fencing_token_while_the_resource_is_free(api: ApiClient) -> None:
    before = api.merge_history(limit=1).json()["merges"]
    response = api.start_merge("feature/login")
    assert response.status_code == 202
    assert response.headers["location"] == "/merge"
    token = response.json()["fencing_token"]
    assert response.json() == {"message": "merge in progress", "branch_name": "feature/login", "fencing_token": token}
    # strictly greater than every token before it
    assert token > (before[0]["fencing_token"] if before else 0)


def test_a_chunked_body_is_read_like_any_other(api: ApiClient) -> None:
    # a generator makes httpx send Transfer-Encoding: chunked with no Content-Length; a WSGI server that does not
    # say its input ends with the body (a2wsgi) once made the Flask app read it as empty: a 422
    def chunks() -> Iterator[bytes]:
        yield b'{"branch_name": '
        yield b'"feature/chunked"}'

    response = api.post_merge(chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 202, response.text
    assert response.json()["branch_name"] == "feature/chunked"
    api.wait_until_free()


def test_status_shows_the_holder_and_then_the_free_resource(api: ApiClient) -> None:
    assert api.merge_status().json() == FREE
    token = api.start_merge("feature/status").json()["fencing_token"]

    status = api.merge_status()
    assert status.status_code == 200
    assert status.json() == {"busy": True, "branch_name": "feature/status", "retry_after": ANY, "fencing_token": token}
    assert isinstance(status.json()["retry_after"], float)
    assert status.json()["retry_after"] > 0

    api.wait_until_free()
    assert api.merge_status().json() == FREE


# live state: REDbot found both answers open to every cache, kept for a freshness lifetime the cache would guess
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/merge", FREE),
        ("HEAD", "/merge", None),
        ("GET", "/merge/history", {"merges": ANY}),
        ("HEAD", "/merge/history", None),
    ],
)
def test_no_cache_stores_the_live_state(api: ApiClient, method: str, path: str, body: dict[str, Any] | None) -> None:
    response = api.http.request(method, path)
    assert answer(response) == {
        "status": 200,
        "content-type": "application/json",
        "cache-control": "no-store",
        "json": body,
    }


def test_the_other_merge_answers_leave_caching_to_http(api: ApiClient) -> None:
    # a 202, a 409 or a 422 is not stored without a Cache-Control that allows it: no header is needed there
    accepted = api.start_merge("feature/cached")
    assert answer(accepted) == {"status": 202, "content-type": "application/json", "json": ANY}
    assert answer(api.start_merge("feature/refused")) == {
        "status": 409,
        "content-type": "application/json",
        "json": ANY,
    }
    invalid = api.http.get("/merge/history", params={"limit": "0"})
    assert answer(invalid) == {"status": 422, "content-type": "application/json", "json": ANY}
    api.wait_until_free()


def test_merge_is_refused_with_409_and_retry_after_while_held(api: ApiClient) -> None:
    assert api.start_merge("feature/first").status_code == 202
    left = api.merge_status().json()["retry_after"]

    refused = api.start_merge("feature/second")
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/json"
    assert refused.json() == {"detail": "Shared resource in use"}
    assert 1 <= int(refused.headers["retry-after"]) <= math.ceil(left)
    # the refused merge did not take over the resource, and is not in the ledger
    assert api.merge_status().json()["branch_name"] == "feature/first"
    assert newest_merge(api)["branch_name"] == "feature/first"


def test_the_resource_is_free_again_once_the_merge_has_ended(api: ApiClient) -> None:
    first = api.start_merge("feature/one").json()["fencing_token"]
    api.wait_until_free()
    again = api.start_merge("feature/two")
    assert again.status_code == 202
    assert again.json()["fencing_token"] > first


def test_the_ledger_records_each_merge_from_start_to_end(api: ApiClient) -> None:
    token = api.start_merge("feature/recorded").json()["fencing_token"]
    running = newest_merge(api)
    assert running == {
        "fencing_token": token,
        "branch_name": "feature/recorded",
        "started_at": ANY,
        "ended_at": None,
        "outcome": "running",
    }
    api.wait_until_free()
    ended = newest_merge(api)
    assert (ended["fencing_token"], ended["outcome"]) == (token, "released")
    started_at, ended_at = (datetime.fromisoformat(ended[name]) for name in ("started_at", "ended_at"))
    assert started_at.utcoffset() is not None  # the times say they are UTC
    assert started_at < ended_at


def test_the_ledger_lists_merges_newest_first_and_never_two_at_once(api: ApiClient) -> None:
    for branch in ("feature/a", "feature/b"):
        assert api.start_merge(branch).status_code == 202
        api.wait_until_free()
    merges = api.merge_history(limit=2).json()["merges"]
    assert [merge["branch_name"] for merge in merges] == ["feature/b", "feature/a"]
    newer, older = merges
    assert newer["fencing_token"] > older["fencing_token"]
    # the invariant itself, where it lives: one merge's end comes before the next one's start
    assert datetime.fromisoformat(older["ended_at"]) <= datetime.fromisoformat(newer["started_at"])


def test_history_takes_a_limit_from_1_to_100(api: ApiClient) -> None:
    assert len(api.merge_history(limit=1).json()["merges"]) <= 1
    for limit in ("0", "101", "ten"):
        response = api.http.get("/merge/history", params={"limit": limit})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_public_test_keeps_answering_while_a_merge_holds_the_resource(api: ApiClient) -> None:
    assert api.start_merge("feature/busy").status_code == 202
    for _ in range(20):
        assert api.public_test().json() == {"message": "anyone can see this"}
    # still inside the merge: the answers above came while it ran, not after it
    assert api.merge_status().json()["busy"] is True


def test_concurrent_merges_are_granted_once(api: ApiClient, merge_token: str) -> None:
    answers = race([api.base_url], merge_token, requests=50)
    assert answers == Counter({202: 1, 409: 49})
