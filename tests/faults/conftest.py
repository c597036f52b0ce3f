"""Fixtures for the fault tests, and a summary of the figures they measured (seconds) after the run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest


class FaultFigure(Protocol):
    """Note a figure the test observed (seconds unless told); the run prints them all at the end."""

    def __call__(self, name: str, value: float, unit: str = "s") -> None: ...


@pytest.fixture
def record_figure(record_property: Callable[[str, object], None]) -> FaultFigure:
    """Note a figure the test observed, for the docs: figures are reported, never asserted."""

    def record(name: str, value: float, unit: str = "s") -> None:
        record_property(name, f"{round(value, 2)} {unit}".rstrip())

    return record


@pytest.fixture(params=["sqlite", "redis"])
def lock_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """LOCK_URL for a fresh lock: a new SQLite file, or the session's redis-server, emptied."""
    if request.param == "sqlite":
        yield {"LOCK_URL": f"sqlite:///{tmp_path}/lock.sqlite3"}
        return
    redis_url = request.getfixturevalue("redis_url")
    import redis

    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()
        yield {"LOCK_URL": redis_url}
        client.flushdb()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List the figures the fault tests recorded, one line per test, for docs/reference/faults.md."""
    lines = [
        f"{report.nodeid.split('::', 1)[1]}: " + ", ".join(f"{name} {value}" for name, value in report.user_properties)
        for report in terminalreporter.stats.get("passed", [])
        if report.nodeid.startswith("tests/faults/") and report.user_properties
    ]
    if lines:
        terminalreporter.write_sep("-", "fault figures")
        for line in lines:
            terminalreporter.write_line(line)
