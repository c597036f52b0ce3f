"""Start the real processes around the apps (redis-server, nginx) on free loopback ports, and stop them.

The tests (through tests/servers.py) and the scale-out run (benchmarks/scaleout.py) both use these.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.configs import HOST


def free_port() -> int:
    """Ask the kernel for a port nobody listens on."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def stop(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM the process group, and SIGKILL it if it has not exited in time."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for_port(process: subprocess.Popen[bytes], port: int, deadline_seconds: float = 10.0) -> bool:
    """Poll until `port` accepts connections (True), or the process exits or the deadline passes (False)."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return True
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.05)


@contextmanager
def run_redis(redis_server: str) -> Iterator[str]:
    """Start a throwaway redis-server on a free port, with no persistence; yield its URL."""
    port = free_port()
    command = [redis_server, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if not _wait_for_port(process, port):
            stop(process)
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"redis-server did not start:\n{output}")
        yield f"redis://{HOST}:{port}/0"
    finally:
        stop(process)
        if process.stdout:
            process.stdout.close()


# --8<-- [start:nginx-config]
def nginx_config(port: int, upstreams: list[str], folder: Path, extra_server_config: str = "",
                 access_log: Path | None = None) -> str:  # fmt: skip
    """nginx.conf for a round-robin reverse proxy on `port` to `upstreams`, keeping its files in `folder`."""
    servers = "\n".join(f"        server {url.removeprefix('http://')};" for url in upstreams)
    # the access log, when asked for, names the instance that answered each request ($upstream_addr)
    # and when ($msec: the moment the answer was sent, $request_time: how long after the request came)
    log = (
        f"log_format upstreams '$msec $request_time $status $request_method $uri $upstream_addr';\n"
        f"    access_log {access_log} upstreams;"
        if access_log
        else "access_log off;"
    )
    return f"""
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    {log}
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    upstream apps {{
{servers}
        keepalive 32;
    }}
    server {{
        listen {HOST}:{port};
        location / {{
            proxy_pass http://apps;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
{extra_server_config}
    }}
}}
"""


# --8<-- [end:nginx-config]


@contextmanager
def run_nginx(nginx: str, upstreams: list[str], extra_server_config: str = "",
              access_log: Path | None = None) -> Iterator[str]:  # fmt: skip
    """Start Debian's nginx on a free loopback port as a reverse proxy (round robin) to `upstreams`; yield its URL.

    `upstreams` are base URLs such as http://127.0.0.1:8000; `extra_server_config` is pasted into the server block;
    `access_log` is a file for one line per request, naming the upstream that answered it.
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="nginx-") as folder:
        config_path = Path(folder) / "nginx.conf"
        config_path.write_text(nginx_config(port, upstreams, Path(folder), extra_server_config, access_log))
        check = subprocess.run([nginx, "-t", "-p", folder, "-c", str(config_path)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused its configuration:\n{check.stderr}")
        process = subprocess.Popen(
            [nginx, "-p", folder, "-c", str(config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            if not _wait_for_port(process, port):
                log = (Path(folder) / "error.log").read_text(errors="replace")
                raise RuntimeError(f"nginx did not start:\n{log}")
            yield f"http://{HOST}:{port}"
        finally:
            stop(process)
