"""The request rules of the FastAPI app, in one pure ASGI middleware: one pass over each request's head.

Compare with wsgi_app/hardening/request_rules.py: the same rules in the same order; Gunicorn applies some of
them itself, before the app sees the request (docs/many/hostile-input.md has the table).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.http import (
    CLOSE_CONNECTION,
    BodyMeter,
    BodyTooLargeError,
    error_body,
    header_problem,
    is_canonical_path,
)


class RequestRulesMiddleware:
    """Pure ASGI middleware: refuse a request no route should see, answer HEAD like GET, and limit the body.

    One class and one pass over the headers, as Starlette's own middlewares (trustedhost.py, gzip.py): three
    layers, one per rule, each wrapping the next, cost every request a call and a scan of its headers each.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hosts = content_types = authorizations = 0
        content_length = expect = transfer_encoding = None
        for name, value in scope["headers"]:  # one pass: this runs before every request
            if name == b"host":
                hosts += 1
            elif name == b"content-type":
                content_types += 1
            elif name == b"content-length":
                content_length = value.decode("latin-1")
            elif name == b"expect":
                expect = value.decode("latin-1")
            elif name == b"transfer-encoding":
                transfer_encoding = value.decode("latin-1")
            elif name == b"authorization":
                authorizations += 1
        # the strict rules: what RFC 9112 and RFC 3986 ask a server to refuse, and Uvicorn lets in
        problem = header_problem(
            hosts=hosts,
            content_types=content_types,
            expect=expect,
            transfer_encoding=transfer_encoding,
            http_version=scope["http_version"],
        )
        if problem is not None:
            await send_error(send, *problem, CLOSE_CONNECTION)
            return
        if authorizations > 1:
            # Starlette reads the first line, a WSGI server joins them with commas (PEP 3333: one value a name):
            # joined here too, both apps judge one value, and a token never holds a comma (auth's 400)
            scope = {**scope, "headers": joined(scope["headers"], b"authorization")}
        if not is_canonical_path(scope.get("raw_path", b"").decode("latin-1")):
            await send_error(send, 404, "Not Found")
            return
        if scope["method"] == "HEAD":
            # answer HEAD like GET without the body, as Flask and RFC 9110 do: FastAPI's routes skip HEAD
            scope, send = {**scope, "method": "GET"}, without_body(send)
        # --8<-- [start:body-limit]
        if content_length is None and transfer_encoding is None:
            # no body: HTTP/1.1 frames a request body by one of the two headers (RFC 9112 section 6.3)
            await self.app(scope, receive, send)
            return
        # the body limit: answer 413 once a request body passes it, before the body is all in memory
        meter = BodyMeter(self.max_body_bytes, content_length)
        if meter.declared_too_large():
            # the declared length is enough: answer before reading a byte of the body
            await send_error(send, 413, BodyTooLargeError(self.max_body_bytes).detail, CLOSE_CONNECTION)
            return
        if transfer_encoding is None:
            # Uvicorn delivers no more than Content-Length, and no body without one: nothing left to count
            await self.app(scope, receive, send)
            return

        async def counting_receive() -> Message:
            message = await receive()
            # a chunked body declares no length: stop at the first chunk past the limit
            meter.count(message.get("body", b""))
            return message

        await self.app(scope, counting_receive, send)
        # --8<-- [end:body-limit]


def joined(headers: list[tuple[bytes, bytes]], name: bytes) -> list[tuple[bytes, bytes]]:
    """The headers with every line of `name` joined into one, in order, with commas (as Gunicorn joins them)."""
    # each value without the spaces and tabs around it (RFC 9110 section 5.5), which Gunicorn strips and Uvicorn
    # keeps at the end of a line
    values = [value.strip(b" \t") for line, value in headers if line == name]
    return [(line, value) for line, value in headers if line != name] + [(name, b",".join(values))]


def without_body(send: Send) -> Send:
    """A `send` that drops the body of the answer, keeping its headers (Content-Length included)."""

    async def send_without_body(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_without_body


async def send_error(send: Send, status: int, detail: str, headers: Mapping[str, str] | None = None) -> None:
    """Answer `{"detail": ...}` from a pure ASGI middleware, which runs before FastAPI's handlers can."""
    body = error_body(detail)
    raw_headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    raw_headers += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
