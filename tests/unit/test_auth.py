"""common/auth.py: the bearer rule both apps apply, and the Flask app's reading of the header as FastAPI's."""

from __future__ import annotations

import pytest
from fastapi.security.utils import get_authorization_scheme_param
from hypothesis import given
from hypothesis import strategies as st

from common.auth import (
    INVALID_TOKEN,
    MALFORMED,
    NO_TOKENS,
    NOT_AUTHENTICATED,
    MergeTokens,
    Refusal,
    bearer_credentials,
    split_tokens,
    token_problem,
)

TOKENS = MergeTokens(["first-token-0123456789", "second-token-0123456789"])


@pytest.mark.parametrize(
    ("credentials", "refusal"),
    [
        ("first-token-0123456789", None),
        ("second-token-0123456789", None),
        (None, NOT_AUTHENTICATED),
        ("first-token-012345678", INVALID_TOKEN),
        ("FIRST-TOKEN-0123456789", INVALID_TOKEN),
        ("first-token-0123456789==", INVALID_TOKEN),
        ("first-token-0123456789,x", MALFORMED),
        ("a b", MALFORMED),
        ("t\xf6ken", MALFORMED),
        ("=abc", MALFORMED),
    ],
)
def test_the_answer_to_each_credential(credentials: str | None, refusal: Refusal | None) -> None:
    assert TOKENS.refusal(credentials) == refusal


@pytest.mark.parametrize("credentials", [None, "first-token-0123456789", "anything"])
def test_with_no_tokens_every_merge_is_refused_naming_the_setting(credentials: str | None) -> None:
    assert MergeTokens([]).refusal(credentials) == NO_TOKENS
    assert "MERGE_TOKENS" in NO_TOKENS.detail


def test_the_tokens_never_show_in_a_repr() -> None:
    assert repr(TOKENS) == "MergeTokens(<2 hidden>)"


@given(st.none() | st.text(st.characters(max_codepoint=0xFF), max_size=30))
def test_flask_reads_the_header_as_fastapis_httpbearer_does(authorization: str | None) -> None:
    # HTTPBearer.__call__: no credentials unless both parts are there and the scheme is bearer, in any case
    scheme, credentials = get_authorization_scheme_param(authorization)
    expected = credentials if authorization and scheme and credentials and scheme.lower() == "bearer" else None
    assert bearer_credentials(authorization) == expected


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("0123456789abcdef", None),
        ("0123456789abcde", "a token has 15 characters; each needs at least 16"),
        (
            "0123456789 abcdef",
            "a token may hold only letters, digits and -._~+/ (trailing = too), as RFC 6750 section 2.1 says",
        ),
    ],
)
def test_a_token_must_be_long_and_one_b64token(token: str, problem: str | None) -> None:
    assert token_problem(token) == problem


def test_tokens_are_split_on_commas_and_line_ends() -> None:
    assert split_tokens(" a ,b\n\nc,\n") == ("a", "b", "c")
