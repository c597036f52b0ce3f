"""Start real servers (uvicorn, gunicorn) on free loopback ports, and stop them.

redis-server and nginx start from benchmarks/launch.py, which the scale-out run shares; they are imported here
so that every test finds every launcher in one place.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.launch import free_port, stop
from benchmarks.launch import run_nginx as run_nginx
from benchmarks.launch import run_redis as run_redis

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


@dataclass(frozen=True)
class ServerConfig:
    """One way to serve one of the two apps: which server, how many workers, which worker class."""

    id: str
    app: str  # "asgi" or "wsgi"
    workers: int = 1
    worker_class: str = "sync"  # gunicorn only
    threads: int = 1  # gunicorn gthread only

    def command(self, port: int) -> list[str]:
        """The command line that serves the app on `port`."""
        if self.app == "asgi":
            command = [sys.executable, "-m", "uvicorn", "asgi_app.main:app", "--host", HOST, "--port", str(port)]
            command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
            return command + (["--workers", str(self.workers)] if self.workers > 1 else [])
        command = [sys.executable, "-m", "gunicorn", "-c", "wsgi_app/gunicorn.conf.py", "wsgi_app.main:app"]
        command += ["--bind", f"{HOST}:{port}", "--workers", str(self.workers), "--worker-class", self.worker_class]
        command += ["--access-logfile", "/dev/null"]
        return command + (["--threads", str(self.threads)] if self.worker_class == "gthread" else [])

    @property
    def ready_marker(self) -> str:
        """The line each worker logs once it serves requests."""
        return "Application startup complete" if self.app == "asgi" else "Worker ready to serve"


UVICORN = ServerConfig("uvicorn", "asgi")
UVICORN_2_WORKERS = ServerConfig("uvicorn-workers-2", "asgi", workers=2)
GUNICORN_SYNC_1 = ServerConfig("gunicorn-sync", "wsgi")
GUNICORN_SYNC_2 = ServerConfig("gunicorn-sync-w2", "wsgi", workers=2)
GUNICORN_GTHREAD = ServerConfig("gunicorn-gthread", "wsgi", workers=2, worker_class="gthread", threads=4)


@dataclass
class RunningServer:
    """A server process we started, with its URL and its log."""

    config: ServerConfig
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace")


def _wait_until_ready(server: RunningServer, deadline_seconds: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.config.id} exited with {server.process.returncode}:\n{server.log()}")
        if server.log().count(server.config.ready_marker) >= server.config.workers:
            try:
                if httpx.get(f"{server.base_url}/public/test", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"{server.config.id} did not answer within {deadline_seconds} s:\n{server.log()}")


@contextmanager
def run_server(config: ServerConfig, env: dict[str, str]) -> Iterator[RunningServer]:
    """Serve an app with a real server on a free port; `env` holds MERGE_SECONDS, LOCK_URL and so on."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"{config.id}-") as folder:
        log_path = Path(folder) / "server.log"
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        full_env.setdefault("LOCK_URL", f"sqlite:///{Path(folder) / 'lock.sqlite3'}")
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                config.command(port),
                cwd=ROOT,
                env=full_env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = RunningServer(config, f"http://{HOST}:{port}", process, log_path, env)
        try:
            _wait_until_ready(server)
            yield server
        finally:
            stop(process)


class RedisProcess:
    """A throwaway redis-server on one loopback port, which a test can stop, start again, freeze and thaw."""

    def __init__(self, redis_server: str) -> None:
        self.redis_server = redis_server
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start redis-server on the same port as before, with no persistence: it comes back empty."""
        command = [self.redis_server, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        quiet = subprocess.DEVNULL
        process = subprocess.Popen(command, stdout=quiet, stderr=quiet, start_new_session=True)
        self.process = process
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection((HOST, self.port), timeout=0.2):
                    return
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop redis-server (SIGTERM); its holds are gone, as after any restart without persistence."""
        if self.process is not None:
            self.thaw()  # a frozen process would not act on SIGTERM
            stop(self.process)
            self.process = None

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections (the kernel does that), but nothing answers."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT: a frozen redis-server carries on where it stopped."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)


@contextmanager
def run_restartable_redis(redis_server: str) -> Iterator[RedisProcess]:
    """Start a redis-server that the test may stop and start again on the same port; stop it at the end."""
    redis_process = RedisProcess(redis_server)
    redis_process.start()
    try:
        yield redis_process
    finally:
        redis_process.stop()
