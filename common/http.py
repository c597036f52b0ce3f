"""HTTP rules both apps apply the same way: media types, body limits, Retry-After, error texts."""

from __future__ import annotations

import json
import math
from typing import Any

RESOURCE_BUSY = "Shared resource in use"
MERGE_IN_PROGRESS = "merge in progress"
PUBLIC_MESSAGE = "anyone can see this"
# the start of a 503's detail when the lock's store cannot be used: "Lock backend unavailable: Redis lock ..."
LOCK_UNAVAILABLE = "Lock backend unavailable: "


def media_type(content_type: str) -> str:
    """The type/subtype of a Content-Type, lower case, parameters dropped: email.message's rule, four times faster.

    A value that is not one type/subtype counts as text/plain, as email.message.Message.get_content_type has it.
    """
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind if kind.count("/") == 1 else "text/plain"


def is_json_media_type(content_type: str) -> bool:
    """Tell whether a Content-Type names JSON: application/json or application/*+json, any parameters."""
    # the rule FastAPI applies before it parses a body as JSON
    maintype, _, subtype = media_type(content_type).partition("/")
    return maintype == "application" and (subtype == "json" or subtype.endswith("+json"))


def unsupported_media_type_detail(content_type: str | None) -> str:
    """Explain a 415 so that the fix is obvious to someone who used `curl -d`."""
    sent = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
    return (
        f"Unsupported media type: the request sent {sent}; send the body as JSON with 'Content-Type: application/json'"
    )


def body_too_large_detail(max_body_bytes: int) -> str:
    """Explain a 413."""
    return f"Request body too large: the limit is {max_body_bytes} bytes (MAX_BODY_BYTES)"


# an answer given before the body was read whole: the rest is left unread, so the connection cannot carry
# another request. The FastAPI app says so; the Flask app cannot: PEP 3333 forbids a WSGI app hop-by-hop
# headers, Gunicorn drops them (and reads past an unread body itself, or closes), Waitress refuses them (a 500)
CLOSE_CONNECTION = {"Connection": "close"}
# the live state of the shared resource (GET /merge, GET /merge/history): with no Cache-Control, a cache may
# keep the answer for a freshness lifetime of its own guess
LIVE_STATE = {"Cache-Control": "no-store"}


class BodyTooLargeError(Exception):
    """A request body passed MAX_BODY_BYTES: each app's errors.py answers 413 with `detail`, and closes."""

    def __init__(self, max_body_bytes: int) -> None:
        self.detail = body_too_large_detail(max_body_bytes)
        super().__init__(self.detail)


class UnsupportedMediaTypeError(Exception):
    """A body not sent as JSON: each app's errors.py answers 415 with `detail`, which names the header to send."""

    def __init__(self, content_type: str | None) -> None:
        self.detail = unsupported_media_type_detail(content_type)
        super().__init__(self.detail)


class BodyIncompleteError(Exception):
    """A body that did not arrive as its framing said: each app's errors.py answers 400 with `detail`, and closes.

    RFC 9112 section 6.3: a message whose body ends before its Content-Length, or whose chunks cannot be
    read, is incomplete, and a server must not act on it. A merge must never start from half a request.
    """

    def __init__(self, detail: str) -> None:
        self.detail = f"Request body incomplete: {detail}"
        super().__init__(self.detail)


class BodyMeter:
    """Counts one request's body as it arrives, and refuses it the moment it passes the limit.

    Both apps' size-limit middlewares keep one per request: the ASGI one counts what `receive` delivers,
    the WSGI one what `wsgi.input` reads.
    """

    def __init__(self, max_body_bytes: int, declared_length: str | None) -> None:
        self.max_body_bytes = max_body_bytes
        # isdigit alone takes "²", which int() refuses; the servers check the header, this does not rely on it
        ascii_digits = declared_length is not None and declared_length.isascii() and declared_length.isdigit()
        self.declared = int(declared_length) if declared_length and ascii_digits else None
        self.received = 0

    def declared_too_large(self) -> bool:
        """Whether Content-Length alone is over the limit: then the answer comes before a byte is read."""
        return self.declared is not None and self.declared > self.max_body_bytes

    def count(self, piece: bytes) -> bytes:
        """Add a piece of the body; raise BodyTooLargeError once the total passes the limit."""
        self.received += len(piece)
        if self.received > self.max_body_bytes:
            raise BodyTooLargeError(self.max_body_bytes)
        return piece

    def ended(self) -> None:
        """The body has ended (EOF): raise BodyIncompleteError if Content-Length promised more."""
        if self.declared is not None and self.received < self.declared:
            raise BodyIncompleteError(f"Content-Length is {self.declared} bytes, {self.received} arrived")

    def allowed(self, size: int) -> int:
        """How much one read may ask for: `size` (or everything, if negative), never a byte past the limit."""
        left = self.max_body_bytes - self.received + 1
        return left if size < 0 else min(size, left)


def error_body(detail: str) -> bytes:
    """The JSON body of an error that a middleware answers itself, before any framework can: `{"detail": ...}`."""
    return json.dumps({"detail": detail}, separators=(",", ":")).encode()


def is_canonical_path(path: str) -> bool:
    """Whether a request path, as sent, has no empty segment (`//`) and no encoded slash (`%2F`).

    Starlette routes `//merge` nowhere (a 404), Werkzeug strips the leading slashes and routes it to
    `/merge`; and both servers decode `%2F` into the path the app routes on (RFC 3986 section 2.2 says
    it is data, not a delimiter), so `/public%2Ftest` reached `/public/test`. Such a path is a 404 on both.
    """
    return "//" not in path and "%2f" not in path.lower()


def header_problem(
    *, hosts: int, content_types: int, expect: str | None, transfer_encoding: str | None, http_version: str
) -> tuple[int, str] | None:
    """The status and detail for headers a server must refuse (RFC 9112, RFC 9110), or None when they are fine.

    `hosts` and `content_types` count the lines (a WSGI app sees at most one of each: the server joins
    repeated lines or refuses them); `http_version` is "1.1", "1.0", ...
    """
    if hosts == 1 and content_types <= 1 and expect is None and transfer_encoding is None:
        return None  # most requests: nothing below can refuse them, and this runs before every request
    if hosts == 0 and http_version != "1.0":
        return 400, "Bad Request: an HTTP/1.1 request must carry a Host header (RFC 9112 section 3.2)"
    if hosts > 1:
        return 400, "Bad Request: more than one Host header (RFC 9112 section 3.2)"
    if content_types > 1:
        return 400, "Bad Request: more than one Content-Type header"
    if expect is not None and expect.lower() != "100-continue":
        return 417, f"Expectation Failed: only 'Expect: 100-continue' is understood, not {expect!r}"
    # both servers take the chunks off and hand over the rest undecoded: a gzip-coded body would reach
    # the route as if it were plain (RFC 9112 section 6.1: answer 501 to a coding not understood)
    if transfer_encoding is not None and transfer_encoding.strip().lower() != "chunked":
        return 501, "Not Implemented: only the chunked Transfer-Encoding is understood"
    return None


def retry_after_header(seconds_left: float) -> str:
    """Return a Retry-After value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds_left)))


class InputValidationError(Exception):
    """A body or query that the contract refuses before its model is tried: each app answers 422 with `issues`."""

    def __init__(self, issues: list[dict[str, Any]]) -> None:
        super().__init__(issues)
        self.issues = issues


def media_type_problem(content_type: str | None, has_body: bool) -> str | None:
    """Return the 415 detail for a JSON endpoint's request, or None when its media type is fine."""
    # an empty body is judged by the 422 rules (body missing) unless it names a wrong type outright
    if content_type is None:
        return unsupported_media_type_detail(None) if has_body else None
    return None if is_json_media_type(content_type) else unsupported_media_type_detail(content_type)
