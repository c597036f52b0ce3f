"""Thread pool wait: every user asks GET /lab/threadpool, a time.sleep inside a plain `def` route.

FastAPI runs a plain `def` in AnyIO's thread pool (40 threads), so Uvicorn serves up to 40 of these waits
at once; on Gunicorn the server's workers and threads are the only pool. LAB_MS sets the wait (default 100 ms).

    locust -f benchmarks/locustfiles/threadpool.py --host http://127.0.0.1:8000
    python benchmarks/locustfiles/threadpool.py --host http://127.0.0.1:8000   # one user, every request printed
"""

from __future__ import annotations

from _common import DEFAULT_HOST, judge, lab_answer, lab_ms
from locust import FastHttpUser, constant, run_single_user, task

LAB_MS = lab_ms(default=100)


class ThreadpoolWaitUser(FastHttpUser):
    """Asks the server to block a worker thread for LAB_MS, as fast as the server answers."""

    host = DEFAULT_HOST
    # closed loop: the harness measures throughput at a given concurrency, so each user sends its next
    # request as soon as the last one is answered, and the number of users is the number in flight
    wait_time = constant(0)

    @task
    def wait_in_thread(self) -> None:
        # name= groups every ?ms= under one row of the statistics
        with self.client.get(f"/lab/threadpool?ms={LAB_MS}", name="/lab/threadpool", catch_response=True) as response:
            judge(response, {200: lab_answer(LAB_MS)})


if __name__ == "__main__":
    run_single_user(ThreadpoolWaitUser)
