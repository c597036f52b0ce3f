"""Real servers for the limit tests: each app as tests/servers.py runs it, and nginx with deploy/nginx.conf."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from benchmarks.slowclients import DeployedNginx, run_deployed_nginx
from tests.servers import GUNICORN_SYNC_2, UVICORN, ServerConfig, run_server
from tests.tools import require_tool


@dataclass(frozen=True)
class UvicornH11(ServerConfig):
    """Uvicorn with the pure-Python h11 parser instead of httptools, which bounds the size of a request head."""

    def command(self, port: int) -> list[str]:
        """The usual uvicorn command line, with --http h11."""
        return ["h11" if part == "httptools" else part for part in super().command(port)]


UVICORN_H11 = UvicornH11("uvicorn-h11", "asgi")


@pytest.fixture(scope="session")
def nginx_path() -> str:
    """The nginx binary, or a skip (a failure in CI) if it is not installed."""
    return require_tool("nginx", "apt-get install nginx")


@pytest.fixture(scope="package")
def uvicorn_url() -> Iterator[str]:
    """The FastAPI app on Uvicorn (httptools), as tests/servers.py runs it, default settings."""
    with run_server(UVICORN, {}) as server:
        yield server.base_url


@pytest.fixture(scope="package")
def gunicorn_url() -> Iterator[str]:
    """The Flask app on Gunicorn (two sync workers), with wsgi_app/gunicorn.conf.py."""
    with run_server(GUNICORN_SYNC_2, {}) as server:
        yield server.base_url


@pytest.fixture(scope="package")
def uvicorn_h11_url() -> Iterator[str]:
    """The FastAPI app on Uvicorn with the h11 parser."""
    with run_server(UVICORN_H11, {}) as server:
        yield server.base_url


@pytest.fixture(scope="package", params=["uvicorn", "gunicorn"])
def app_url(request: pytest.FixtureRequest) -> str:
    """Each app on its own server, in its default settings (body limit 16384 bytes)."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture(scope="package")
def nginx_to_uvicorn(nginx_path: str, uvicorn_url: str) -> Iterator[DeployedNginx]:
    """nginx running deploy/nginx.conf in front of Uvicorn."""
    with run_deployed_nginx(nginx_path, uvicorn_url) as nginx:
        yield nginx
