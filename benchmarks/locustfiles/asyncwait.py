"""Async wait: every user asks GET /lab/async-io, the same wait as /lab/io written as an awaited `async def` view.

On FastAPI it is /lab/io again. On Flask (its async extra) each request gets an event loop of its own, in a
thread of its own, and the worker that took the request waits for it: as many in flight as the workers and
threads, as for /lab/io. On Django under ASGI it is the async view that the event loop serves by the hundred,
under WSGI one that holds its worker. LAB_MS sets the wait (default 100 ms).

    locust -f benchmarks/locustfiles/asyncwait.py --host http://127.0.0.1:8001
    python benchmarks/locustfiles/asyncwait.py --host http://127.0.0.1:8001   # one user, every request printed
"""

from __future__ import annotations

from _common import DEFAULT_HOST, judge, lab_answer, lab_ms
from locust import FastHttpUser, constant, run_single_user, task

LAB_MS = lab_ms(default=100)


class AsyncWaitUser(FastHttpUser):
    """Asks the server to await LAB_MS in an async def view, as fast as the server answers."""

    host = DEFAULT_HOST
    # closed loop, as in iowait.py: the number of users is the number of requests in flight
    wait_time = constant(0)

    @task
    def await_in_an_async_view(self) -> None:
        # name= groups every ?ms= under one row of the statistics
        with self.client.get(f"/lab/async-io?ms={LAB_MS}", name="/lab/async-io", catch_response=True) as response:
            judge(response, {200: lab_answer(LAB_MS)})


if __name__ == "__main__":
    run_single_user(AsyncWaitUser)
