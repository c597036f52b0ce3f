"""Blocking wait: every user asks GET /lab/blocking, a time.sleep that holds up whatever runs it.

On Uvicorn it is the classic mistake, a blocking call inside `async def`: the event loop stalls, so one
worker answers one request at a time. On Gunicorn it is the same sleep as /lab/io: in WSGI there is no other kind.
LAB_MS sets the wait (default 100 ms).

    locust -f benchmarks/locustfiles/blocking.py --host http://127.0.0.1:8000
    python benchmarks/locustfiles/blocking.py --host http://127.0.0.1:8000   # one user, every request printed
"""

from __future__ import annotations

from _common import DEFAULT_HOST, judge, lab_answer, lab_ms
from locust import FastHttpUser, constant, run_single_user, task

LAB_MS = lab_ms(default=100)


class BlockingWaitUser(FastHttpUser):
    """Asks the server to block for LAB_MS, as fast as the server answers."""

    host = DEFAULT_HOST
    # closed loop: the harness measures throughput at a given concurrency, so each user sends its next
    # request as soon as the last one is answered, and the number of users is the number in flight
    wait_time = constant(0)

    @task
    def wait_blocking(self) -> None:
        # name= groups every ?ms= under one row of the statistics
        with self.client.get(f"/lab/blocking?ms={LAB_MS}", name="/lab/blocking", catch_response=True) as response:
            judge(response, {200: lab_answer(LAB_MS)})


if __name__ == "__main__":
    run_single_user(BlockingWaitUser)
