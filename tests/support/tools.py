"""System tools some tests need: skip with one line where one is missing, fail in CI."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from launcher import ToolNotFoundError, find_tool, postgres_bin_dir

T = TypeVar("T")


def required(find: Callable[[], T]) -> T:
    """Return what `find` finds; skip the test (fail it when CI is set) if it raises ToolNotFoundError."""
    try:
        return find()
    except ToolNotFoundError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run every test, but {error}", pytrace=False)
        pytest.skip(str(error))


def require_tool(name: str, install_hint: str) -> str:
    """Return the path of a command; skip the test (fail it when CI is set) if it is not installed."""
    return required(lambda: find_tool(name, install_hint))


def require_postgres() -> Path:
    """Return the folder of PostgreSQL's server programs; skip the test (fail it in CI) if they are not installed."""
    return required(postgres_bin_dir)
