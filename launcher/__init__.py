"""One way to start every real process this repository runs: the app servers, Redis, PostgreSQL and nginx.

Tests, the benchmark harness, `make demo`, the slow-client, scale-out and soak runs all start their
processes here, so that what a test checks is what a benchmark measures and what `make serve` runs.
The launcher imports neither app: it starts them by their import strings, as a shell would.
"""

from launcher.catalog import CONFIGS, config
from launcher.nginx import RunningNginx, run_nginx
from launcher.postgres import PostgresServer, postgres_bin_dir, postgres_version, run_postgres
from launcher.process import HOST, ROOT, StartedProcess, ToolNotFoundError, find_tool, free_port, start_process
from launcher.redis import RedisServer, run_redis
from launcher.servers import CLIENT_LIMITS, RunningServer, ServerConfig, run_server
from launcher.token import bearer, checkout_token
from launcher.wait import StillWaitingError, wait_for

__all__ = [
    "CLIENT_LIMITS",
    "CONFIGS",
    "HOST",
    "ROOT",
    "PostgresServer",
    "RedisServer",
    "RunningNginx",
    "RunningServer",
    "ServerConfig",
    "StartedProcess",
    "StillWaitingError",
    "ToolNotFoundError",
    "bearer",
    "checkout_token",
    "config",
    "find_tool",
    "free_port",
    "postgres_bin_dir",
    "postgres_version",
    "run_nginx",
    "run_postgres",
    "run_redis",
    "run_server",
    "start_process",
    "wait_for",
]
