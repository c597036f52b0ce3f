"""docs_src/: the bare WSGI and ASGI apps of the docs, each served by its real server on a free port."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.servers import HOST, ROOT, free_port, stop

CommandFor = Callable[[int], list[str]]


def gunicorn_raw_wsgi(port: int) -> list[str]:
    """`gunicorn docs_src.raw_wsgi:app`, as the docs give it, bound to `port`."""
    return [sys.executable, "-m", "gunicorn", "docs_src.raw_wsgi:app", "--bind", f"{HOST}:{port}"]


def uvicorn_raw_asgi(port: int) -> list[str]:
    """`uvicorn docs_src.raw_asgi:app`, as the docs give it, on `port`."""
    return [sys.executable, "-m", "uvicorn", "docs_src.raw_asgi:app", "--host", HOST, "--port", str(port)]


@contextmanager
def serve(command_for: CommandFor, log_path: Path, deadline_seconds: float = 30.0) -> Iterator[str]:
    """Run the server from the repository root, poll until it answers, yield its URL, then stop it."""
    port = free_port()
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command_for(port), cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    base_url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + deadline_seconds
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                httpx.get(base_url, timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no answer in {deadline_seconds} s:\n{log_path.read_text()}") from None
                time.sleep(0.05)
        yield base_url
    finally:
        stop(process)


@pytest.fixture
def log_path() -> Iterator[Path]:
    """Where the server under test writes its log."""
    with tempfile.TemporaryDirectory(prefix="docs-src-") as folder:
        yield Path(folder) / "server.log"


@pytest.mark.parametrize(
    ("command_for", "interface"),
    [
        pytest.param(gunicorn_raw_wsgi, "WSGI", id="raw_wsgi-gunicorn"),
        pytest.param(uvicorn_raw_asgi, "ASGI", id="raw_asgi-uvicorn"),
    ],
)
def test_bare_app_answers_with_its_json_hello(command_for: CommandFor, interface: str, log_path: Path) -> None:
    with serve(command_for, log_path) as base_url:
        hello = httpx.get(f"{base_url}/hello")
        posted = httpx.post(f"{base_url}/any/other/path", content=b"ignored")

    message = f"hello from a bare {interface} app"
    assert hello.status_code == 200
    assert hello.headers["content-type"] == "application/json"
    assert hello.json() == {"message": message, "method": "GET", "path": "/hello"}
    assert posted.status_code == 200
    assert posted.json() == {"message": message, "method": "POST", "path": "/any/other/path"}


def test_bare_asgi_app_answers_the_lifespan_protocol(log_path: Path) -> None:
    with serve(uvicorn_raw_asgi, log_path):
        assert "Application startup complete" in log_path.read_text()

    log = log_path.read_text()
    assert "Application shutdown complete" in log
    # what uvicorn logs when an app fails the lifespan handshake
    assert "ASGI 'lifespan' protocol appears unsupported" not in log
