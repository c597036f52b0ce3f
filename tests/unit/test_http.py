"""common/http.py: the body rules both apps apply, as plain functions."""

from __future__ import annotations

import email.message
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.http import (
    MAX_JSON_NESTING,
    BodyValidationError,
    decode_json_object,
    error_body,
    is_json_media_type,
    media_type,
    media_type_problem,
    retry_after_header,
    too_deep_issue,
)


@pytest.mark.parametrize(
    ("content_type", "is_json"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("Application/JSON", True),
        ("application/vnd.merge+json", True),
        ("application/problem+json; q=1", True),
        ("text/json", False),
        ("application/jsonp", False),
        ("application/x-www-form-urlencoded", False),
        ("text/plain", False),
        ("", False),
        ("json", False),
    ],
)
def test_json_media_types_are_application_json_or_a_json_suffix(content_type: str, is_json: bool) -> None:
    assert is_json_media_type(content_type) is is_json


def test_media_type_problem_names_the_header_to_send() -> None:
    assert media_type_problem("application/json", has_body=True) is None
    # an empty body with no type is judged by the 422 rules (body missing), not as a wrong media type
    assert media_type_problem(None, has_body=False) is None
    assert media_type_problem(None, has_body=True) == (
        "Unsupported media type: the request sent no Content-Type; send the body as JSON with "
        "'Content-Type: application/json'"
    )
    assert "Content-Type 'text/plain'" in (media_type_problem("text/plain", has_body=False) or "")


@pytest.mark.parametrize(
    ("raw", "position"),
    [
        pytest.param(b"[" * (MAX_JSON_NESTING + 1), MAX_JSON_NESTING, id="arrays"),
        pytest.param(b'{"a":' * (MAX_JSON_NESTING + 1), 5 * MAX_JSON_NESTING, id="objects"),
        pytest.param(
            b'["' + b"[" * 100 + b'"]' + b"[" * (MAX_JSON_NESTING + 1), 104 + MAX_JSON_NESTING, id="after-a-string"
        ),
    ],
)
def test_nesting_past_the_limit_is_found_where_it_passes(raw: bytes, position: int) -> None:
    assert too_deep_issue(raw) == {
        "type": "json_invalid",
        "loc": ["body", position],
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": f"nested more than {MAX_JSON_NESTING} levels deep"},
    }


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"[" * MAX_JSON_NESTING + b"]" * MAX_JSON_NESTING, id="at-the-limit"),
        pytest.param(b'["' + b"[" * 1000 + b'"]', id="brackets-inside-a-string"),
        pytest.param(b'["\\"' + b"[" * 1000 + b'"]', id="after-an-escaped-quote"),
        pytest.param(b"[]" * 1000, id="many-shallow"),
    ],
)
def test_brackets_that_do_not_nest_past_the_limit_are_fine(raw: bytes) -> None:
    assert too_deep_issue(raw) is None


@pytest.mark.parametrize(
    ("raw", "error_type", "loc"),
    [
        (b"", "missing", ["body"]),
        (b'{"branch_name": ', "json_invalid", ["body", 16]),
        (b'{"a": "\xff"}', "json_invalid", ["body", 7]),
        (b"[1]", "model_attributes_type", ["body"]),
        (b"null", "model_attributes_type", ["body"]),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_422_issue(raw: bytes, error_type: str, loc: list[object]) -> None:
    with pytest.raises(BodyValidationError) as error:
        decode_json_object(raw)
    [issue] = error.value.issues
    assert (issue["type"], issue["loc"]) == (error_type, loc)


def test_a_json_object_is_decoded() -> None:
    assert decode_json_object(b'{"branch_name": "main"}') == {"branch_name": "main"}


@pytest.mark.parametrize(("seconds", "header"), [(0.0, "1"), (0.2, "1"), (1.0, "1"), (1.01, "2"), (9.5, "10")])
def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one(seconds: float, header: str) -> None:
    assert retry_after_header(seconds) == header


def test_an_error_body_is_compact_json_with_a_detail() -> None:
    assert error_body("Too large") == b'{"detail":"Too large"}'
    assert json.loads(error_body('quote " and é')) == {"detail": 'quote " and é'}


# header values as a client may send them: any characters but CR and LF, which end a header line
HEADER_VALUES = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=40)
JSONISH = st.sampled_from(["application/json", "Application/JSON", "application/x+json", " text/plain", "a/b/c", ";"])


@given(st.one_of(HEADER_VALUES, st.builds(lambda a, b: a + b, JSONISH, HEADER_VALUES)))
def test_media_type_reads_a_content_type_as_email_message_does(value: str) -> None:
    # the fast parse must judge every value as the slow one FastAPI itself uses
    parsed = email.message.Message()
    parsed["content-type"] = value
    assert media_type(value) == parsed.get_content_type()
