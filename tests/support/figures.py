"""Figures a test observed (seconds unless told), reported after the run for the docs, never asserted."""

from __future__ import annotations

from typing import Protocol


class RecordFigure(Protocol):
    """Note a figure the test observed; the fault tests' conftest prints them all at the end of the run."""

    def __call__(self, name: str, value: float, unit: str = "s") -> None: ...
