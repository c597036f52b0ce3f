"""nginx with deploy/nginx.conf, the reverse proxy the docs recommend, in front of one app or several."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from launcher.process import HOST, ROOT, StartedProcess, accepts_connections, find_tool, free_port, start_process
from launcher.wait import wait_for

SITE_CONFIG = ROOT / "deploy" / "nginx.conf"
# what deploy/nginx.conf says, and what a run puts in its place
SITE_LISTEN = "listen 127.0.0.1:8080;"
SITE_UPSTREAM = "server 127.0.0.1:8000;"
# one line per answer: when it was sent ($msec), how long after the request came ($request_time), and the
# instance that answered ($upstream_addr), for the runs that count answers by instance
ACCESS_LOG_FORMAT = "'$msec $request_time $status $request_method $uri $upstream_addr'"


# --8<-- [start:site_config]
def site_config(listen_port: int, upstream_urls: list[str]) -> str:
    """deploy/nginx.conf with our own port in place of 8080 and our upstreams in place of 127.0.0.1:8000."""
    text = SITE_CONFIG.read_text()
    for expected in (SITE_LISTEN, SITE_UPSTREAM):
        if text.count(expected) != 1:
            raise RuntimeError(f"{SITE_CONFIG} no longer says {expected!r} exactly once; update launcher/nginx.py")
    servers = "\n    ".join(f"server {urlsplit(url).netloc};" for url in upstream_urls)
    return text.replace(SITE_LISTEN, f"listen {HOST}:{listen_port};").replace(SITE_UPSTREAM, servers)
    # --8<-- [end:site_config]


def main_config(folder: Path, site_path: Path, access_log: bool) -> str:
    """The nginx.conf around the site file: what /etc/nginx/nginx.conf does on Debian, but in `folder`."""
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp_paths = "\n".join(f"    {kind}_temp_path {folder}/{kind};" for kind in kinds)
    log = (
        f"    log_format answers {ACCESS_LOG_FORMAT};\n    access_log {folder}/access.log answers;"
        if access_log
        else "    access_log off;"
    )
    return (
        f"worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log info;\ndaemon off;\n"
        f"events {{ worker_connections 4096; }}\n"
        f"http {{\n{log}\n{temp_paths}\n    include {site_path};\n}}\n"
    )


def write_config(folder: Path, listen_port: int, upstream_urls: list[str], access_log: bool = False) -> Path:
    """Write nginx.conf and site.conf (deploy/nginx.conf) into `folder`; return nginx.conf's path."""
    # nginx started as root runs its workers as nobody, who must reach the temp paths in here
    folder.chmod(0o755)
    (folder / "site.conf").write_text(site_config(listen_port, upstream_urls))
    main = folder / "nginx.conf"
    main.write_text(main_config(folder, folder / "site.conf", access_log))
    return main


def check_config(nginx: str, config_path: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t`: return code 0 means nginx accepts the configuration."""
    command = [nginx, "-t", "-p", str(config_path.parent), "-c", str(config_path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


@dataclass
class RunningNginx:
    """nginx running deploy/nginx.conf: its URL and the folder of its logs."""

    url: str
    folder: Path
    started: StartedProcess

    def error_log(self) -> str:
        """What nginx logged (at level info: client timeouts are logged there)."""
        return (self.folder / "error.log").read_text(errors="replace")

    def access_log(self) -> Path:
        """The access log, one line per answer, when run_nginx was asked for one."""
        return self.folder / "access.log"


@contextmanager
def run_nginx(
    upstream_urls: list[str], *, access_log: bool = False, nginx: str | None = None
) -> Iterator[RunningNginx]:
    """Start nginx with deploy/nginx.conf on a free port, balancing round robin over `upstream_urls`."""
    nginx = nginx or find_tool("nginx", "apt-get install nginx")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="nginx-") as name:
        folder = Path(name)
        config_path = write_config(folder, port, upstream_urls, access_log)
        check = check_config(nginx, config_path)
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused deploy/nginx.conf:\n{check.stderr}")
        started = start_process([nginx, "-p", str(folder), "-c", str(config_path)], folder / "nginx.out")
        running = RunningNginx(f"http://{HOST}:{port}", folder, started)
        try:

            def accepting() -> bool:
                if started.exited():
                    raise RuntimeError(f"nginx exited:\n{running.error_log()}")
                return accepts_connections(port)

            wait_for(accepting, 10, f"nginx to accept connections on port {port}")
            yield running
        finally:
            started.stop()
