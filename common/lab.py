"""Framework-free work for the /lab routes: each isolates one lesson about concurrency."""

from __future__ import annotations

import os
import threading
import time

from common.models import LabResult


def burn_cpu(ms: int) -> None:
    """Spin in pure Python for `ms` milliseconds of this thread's CPU time, holding the GIL throughout."""
    # thread_time counts only this thread's CPU: other threads sharing the GIL do not shorten the burn
    deadline = time.thread_time() + ms / 1000
    total = 0
    while time.thread_time() < deadline:
        for number in range(1000):
            total += number * number


def lab_result(ms: int, started_at: float) -> LabResult:
    """The answer of a /lab route that began at `started_at` (time.time()): it ends now, in this thread."""
    return LabResult(
        waited_ms=ms,
        pid=os.getpid(),
        thread=threading.current_thread().name,
        thread_id=threading.get_ident(),
        started_at=started_at,
        ended_at=time.time(),
    )
