"""Poll an observable state until it holds, with a deadline: the one waiting loop of the repository."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class StillWaitingError(TimeoutError):
    """The deadline passed before the condition held; the message names what was awaited."""


def wait_for(condition: Callable[[], T | None], timeout: float, what: str, interval: float = 0.05) -> T:
    """Call `condition` until it returns something truthy, and return that; raise once `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise StillWaitingError(f"still waiting after {timeout:g} s for {what}")
        time.sleep(interval)
