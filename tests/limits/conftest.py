"""Real servers for the limit tests: each app in its default settings, and nginx with deploy/nginx.conf."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from launcher import RunningNginx, run_nginx, run_server
from launcher.catalog import GUNICORN_SYNC_2, UVICORN, UVICORN_H11


@pytest.fixture(scope="package")
def uvicorn_url() -> Iterator[str]:
    """The FastAPI app on Uvicorn (httptools), default settings."""
    with run_server(UVICORN) as server:
        yield server.url


@pytest.fixture(scope="package")
def gunicorn_url() -> Iterator[str]:
    """The Flask app on Gunicorn (two sync workers), with wsgi_app/gunicorn.conf.py."""
    with run_server(GUNICORN_SYNC_2) as server:
        yield server.url


@pytest.fixture(scope="package")
def uvicorn_h11_url() -> Iterator[str]:
    """The FastAPI app on Uvicorn with the h11 parser."""
    with run_server(UVICORN_H11) as server:
        yield server.url


@pytest.fixture(scope="package", params=["uvicorn", "gunicorn"])
def app_url(request: pytest.FixtureRequest) -> str:
    """Each app on its own server, in its default settings (body limit 16384 bytes)."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture(scope="package")
def nginx_to_uvicorn(nginx_path: str, uvicorn_url: str) -> Iterator[RunningNginx]:
    """nginx running deploy/nginx.conf in front of Uvicorn."""
    with run_nginx([uvicorn_url], nginx=nginx_path) as nginx:
        yield nginx
