"""docs_src/baselines.py: the ceilings the harness measures our apps against, each served by its real server.

Each must give our apps' answers, or a ratio to it compares different work: the hello body, and on the bare
frameworks the busy path's 409 after validating the body with the same model.
"""

from __future__ import annotations

import httpx
import pytest

from common.http import PUBLIC_MESSAGE, RESOURCE_BUSY
from launcher import ServerConfig, bearer, checkout_token, run_server
from launcher.catalog import BARE_FASTAPI, BARE_FLASK, RAW_ASGI, RAW_WSGI


@pytest.mark.parametrize("config", [RAW_ASGI, RAW_WSGI, BARE_FASTAPI, BARE_FLASK], ids=lambda row: row.id)
def test_a_ceiling_answers_hello_as_our_apps_do(config: ServerConfig) -> None:
    with run_server(config) as server:
        hello = httpx.get(f"{server.url}/public/test")

    assert (hello.status_code, hello.headers["content-type"]) == (200, "application/json")
    assert hello.json() == {"message": PUBLIC_MESSAGE}


@pytest.mark.parametrize("config", [BARE_FASTAPI, BARE_FLASK], ids=lambda row: row.id)
def test_a_bare_framework_checks_the_token_validates_the_body_then_answers_busy(config: ServerConfig) -> None:
    token = bearer(checkout_token())  # the token run_server gives the app
    with run_server(config) as server:
        busy = httpx.post(f"{server.url}/merge", json={"branch_name": "feature-1"}, headers=token)
        invalid = httpx.post(f"{server.url}/merge", json={"branch_name": 1}, headers=token)
        strangers = [
            httpx.post(f"{server.url}/merge", json={"branch_name": "feature-1"}, headers=headers).status_code
            for headers in ({}, bearer("not-one-of-the-tokens"))
        ]

    assert (busy.status_code, busy.headers["retry-after"], busy.json()) == (409, "1", {"detail": RESOURCE_BUSY})
    assert invalid.status_code == 422
    assert all(status in {401, 403} for status in strangers), strangers  # FastAPI's HTTPBearer: 401 or 403


@pytest.mark.parametrize("config", [BARE_FASTAPI, BARE_FLASK], ids=lambda row: row.id)
def test_started_without_tokens_a_bare_framework_checks_none(config: ServerConfig) -> None:
    # the ceiling benchmarks/auth_cost.py measures the check against
    with run_server(config, {"MERGE_TOKENS": ""}) as server:
        busy = httpx.post(f"{server.url}/merge", json={"branch_name": "feature-1"})

    assert busy.status_code == 409
