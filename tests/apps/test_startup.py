"""Start-up: settings decide what each server serves, and bad settings stop it with one clear line."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from launcher import ROOT, ServerConfig, bearer, checkout_token, free_port, run_server, wait_for
from launcher.catalog import GUNICORN_SYNC_1, UVICORN

BOTH = pytest.mark.parametrize("config", [UVICORN, GUNICORN_SYNC_1], ids=["asgi", "wsgi"])


@BOTH
def test_lab_endpoints_false_removes_them(config: ServerConfig) -> None:
    with run_server(config, {"LAB_ENDPOINTS": "false"}) as server:
        assert httpx.get(f"{server.url}/lab/io").status_code == 404
        paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert set(paths) == {"/public/test", "/merge", "/merge/history", "/merge/events"}


def refused_start(config: ServerConfig, env: dict[str, str]) -> str:
    """Start the server with only these variables set; it must stop, with no traceback. Its output."""
    result = subprocess.run(
        config.command(free_port()),
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output
    return output


@BOTH
@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MERGE_SECONDS", "ten"),
        ("MERGE_SECONDS", "0"),
        ("MAX_BODY_BYTES", "-1"),
        ("LOG_LEVEL", "loud"),
        ("LOCK_URL", "ftp://example"),
        ("LOCK_URL", "sqlite:////proc/no/such/lock.sqlite3"),
        ("LOCK_URL", "redis://h:abc"),
        ("LOCK_URL", "redis://:99999"),
        ("LOCK_URL", "redis://[::1"),
        ("LOCK_URL", "redis://127.0.0.1:1/0"),
        ("LOCK_LEASE_SECONDS", "0"),
        ("LOCK_LEASE_SECONDS", "0.01"),
    ],
)
def test_bad_setting_stops_the_server_with_one_line(config: ServerConfig, variable: str, value: str) -> None:
    output = refused_start(config, {variable: value})
    [line] = [line for line in output.splitlines() if variable in line]
    assert value in line


@BOTH
@pytest.mark.parametrize("tokens", ["short-token", "a-long-enough-token-0123,one with spaces in it"])
def test_a_bad_merge_token_stops_the_server_with_one_line_that_never_shows_it(
    config: ServerConfig, tokens: str
) -> None:
    output = refused_start(config, {"MERGE_TOKENS": tokens})
    [line] = [line for line in output.splitlines() if "MERGE_TOKENS" in line]
    assert line.endswith("each needs at least 16") or "letters, digits and -._~+/" in line
    assert not any(token in output for token in tokens.split(","))


@BOTH
def test_started_without_tokens_an_app_serves_every_get_and_refuses_every_merge(config: ServerConfig) -> None:
    with run_server(config, {"MERGE_TOKENS": ""}) as server:
        gets = [httpx.get(f"{server.url}{path}").status_code for path in ("/public/test", "/merge", "/merge/history")]
        merge = httpx.post(f"{server.url}/merge", json={"branch_name": "main"}, headers=bearer(checkout_token()))

    assert gets == [200, 200, 200]
    assert (merge.status_code, merge.headers["www-authenticate"], merge.json()) == (
        401,
        "Bearer",
        {"detail": "Merges are turned off: the server was started without MERGE_TOKENS (or MERGE_TOKENS_FILE)"},
    )


@BOTH
def test_merge_tokens_file_gives_the_app_its_tokens(config: ServerConfig, tmp_path: Path) -> None:
    token_file = tmp_path / "tokens"
    token_file.write_text("file-token-0123456789\n")
    # a short merge: a server that stops waits for the one it runs
    env = {"MERGE_TOKENS": "", "MERGE_TOKENS_FILE": str(token_file), "MERGE_SECONDS": "0.1"}
    with run_server(config, env) as server:
        merge = httpx.post(f"{server.url}/merge", json={"branch_name": "main"}, headers=bearer("file-token-0123456789"))
    assert merge.status_code == 202


def test_several_workers_start_together_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    # each of the four workers creates the same new file at the same moment, as on a fresh machine
    lock_url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    with run_server(replace(UVICORN, id="uvicorn-w4", workers=4), {"LOCK_URL": lock_url}) as server:
        assert server.log().count("Application startup complete") == 4
        assert "database is locked" not in server.log()


def test_loop_slow_callback_seconds_names_a_blocked_loop_and_not_an_awaiting_one() -> None:
    with run_server(UVICORN, {"LOOP_SLOW_CALLBACK_SECONDS": "0.2"}) as server:
        assert httpx.get(f"{server.url}/lab/io", params={"ms": 500}, timeout=10).status_code == 200
        assert "took" not in server.log()  # half a second of awaiting holds the loop for none of it
        assert httpx.get(f"{server.url}/lab/blocking", params={"ms": 500}, timeout=10).status_code == 200
        line = wait_for(
            lambda: next((row for row in server.log().splitlines() if "Executing" in row), None), 5, "the log"
        )
    assert "[asgi_app " in line
    seconds = float(line.rsplit("took ", 1)[1].split()[0])
    assert seconds >= 0.5  # at least the half second it blocked; how much more depends on the machine
