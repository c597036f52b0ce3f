"""A throwaway PostgreSQL on a free loopback port: a new cluster in a temporary folder, stopped with the block."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from launcher.process import HOST, LoopbackServer, ToolNotFoundError, as_user, start_process
from launcher.wait import wait_for

INSTALL_HINT = "apt-get install postgresql"
# the server refuses to run as root; Debian's package creates this user, and the cluster belongs to it
UNPRIVILEGED_USER = "postgres"
# the cluster's superuser, which the apps connect as: no password, on loopback only (initdb --auth=trust)
SUPERUSER = "postgres"
# where Debian installs each major version's server programs, out of PATH: /usr/lib/postgresql/15/bin
DEBIAN_ROOT = Path("/usr/lib/postgresql")
READY = "database system is ready to accept connections"
# a throwaway cluster: nothing in it has to survive a crash, so nothing waits for the disk
THROWAWAY_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def postgres_bin_dir() -> Path:
    """The folder of PostgreSQL's server programs (initdb, postgres), or raise naming the package to install."""
    folders = []
    # Debian keeps the server's programs out of PATH, in DEBIAN_ROOT/<major>/bin, which pg_config names
    if pg_config := shutil.which("pg_config"):
        answer = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        folders.append(Path(answer.stdout.strip()))
    # pg_config comes with libpq-dev, which a machine may lack: then the newest major version there is
    versions = [folder for folder in DEBIAN_ROOT.glob("*/bin") if folder.parent.name.isdigit()]
    folders += sorted(versions, key=lambda folder: int(folder.parent.name), reverse=True)
    if initdb := shutil.which("initdb"):  # elsewhere (Homebrew, a source build) they are on PATH
        folders.append(Path(initdb).parent)
    for folder in folders:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    raise ToolNotFoundError(f"initdb is not installed: {INSTALL_HINT}")


def postgres_version(bin_dir: Path | None = None) -> str:
    """The server's version, as `postgres --version` says it: "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"."""
    command = [str((bin_dir or postgres_bin_dir()) / "postgres"), "--version"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def unprivileged_user() -> str | None:
    """The user to run PostgreSQL as when we are root (it refuses root), or None to run it as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise ToolNotFoundError(
            f"there is no user {UNPRIVILEGED_USER!r} to run PostgreSQL as: {INSTALL_HINT}"
        ) from None
    return UNPRIVILEGED_USER


class PostgresServer(LoopbackServer):
    """A cluster of its own in `folder`, served on a free loopback port; a stop and a start keep its data."""

    def __init__(
        self, folder: Path, bin_dir: Path | None = None, max_connections: int = 100, cpus: str | None = None
    ) -> None:
        super().__init__(folder, cpus)
        self.bin_dir = bin_dir or postgres_bin_dir()
        self.user = unprivileged_user()
        self.data = folder / "data"
        self.max_connections = max_connections
        self.url = f"postgresql://{SUPERUSER}@{HOST}:{self.port}/postgres"

    def initdb(self) -> None:
        """Create the cluster: trust on loopback, no password, and --no-sync: nothing here must outlive a crash."""
        if self.user is not None:
            shutil.chown(self.folder, self.user, self.user)
        command = [str(self.bin_dir / "initdb"), "--pgdata", str(self.data), "--username", SUPERUSER]
        command += ["--auth", "trust", "--no-sync", "--no-instructions", "--encoding", "UTF8", "--locale", "C"]
        answer = subprocess.run(command, capture_output=True, text=True, check=False, **as_user(self.user))
        if answer.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{answer.stdout}{answer.stderr}")

    def start(self) -> None:
        """Start the server, on the same port as before after a stop, and wait until it takes queries."""
        settings = {
            **THROWAWAY_SETTINGS,
            "listen_addresses": HOST,
            "port": str(self.port),
            # the unix socket in the cluster's folder, not Debian's /var/run/postgresql, which may not exist
            "unix_socket_directories": str(self.folder),
            "max_connections": str(self.max_connections),
        }
        command = [str(self.bin_dir / "postgres"), "-D", str(self.data)]
        command += [option for name, value in settings.items() for option in ("-c", f"{name}={value}")]
        self.started = start_process(command, self.folder / f"postgres-{self.port}.log", cpus=self.cpus, user=self.user)
        started = self.started

        def ready() -> bool:
            if started.exited():
                raise RuntimeError(f"postgres exited:\n{started.log()}")
            return READY in started.log()

        wait_for(ready, 30, f"PostgreSQL to take queries on port {self.port}")

    def stop(self) -> None:
        """Stop the server at once: a fast shutdown (SIGINT) ends every session instead of waiting for it to leave."""
        if self.started is None:
            return
        # SIGTERM, which StartedProcess.stop sends, is PostgreSQL's smart shutdown: it waits for every client
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.started.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.started.process.wait(10)
        self.started.stop()
        self.started = None


@contextmanager
def run_postgres(
    bin_dir: Path | None = None, max_connections: int = 100, cpus: str | None = None
) -> Iterator[PostgresServer]:
    """Create a cluster in a temporary folder and serve it for the block (on `cpus`, a taskset list, if given)."""
    with tempfile.TemporaryDirectory(prefix="postgres-") as folder:
        server = PostgresServer(Path(folder), bin_dir, max_connections, cpus)
        server.initdb()
        server.start()
        try:
            yield server
        finally:
            server.stop()
