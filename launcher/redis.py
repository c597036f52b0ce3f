"""A throwaway redis-server on a free loopback port, which a test may stop, start again, freeze and thaw."""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from launcher.process import HOST, LoopbackServer, accepts_connections, find_tool, start_process
from launcher.wait import wait_for


class RedisServer(LoopbackServer):
    """redis-server with no persistence: a restart forgets every key, as a cache-only Redis does."""

    def __init__(self, folder: Path, binary: str | None = None, cpus: str | None = None) -> None:
        super().__init__(folder, cpus)
        self.binary = binary or find_tool("redis-server", "apt-get install redis-server")
        self.url = f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        """Start redis-server, on the same port as before after a stop, and wait until it accepts connections."""
        command = [self.binary, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.folder)]
        self.started = start_process(command, self.folder / f"redis-{self.port}.log", cpus=self.cpus)
        started = self.started

        def accepting() -> bool:
            if started.exited():
                raise RuntimeError(f"redis-server exited:\n{started.log()}")
            return accepts_connections(self.port)

        wait_for(accepting, 10, f"redis-server to accept connections on port {self.port}")

    def stop(self) -> None:
        """Stop redis-server (SIGTERM): its keys are gone, as after any restart without persistence."""
        if self.started is not None:
            self.started.stop()
            self.started = None

    def freeze(self) -> None:
        """SIGSTOP: the kernel still accepts connections on the port, but nothing answers."""
        if self.started is not None:
            os.kill(self.started.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT: a frozen redis-server carries on where it stopped."""
        if self.started is not None and not self.started.exited():
            os.kill(self.started.pid, signal.SIGCONT)


@contextmanager
def run_redis(binary: str | None = None, cpus: str | None = None) -> Iterator[RedisServer]:
    """Start a redis-server for the block (on `cpus`, a taskset list, if given), and stop it at the end."""
    with tempfile.TemporaryDirectory(prefix="redis-") as folder:
        server = RedisServer(Path(folder), binary, cpus)
        server.start()
        try:
            yield server
        finally:
            server.stop()
