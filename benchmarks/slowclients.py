"""How many slow clients does it take to stall each server? A normal GET beside N clients trickling their headers.

`python -m benchmarks.slowclients` starts each server configuration in turn, directly and behind nginx (run with
deploy/nginx.conf), opens N connections that send the start of a request and then one more header byte every
half second without ever finishing it (slowloris), and meanwhile sends a few ordinary `GET /public/test`
requests: how many are answered within the probe timeout, and how fast. It writes slowclients.json and
slowclients.md to benchmarks/results/<timestamp>/ and prints the table. These are figures, not a pass/fail
test; tests/limits/test_slow_clients.py shows the same lesson as behaviour.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from benchmarks.configs import CORES, HOST, PYTHON, SYNC_WORKERS
from benchmarks.launch import free_port, stop

ROOT = Path(__file__).resolve().parent.parent
SITE_CONFIG = ROOT / "deploy" / "nginx.conf"
# what deploy/nginx.conf says, and what a run puts in its place
SITE_LISTEN = "listen 127.0.0.1:8080;"
SITE_UPSTREAM = "server 127.0.0.1:8000;"

# the start of a request that never ends: the header X-Slow grows by one byte per interval
SLOW_REQUEST_START = b"GET /public/test HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "

UVICORN: tuple[str, ...] = (
    PYTHON,
    "-m",
    "uvicorn",
    "asgi_app.main:app",
    "--host",
    HOST,
    "--port",
    "{port}",
    "--no-access-log",
)
UVICORN += ("--loop", "uvloop", "--http", "httptools")
GUNICORN: tuple[str, ...] = (PYTHON, "-m", "gunicorn", "-c", "wsgi_app/gunicorn.conf.py", "wsgi_app.main:app")
GUNICORN += ("--bind", f"{HOST}:{{port}}", "--access-logfile", "/dev/null")


@dataclass(frozen=True)
class Server:
    """A server configuration: its command (with {port}), how many workers boot, what each logs when ready."""

    id: str
    argv: tuple[str, ...]
    workers: int
    ready_marker: str

    def command(self, port: int) -> list[str]:
        """The command line serving the app on `port`."""
        return [part.format(port=port) for part in self.argv]


ASGI_READY = "Application startup complete"
WSGI_READY = "Worker ready to serve"
SERVERS = {
    server.id: server
    for server in [
        Server("uvicorn", UVICORN, 1, ASGI_READY),
        # --limit-concurrency counts open connections too, so slow clients can reach it: then everyone gets 503
        Server("uvicorn-limit-concurrency-20", (*UVICORN, "--limit-concurrency", "20"), 1, ASGI_READY),
        Server("gunicorn-sync-w1", (*GUNICORN, "--workers", "1"), 1, WSGI_READY),
        Server(f"gunicorn-sync-w{SYNC_WORKERS}", (*GUNICORN, "--workers", str(SYNC_WORKERS)), SYNC_WORKERS, WSGI_READY),
        Server("gunicorn-gthread-w2-t4", (*GUNICORN, "-w", "2", "-k", "gthread", "--threads", "4"), 2, WSGI_READY),
    ]
}  # fmt: skip
DEFAULT_COUNTS = (0, 1, 2, 5, 10, 50)


@contextmanager
def run_app_server(server: Server, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start one server configuration on a free port, wait until every worker is ready, yield its URL."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"slowclients-{server.id}-") as folder:
        log_path = Path(folder) / "server.log"
        full_env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "LOCK_URL": f"sqlite:///{folder}/lock.sqlite3",
            **(env or {}),
        }
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                server.command(port), cwd=ROOT, env=full_env, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        url = f"http://{HOST}:{port}"
        try:
            deadline = time.monotonic() + 60
            while log_path.read_text(errors="replace").count(server.ready_marker) < server.workers or not _answers(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{server.id} did not start:\n{log_path.read_text(errors='replace')[-2000:]}")
                time.sleep(0.1)
            yield url
        finally:
            stop(process)


def _answers(url: str, timeout: float = 1.0) -> bool:
    try:
        return httpx.get(f"{url}/public/test", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def site_config(listen_port: int, upstream_url: str) -> str:
    """deploy/nginx.conf with our own listening port and upstream in place of 8080 and 8000."""
    text = SITE_CONFIG.read_text()
    for expected in (SITE_LISTEN, SITE_UPSTREAM):
        if text.count(expected) != 1:
            raise RuntimeError(
                f"{SITE_CONFIG} no longer says {expected!r} exactly once; update benchmarks/slowclients.py"
            )
    upstream = urlsplit(upstream_url).netloc
    return text.replace(SITE_LISTEN, f"listen {HOST}:{listen_port};").replace(SITE_UPSTREAM, f"server {upstream};")


def main_config(folder: Path, site_path: Path) -> str:
    """The nginx.conf around the site file: what /etc/nginx/nginx.conf does on Debian, but in `folder`."""
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp_paths = "\n".join(f"    {kind}_temp_path {folder}/{kind};" for kind in kinds)
    return (
        f"worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log info;\ndaemon off;\n"
        f"events {{ worker_connections 1024; }}\n"
        f"http {{\n    access_log {folder}/access.log;\n{temp_paths}\n    include {site_path};\n}}\n"
    )


@contextmanager
def nginx_folder(upstream_url: str, listen_port: int) -> Iterator[Path]:
    """A folder holding nginx.conf and site.conf (deploy/nginx.conf) for a proxy to `upstream_url`."""
    with tempfile.TemporaryDirectory(prefix="slowclients-nginx-") as name:
        folder = Path(name)
        # nginx started as root runs its workers as nobody, who must reach the temp paths in here
        folder.chmod(0o755)
        (folder / "site.conf").write_text(site_config(listen_port, upstream_url))
        (folder / "nginx.conf").write_text(main_config(folder, folder / "site.conf"))
        yield folder


def check_config(nginx: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on the configuration in `folder`: return code 0 means nginx accepts it."""
    command = [nginx, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


@dataclass
class DeployedNginx:
    """nginx running deploy/nginx.conf: its URL and the folder holding its logs."""

    url: str
    folder: Path

    def error_log(self) -> str:
        """What nginx logged (at level info: client timeouts are logged there)."""
        return (self.folder / "error.log").read_text(errors="replace")


@contextmanager
def run_deployed_nginx(nginx: str, upstream_url: str) -> Iterator[DeployedNginx]:
    """Start nginx with deploy/nginx.conf in front of `upstream_url`, on a free loopback port."""
    port = free_port()
    with nginx_folder(upstream_url, port) as folder:
        check = check_config(nginx, folder)
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused deploy/nginx.conf:\n{check.stderr}")
        command = [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")]
        quiet = subprocess.DEVNULL
        process = subprocess.Popen(command, stdout=quiet, stderr=quiet, start_new_session=True)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection((HOST, port), timeout=0.2).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"nginx did not start:\n{(folder / 'error.log').read_text()}") from None
                    time.sleep(0.05)
            yield DeployedNginx(f"http://{HOST}:{port}", folder)
        finally:
            stop(process)


class SlowClients:
    """`count` connections that each send the start of a request, then one header byte per `interval`, forever."""

    def __init__(self, url: str, count: int, interval: float = 0.5) -> None:
        self.address = (urlsplit(url).hostname or HOST, urlsplit(url).port or 80)
        self.count = count
        self.interval = interval
        self.sockets: list[socket.socket] = []
        self.closed: set[int] = set()  # indexes of the connections the server has closed
        self._stopping = threading.Event()
        self._trickler = threading.Thread(target=self._trickle, name="slow-clients", daemon=True)

    def __enter__(self) -> SlowClients:
        for _ in range(self.count):
            connection = socket.create_connection(self.address, timeout=10)
            connection.sendall(SLOW_REQUEST_START)
            self.sockets.append(connection)
        self._trickler.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stopping.set()
        if self._trickler.is_alive():
            self._trickler.join()
        for connection in self.sockets:
            connection.close()

    def _trickle(self) -> None:
        while not self._stopping.wait(self.interval):
            for index, connection in enumerate(self.sockets):
                if index not in self.closed:
                    try:
                        connection.sendall(b"a")
                    except OSError:
                        self.closed.add(index)

    def still_open(self) -> int:
        """How many of the connections the server has not closed (as far as a write can tell)."""
        return self.count - len(self.closed)


@dataclass
class ProbeResult:
    """What happened to the ordinary requests sent while the slow clients trickled."""

    sent: int
    statuses: dict[str, int] = field(default_factory=dict)  # "200", "503", "timeout", "error"
    latencies_ms: list[float] = field(default_factory=list)  # of the 200s

    @property
    def answered(self) -> int:
        """How many got a 200 within the timeout."""
        return self.statuses.get("200", 0)

    def cell(self) -> str:
        """The table cell: 200s out of requests sent, and their median latency."""
        median = f", {statistics.median(self.latencies_ms):.0f} ms" if self.latencies_ms else ""
        other = ", ".join(f"{count}× {status}" for status, count in sorted(self.statuses.items()) if status != "200")
        return f"{self.answered}/{self.sent}{median}" + (f" ({other})" if other else "")


def probe(url: str, requests: int, timeout: float) -> ProbeResult:
    """Send `requests` GET /public/test at once, each on its own connection; count the 200s within `timeout`."""
    # clients made beforehand: making one (its SSL context) costs more than the request being timed
    clients = [httpx.Client(timeout=timeout) for _ in range(requests)]

    def one(client: httpx.Client) -> tuple[str, float]:
        started = time.perf_counter()
        try:
            status = str(client.get(f"{url}/public/test").status_code)
        except httpx.TimeoutException:
            status = "timeout"
        except httpx.HTTPError:
            status = "error"
        return status, (time.perf_counter() - started) * 1000

    try:
        with ThreadPoolExecutor(requests) as pool:
            outcomes = list(pool.map(one, clients))
    finally:
        for client in clients:
            client.close()
    return ProbeResult(
        requests,
        dict(Counter(status for status, _ in outcomes)),
        [round(ms, 1) for status, ms in outcomes if status == "200"],
    )


def wait_until_answering(url: str, deadline_seconds: float = 60.0) -> float:
    """Once the slow clients have gone: seconds until the server answers again."""
    started = time.monotonic()
    while not _answers(url):
        if time.monotonic() - started > deadline_seconds:
            raise RuntimeError(f"{url} did not answer again within {deadline_seconds} s of the slow clients leaving")
    return round(time.monotonic() - started, 2)


@dataclass
class Cell:
    """One measurement: a server, reached directly or through nginx, with `slow_clients` trickling."""

    server: str
    via: str  # "direct" or "nginx"
    slow_clients: int
    probe: ProbeResult
    slow_still_open: int
    recovered_seconds: float


def measure(server: str, via: str, url: str, counts: list[int], arguments: argparse.Namespace) -> list[Cell]:
    """Every count of slow clients against one running target, the server's answers to the probes each time."""
    cells = []
    for count in counts:
        with SlowClients(url, count, arguments.interval) as slow:
            # let the server accept them (and a sync worker start waiting on one) before the probes queue up
            time.sleep(arguments.settle)
            result = probe(url, arguments.probes, arguments.probe_timeout)
            still_open = slow.still_open()
        recovered = wait_until_answering(url)
        cell = Cell(server, via, count, result, still_open, recovered)
        cells.append(cell)
        print(f"  {server:<30} {via:<6} {count:>3} slow clients: {result.cell()}", flush=True)
    return cells


def markdown_table(cells: list[Cell], counts: list[int], probes: int, timeout: float) -> str:
    """One row per server and route, one column per count of slow clients."""
    header = "| server | via | " + " | ".join(f"{count} slow" for count in counts) + " |"
    lines = [header, "|" + " --- |" * (len(counts) + 2)]
    rows: dict[tuple[str, str], dict[int, str]] = {}
    for cell in cells:
        rows.setdefault((cell.server, cell.via), {})[cell.slow_clients] = cell.probe.cell()
    for (server, via), by_count in rows.items():
        lines.append(f"| {server} | {via} | " + " | ".join(by_count.get(count, "") for count in counts) + " |")
    legend = (
        f"Each cell: how many of {probes} concurrent `GET /public/test` got a 200 within {timeout:g} s, "
        "and their median latency; other outcomes in brackets."
    )
    return "\n".join(lines) + "\n\n" + legend + "\n"


def _nginx_version(nginx: str) -> str:
    finished = subprocess.run([nginx, "-v"], capture_output=True, text=True, timeout=10)
    return (finished.stdout + finished.stderr).strip()


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.slowclients", description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default=",".join(SERVERS), help=f"server ids (default {','.join(SERVERS)})")
    parser.add_argument("--counts", default=",".join(map(str, DEFAULT_COUNTS)), help="numbers of slow clients")
    parser.add_argument("--probes", type=int, default=5, help="ordinary requests sent at once per count (default 5)")
    parser.add_argument("--probe-timeout", type=float, default=2.0, help="seconds a probe may take (default 2)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between two bytes of a slow client")
    parser.add_argument("--settle", type=float, default=0.5, help="seconds between opening slow clients and probing")
    parser.add_argument("--no-nginx", action="store_true", help="only the servers directly, not behind nginx")
    parser.add_argument("--out", type=Path, default=None, help="folder for the results (default a new one)")
    arguments = parser.parse_args(argv)
    unknown = sorted(set(arguments.servers.split(",")) - set(SERVERS))
    if unknown:
        parser.error(f"unknown server ids {unknown}; pick from {sorted(SERVERS)}")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = _parse(argv)
    counts = [int(count) for count in arguments.counts.split(",")]
    nginx = None if arguments.no_nginx else shutil.which("nginx")
    if not arguments.no_nginx and nginx is None:
        print("nginx is not installed (apt-get install nginx): measuring the servers directly only", flush=True)
    from benchmarks.harness import new_results_folder
    from benchmarks.report import environment

    folder = arguments.out or new_results_folder()
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    cells: list[Cell] = []
    for server_id in arguments.servers.split(","):
        print(f"{server_id}:", flush=True)
        with run_app_server(SERVERS[server_id]) as url:
            cells += measure(server_id, "direct", url, counts, arguments)
            if nginx:
                with run_deployed_nginx(nginx, url) as proxy:
                    cells += measure(server_id, "nginx", proxy.url, counts, arguments)
    settings = {key: value for key, value in vars(arguments).items() if key != "out"}
    env = environment({**settings, "cores": CORES, "sync_workers": SYNC_WORKERS})
    env["nginx"] = _nginx_version(nginx) if nginx else None
    seconds = round(time.monotonic() - started, 1)
    result = {"environment": env, "seconds": seconds, "cells": [asdict(cell) for cell in cells]}
    (folder / "slowclients.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown_table(cells, counts, arguments.probes, arguments.probe_timeout)
    versions = ", ".join(f"{name} {env['packages'][name]}" for name in ("uvicorn", "httptools", "gunicorn"))
    machine = (
        f"{env['cpu_model']}, {env['cores']} cores, Python {env['python']}, {versions}, {env['nginx'] or 'no nginx'}"
    )
    (folder / "slowclients.md").write_text(f"# Slow clients\n\n{table}\n{machine}; {seconds} s.\n")
    print("\n" + table + "\n" + machine + f"\n\n{seconds} s; written to {folder}/slowclients.md and slowclients.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
