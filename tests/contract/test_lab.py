"""The /lab routes: same answers and the same 422s on both apps, and gone with LAB_ENDPOINTS=false."""

from __future__ import annotations

import pytest

from tests.support.api import ApiClient

LAB_ROUTES = ["io", "blocking", "threadpool", "cpu"]


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
    assert body == {"waited_ms": ms, "pid": body["pid"]}
    assert isinstance(body["pid"], int)


def test_lab_ms_defaults_to_100(lab: ApiClient) -> None:
    assert lab.http.get("/lab/threadpool").json()["waited_ms"] == 100


@pytest.mark.parametrize("route", LAB_ROUTES)
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
