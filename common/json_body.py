"""JSON request bodies as RFC 8259 has them, judged the same way on both apps, and errors that are strict JSON.

json.loads alone is more lenient than the RFC: it takes UTF-16 and UTF-32 bytes, reads NaN and Infinity,
turns 1e400 into a float that no JSON can carry, and gives up (a ValueError, not a JSONDecodeError) on an
integer of more than 4300 digits. Each of those reached the apps as a different answer (a 500 from FastAPI,
a 422 echoing a bare NaN from Flask). Here every such body is one 422 json_invalid issue at the position of
the first problem in the text, whichever check finds it.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

from common.http import InputValidationError, UnsupportedMediaTypeError, media_type_problem

# our bodies are one level deep; json.loads gives up near 1000 levels, or fewer, as it shares the stack
# with the server, and echoing a deep input back in a 422 can overflow where parsing it did not
MAX_JSON_NESTING = 32

# the tokens that decide whether a JSON text is one the RFC allows, in one pass: a string (skipped whole,
# or to the end of the text when it never closes, so that a quote cannot make the scan quadratic),
# a bracket, a constant json.loads reads but JSON lacks, a number
_TOKENS = re.compile(
    r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)|[\[\]{}]|-?Infinity|NaN|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?', re.DOTALL
)


def json_invalid_issue(position: int, reason: str) -> dict[str, Any]:
    """One json_invalid issue in FastAPI's shape, at character `position` of the body."""
    return {
        "type": "json_invalid",
        "loc": ["body", position],
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": reason},
    }


def not_rfc_8259(text: str) -> tuple[int, str] | None:
    """The first place where a text json.loads would read is not JSON as RFC 8259 defines it, or None.

    Finds nesting past MAX_JSON_NESTING, NaN and Infinity (§6: not permitted), and numbers that no
    IEEE 754 double or Python int (sys.get_int_max_str_digits) can hold. Syntax errors are json.loads's.
    """
    depth = 0
    for token in _TOKENS.finditer(text):
        value = token[0]
        first = value[0]
        if first == '"':
            continue
        if first in "[{":
            depth += 1
            if depth > MAX_JSON_NESTING:
                return token.start(), f"nested more than {MAX_JSON_NESTING} levels deep"
        elif first in "]}":
            depth -= 1
        elif value.endswith(("Infinity", "NaN")):
            return token.start(), f"{value} is not a JSON value (RFC 8259 section 6)"
        elif number_problem := _number_problem(value):
            return token.start(), number_problem
    return None


def _number_problem(number: str) -> str | None:
    if any(mark in number for mark in ".eE"):
        return None if math.isfinite(float(number)) else f"number out of range: {number[:20]} is past a double"
    digits = len(number.lstrip("-"))
    limit = sys.get_int_max_str_digits()
    return f"number out of range: an integer of {digits} digits (at most {limit})" if limit and digits > limit else None


def _decode_utf8(raw: bytes) -> str:
    """The body as text: JSON exchanged between systems is UTF-8 (RFC 8259 section 8.1), nothing else."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        # the position counts characters, as json.loads's do: the text before the bad byte decodes
        position = len(raw[: error.start].decode("utf-8"))
        raise InputValidationError([json_invalid_issue(position, f"not UTF-8: {error.reason}")]) from None
    if text.startswith("\ufeff"):
        # the RFC lets a parser ignore a byte order mark; refusing it keeps one rule: the bytes are the text
        raise InputValidationError([json_invalid_issue(0, "a byte order mark: JSON text must not begin with one")])
    return text


class _NotJSON(ValueError):
    """json.loads met a constant or a number that RFC 8259 JSON cannot carry: the scan will say where."""


def _refuse_constant(name: str) -> Any:
    raise _NotJSON(name)


def _finite_float(number: str) -> float:
    value = float(number)
    if not math.isfinite(value):
        raise _NotJSON(number)
    return value


def _loads_plain(text: str) -> Any:
    """json.loads that gives up (ValueError) on what the RFC refuses, without saying where: the common case's path."""
    if text.count("[") + text.count("{") > MAX_JSON_NESTING:
        raise _NotJSON("maybe nested too deep")  # brackets inside strings count too: the scan decides
    # an integer past sys.get_int_max_str_digits is json.loads's own ValueError
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)


# --8<-- [start:loads]
def loads_rfc_8259(raw: bytes) -> Any:
    """Decode a body as RFC 8259 JSON, or raise InputValidationError with the first problem, as FastAPI words it."""
    text = _decode_utf8(raw)
    try:
        return _loads_plain(text)  # a body the RFC allows is done here, in one pass of json's C scanner
    except ValueError:  # a JSONDecodeError too: the scan below finds which problem comes first, and where
        pass
    problem = not_rfc_8259(text)
    try:
        # with a problem at p, the text before p may still hold a syntax error, which comes first: one before
        # p, or one at p that is not the cut itself ("Expecting value": the value at p is the problem)
        document = json.loads(text if problem is None else text[: problem[0]])
    except json.JSONDecodeError as error:
        if problem is None or error.pos < problem[0] or error.msg != "Expecting value":
            raise InputValidationError([json_invalid_issue(error.pos, error.msg)]) from None
    if problem is not None:
        raise InputValidationError([json_invalid_issue(*problem)])
    return document


# --8<-- [end:loads]


def decode_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a request body into a JSON object, or raise InputValidationError in FastAPI's shape."""
    # FastAPI gets this from Starlette and pydantic; the Flask app calls it so both give the same 422s
    if not raw:
        raise InputValidationError([{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}])
    document = loads_rfc_8259(raw)
    if not isinstance(document, dict):
        raise InputValidationError(
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


def read_json_body(content_type: str | None, body: bytes) -> dict[str, Any]:
    """The JSON rules, in order: UnsupportedMediaTypeError (415), then InputValidationError (422); or the object."""
    if media_type_problem(content_type, has_body=bool(body)) is not None:
        raise UnsupportedMediaTypeError(content_type)
    return decode_json_object(body)


def strict_input(value: Any) -> Any:
    """An issue's `input` as strict JSON can carry it: text with a lone surrogate as its escape, written out."""
    # a 422 echoes the input; "\\ud800" is a JSON escape json.loads accepts, but no UTF-8 text can hold it,
    # and a strict client (RFC 8259 section 8.2) refuses to read an answer that carries one back
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {strict_input(key): strict_input(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [strict_input(item) for item in value]
    return value


def strict_issues(issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validation issues with every input made strict JSON (strict_input): both apps send 422s through it."""
    return [{**issue, "input": strict_input(issue["input"])} if "input" in issue else issue for issue in issues]
