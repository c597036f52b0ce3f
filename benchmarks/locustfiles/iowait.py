"""I/O wait: every user asks GET /lab/io, a wait the server could spend serving others.

FastAPI awaits it, so one Uvicorn worker serves all these waits at once on its event loop; Flask has no
event loop to hand the wait to, so a Gunicorn sync worker sleeps through it, one request at a time.
LAB_MS sets the wait (default 100 ms).

    locust -f benchmarks/locustfiles/iowait.py --host http://127.0.0.1:8000
    python benchmarks/locustfiles/iowait.py --host http://127.0.0.1:8000   # one user, every request printed
"""

from __future__ import annotations

from _common import DEFAULT_HOST, judge, lab_answer, lab_ms
from locust import FastHttpUser, constant, run_single_user, task

LAB_MS = lab_ms(default=100)


class IoWaitUser(FastHttpUser):
    """Asks the server to wait LAB_MS on I/O, as fast as the server answers."""

    host = DEFAULT_HOST
    # closed loop: the harness measures throughput at a given concurrency, so each user sends its next
    # request as soon as the last one is answered, and the number of users is the number in flight
    wait_time = constant(0)

    @task
    def wait_on_io(self) -> None:
        # name= groups every ?ms= under one row of the statistics
        with self.client.get(f"/lab/io?ms={LAB_MS}", name="/lab/io", catch_response=True) as response:
            judge(response, {200: lab_answer(LAB_MS)})


if __name__ == "__main__":
    run_single_user(IoWaitUser)
