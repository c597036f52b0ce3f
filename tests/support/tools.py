"""System tools some tests need: skip with one line where one is missing, fail in CI."""

from __future__ import annotations

import os

import pytest

from launcher import ToolNotFoundError, find_tool


def require_tool(name: str, install_hint: str) -> str:
    """Return the path of a command; skip the test (fail it when CI is set) if it is not installed."""
    try:
        return find_tool(name, install_hint)
    except ToolNotFoundError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run every test, but {error}", pytrace=False)
        pytest.skip(str(error))
