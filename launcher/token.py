"""The checkout's merge token: one bearer token for POST /merge, made on first use, kept in `.merge-token`.

`make serve` and `make demo` give it to both apps (MERGE_TOKENS_FILE), every server the launcher starts gets it
(MERGE_TOKENS) unless told otherwise, and the clients that merge (the tests, Locust, wrk, the harness) send it.
The file is git-ignored and readable by its owner only: a token is a secret, never logged.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from launcher.process import ROOT

TOKEN_FILE = ROOT / ".merge-token"


def checkout_token(path: Path = TOKEN_FILE) -> str:
    """This checkout's token, made and written to `path` if it has none yet."""
    return ensure_token(path)[0]


def ensure_token(path: Path = TOKEN_FILE) -> tuple[str, bool]:
    """The token in `path`, and whether this call made it: the first caller writes it, all at once, for everyone."""
    if path.exists():
        return path.read_text(encoding="ascii").strip(), False
    # written in full beside it, then linked into place: no reader ever finds the file half written, and of
    # several processes making it at once (pytest's workers), one wins and the others read its token
    descriptor, scratch = tempfile.mkstemp(dir=path.parent, prefix=".merge-token-")
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as scratch_file:  # mkstemp's mode: its owner only
            # hex: a token_urlsafe token may begin with "-", which a command line (pytest --token) reads as an option
            scratch_file.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(scratch, path)
            return path.read_text(encoding="ascii").strip(), True
    finally:
        os.unlink(scratch)
    return path.read_text(encoding="ascii").strip(), False


def token_lines() -> str:
    """Make the checkout's token if it has none; the token itself the first time only, then the curl that sends it."""
    token, made = ensure_token()
    file = TOKEN_FILE.name
    curl = (
        f"curl -i -H \"Authorization: Bearer $(cat {file})\" -H 'Content-Type: application/json' "
        '-d \'{"branch_name": "feature/login"}\' http://127.0.0.1:8000/merge'
    )
    made_line = f"made a merge token for this checkout, kept in {file} (git-ignored): {token}\n" if made else ""
    return f"{made_line}POST /merge needs the token in {file}:\n  {curl}\n"


def bearer(token: str) -> dict[str, str]:
    """The Authorization header that carries `token`."""
    return {"Authorization": f"Bearer {token}"}
