"""HTTP rules both apps apply the same way: media types, body limits, Retry-After, error texts."""

from __future__ import annotations

import json
import math
from typing import Any

RESOURCE_BUSY = "Shared resource in use"
MERGE_IN_PROGRESS = "merge in progress"
PUBLIC_MESSAGE = "anyone can see this"


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
# another request
CLOSE_CONNECTION = {"Connection": "close"}


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


class BodyMeter:
    """Counts one request's body as it arrives, and refuses it the moment it passes the limit.

    Both apps' size-limit middlewares keep one per request: the ASGI one counts what `receive` delivers,
    the WSGI one what `wsgi.input` reads.
    """

    def __init__(self, max_body_bytes: int, declared_length: str | None) -> None:
        self.max_body_bytes = max_body_bytes
        self.declared = int(declared_length) if declared_length and declared_length.isdigit() else None
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

    def allowed(self, size: int) -> int:
        """How much one read may ask for: `size` (or everything, if negative), never a byte past the limit."""
        left = self.max_body_bytes - self.received + 1
        return left if size < 0 else min(size, left)


def error_body(detail: str) -> bytes:
    """The JSON body of an error that a middleware answers itself, before any framework can: `{"detail": ...}`."""
    return json.dumps({"detail": detail}, separators=(",", ":")).encode()


def retry_after_header(seconds_left: float) -> str:
    """Return a Retry-After value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds_left)))


class BodyValidationError(Exception):
    """A body that is not a JSON object, with the issues FastAPI would report for it."""

    def __init__(self, issues: list[dict[str, Any]]) -> None:
        super().__init__(issues)
        self.issues = issues


def invalid_json_issue(error: ValueError) -> dict[str, Any]:
    """Describe a body that json.loads refused, as FastAPI does: type json_invalid, loc body + position."""
    # JSON must be UTF-8 (RFC 8259), so bytes that do not decode are malformed JSON like any other
    if isinstance(error, UnicodeDecodeError):
        position, reason = error.start, f"{error.encoding} codec can't decode byte: {error.reason}"
    elif isinstance(error, json.JSONDecodeError):
        position, reason = error.pos, error.msg
    else:
        position, reason = 0, str(error)
    return _json_invalid(position, reason)


def _json_invalid(position: int, reason: str) -> dict[str, Any]:
    """One json_invalid issue in FastAPI's shape, at `position` in the body."""
    return {
        "type": "json_invalid",
        "loc": ["body", position],
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": reason},
    }


# our bodies are one level deep; json.loads gives up near 1000 levels, or fewer, as it shares the stack
# with the server, and echoing a deep input back in a 422 can overflow where parsing it did not
MAX_JSON_NESTING = 32


def too_deep_issue(raw: bytes) -> dict[str, Any] | None:
    """Return the 422 issue for a JSON body nested more than MAX_JSON_NESTING levels, or None."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_NESTING:
        return None  # it cannot be that deep, and two counts cost next to nothing
    depth, in_string, escaped = 0, False, False
    for position, byte in enumerate(raw):
        if in_string:
            escaped, in_string = (False, True) if escaped else (byte == ord("\\"), byte != ord('"'))
        elif byte == ord('"'):
            in_string = True
        elif byte in b"[{":
            depth += 1
            if depth > MAX_JSON_NESTING:
                return _json_invalid(position, f"nested more than {MAX_JSON_NESTING} levels deep")
        elif byte in b"]}":
            depth -= 1
    return None


def decode_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a request body into a JSON object, or raise BodyValidationError in FastAPI's shape."""
    # FastAPI gets this from Starlette and pydantic; the Flask app calls it so both give the same 422s
    if not raw:
        raise BodyValidationError([{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}])
    too_deep = too_deep_issue(raw)
    if too_deep is not None:
        raise BodyValidationError([too_deep])
    try:
        document = json.loads(raw)
    except ValueError as error:
        raise BodyValidationError([invalid_json_issue(error)]) from None
    if not isinstance(document, dict):
        raise BodyValidationError(
            [
                {
                    "type": "model_attributes_type",
                    "loc": ["body"],
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                    "input": document,
                }
            ]
        )
    return document


def media_type_problem(content_type: str | None, has_body: bool) -> str | None:
    """Return the 415 detail for a JSON endpoint's request, or None when its media type is fine."""
    # an empty body is judged by the 422 rules (body missing) unless it names a wrong type outright
    if content_type is None:
        return unsupported_media_type_detail(None) if has_body else None
    return None if is_json_media_type(content_type) else unsupported_media_type_detail(content_type)


def read_json_body(content_type: str | None, body: bytes) -> dict[str, Any]:
    """The JSON rules, in order: UnsupportedMediaTypeError (415), then BodyValidationError (422); or the object."""
    if media_type_problem(content_type, has_body=bool(body)) is not None:
        raise UnsupportedMediaTypeError(content_type)
    return decode_json_object(body)
