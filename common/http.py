"""HTTP rules both apps apply the same way: media types, body limits, Retry-After, error texts."""

from __future__ import annotations

import json
import math
from email.message import Message as _HeaderParser
from typing import Any

RESOURCE_BUSY = "Shared resource in use"
MERGE_IN_PROGRESS = "merge in progress"
PUBLIC_MESSAGE = "anyone can see this"


def is_json_media_type(content_type: str) -> bool:
    """Tell whether a Content-Type names JSON: application/json or application/*+json, any parameters."""
    # the same rule FastAPI applies before it parses a body as JSON
    parser = _HeaderParser()
    parser["content-type"] = content_type
    subtype = parser.get_content_subtype()
    return parser.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def unsupported_media_type_detail(content_type: str | None) -> str:
    """Explain a 415 so that the fix is obvious to someone who used `curl -d`."""
    sent = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
    return (
        f"Unsupported media type: the request sent {sent}; send the body as JSON with 'Content-Type: application/json'"
    )


def body_too_large_detail(max_body_bytes: int) -> str:
    """Explain a 413."""
    return f"Request body too large: the limit is {max_body_bytes} bytes (MAX_BODY_BYTES)"


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
