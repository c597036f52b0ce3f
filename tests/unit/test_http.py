"""common/http.py: the body rules both apps apply, as plain functions."""

from __future__ import annotations

import email.message
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.http import (
    BodyIncompleteError,
    BodyMeter,
    error_body,
    header_problem,
    is_canonical_path,
    is_json_media_type,
    media_type,
    media_type_problem,
    retry_after_header,
)


def test_json_media_types_are_application_json_or_a_json_suffix() -> None:
    json_types = [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.merge+json",
        "application/problem+json; q=1",
    ]
    look_alikes = ["text/json", "application/jsonp", "application/x-www-form-urlencoded", "text/plain", "", "json"]
    assert [value for value in json_types + look_alikes if is_json_media_type(value)] == json_types


def test_media_type_problem_names_the_header_to_send() -> None:
    assert media_type_problem("application/json", has_body=True) is None
    # an empty body with no type is judged by the 422 rules (body missing), not as a wrong media type
    assert media_type_problem(None, has_body=False) is None
    assert media_type_problem(None, has_body=True) == (
        "Unsupported media type: the request sent no Content-Type; send the body as JSON with "
        "'Content-Type: application/json'"
    )
    assert "Content-Type 'text/plain'" in (media_type_problem("text/plain", has_body=False) or "")


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


def test_a_canonical_path_has_no_empty_segment_and_no_encoded_slash() -> None:
    canonical = ["/merge", "/public/te%73t", "/"]
    not_canonical = ["//merge", "/public//test", "/public%2Ftest", "/merge%2f"]
    assert [path for path in canonical + not_canonical if is_canonical_path(path)] == canonical


@pytest.mark.parametrize(
    ("hosts", "content_types", "expect", "coding", "version", "status"),
    [
        (1, 1, None, None, "1.1", None),
        (1, 0, "100-continue", None, "1.1", None),
        (1, 0, "100-Continue", None, "1.1", None),
        (1, 1, None, "chunked", "1.1", None),
        (1, 1, None, "Chunked ", "1.1", None),
        (0, 0, None, None, "1.0", None),
        (0, 0, None, None, "1.1", 400),
        (2, 0, None, None, "1.1", 400),
        (2, 0, None, None, "1.0", 400),
        (1, 2, None, None, "1.1", 400),
        (1, 1, "200-ok", None, "1.1", 417),
        (1, 1, None, "gzip, chunked", "1.1", 501),
        (1, 1, None, "identity", "1.1", 501),
    ],
)
def test_header_problems(
    hosts: int, content_types: int, expect: str | None, coding: str | None, version: str, status: int | None
) -> None:
    problem = header_problem(
        hosts=hosts, content_types=content_types, expect=expect, transfer_encoding=coding, http_version=version
    )
    assert (problem[0] if problem else None) == status


def test_a_body_that_ends_short_of_its_content_length_is_incomplete() -> None:
    meter = BodyMeter(100, "10")
    meter.count(b"12345")
    with pytest.raises(BodyIncompleteError, match="Content-Length is 10 bytes, 5 arrived"):
        meter.ended()
    meter.count(b"67890")
    meter.ended()


@pytest.mark.parametrize("declared", ["²", "-1", "1_0", " 10", "0x10"])
def test_a_content_length_that_is_not_ascii_digits_is_not_a_length(declared: str) -> None:
    assert BodyMeter(100, declared).declared is None
