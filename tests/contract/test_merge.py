"""POST /merge and GET /merge: the shared resource is taken, refused while held, and freed."""

from __future__ import annotations

import math
from collections import Counter

from tests.support.api import ApiClient, race


def test_merge_is_accepted_while_the_resource_is_free(api: ApiClient) -> None:
    response = api.start_merge("feature/login")
    assert response.status_code == 202
    assert response.headers["location"] == "/merge"
    assert response.json() == {"message": "merge in progress", "branch_name": "feature/login"}


def test_status_shows_the_hold_and_then_the_free_resource(api: ApiClient) -> None:
    assert api.merge_status().json() == {"busy": False, "branch_name": None, "retry_after": None}
    assert api.start_merge("feature/status").status_code == 202

    status = api.merge_status()
    assert status.status_code == 200
    body = status.json()
    assert body["busy"] is True
    assert body["branch_name"] == "feature/status"
    assert isinstance(body["retry_after"], float)
    assert body["retry_after"] > 0

    api.wait_until_free()
    assert api.merge_status().json() == {"busy": False, "branch_name": None, "retry_after": None}


def test_merge_is_refused_with_409_and_retry_after_while_held(api: ApiClient) -> None:
    assert api.start_merge("feature/first").status_code == 202
    hold_left = api.merge_status().json()["retry_after"]

    refused = api.start_merge("feature/second")
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/json"
    assert refused.json() == {"detail": "Shared resource in use"}
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= math.ceil(hold_left)
    # the refused merge did not take over the hold
    assert api.merge_status().json()["branch_name"] == "feature/first"


def test_the_resource_is_free_again_after_the_hold(api: ApiClient) -> None:
    assert api.start_merge("feature/one").status_code == 202
    api.wait_until_free()
    again = api.start_merge("feature/two")
    assert again.status_code == 202
    assert again.json()["branch_name"] == "feature/two"


def test_public_test_keeps_answering_while_a_merge_holds_the_resource(api: ApiClient) -> None:
    assert api.start_merge("feature/busy").status_code == 202
    for _ in range(20):
        assert api.public_test().json() == {"message": "anyone can see this"}
    # still inside the hold: the answers above came while the merge ran, not after it
    assert api.merge_status().json()["busy"] is True


def test_concurrent_merges_are_granted_once(api: ApiClient) -> None:
    answers = race([api.base_url], requests=50)
    assert answers == Counter({202: 1, 409: 49})
