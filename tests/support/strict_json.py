"""Read a body as a strict JSON client would (RFC 8259): UTF-8, no NaN or Infinity, no lone surrogate."""

from __future__ import annotations

import json
from typing import Any


def _refuse_constant(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


def _check_text(value: Any) -> None:
    """Refuse a string (key or value) that no UTF-8 text can hold: a lone surrogate written as an escape."""
    if isinstance(value, str):
        value.encode("utf-8")  # UnicodeEncodeError on "\ud800"
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def loads_strict(body: bytes) -> Any:
    """Decode a response body as strict JSON, or raise ValueError saying why a strict client could not."""
    document = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    _check_text(document)
    return document
