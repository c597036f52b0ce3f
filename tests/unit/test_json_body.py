"""common/json_body.py: RFC 8259 JSON, as plain functions, against json.loads as the reference parser."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from common import json_body
from common.http import InputValidationError
from common.json_body import MAX_JSON_NESTING, decode_json_object, loads_rfc_8259, not_rfc_8259, strict_issues


@pytest.mark.parametrize(
    ("text", "position"),
    [
        pytest.param("[" * (MAX_JSON_NESTING + 1), MAX_JSON_NESTING, id="arrays"),
        pytest.param('{"a":' * (MAX_JSON_NESTING + 1), 5 * MAX_JSON_NESTING, id="objects"),
        pytest.param(
            '["' + "[" * 100 + '"]' + "[" * (MAX_JSON_NESTING + 1), 104 + MAX_JSON_NESTING, id="after-a-string"
        ),
    ],
)
def test_nesting_past_the_limit_is_found_where_it_passes(text: str, position: int) -> None:
    assert not_rfc_8259(text) == (position, f"nested more than {MAX_JSON_NESTING} levels deep")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * MAX_JSON_NESTING + "]" * MAX_JSON_NESTING, id="at-the-limit"),
        pytest.param('["' + "[" * 1000 + '"]', id="brackets-inside-a-string"),
        pytest.param('["\\"' + "[" * 1000 + '"]', id="after-an-escaped-quote"),
        pytest.param("[]" * 1000, id="many-shallow"),
        pytest.param('["NaN", "Infinity", "1e400"]', id="constants-inside-strings"),
        pytest.param("[1e308, -1e308, 1e-400, 0.5]", id="doubles-and-underflow"),
        pytest.param("[" + "9" * 4300 + "]", id="4300-digits"),
    ],
)
def test_what_rfc_8259_allows_is_fine(text: str) -> None:
    assert not_rfc_8259(text) is None


def test_an_unterminated_string_does_not_make_the_scan_quadratic() -> None:
    # each quote opens a string that never closes: the scan must take it to the end once, not once per quote
    assert not_rfc_8259('"\\' * 8000) is None


@pytest.mark.parametrize(
    ("raw", "error_type", "loc"),
    [
        (b"", "missing", ["body"]),
        (b'{"branch_name": ', "json_invalid", ["body", 16]),
        (b'{"a": "\xff"}', "json_invalid", ["body", 7]),
        (b"[1]", "model_attributes_type", ["body"]),
        (b"null", "model_attributes_type", ["body"]),
        (b"NaN", "json_invalid", ["body", 0]),
        (b'{"a": [1, 2 NaN]}', "json_invalid", ["body", 12]),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_422_issue(raw: bytes, error_type: str, loc: list[object]) -> None:
    with pytest.raises(InputValidationError) as error:
        decode_json_object(raw)
    [issue] = error.value.issues
    assert (issue["type"], issue["loc"]) == (error_type, loc)


def test_a_json_object_is_decoded() -> None:
    assert decode_json_object(b'{"branch_name": "main"}') == {"branch_name": "main"}


# JSON as RFC 8259 has it: finite doubles, integers of modest size, text that UTF-8 can hold
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES, st.booleans())
def test_rfc_8259_json_decodes_as_json_loads_decodes_it(value: Any, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert loads_rfc_8259(raw) == json.loads(raw)


@given(
    st.binary(max_size=64) | st.text(alphabet='[]{}",:0123456789eE.-+ NaInfityrulsf\\u', max_size=64).map(str.encode)
)
def test_any_bytes_decode_or_give_one_json_invalid_issue(raw: bytes) -> None:
    try:
        loads_rfc_8259(raw)
    except InputValidationError as error:
        [issue] = error.issues
        assert issue["type"] == "json_invalid"
        assert 0 <= issue["loc"][1] <= len(raw)
        json.dumps(issue, allow_nan=False)  # every issue is JSON itself


@given(st.text(alphabet='[]{}",:0123456789eE.-+ NaInfity', max_size=48))
def test_the_first_problem_is_reported_whichever_check_finds_it(text: str) -> None:
    # the problem reported is at or before the one json.loads itself would stop at
    try:
        json.loads(text)
        reference = None
    except json.JSONDecodeError as error:
        reference = error.pos
    except ValueError:
        reference = None  # the 4300-digit limit: no position
    try:
        loads_rfc_8259(text.encode())
    except InputValidationError as error:
        position = error.issues[0]["loc"][1]
        assert reference is None or position <= reference
    else:
        assert reference is None


def test_a_lone_surrogate_is_echoed_written_out() -> None:
    issues = [{"type": "string_unicode", "loc": ["body", "branch_name"], "input": {"\ud800": ["a\udfff", 1]}}]
    assert strict_issues(issues) == [
        {"type": "string_unicode", "loc": ["body", "branch_name"], "input": {"\\ud800": ["a\\udfff", 1]}}
    ]


def _not_tried(text: str) -> Any:
    raise ValueError("the full scan decides")


def _outcome(raw: bytes) -> object:
    try:
        return ("document", loads_rfc_8259(raw))
    except InputValidationError as error:
        return ("issues", error.issues)


@given(
    st.text(alphabet='[]{}",:0123456789eE.-+ NaInfityrulsf\\u', max_size=64).map(str.encode)
    | JSON_VALUES.map(lambda value: json.dumps(value).encode())
)
@example(b'{"a": NaN}')
@example(b"[-Infinity, 1]")
@example(b'{"a": [1e400]}')
@example(b"[" + b"9" * 4301 + b"]")
@example(b"[" * (MAX_JSON_NESTING + 1) + b"]" * (MAX_JSON_NESTING + 1))
@example(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')
def test_the_plain_path_answers_what_the_full_scan_answers(raw: bytes) -> None:
    # a body the RFC allows is decoded by json.loads alone (json_body._loads_plain); every other body goes through
    # the scan, so a body the plain path lets through must be one the scan finds no problem in
    fast = _outcome(raw)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(json_body, "_loads_plain", _not_tried)
        assert _outcome(raw) == fast
