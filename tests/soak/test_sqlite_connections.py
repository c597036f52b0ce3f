"""What the soak found, pinned down: a thread that ends takes its SQLite lock connection with it.

Each thread that touches the SQLite lock gets a connection of its own. Flask starts a thread per merge, and
AnyIO lets idle pool threads go, so connections kept after their thread ended piled up, two descriptors each.
"""

from __future__ import annotations

import threading
from pathlib import Path

import psutil

from common.lock.sqlite import SqliteLock

THREADS = 20


def test_a_thread_that_ends_closes_its_sqlite_connection(tmp_path: Path) -> None:
    merge_lock = SqliteLock(tmp_path / "lock.sqlite3", lease_seconds=5.0)
    merge_lock.status()  # this thread's connection, which it keeps
    process = psutil.Process()
    before = process.num_fds()
    for _ in range(THREADS):
        thread = threading.Thread(target=merge_lock.status)
        thread.start()
        thread.join()
    # while this thread's connection holds its lock on the file, SQLite keeps a closed connection's descriptor
    # to reuse it (closing it would drop the process's lock): one, however many threads came and went
    assert process.num_fds() <= before + 1
    merge_lock.close()
