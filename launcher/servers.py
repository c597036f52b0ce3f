"""Serve an app with a real server on a free loopback port: the one place that builds a server's command line."""

from __future__ import annotations

import os
import runpy
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

import httpx

from launcher.process import HOST, ROOT, StartedProcess, free_port, start_process
from launcher.token import checkout_token
from launcher.wait import StillWaitingError, wait_for

Interface = Literal["asgi", "wsgi"]
ServerName = Literal["uvicorn", "gunicorn", "granian", "hypercorn", "waitress", "daphne"]

UVICORN_CONF = ROOT / "asgi_app" / "uvicorn.conf.py"
GUNICORN_CONF = ROOT / "wsgi_app" / "gunicorn.conf.py"
# for a client that keeps a connection alive across idle moments (a test's client, a run's warmed connections):
# it drops an idle one a second before the servers do (their keep-alive timeout is 5 s; deploy/nginx.conf's 4 s
# is there for the same reason), so that it never sends a request on a connection the server is closing at
# that very moment, which the server's kernel would reset
CLIENT_LIMITS = httpx.Limits(keepalive_expiry=4.0)
# what each server logs once a worker serves requests; Gunicorn's line comes from gunicorn.conf.py's
# post_worker_init, since its own "Booting worker" comes before the app is loaded
READY_MARKERS: dict[ServerName, str | None] = {
    "uvicorn": "Application startup complete",
    "gunicorn": "Worker ready to serve",
    "granian": None,
    "hypercorn": None,
    "waitress": None,
    "daphne": None,
}
# the module each server needs, so that a configuration whose server is not installed is skipped, not failed
PACKAGES: dict[ServerName, str] = {
    "uvicorn": "uvicorn",
    "gunicorn": "gunicorn",
    "granian": "granian",
    "hypercorn": "hypercorn",
    "waitress": "waitress",
    "daphne": "daphne",
}


@dataclass(frozen=True)
class ServerConfig:
    """One way to serve one app: which server, its workers, and the options that make this row what it is."""

    id: str
    interface: Interface
    server: ServerName
    app: str  # the import string, "asgi_app.main:app"
    workers: int | None = 1  # None: as the server's settings file says (gunicorn.conf.py: 2 x cores + 1)
    options: tuple[str, ...] = ()  # after the server's own settings file, so they override it
    package: str | None = None  # a module this row needs beyond the server's (gevent, uvicorn_worker)
    baseline: bool = False  # a ceiling to compare our apps with, not one of our apps
    summary: str = ""

    def arguments(self, port: int, access_log: bool = False) -> list[str]:
        """The server's command and its arguments, serving the app on 127.0.0.1:`port` (the Procfile's form)."""
        return COMMAND_LINES[self.server](self, port, access_log)

    def command(self, port: int, access_log: bool = False) -> list[str]:
        """The command line to run: this Python's `-m` and the arguments, whatever is first on PATH."""
        return [sys.executable, "-m", *self.arguments(port, access_log)]

    def expected_workers(self, env: dict[str, str]) -> int:
        """How many worker processes will report ready: the row's, else what the settings file will choose."""
        if self.workers is not None:
            return self.workers
        return int(env.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))

    @property
    def ready_marker(self) -> str | None:
        """The line each worker logs once it serves requests, or None if the server logs none."""
        return READY_MARKERS[self.server]

    def with_options(self, *options: str) -> ServerConfig:
        """This row with more options after its own, which override them: a test's variant of a configuration."""
        suffix = "".join(f"-{option.lstrip('-')}" for option in options)
        return replace(self, id=self.id + suffix, options=(*self.options, *options))

    def with_settings(self, **settings: object) -> ServerConfig:
        """This row with settings changed by name: `with_settings(timeout_graceful_shutdown=1)` for Uvicorn.

        Uvicorn's options are its settings' names with dashes; Gunicorn's mostly are (`--graceful-timeout`),
        but not always (`keepalive` is `--keep-alive`): use with_options there.
        """
        return self.with_options(*settings_as_options(settings))

    def missing(self) -> str | None:
        """Why this configuration cannot run here, or None."""
        for module in filter(None, [PACKAGES[self.server], self.package]):
            if find_spec(module) is None:
                return f"{self.id}: skipped, the {module!r} package is not installed"
        return None


def uvicorn_settings() -> dict[str, object]:
    """The settings in asgi_app/uvicorn.conf.py, by name: Uvicorn reads no file, so the launcher reads this one."""
    names = runpy.run_path(str(UVICORN_CONF))
    return {name: value for name, value in names.items() if not name.startswith("_") and not callable(value)}


def settings_as_options(settings: dict[str, object]) -> list[str]:
    """Turn settings into command-line options: `timeout_keep_alive = 5` is `--timeout-keep-alive 5`."""
    options = []
    for name, value in settings.items():
        option = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            options.append(option if value else option.replace("--", "--no-", 1))
        else:
            options += [option, str(value)]
    return options


def _uvicorn(config: ServerConfig, port: int, access_log: bool) -> list[str]:
    settings = {**uvicorn_settings(), "host": HOST, "port": port, "access_log": access_log}
    if config.workers is not None and config.workers > 1:
        settings["workers"] = config.workers
    return ["uvicorn", config.app, *settings_as_options(settings), *config.options]


def _gunicorn(config: ServerConfig, port: int, access_log: bool) -> list[str]:
    command = ["gunicorn", "-c", str(GUNICORN_CONF.relative_to(ROOT)), config.app, "--bind", f"{HOST}:{port}"]
    if config.workers is not None:
        command += ["--workers", str(config.workers)]
    command += ["--access-logfile", "-" if access_log else "/dev/null"]
    return command + list(config.options)


def _granian(config: ServerConfig, port: int, access_log: bool) -> list[str]:
    command = ["granian", "--interface", config.interface, "--host", HOST, "--port", str(port)]
    command += ["--workers", str(config.workers or 1), "--access-log" if access_log else "--no-access-log"]
    return [*command, *config.options, config.app]


def _hypercorn(config: ServerConfig, port: int, access_log: bool) -> list[str]:
    command = ["hypercorn", "--bind", f"{HOST}:{port}", "--workers", str(config.workers or 1)]
    return command + (["--access-logfile", "-"] if access_log else []) + [*config.options, config.app]


def _waitress(config: ServerConfig, port: int, access_log: bool) -> list[str]:
    # waitress has no access log of its own, and one process with a pool of threads
    return ["waitress", f"--listen={HOST}:{port}", *config.options, config.app]


def _daphne(config: ServerConfig, port: int, access_log: bool) -> list[str]:
    # one process, one Twisted reactor with an asyncio loop on it; Daphne has no workers (run several behind a
    # balancer), and at its default verbosity it writes an access log to stdout unless told where
    command = ["daphne", "--bind", HOST, "--port", str(port), "--access-log", "-" if access_log else "/dev/null"]
    return [*command, *config.options, config.app]


COMMAND_LINES: dict[ServerName, Callable[[ServerConfig, int, bool], list[str]]] = {
    "uvicorn": _uvicorn,
    "gunicorn": _gunicorn,
    "granian": _granian,
    "hypercorn": _hypercorn,
    "waitress": _waitress,
    "daphne": _daphne,
}


@dataclass
class RunningServer:
    """A server we started, answering at `url`, with its process and its log."""

    config: ServerConfig
    url: str
    started: StartedProcess
    env: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        """The server's main process: the master of a server with workers."""
        return self.started.pid

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.started.log()


def _answers(url: str, path: str) -> bool:
    try:
        return httpx.get(url + path, timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False


# the ready lines are info lines: above that level the launcher can only wait for an answer
QUIET_LEVELS = {"warning", "error", "critical"}


def wait_until_ready(server: RunningServer, timeout: float = 60.0, path: str = "/public/test") -> None:
    """Wait until every worker has logged that it is ready (where the server says so) and `path` answers."""
    env = {**os.environ, **server.env}
    marker, workers = server.config.ready_marker, server.config.expected_workers(env)
    if env.get("LOG_LEVEL", "info").lower() in QUIET_LEVELS:
        marker = None

    def ready() -> bool:
        if server.started.exited():
            raise RuntimeError(f"{server.config.id} exited with {server.started.process.returncode}:\n{server.log()}")
        return (marker is None or server.log().count(marker) >= workers) and _answers(server.url, path)

    try:
        wait_for(ready, timeout, f"{server.config.id} to answer at {server.url}{path}")
    except StillWaitingError as error:
        raise RuntimeError(f"{error}:\n{server.log()[-3000:]}") from None


@contextmanager
def run_server(
    config: ServerConfig,
    env: dict[str, str] | None = None,
    *,
    folder: Path | None = None,
    cpus: str | None = None,
    access_log: bool = False,
    ready_path: str = "/public/test",
) -> Iterator[RunningServer]:
    """Serve `config` on a free port until the block ends; `env` holds MERGE_SECONDS, LOCK_URL and the like.

    MERGE_TOKENS is the checkout's token (launcher.token) unless `env` says otherwise.

    The log (and, unless `env` names another LOCK_URL, the SQLite lock file) goes in `folder`, which is kept;
    without one, in a temporary folder removed at the end. `cpus` pins the server with taskset.
    """
    with tempfile.TemporaryDirectory(prefix=f"{config.id}-") as scratch:
        where = folder or Path(scratch)
        port = free_port()
        lock_url = f"sqlite:///{where / f'{config.id}-{port}.lock.sqlite3'}"
        server_env = {"LOCK_URL": lock_url, "MERGE_TOKENS": checkout_token(), **(env or {})}
        started = start_process(config.command(port, access_log), where / f"{config.id}-{port}.log", server_env, cpus)
        server = RunningServer(config, f"http://{HOST}:{port}", started, server_env)
        try:
            wait_until_ready(server, path=ready_path)
            yield server
        finally:
            started.stop()
