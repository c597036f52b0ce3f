"""`python -m launcher`: the command lines the launcher runs, for people and for the Procfile.

python -m launcher command asgi        # the command `make serve` runs for the FastAPI app
python -m launcher command gunicorn-gthread --port 9000
python -m launcher procfile            # the Procfile, as `make serve` (honcho) reads it
python -m launcher list                # every server configuration
python -m launcher token               # make the checkout's merge token (.merge-token) if it has none
python -m launcher with-postgres honcho start   # a command with DATABASE_URL for a throwaway PostgreSQL
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys

from launcher.catalog import CONFIGS, SERVE
from launcher.postgres import postgres_bin_dir, run_postgres
from launcher.process import ToolNotFoundError
from launcher.token import token_lines

PROCFILE_HEADER = """\
# make serve: both apps side by side, each as the launcher starts it (python -m launcher procfile writes this
# file; tests/launcher checks that it is up to date). Uvicorn's settings are asgi_app/uvicorn.conf.py,
# Gunicorn's wsgi_app/gunicorn.conf.py: each setting is explained there.
"""


def procfile() -> str:
    """The Procfile: one line per app, with the access log on, for people watching the terminal."""
    lines = [f"{name}: {shlex.join(row.arguments(port, access_log=True))}" for name, (row, port) in SERVE.items()]
    return PROCFILE_HEADER + "\n".join(lines) + "\n"


def wait_through_ctrl_c(command: list[str], env: dict[str, str]) -> int:
    """Run `command` to its end: Ctrl-C reaches it too, and it stops its own processes before we go on."""
    process = subprocess.Popen(command, env={**os.environ, **env})
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue


def with_postgres(command: list[str]) -> int:
    """Run `command` with DATABASE_URL naming a throwaway PostgreSQL, stopped after it; without one if none is here."""
    try:
        bin_dir = postgres_bin_dir()
    except ToolNotFoundError as error:
        print(f"no PostgreSQL for /lab/db, which answers 503 ({error})", flush=True)
        return wait_through_ctrl_c(command, {})
    with run_postgres(bin_dir) as server:
        print(f"PostgreSQL for /lab/db: DATABASE_URL={server.url}, a new cluster gone at Ctrl-C", flush=True)
        return wait_through_ctrl_c(command, {"DATABASE_URL": server.url})


def main(argv: list[str] | None = None) -> int:
    """Print what was asked for."""
    parser = argparse.ArgumentParser(prog="python -m launcher", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    command = verbs.add_parser("command", help="print one configuration's command line")
    command.add_argument("id", help="asgi, wsgi, or a configuration id from `list`")
    command.add_argument("--port", type=int, help="default: 8000 for asgi, 8001 for wsgi, else 8000")
    verbs.add_parser("procfile", help="print the Procfile")
    verbs.add_parser("list", help="list every configuration")
    verbs.add_parser("token", help="make the checkout's merge token if it has none, and print how to send it")
    database = verbs.add_parser("with-postgres", help="run a command with DATABASE_URL for a throwaway PostgreSQL")
    database.add_argument("run", nargs=argparse.REMAINDER, help="the command and its arguments")
    arguments = parser.parse_args(argv)
    if arguments.verb == "procfile":
        print(procfile(), end="")
    elif arguments.verb == "token":
        print(token_lines(), end="")
    elif arguments.verb == "with-postgres":
        return with_postgres(arguments.run)
    elif arguments.verb == "list":
        for row in CONFIGS.values():
            print(f"{row.id:<30} {row.interface}  {row.summary}")
    else:
        if arguments.id in SERVE:
            row, port = SERVE[arguments.id]
        elif arguments.id in CONFIGS:
            row, port = CONFIGS[arguments.id], 8000
        else:
            parser.error(f"unknown configuration {arguments.id!r}; see python -m launcher list")
        print(shlex.join(row.arguments(arguments.port or port, access_log=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
