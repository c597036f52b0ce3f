"""Framework-free work for the /lab routes: each isolates one lesson about concurrency."""

from __future__ import annotations

import time


def burn_cpu(ms: int) -> None:
    """Spin in pure Python for `ms` milliseconds of this thread's CPU time, holding the GIL throughout."""
    # thread_time counts only this thread's CPU: other threads sharing the GIL do not shorten the burn
    deadline = time.thread_time() + ms / 1000
    total = 0
    while time.thread_time() < deadline:
        for number in range(1000):
            total += number * number
