"""What every locustfile here shares: the default host, the LAB_MS knob, the merge token, one way to judge an answer.

Locust puts a locustfile's own folder on sys.path while it imports it, so `from _common import ...`
works with `locust -f benchmarks/locustfiles/iowait.py` and with `python benchmarks/locustfiles/iowait.py`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from unittest.mock import ANY

from locust.contrib.fasthttp import ResponseContextManager

# the FastAPI app of `make serve`; --host (or the host field of the web UI) points elsewhere
DEFAULT_HOST = "http://127.0.0.1:8000"


# `make serve` gives both apps the checkout's token (launcher/token.py); the harness passes it as MERGE_TOKEN
TOKEN_FILE = Path(__file__).resolve().parents[2] / ".merge-token"


def merge_headers() -> dict[str, str]:
    """The Authorization header POST /merge needs: MERGE_TOKEN from the environment, else the checkout's token."""
    token = os.environ.get("MERGE_TOKEN") or (TOKEN_FILE.read_text().strip() if TOKEN_FILE.exists() else "")
    if not token:
        raise SystemExit("POST /merge needs a token: set MERGE_TOKEN, or run make serve once to make .merge-token")
    return {"Authorization": f"Bearer {token}"}


def lab_ms(default: int) -> int:
    """Milliseconds each /lab request asks the server to spend: LAB_MS from the environment, or `default`."""
    value = os.environ.get("LAB_MS", str(default))
    if not value.isdigit():
        raise SystemExit(f"LAB_MS={value!r} is not a whole number of milliseconds (0 to 2000), e.g. LAB_MS=100")
    return int(value)


def lab_answer(ms: int) -> dict[str, object]:
    """What every /lab route answers for `ms`: any pid, thread and time, since each worker and thread has its own."""
    return {"waited_ms": ms, "pid": ANY, "thread": ANY, "thread_id": ANY, "started_at": ANY, "ended_at": ANY}


# --8<-- [start:judge]
def judge(response: ResponseContextManager, expected: Mapping[int, object]) -> bool:
    """Mark `response` a success if its status is one of `expected` with exactly that status's JSON body.

    Use it inside `with self.client.get(..., catch_response=True) as response:`; compare parts that
    change from answer to answer (a pid, a countdown) with `unittest.mock.ANY`.
    """
    status = response.status_code
    if status == 0:  # no answer at all: refused, reset or timed out; FastHttpUser keeps the reason
        response.failure(response.error or "no response")
        return False
    if status not in expected:
        wanted = " or ".join(str(code) for code in expected)
        response.failure(f"status {status}, expected {wanted}: {(response.text or '')[:200]}")
        return False
    try:
        body = response.json()
    except ValueError:
        response.failure(f"status {status} with a body that is not JSON: {(response.text or '')[:200]}")
        return False
    if body != expected[status]:
        response.failure(f"status {status} with body {body!r}, expected {expected[status]!r}")
        return False
    response.success()
    return True
    # --8<-- [end:judge]
