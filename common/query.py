"""Query strings, read one way by both apps: one value per parameter, percent-escapes decoded as UTF-8.

Starlette and Werkzeug disagree on both counts: given `?ms=1&ms=2000`, Starlette's QueryParams keeps the
last value and Werkzeug's MultiDict the first; given `?ms=%ff`, Starlette decodes the byte that is not
UTF-8 to U+FFFD and Werkzeug (2.3 and later) leaves it percent-encoded. Neither is wrong, no RFC decides,
and so a repeated parameter is refused here rather than guessed at, and both decode as Starlette does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel


def query_names(model: type[BaseModel]) -> frozenset[str]:
    """The parameter names a query model reads: each field's alias, or its name."""
    return frozenset(field.alias or name for name, field in model.model_fields.items())


def parse_query(query_string: str) -> list[tuple[str, str]]:
    """Every (name, value) of a query string, in order, as Starlette parses it: blanks kept, U+FFFD for bad bytes."""
    return parse_qsl(query_string, keep_blank_values=True, encoding="utf-8", errors="replace")


def repeated_parameter_issues(pairs: Iterable[tuple[str, str]], names: frozenset[str]) -> list[dict[str, Any]]:
    """A 422 issue for each parameter of `names` given more than once, in FastAPI's shape."""
    values: defaultdict[str, list[str]] = defaultdict(list)
    for name, value in pairs:
        if name in names:
            values[name].append(value)
    return [
        {
            "type": "too_many_values",
            "loc": ["query", name],
            "msg": f"Query parameter given {len(given)} times: give it once",
            "input": given,
        }
        for name, given in values.items()
        if len(given) > 1
    ]
