"""One settings class for both apps, read from the environment once at start-up."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from common.auth import split_tokens, token_problem

AppName = Literal["asgi", "wsgi"]


def default_lock_url(app_name: AppName) -> str:
    """Return the embedded default lock: one SQLite file per app, so both servers run side by side."""
    path = Path(tempfile.gettempdir()) / f"wsgi-vs-asgi-{app_name}-lock.sqlite3"
    return f"sqlite:///{path}"


class Settings(BaseSettings):
    """Settings shared by the FastAPI and the Flask app; each field is an environment variable."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    merge_seconds: float = Field(default=10.0, gt=0, le=3600)
    # a crashed holder keeps the resource for at most one lease, and a holder that pauses for more than two
    # thirds of it (a blocked event loop, a stopped process, a swap storm) loses it: 5 s frees the resource
    # quickly and still outlasts /lab/blocking's longest stall (2 s) between two renewals
    lock_lease_seconds: float = Field(default=5.0, gt=0, le=3600)
    lock_url: str | None = None
    max_body_bytes: int = Field(default=16384, ge=64, le=16 * 1024 * 1024)
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    lab_endpoints: bool = True
    # the FastAPI app only: asyncio's debug mode, which logs every callback or task step that holds the event
    # loop longer than this (a blocking call in async def); off when unset, since debug mode slows the loop.
    # The app turns it on from its lifespan, on every supported Python: PYTHONASYNCIODEBUG alone works from 3.12
    # only, since on 3.11 Uvicorn starts its loop with debug=False (uvicorn/_compat.py). The Flask app has no
    # event loop to watch
    loop_slow_callback_seconds: float | None = Field(default=None, gt=0, le=60)
    # a comment on every idle event stream this often: proxies and load balancers close a connection that
    # stays silent for a minute or so (nginx's proxy_read_timeout is 60 s), and 15 s is what FastAPI sends
    events_heartbeat_seconds: float = Field(default=15.0, gt=0, le=3600)
    # how often each worker process reads the ledger while at least one stream is open: a merge's event reaches
    # every stream within about this, and a worker with no stream open reads nothing
    events_poll_seconds: float = Field(default=0.25, ge=0.01, le=60)
    # POST /merge needs one of these as its bearer token (comma-separated); with none at all, every merge is a 401
    merge_tokens: Annotated[tuple[str, ...], NoDecode] = ()
    # more tokens, one a line or comma-separated, from a file: a secret kept out of the process's environment
    merge_tokens_file: Path | None = None
    # the PostgreSQL behind /lab/db (postgresql://user@host:port/dbname); unset, the route answers 503 naming it
    database_url: str | None = None
    # connections in each worker process's pool: N workers hold N times this many of PostgreSQL's max_connections
    db_pool_size: int = Field(default=10, ge=1, le=1000)
    # how long a request waits for a pooled connection before a 503 and Retry-After: psycopg_pool's own default
    # is 30 s, longer than a client waits for most answers
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0, le=300)

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case_level(cls, value: object) -> object:
        # LOG_LEVEL=INFO and LOG_LEVEL=info both work, as they do for uvicorn and gunicorn
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _postgresql_url(cls, value: str | None) -> str | None:
        # checked here, without psycopg: the Gunicorn master reads these settings, and psycopg must not be imported
        # before a gevent worker patches select (it picks its way to wait for the socket at import)
        if value is not None and urlsplit(value).scheme not in ("postgresql", "postgres"):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("merge_tokens", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return split_tokens(value) if isinstance(value, str) else value

    @field_validator("merge_tokens")
    @classmethod
    def _long_enough(cls, tokens: tuple[str, ...]) -> tuple[str, ...]:
        for token in tokens:
            if problem := token_problem(token):
                raise ValueError(problem)
        return tokens

    @field_validator("merge_tokens_file")
    @classmethod
    def _readable_tokens(cls, path: Path | None) -> Path | None:
        if path is not None:
            read_token_file(path)
        return path

    def all_merge_tokens(self) -> tuple[str, ...]:
        """The tokens POST /merge accepts: MERGE_TOKENS, then those of MERGE_TOKENS_FILE."""
        return self.merge_tokens + (read_token_file(self.merge_tokens_file) if self.merge_tokens_file else ())

    def lock_url_for(self, app_name: AppName) -> str:
        """Return LOCK_URL, or the per-app SQLite default when it is unset."""
        return self.lock_url or default_lock_url(app_name)


def read_token_file(path: Path) -> tuple[str, ...]:
    """The tokens of a MERGE_TOKENS_FILE, or ValueError naming what is wrong with it (never a token)."""
    try:
        tokens = split_tokens(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read it: {error.__class__.__name__}") from None
    for token in tokens:
        if problem := token_problem(token):
            raise ValueError(problem)
    return tokens


# their values are secrets: a bad one is named, never printed
SECRET_VARIABLES = {"MERGE_TOKENS"}


def without_password(value: object) -> object:
    """A URL with its password written as ***, any other value as it is: a bad URL is shown, its secret is not."""
    if isinstance(value, str) and "://" in value and "@" in value:
        scheme, rest = value.split("://", 1)
        userinfo, _, host = rest.rpartition("@")
        if ":" in userinfo:
            return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"
    return value


class SettingsError(SystemExit):
    """A bad environment variable: exits the process with a one-line message naming it."""


def load_settings() -> Settings:
    """Read the settings from the environment, or exit with one line naming the bad variable."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        # a token is never shown; a URL (DATABASE_URL, LOCK_URL) is, without the password it may carry
        shown = "" if name in SECRET_VARIABLES else f"={without_password(first.get('input'))!r}"
        raise SettingsError(f"invalid environment variable {name}{shown}: {first['msg']}") from None
