"""The branch-name pattern in the OpenAPI documents accepts exactly the names the apps accept.

The apps judge a name with branch_name_problem, which says which rule it breaks; the documents give the
same rules as one regular expression, BRANCH_NAME_PATTERN, for clients and for schemathesis. A name the
pattern allows and the apps refuse fails the fuzz run (positive_data_acceptance), and the converse fails
it too (negative_data_rejection), but only if schemathesis happens to draw such a name. Hypothesis looks
for one here, in a thousand names, most of them built from the characters the rules are about.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from common.models import BRANCH_NAME_PATTERN, branch_name_problem

# in ECMA-262, as in JSON Schema, a closing $ is the end of the string; Python's $ also matches before a
# final newline, so read it as \Z
PATTERN = re.compile(BRANCH_NAME_PATTERN.removesuffix("$") + r"\Z")

# the pieces the rules are about, so that names like "a/.b", "x.lock/y" or "@{" come up often
PIECES = ["a", "b", "é", "😀", ".", "..", "-", "/", "@", "{", "@{", "lock", ".lock", " ", "~", "^", ":", "?", "*"]
PIECES += ["[", "\\", "\x7f", "\x00", "\t", "\n", "\u2028"]
NAMES = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=8).map("".join),
    st.text(max_size=20),
    st.from_regex(PATTERN),
)


@settings(max_examples=1000, derandomize=True, database=None, deadline=None)
@given(name=NAMES)
def test_pattern_accepts_exactly_the_valid_names(name: str) -> None:
    assert (PATTERN.match(name) is not None) == (branch_name_problem(name) is None)


def test_pattern_examples() -> None:
    valid = ["feature/login", "main", "a", "release/1.2", "fix-@", "café/ünïcode", "x.locked"]
    invalid = ["", "@", "-x", "/x", "x/", "a//b", "a..b", "a@{b", ".x", "a/.b", "x.", "a.lock", "a.lock/b", "a b"]

    assert {name: PATTERN.match(name) is not None for name in valid + invalid} == {
        **dict.fromkeys(valid, True),
        **dict.fromkeys(invalid, False),
    }
