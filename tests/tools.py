"""System tools some tests need: skip with one line where one is missing, fail in CI."""

from __future__ import annotations

import os
import shutil

import pytest


def require_tool(name: str, install_hint: str) -> str:
    """Return the path of a command on PATH; skip the test (fail it when CI is set) if it is missing."""
    path = shutil.which(name)
    if path is None:
        reason = f"{name} is not installed: {install_hint}"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run every test, but {reason}", pytrace=False)
        pytest.skip(reason)
    return path
