"""The launcher builds every server's command line: from the settings files, the same for tests and `make serve`."""

from __future__ import annotations

import ast
import os
import runpy
import sys

import pytest

from launcher import ROOT, ServerConfig
from launcher.__main__ import procfile
from launcher.catalog import CONFIGS, GUNICORN_SYNC_1, GUNICORN_SYNC_N, UVICORN, UVICORN_W2
from launcher.servers import settings_as_options, uvicorn_settings


def test_the_procfile_is_the_launchers() -> None:
    # make serve runs the Procfile; regenerate it with `python -m launcher procfile > Procfile`
    assert (ROOT / "Procfile").read_text() == procfile()


def test_uvicorn_runs_with_every_setting_of_its_settings_file() -> None:
    settings = runpy.run_path(str(ROOT / "asgi_app" / "uvicorn.conf.py"))
    command = UVICORN.command(9000)
    assert command[:4] == [sys.executable, "-m", "uvicorn", "asgi_app.main:app"]
    for name in ["loop", "http", "timeout_keep_alive", "timeout_graceful_shutdown", "limit_concurrency"]:
        option = "--" + name.replace("_", "-")
        assert command[command.index(option) + 1] == str(settings[name])
    # the port of the run replaces make serve's
    assert command[command.index("--port") + 1] == "9000"
    assert command.count("--port") == 1


def test_gunicorn_runs_with_its_settings_file() -> None:
    command = GUNICORN_SYNC_1.command(9001)
    assert command[2:6] == ["gunicorn", "-c", "wsgi_app/gunicorn.conf.py", "wsgi_app.main:app"]
    assert command[command.index("--bind") + 1] == "127.0.0.1:9001"
    assert command[command.index("--workers") + 1] == "1"


def test_the_serve_row_leaves_the_number_of_workers_to_gunicorn_conf() -> None:
    assert "--workers" not in GUNICORN_SYNC_N.arguments(8001)
    assert GUNICORN_SYNC_N.expected_workers({}) == 2 * (os.cpu_count() or 1) + 1
    assert GUNICORN_SYNC_N.expected_workers({"WEB_CONCURRENCY": "3"}) == 3


@pytest.mark.parametrize(
    ("settings", "options"),
    [
        ({"timeout_keep_alive": 1}, ["--timeout-keep-alive", "1"]),
        ({"access_log": False}, ["--no-access-log"]),
        ({"access_log": True}, ["--access-log"]),
    ],
)
def test_settings_become_options_of_the_same_name(settings: dict[str, object], options: list[str]) -> None:
    assert settings_as_options(settings) == options


def test_a_variant_adds_its_options_after_the_rows_own_so_they_win() -> None:
    variant = UVICORN_W2.with_settings(timeout_graceful_shutdown=1)
    command = variant.command(9000)
    last = len(command) - 1 - command[::-1].index("--timeout-graceful-shutdown")
    assert command[last + 1] == "1"
    assert last > command.index("--timeout-graceful-shutdown")
    assert variant.id == "uvicorn-w2-timeout-graceful-shutdown-1"
    assert variant.workers == 2


def test_uvicorn_settings_are_plain_values() -> None:
    assert all(isinstance(value, str | int | float | bool) for value in uvicorn_settings().values())


@pytest.mark.parametrize("row", list(CONFIGS.values()), ids=list(CONFIGS))
def test_every_configuration_builds_a_command_for_its_port(row: ServerConfig) -> None:
    command = row.command(9123)
    assert command[:2] == [sys.executable, "-m"]
    assert any("9123" in part for part in command)
    assert row.app in command


def test_no_test_imports_the_benchmark_scripts() -> None:
    # tests use the launcher and the harness library; benchmarks/ holds entry points, run as processes
    offenders = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {name}" for name in names if name.split(".")[0] == "benchmarks"]
    assert offenders == []
