"""Both apps publish the same OpenAPI document at `/openapi.json`: valid, with the same operations and answers.

Each document comes from the app served by its real server (uvicorn, gunicorn), as a client would see it.
The contract is checked with the optional /lab routes off (LAB_ENDPOINTS=false); with them on, the two
apps must still agree with each other: every answer with the same description and the same schemas, every
request body with the same schemas, apart from the differences named in KNOWN_DIFFERENCES, each with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from common import models
from common.auth import SCHEME_DESCRIPTION, SCHEME_NAME
from launcher import run_server
from launcher.catalog import GUNICORN_SYNC_1, UVICORN

Document = dict[str, Any]
Operation = tuple[str, str, int]  # ("POST", "/merge", 202): one documented answer of one route
# ("POST", "/merge", 409, "The shared resource is held: ...", ("HTTPError",)): an answer, its description and
# the schemas its body names; a request body is the answer "request body", with no description
Answer = tuple[str, str, int | str, str | None, tuple[str, ...]]
FetchDocument = Callable[[str, str], Document]  # (app, settings) -> the document that server publishes

SERVERS = {"asgi": UVICORN, "wsgi": GUNICORN_SYNC_1}
SETTINGS = {"contract": {"LAB_ENDPOINTS": "false"}, "with-lab": {"LAB_ENDPOINTS": "true"}}
APPS = pytest.mark.parametrize("app", list(SERVERS), ids=list(SERVERS))
BOTH_SETTINGS = pytest.mark.parametrize("settings", list(SETTINGS), ids=list(SETTINGS))

# every answer each route of the contract documents, by method and path
CONTRACT_ANSWERS = {
    ("GET", "/public/test"): {200},
    ("POST", "/merge"): {202, 400, 401, 409, 413, 415, 422, 503},
    ("GET", "/merge"): {200, 503},
    ("GET", "/merge/history"): {200, 422, 503},
    ("GET", "/merge/events"): {200, 503},
}
CONTRACT_OPERATIONS: set[Operation] = {
    (method, path, status) for (method, path), statuses in CONTRACT_ANSWERS.items() for status in statuses
}

# the error answers of each route of the contract, as common.models describes them to both apps
CONTRACT_ERRORS = {
    ("POST", "/merge"): models.START_MERGE_ERRORS,
    ("GET", "/merge"): models.MERGE_STATUS_ERRORS,
    ("GET", "/merge/history"): models.MERGE_HISTORY_ERRORS,
    ("GET", "/merge/events"): models.MERGE_STATUS_ERRORS,
}

# where the two documents may differ, each with the reason the stacks differ there; none today. An entry names
# the answer as the app that has it documents it, and the test fails once the difference is gone
KNOWN_DIFFERENCES: dict[tuple[str, Answer], str] = {}


@pytest.fixture(scope="module")
def openapi_document() -> FetchDocument:
    """Fetch `/openapi.json` from an app served with some settings; each server starts once per module."""

    @cache
    def fetch(app: str, settings: str) -> Document:
        with run_server(SERVERS[app], SETTINGS[settings]) as server:
            response = httpx.get(f"{server.url}/openapi.json", timeout=10)
        assert response.status_code == 200
        return response.json()  # type: ignore[no-any-return]

    return fetch


def operations(document: Document) -> set[Operation]:
    """Every (method, path, status) the document lists."""
    return {
        (method.upper(), path, int(status))
        for path, path_item in document["paths"].items()
        for method, operation in path_item.items()
        for status in operation["responses"]
    }


def schema_names(node: Any) -> tuple[str, ...]:
    """The schemas a part of the document names by `$ref`, sorted: ("HTTPError",) for an error's content."""
    if isinstance(node, dict):
        names = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        return tuple(sorted(names.union(*(schema_names(value) for value in node.values()))))
    if isinstance(node, list):
        return tuple(sorted(set().union(*(schema_names(value) for value in node))))
    return ()


def answers(document: Document) -> set[Answer]:
    """Every answer the document lists with its description and schemas, and every request body with its schemas."""
    listed: set[Answer] = set()
    for path, path_item in document["paths"].items():
        for method, operation in path_item.items():
            for status, answer in operation["responses"].items():
                listed.add((method.upper(), path, int(status), answer["description"], schema_names(answer)))
            if "requestBody" in operation:
                listed.add((method.upper(), path, "request body", None, schema_names(operation["requestBody"])))
    return listed


def resolve(document: Document, schema: Document) -> Document:
    """Follow a local `$ref` such as `#/components/schemas/MergeRequest`."""
    if "$ref" not in schema:
        return schema
    target: Any = document
    for key in schema["$ref"].removeprefix("#/").split("/"):
        target = target[key]
    return target  # type: ignore[no-any-return]


@APPS
@BOTH_SETTINGS
def test_document_is_valid_openapi(openapi_document: FetchDocument, app: str, settings: str) -> None:
    document = openapi_document(app, settings)

    validate(document)  # raises, naming the offending part, if the document breaks the OpenAPI schema
    assert document["openapi"].startswith("3.1.")


@APPS
def test_document_lists_exactly_the_contract(openapi_document: FetchDocument, app: str) -> None:
    assert operations(openapi_document(app, "contract")) == CONTRACT_OPERATIONS


@BOTH_SETTINGS
def test_both_apps_document_the_same_operations(openapi_document: FetchDocument, settings: str) -> None:
    asgi, wsgi = operations(openapi_document("asgi", settings)), operations(openapi_document("wsgi", settings))

    assert asgi == wsgi
    assert asgi >= CONTRACT_OPERATIONS


@BOTH_SETTINGS
def test_both_apps_describe_the_same_answers(openapi_document: FetchDocument, settings: str) -> None:
    asgi_document, wsgi_document = openapi_document("asgi", settings), openapi_document("wsgi", settings)
    asgi, wsgi = answers(asgi_document), answers(wsgi_document)
    differences = {("asgi", answer) for answer in asgi - wsgi} | {("wsgi", answer) for answer in wsgi - asgi}
    # a known difference on a path these settings leave out (a /lab route, say) is not expected here
    paths = set(asgi_document["paths"]) | set(wsgi_document["paths"])

    assert differences == {difference for difference in KNOWN_DIFFERENCES if difference[1][1] in paths}


@APPS
def test_error_answers_are_described_as_common_models_says(openapi_document: FetchDocument, app: str) -> None:
    listed = answers(openapi_document(app, "contract"))
    errors = {answer for answer in listed if isinstance(answer[2], int) and answer[2] >= 400}

    assert errors == {
        (method, path, status, description, (model.__name__,))
        for (method, path), table in CONTRACT_ERRORS.items()
        for status, (model, description) in table.items()
    }


@APPS
def test_merge_request_body_is_one_branch_name(openapi_document: FetchDocument, app: str) -> None:
    document = openapi_document(app, "contract")
    request_body = document["paths"]["/merge"]["post"]["requestBody"]
    schema = resolve(document, request_body["content"]["application/json"]["schema"])
    fields = {
        name: {key: value for key, value in field.items() if key in {"type", "minLength", "maxLength"}}
        for name, field in schema["properties"].items()
    }

    assert request_body["required"] is True
    assert list(request_body["content"]) == ["application/json"]
    assert schema["type"] == "object"
    assert fields == {"branch_name": {"type": "string", "minLength": 1, "maxLength": 255}}
    assert schema["required"] == ["branch_name"]
    assert schema["additionalProperties"] is False


@APPS
@BOTH_SETTINGS
def test_docs_are_not_in_the_document(openapi_document: FetchDocument, app: str, settings: str) -> None:
    paths = openapi_document(app, settings)["paths"]

    assert "/docs" not in paths
    assert "/openapi.json" not in paths
    assert [path for path in paths if path.startswith("/static")] == []


@APPS
@pytest.mark.parametrize(("path", "settings"), [("/merge/events", "contract"), ("/lab/stream", "with-lab")])
def test_event_streams_are_documented_as_text_event_stream(
    openapi_document: FetchDocument, app: str, path: str, settings: str
) -> None:
    answer = openapi_document(app, settings)["paths"][path]["get"]["responses"]["200"]
    assert list(answer["content"]) == ["text/event-stream"]


@APPS
@BOTH_SETTINGS
def test_the_bearer_scheme_is_declared_and_required_by_post_merge_only(
    openapi_document: FetchDocument, app: str, settings: str
) -> None:
    document = openapi_document(app, settings)
    secured = {
        (method.upper(), path): operation["security"]
        for path, path_item in document["paths"].items()
        for method, operation in path_item.items()
        if "security" in operation
    }

    assert document["components"]["securitySchemes"] == {
        SCHEME_NAME: {"type": "http", "scheme": "bearer", "description": SCHEME_DESCRIPTION}
    }
    assert "security" not in document  # no default for the whole API: every GET is public
    assert secured == {("POST", "/merge"): [{SCHEME_NAME: []}]}
