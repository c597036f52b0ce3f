"""Hello: every user asks GET /public/test back to back, the cheapest request the API has.

The route does no work, so what this measures is the server and the framework themselves.

    locust -f benchmarks/locustfiles/hello.py --host http://127.0.0.1:8000
    python benchmarks/locustfiles/hello.py --host http://127.0.0.1:8000   # one user, every request printed
"""

from __future__ import annotations

from _common import DEFAULT_HOST, judge
from locust import FastHttpUser, constant, run_single_user, task


class HelloUser(FastHttpUser):
    """Reads the public message as fast as the server answers."""

    host = DEFAULT_HOST
    # closed loop: the harness measures throughput at a given concurrency, so each user sends its next
    # request as soon as the last one is answered, and the number of users is the number in flight
    wait_time = constant(0)

    @task
    def read_public_message(self) -> None:
        with self.client.get("/public/test", catch_response=True) as response:
            judge(response, {200: {"message": "anyone can see this"}})


if __name__ == "__main__":
    run_single_user(HelloUser)
