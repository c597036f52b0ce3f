"""The /lab routes: same answers and the same 422s on both apps, and gone with LAB_ENDPOINTS=false."""

from __future__ import annotations

import json
import time

import pytest
from websockets.sync.client import connect

from common.database import NO_DATABASE_URL
from tests.support.api import ApiClient, sse_events

LAB_ROUTES = ["io", "async-io", "blocking", "threadpool", "cpu"]
# the routes that wait in PostgreSQL: tests/contract/test_lab_db.py serves them one; these servers have none
LAB_DB_ROUTES = ["db", "db-blocking"]


@pytest.fixture
def lab(api: ApiClient) -> ApiClient:
    """The client, for a server whose /lab routes are on (a --base-url server may have turned them off)."""
    if api.http.get("/lab/io", params={"ms": 0}).status_code == 404:
        pytest.skip(f"{api.base_url} serves no /lab routes (LAB_ENDPOINTS=false)")
    return api


@pytest.mark.parametrize("route", LAB_ROUTES)
@pytest.mark.parametrize("ms", [0, 5])
def test_lab_route_answers_what_it_spent(lab: ApiClient, route: str, ms: int) -> None:
    response = lab.http.get(f"/lab/{route}", params={"ms": ms})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"waited_ms", "pid", "thread", "thread_id", "started_at", "ended_at"}
    assert body["waited_ms"] == ms
    assert isinstance(body["pid"], int)
    assert isinstance(body["thread"], str)
    # the server's clock; the route took at least what it says it spent
    assert body["ended_at"] - body["started_at"] >= ms / 1000 - 0.001
    assert abs(body["started_at"] - time.time()) < 60


def test_lab_ms_defaults_to_100(lab: ApiClient) -> None:
    assert lab.http.get("/lab/threadpool").json()["waited_ms"] == 100


@pytest.mark.parametrize("route", LAB_ROUTES + LAB_DB_ROUTES)
@pytest.mark.parametrize(
    ("ms", "error_type"),
    [
        ("abc", "int_parsing"),
        ("1.5", "int_parsing"),
        ("", "int_parsing"),
        ("-1", "greater_than_equal"),
        ("2001", "less_than_equal"),
        ("99999999999999999999999", "less_than_equal"),
    ],
)
def test_lab_ms_out_of_range_is_a_422(lab: ApiClient, route: str, ms: str, error_type: str) -> None:
    response = lab.http.get(f"/lab/{route}", params={"ms": ms})
    assert response.status_code == 422
    [issue] = response.json()["detail"]
    assert (issue["type"], issue["loc"]) == (error_type, ["query", "ms"])


@pytest.mark.parametrize("route", LAB_DB_ROUTES)
def test_lab_db_without_database_url_is_a_503_naming_it(lab: ApiClient, route: str) -> None:
    response = lab.http.get(f"/lab/{route}", params={"ms": 0})
    if response.status_code == 200:  # an answer names the PostgreSQL backend that ran it: a --base-url server's
        pytest.skip(f"{lab.base_url} has a PostgreSQL behind /lab/{route} (DATABASE_URL is set)")
    assert response.status_code == 503
    assert response.json() == {"detail": NO_DATABASE_URL}
    # no Retry-After: the setting does not come back by waiting
    assert "retry-after" not in response.headers


def test_lab_stream_sends_n_ticks_ms_apart(lab: ApiClient) -> None:
    started = time.monotonic()
    with lab.http.stream("GET", "/lab/stream", params={"n": 3, "ms": 100}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = list(sse_events(response))
    elapsed = time.monotonic() - started

    assert [(event.event, event.id) for event in events] == [("tick", "1"), ("tick", "2"), ("tick", "3")]
    pid = json.loads(events[0].data)["pid"]
    assert [json.loads(event.data) for event in events] == [{"n": n, "of": 3, "pid": pid} for n in (1, 2, 3)]
    assert elapsed >= 0.2  # two waits of 100 ms, between the three events


@pytest.mark.parametrize(("n", "ms", "loc"), [(0, 1, "n"), (1001, 1, "n"), (1, 2001, "ms"), ("x", 1, "n")])
def test_lab_stream_refuses_what_it_cannot_send(lab: ApiClient, n: object, ms: int, loc: str) -> None:
    response = lab.http.get("/lab/stream", params={"n": n, "ms": ms})
    assert response.status_code == 422
    assert [issue["loc"] for issue in response.json()["detail"]] == [["query", loc]]


def test_lab_echo_sends_back_text_as_text_and_bytes_as_bytes(lab: ApiClient) -> None:
    with connect(lab.base_url.replace("http://", "ws://", 1) + "/lab/echo", open_timeout=10) as websocket:
        for message in ["hello", "é ✓", b"\x00\xffbytes", "x" * 70_000]:
            websocket.send(message)
            assert websocket.recv(timeout=10) == message


def test_lab_echo_is_a_websocket_only(lab: ApiClient) -> None:
    # a plain GET asks for no upgrade: a 4xx, never a 500
    response = lab.http.get("/lab/echo")
    assert 400 <= response.status_code < 500
