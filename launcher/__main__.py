"""`python -m launcher`: the command lines the launcher runs, for people and for the Procfile.

python -m launcher command asgi        # the command `make serve` runs for the FastAPI app
python -m launcher command gunicorn-gthread --port 9000
python -m launcher procfile            # the Procfile, as `make serve` (honcho) reads it
python -m launcher list                # every server configuration
python -m launcher token               # make the checkout's merge token (.merge-token) if it has none
"""

from __future__ import annotations

import argparse
import shlex
import sys

from launcher.catalog import CONFIGS, SERVE
from launcher.token import TOKEN_FILE, ensure_token

PROCFILE_HEADER = """\
# make serve: both apps side by side, each as the launcher starts it (python -m launcher procfile writes this
# file; tests/launcher checks that it is up to date). Uvicorn's settings are asgi_app/uvicorn.conf.py,
# Gunicorn's wsgi_app/gunicorn.conf.py: each setting is explained there.
"""


def procfile() -> str:
    """The Procfile: one line per app, with the access log on, for people watching the terminal."""
    lines = [f"{name}: {shlex.join(row.arguments(port, access_log=True))}" for name, (row, port) in SERVE.items()]
    return PROCFILE_HEADER + "\n".join(lines) + "\n"


def token_lines() -> str:
    """Make the checkout's token if it has none: the token itself the first time only, and the curl that sends it."""
    token, made = ensure_token()
    file = TOKEN_FILE.name
    curl = (
        f"curl -i -H \"Authorization: Bearer $(cat {file})\" -H 'Content-Type: application/json' "
        '-d \'{"branch_name": "feature/login"}\' http://127.0.0.1:8000/merge'
    )
    made_line = f"made a merge token for this checkout, kept in {file} (git-ignored): {token}\n" if made else ""
    return f"{made_line}POST /merge needs the token in {file}:\n  {curl}\n"


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
    arguments = parser.parse_args(argv)
    if arguments.verb == "procfile":
        print(procfile(), end="")
    elif arguments.verb == "token":
        print(token_lines(), end="")
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
