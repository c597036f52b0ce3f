"""Settings: read from the environment once; a bad variable stops the server with one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.lock import LockConfigError, open_merge_lock
from common.settings import Settings, SettingsError, default_lock_url, load_settings

DEFAULTS = {
    "merge_seconds": 10.0,
    "lock_lease_seconds": 5.0,
    "lock_url": None,
    "max_body_bytes": 16384,
    "log_level": "info",
    "lab_endpoints": True,
    "loop_slow_callback_seconds": None,
    "events_heartbeat_seconds": 15.0,
    "events_poll_seconds": 0.25,
    "database_url": None,
    "db_pool_size": 10,
    "db_pool_timeout_seconds": 5.0,
    "merge_tokens": (),
    "merge_tokens_file": None,
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test with none of the settings' variables set, whatever the shell running pytest has."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_defaults() -> None:
    assert load_settings().model_dump() == DEFAULTS


def test_environment_variables_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERGE_SECONDS", "2.5")
    monkeypatch.setenv("LOCK_LEASE_SECONDS", "0.9")
    monkeypatch.setenv("LOCK_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("MAX_BODY_BYTES", "1024")
    monkeypatch.setenv("LOG_LEVEL", "warning")
    monkeypatch.setenv("LAB_ENDPOINTS", "false")
    monkeypatch.setenv("EVENTS_HEARTBEAT_SECONDS", "30")
    monkeypatch.setenv("EVENTS_POLL_SECONDS", "0.5")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    monkeypatch.setenv("DB_POOL_SIZE", "1")
    monkeypatch.setenv("DB_POOL_TIMEOUT_SECONDS", "0.5")
    assert load_settings().model_dump() == {
        "merge_seconds": 2.5,
        "lock_lease_seconds": 0.9,
        "lock_url": "redis://127.0.0.1:6379/0",
        "max_body_bytes": 1024,
        "log_level": "warning",
        "lab_endpoints": False,
        "loop_slow_callback_seconds": None,
        "events_heartbeat_seconds": 30.0,
        "events_poll_seconds": 0.5,
        "database_url": "postgresql://postgres@127.0.0.1:5432/postgres",
        "db_pool_size": 1,
        "db_pool_timeout_seconds": 0.5,
        "merge_tokens": (),
        "merge_tokens_file": None,
    }


@pytest.mark.parametrize("value", ["INFO", "Info", "info"])
def test_log_level_is_lower_cased(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LOG_LEVEL", value)
    assert load_settings().log_level == "info"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("MERGE_SECONDS", "abc", id="merge-seconds-not-a-number"),
        pytest.param("MERGE_SECONDS", "0", id="merge-seconds-zero"),
        pytest.param("MERGE_SECONDS", "3601", id="merge-seconds-over-an-hour"),
        pytest.param("MAX_BODY_BYTES", "-1", id="max-body-bytes-negative"),
        pytest.param("MAX_BODY_BYTES", "1.5", id="max-body-bytes-fraction"),
        pytest.param("LOG_LEVEL", "loud", id="log-level-unknown"),
        pytest.param("LAB_ENDPOINTS", "maybe", id="lab-endpoints-not-a-boolean"),
        pytest.param("DATABASE_URL", "mysql://127.0.0.1/db", id="database-url-not-postgresql"),
        pytest.param("DATABASE_URL", "host=127.0.0.1 port=5432", id="database-url-not-a-url"),
        pytest.param("DB_POOL_SIZE", "0", id="db-pool-size-zero"),
        pytest.param("DB_POOL_TIMEOUT_SECONDS", "0", id="db-pool-timeout-zero"),
    ],
)
def test_bad_value_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    # a SystemExit: the server stops with this line instead of a traceback
    assert isinstance(error.value, SystemExit)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"invalid environment variable {variable}={value!r}: ")


def test_default_lock_url_is_one_sqlite_file_per_app() -> None:
    # so that both servers run side by side on one machine without sharing a lock by accident
    settings = load_settings()
    asgi_url, wsgi_url = settings.lock_url_for("asgi"), settings.lock_url_for("wsgi")
    assert asgi_url != wsgi_url
    assert asgi_url == default_lock_url("asgi")
    assert wsgi_url == default_lock_url("wsgi")
    assert asgi_url.startswith("sqlite:////")
    assert wsgi_url.startswith("sqlite:////")


def test_lock_url_when_set_is_the_same_for_both_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCK_URL", "redis://127.0.0.1:6379/0")
    settings = load_settings()
    assert settings.lock_url_for("asgi") == settings.lock_url_for("wsgi") == "redis://127.0.0.1:6379/0"


def test_merge_tokens_are_comma_separated_and_a_file_adds_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    token_file = tmp_path / "tokens"
    token_file.write_text("file-token-0123456789\n\nfile-token-abcdefghij\n")
    monkeypatch.setenv("MERGE_TOKENS", " env-token-0123456789 ,env-token-abcdefghij,")
    monkeypatch.setenv("MERGE_TOKENS_FILE", str(token_file))
    assert load_settings().all_merge_tokens() == (
        "env-token-0123456789",
        "env-token-abcdefghij",
        "file-token-0123456789",
        "file-token-abcdefghij",
    )


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        ("long-enough-token-1,short-token", "a token has 11 characters; each needs at least 16"),
        ("a token with spaces in it", "a token may hold only letters, digits and -._~+/"),
    ],
)
def test_a_bad_merge_token_stops_with_one_line_that_never_shows_it(
    monkeypatch: pytest.MonkeyPatch, tokens: str, message: str
) -> None:
    monkeypatch.setenv("MERGE_TOKENS", tokens)
    with pytest.raises(SettingsError) as stopped:
        load_settings()
    [line] = str(stopped.value).splitlines()
    assert line.startswith("invalid environment variable MERGE_TOKENS: ")
    assert message in line
    assert not any(token in line for token in tokens.split(","))


def test_a_bad_merge_tokens_file_stops_with_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token_file = tmp_path / "tokens"
    token_file.write_text("tiny\n")
    monkeypatch.setenv("MERGE_TOKENS_FILE", str(token_file))
    with pytest.raises(SettingsError, match=r"MERGE_TOKENS_FILE=.*a token has 4 characters") as stopped:
        load_settings()
    assert "tiny" not in str(stopped.value)
    monkeypatch.setenv("MERGE_TOKENS_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match=r"MERGE_TOKENS_FILE=.*cannot read it: FileNotFoundError"):
        load_settings()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("DATABASE_URL", "mysql://app:s3cret-pw@127.0.0.1/db", id="database-url"),
        pytest.param("LOCK_URL", "mongodb://app:s3cret-pw@127.0.0.1:27017/0", id="lock-url"),
    ],
)
def test_a_bad_url_is_shown_without_its_password(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    # DATABASE_URL is refused as the settings are read, LOCK_URL as the lock opens
    with pytest.raises((SettingsError, LockConfigError)) as error:
        open_merge_lock(load_settings().lock_url_for("asgi"), 10.0)
    assert "s3cret-pw" not in str(error.value)
    assert ":***@127.0.0.1" in str(error.value)
