"""common/query.py: one value per query parameter, percent-escapes decoded as Starlette decodes them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from common.models import HistoryQuery, LabQuery
from common.query import parse_query, query_names, repeated_parameter_issues


def test_the_names_of_a_query_model() -> None:
    assert query_names(LabQuery) == {"ms"}
    assert query_names(HistoryQuery) == {"limit"}


def test_a_repeated_parameter_is_one_issue_with_every_value() -> None:
    pairs = parse_query("ms=1&x=1&ms=2000&x=2&ms=")
    assert repeated_parameter_issues(pairs, frozenset({"ms"})) == [
        {
            "type": "too_many_values",
            "loc": ["query", "ms"],
            "msg": "Query parameter given 3 times: give it once",
            "input": ["1", "2000", ""],
        }
    ]
    assert repeated_parameter_issues(pairs, frozenset({"limit"})) == []


@given(st.text(alphabet="ab=&%fF0123456789+;é", max_size=30))
def test_a_query_is_parsed_as_starlette_parses_it(query: str) -> None:
    raw = query.encode().decode("latin-1")  # as each app receives it: bytes off the wire
    assert parse_query(raw) == QueryParams(query.encode()).multi_items()
