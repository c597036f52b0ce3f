"""A SQLite lock file that cannot be written stops either server at start-up, with one line.

tests/apps/test_startup.py already starts both servers on a path that cannot be created at all
(under /proc); these are the ways a path goes wrong on an ordinary disk.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from common.lock import open_merge_lock
from launcher import ROOT, ServerConfig, free_port
from launcher.catalog import GUNICORN_SYNC_1, UVICORN

PR_CAPBSET_DROP = 24  # <linux/prctl.h>
CAP_DAC_OVERRIDE = 1  # <linux/capability.h>


def drop_root_override() -> None:
    """Run in the server's process before exec: without CAP_DAC_OVERRIDE, root obeys file modes like anyone."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE) failed")


def read_only_directory(tmp_path: Path) -> Path:
    """A lock file in a directory nobody may write to (mode 0555)."""
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    return folder / "lock.sqlite3"


def file_in_place_of_directory(tmp_path: Path) -> Path:
    """A lock file under a path whose parent is a regular file."""
    (tmp_path / "not-a-directory").write_text("")
    return tmp_path / "not-a-directory" / "lock.sqlite3"


def read_only_file(tmp_path: Path) -> Path:
    """A lock file that exists, made by an earlier run, and that nobody may write to (mode 0444).

    On main, this one started fine and then answered 503 to every merge while GET /merge said free:
    reading worked, writing did not. Start-up now proves a write.
    """
    path = tmp_path / "lock.sqlite3"
    open_merge_lock(f"sqlite:///{path}", lease_seconds=5.0).close()
    path.chmod(0o444)
    return path


def directory_in_place_of_file(tmp_path: Path) -> Path:
    """A lock file path that is a directory."""
    (tmp_path / "lock.sqlite3").mkdir()
    return tmp_path / "lock.sqlite3"


@pytest.mark.parametrize("config", [UVICORN, GUNICORN_SYNC_1], ids=["asgi", "wsgi"])
@pytest.mark.parametrize(
    ("unwritable", "reason"),
    [
        (read_only_directory, "(this user cannot write to "),
        (file_in_place_of_directory, "not-a-directory' is not a directory"),
        (directory_in_place_of_file, ": it is a directory"),
        (read_only_file, "attempt to write a readonly database"),
    ],
    ids=["read-only-directory", "file-in-place-of-directory", "directory-in-place-of-file", "read-only-file"],
)
def test_unwritable_sqlite_path_stops_the_server_with_one_line(
    config: ServerConfig, unwritable: Callable[[Path], Path], reason: str, tmp_path: Path
) -> None:
    lock_url = f"sqlite:///{unwritable(tmp_path)}"
    result = subprocess.run(
        config.command(free_port()),
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "LOCK_URL": lock_url},
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=drop_root_override,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    [line] = [line for line in output.splitlines() if "LOCK_URL" in line]
    assert line.startswith(f"LOCK_URL={lock_url!r}: cannot use SQLite file ")
    assert reason in line
