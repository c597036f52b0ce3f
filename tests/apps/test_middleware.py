"""The twin request-rule middlewares, called directly: strict head rules, HEAD as GET (ASGI), the body limit."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterable
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from asgi_app.app import create_app as create_asgi_app
from asgi_app.hardening.request_rules import RequestRulesMiddleware as AsgiRequestRules
from common.http import BodyMeter, BodyTooLargeError
from common.settings import Settings
from wsgi_app.hardening.request_rules import CountingInput
from wsgi_app.hardening.request_rules import RequestRulesMiddleware as WsgiRequestRules

LIMIT = 100
TOO_LARGE = {"detail": f"Request body too large: the limit is {LIMIT} bytes (MAX_BODY_BYTES)"}


def http_scope(method: str = "POST", headers: list[tuple[bytes, bytes]] | None = None, path: str = "/merge") -> Scope:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "headers": [(b"host", b"127.0.0.1"), *(headers or [])],
    }


CHUNKED = [(b"transfer-encoding", b"chunked")]


class ReadsTheBody:
    """An ASGI app that reads the whole body, then answers 200 with how many bytes it read."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        total, more = 0, True
        while more:
            message = await receive()
            total += len(message.get("body", b""))
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(total).encode()})


def call_asgi(app: Any, scope: Scope, chunks: list[bytes]) -> list[Message]:
    """Run an ASGI app on one request whose body arrives in `chunks`; return what it sent."""
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_asgi_a_declared_length_over_the_limit_is_answered_before_the_app_runs() -> None:
    inner = ReadsTheBody()
    sent = call_asgi(AsgiRequestRules(inner, LIMIT), http_scope(headers=[(b"content-length", b"101")]), [b""])
    assert inner.scopes == []
    assert sent[0]["status"] == 413
    assert dict(sent[0]["headers"])[b"connection"] == b"close"
    assert json.loads(sent[1]["body"]) == TOO_LARGE


def test_asgi_a_body_without_a_length_is_stopped_at_the_first_chunk_past_the_limit() -> None:
    # the app's errors.py answers it: 413, and the connection closes
    with pytest.raises(BodyTooLargeError) as error:
        call_asgi(AsgiRequestRules(ReadsTheBody(), LIMIT), http_scope(headers=CHUNKED), [b"a" * 60] * 3)
    assert error.value.detail == TOO_LARGE["detail"]


def test_asgi_a_body_at_the_limit_reaches_the_app_whole() -> None:
    sent = call_asgi(AsgiRequestRules(ReadsTheBody(), LIMIT), http_scope(headers=CHUNKED), [b"a" * 50, b"a" * 50])
    assert (sent[0]["status"], sent[1]["body"]) == (200, b"100")


def test_asgi_head_is_served_as_get_without_the_body() -> None:
    inner = ReadsTheBody()
    sent = call_asgi(AsgiRequestRules(inner, LIMIT), http_scope("HEAD"), [b""])
    assert inner.scopes[0]["method"] == "GET"
    assert [message.get("body") for message in sent] == [None, b""]


def wsgi_environ(body: bytes, content_length: str | None) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/merge",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
    }
    if content_length is not None:
        environ["CONTENT_LENGTH"] = content_length
    return environ


def reads_the_body(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """A WSGI app that reads the whole body, then answers 200 with how many bytes it read."""
    body = environ["wsgi.input"].read()
    start_response("200 OK", [])
    return [str(len(body)).encode()]


def test_wsgi_a_declared_length_over_the_limit_is_answered_before_the_app_runs() -> None:
    statuses: list[tuple[str, list[tuple[str, str]]]] = []

    def not_called(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        raise AssertionError("the app must not run")

    body = WsgiRequestRules(not_called, LIMIT)(wsgi_environ(b"", "101"), lambda *args: statuses.append(args))
    [(status, headers)] = statuses
    assert status.startswith("413 ")
    # PEP 3333: no hop-by-hop header from a WSGI app (Waitress refuses one with a 500); the server decides
    assert not [name for name, _ in headers if name.lower() in {"connection", "keep-alive", "transfer-encoding"}]
    assert json.loads(b"".join(body)) == TOO_LARGE


def test_wsgi_a_body_without_a_length_is_stopped_one_byte_past_the_limit() -> None:
    stream = CountingInput(io.BytesIO(b"a" * 500), BodyMeter(LIMIT, None))
    with pytest.raises(BodyTooLargeError) as error:
        stream.read()
    assert error.value.detail == TOO_LARGE["detail"]
    # it asked for no more than one byte past the limit: a client still sending is not waited for
    assert stream.meter.received == LIMIT + 1


def test_wsgi_a_body_at_the_limit_is_read_whole() -> None:
    statuses: list[object] = []
    body = WsgiRequestRules(reads_the_body, LIMIT)(wsgi_environ(b"a" * 100, None), lambda *args: statuses.append(args))
    assert b"".join(body) == b"100"


def test_asgi_the_request_rules_are_one_middleware_of_the_app() -> None:
    # one pass per request: three layers (strict, HEAD, body limit) cost every request a call and a header scan each
    app = create_asgi_app(Settings(lock_url="memory://"))
    assert [middleware.cls for middleware in app.user_middleware] == [AsgiRequestRules]


def test_asgi_a_strict_rule_is_answered_before_the_body_limit_and_with_its_body_to_head() -> None:
    inner = ReadsTheBody()
    scope = http_scope("HEAD", headers=[(b"content-length", b"101")], path="//merge")
    sent = call_asgi(AsgiRequestRules(inner, LIMIT), scope, [b""])
    assert inner.scopes == []
    assert (sent[0]["status"], json.loads(sent[1]["body"])) == (404, {"detail": "Not Found"})


def test_asgi_a_head_over_the_limit_gets_the_413_headers_without_its_body() -> None:
    sent = call_asgi(AsgiRequestRules(ReadsTheBody(), LIMIT), http_scope("HEAD", [(b"content-length", b"101")]), [b""])
    assert sent[0]["status"] == 413
    too_large = json.dumps(TOO_LARGE, separators=(",", ":")).encode()
    assert dict(sent[0]["headers"])[b"content-length"] == str(len(too_large)).encode()
    assert sent[1]["body"] == b""


def test_asgi_a_scope_other_than_http_passes_through_untouched() -> None:
    inner = ReadsTheBody()
    scope: Scope = {"type": "websocket", "path": "/lab/echo", "headers": []}
    call_asgi(AsgiRequestRules(inner, LIMIT), scope, [b""])
    assert inner.scopes == [scope]


def test_wsgi_a_strict_rule_is_answered_before_the_body_limit() -> None:
    statuses: list[tuple[str, list[tuple[str, str]]]] = []
    environ = {**wsgi_environ(b"", "101"), "RAW_URI": "//merge"}
    body = WsgiRequestRules(reads_the_body, LIMIT)(environ, lambda *args: statuses.append(args))
    assert (statuses[0][0], json.loads(b"".join(body))) == ("404 Not Found", {"detail": "Not Found"})
