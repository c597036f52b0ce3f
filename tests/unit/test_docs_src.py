"""docs_src/: the bare WSGI and ASGI apps of the docs, each served by its real server on a free port."""

from __future__ import annotations

import httpx
import pytest

from launcher import ServerConfig, run_server
from launcher.catalog import DOCS_RAW_ASGI, DOCS_RAW_WSGI


@pytest.mark.parametrize(
    ("config", "interface"),
    [
        pytest.param(DOCS_RAW_WSGI, "WSGI", id="raw_wsgi-gunicorn"),
        pytest.param(DOCS_RAW_ASGI, "ASGI", id="raw_asgi-uvicorn"),
    ],
)
def test_bare_app_answers_with_its_json_hello(config: ServerConfig, interface: str) -> None:
    with run_server(config) as server:
        hello = httpx.get(f"{server.url}/hello")
        posted = httpx.post(f"{server.url}/any/other/path", content=b"ignored")

    message = f"hello from a bare {interface} app"
    assert hello.status_code == 200
    assert hello.headers["content-type"] == "application/json"
    assert hello.json() == {"message": message, "method": "GET", "path": "/hello"}
    assert posted.status_code == 200
    assert posted.json() == {"message": message, "method": "POST", "path": "/any/other/path"}


def test_bare_asgi_app_answers_the_lifespan_protocol() -> None:
    with run_server(DOCS_RAW_ASGI) as server:
        assert "Application startup complete" in server.log()
    log = server.log()
    assert "Application shutdown complete" in log
    # what uvicorn logs when an app fails the lifespan handshake
    assert "ASGI 'lifespan' protocol appears unsupported" not in log
