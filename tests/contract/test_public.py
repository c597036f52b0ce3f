"""GET /public/test, HEAD, unknown paths and wrong methods."""

from __future__ import annotations

import pytest

from tests.support.api import ApiClient


def test_public_test(api: ApiClient) -> None:
    response = api.public_test()
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": "anyone can see this"}


@pytest.mark.parametrize("path", ["/public/test", "/merge"])
def test_head_answers_like_get_without_a_body(api: ApiClient, path: str) -> None:
    get = api.http.get(path)
    head = api.http.head(path)
    assert head.status_code == get.status_code == 200
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.content == b""


@pytest.mark.parametrize("path", ["/nope", "/public", "/public/test/extra", "/merge/1"])
def test_unknown_path_is_a_json_404(api: ApiClient, path: str) -> None:
    response = api.http.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/public/test", {"GET", "HEAD"}),
        ("PUT", "/public/test", {"GET", "HEAD"}),
        ("DELETE", "/public/test", {"GET", "HEAD"}),
        ("OPTIONS", "/public/test", {"GET", "HEAD"}),
        ("PUT", "/merge", {"GET", "HEAD", "POST"}),
        ("PATCH", "/merge", {"GET", "HEAD", "POST"}),
        ("DELETE", "/merge", {"GET", "HEAD", "POST"}),
    ],
)
def test_wrong_method_is_a_json_405_with_allow(api: ApiClient, method: str, path: str, allowed: set[str]) -> None:
    response = api.http.request(method, path)
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Method Not Allowed"}
    assert {method.strip() for method in response.headers["allow"].split(",")} == allowed


def test_openapi_document_is_served(api: ApiClient) -> None:
    response = api.http.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert {"/public/test", "/merge"} <= set(document["paths"])


def test_docs_page_is_swagger_ui_from_this_server(api: ApiClient) -> None:
    page = api.http.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in page.text
    # every asset the page names comes from this server, not from a CDN
    for asset in ["/static/swagger-ui/js/swagger-ui-bundle.js", "/static/swagger-ui/css/swagger-ui.css"]:
        assert asset in page.text
        assert api.http.get(asset).status_code == 200
    assert "cdn" not in page.text.lower()
