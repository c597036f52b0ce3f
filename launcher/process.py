"""Start a real process in a process group of its own, with its output kept in a log file, and stop it."""

from __future__ import annotations

import contextlib
import os
import pwd
import resource
import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# every process listens on loopback only: nothing here is meant to be reached from another machine
HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


class ToolNotFoundError(RuntimeError):
    """A system tool (redis-server, nginx, wrk) is not installed; the message says how to install it."""


def find_tool(name: str, install_hint: str) -> str:
    """Return the path of a command, looking in /usr/sbin too (Debian's nginx), or raise naming the fix."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        raise ToolNotFoundError(f"{name} is not installed: {install_hint}")
    return path


def free_port() -> int:
    """Ask the kernel for a loopback port that nobody listens on."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def accepts_connections(port: int) -> bool:
    """Whether something listens on 127.0.0.1:`port`."""
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def raise_open_files_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit, for it and the processes it starts."""
    # thousands of open streams need thousands of descriptors on both sides; children inherit the limit
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


@dataclass
class StartedProcess:
    """A process we started: its Popen handle and the file that holds everything it printed."""

    process: subprocess.Popen[bytes]
    log_path: Path
    kept_log: str | None = None  # the log as it was when the process stopped, once its folder may be gone

    @property
    def pid(self) -> int:
        """The process id of the process itself (the server's master, for a server with workers)."""
        return self.process.pid

    def log(self) -> str:
        """Everything the process printed so far (or, once it has stopped, everything it printed)."""
        if self.kept_log is not None:
            return self.kept_log
        return self.log_path.read_text(errors="replace")

    def exited(self) -> bool:
        """Whether the process has ended."""
        return self.process.poll() is not None

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the whole process group, and SIGKILL it if it has not exited within `timeout` seconds."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGCONT)  # a frozen process would not act on SIGTERM
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # workers that outlived their master (a SIGKILLed master leaves them) go with the group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        # keep the log: the caller may read it after the temporary folder that held it is gone
        with contextlib.suppress(OSError):
            self.kept_log = self.log_path.read_text(errors="replace")


class LoopbackServer:
    """A throwaway server (Redis, PostgreSQL) on a free loopback port, its files in `folder`, on `cpus` if given."""

    def __init__(self, folder: Path, cpus: str | None) -> None:
        self.folder = folder
        self.cpus = cpus
        self.port = free_port()
        self.started: StartedProcess | None = None


def start_process(
    command: list[str],
    log_path: Path,
    env: dict[str, str] | None = None,
    cpus: str | None = None,
    user: str | None = None,
) -> StartedProcess:
    """Start `command` from the repository root in a new session, its output in `log_path`, on `cpus` if given.

    `env` is added to this process's environment; `cpus` is a taskset list such as "0" or "0-2"; `user`, for a
    process started by root, is the unprivileged user it runs as (with that user's group, and no other).
    """
    if cpus is not None:
        command = [find_tool("taskset", "apt-get install util-linux"), "-c", cpus, *command]
    raise_open_files_limit()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # a session of its own: stop() reaches every worker with one killpg, and Ctrl-C in the
            # terminal reaches only the launcher, which then stops the group in order
            start_new_session=True,
            **as_user(user),
        )
    return StartedProcess(process, log_path)


def as_user(user: str | None) -> dict[str, Any]:
    """Popen's arguments that run a process as `user` and its group alone (no-one's, if None): what runuser does."""
    if user is None:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}
